"""The synthetic population's rules, built from validated rules rather than read raw."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from adapters.sandbox.synthetic_rules import ReviewMonths, SyntheticRules
from adapters.vocabulary import AssistanceCategory
from hub.rules.model import NotInForce, Rules


def synthetic_rules(rules: Rules, on: date) -> SyntheticRules:
    """What ``adapters.sandbox.population.generate(..., rules=)`` needs, as of ``on``.

    Lets a test or the demo generate a population under rules other than the packaged
    file's (for instance ``load(settings.rules_file)``) without the sandbox importing hub.
    """
    return SyntheticRules(
        standard=rules.standard_on(on),
        extreme_hardship_multiple=rules.extreme_hardship.basic_living_multiple,
        review=tuple(
            ReviewMonths(c, rules.review[c].months, rules.review[c].unstable_months)
            for c in AssistanceCategory
        ),
        care_subsidy=_care_subsidy(rules, on),
        care_grades=tuple(rules.disability_care.grades),
    )


def _care_subsidy(rules: Rules, on: date) -> Decimal | None:
    try:
        return rules.care_subsidy_on(on)
    except NotInForce:
        return None
