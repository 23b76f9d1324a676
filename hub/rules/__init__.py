"""The assistance rules: one versioned TOML file holding every threshold, and its loader.

Amounts, shares and day counts of Shanghai's social-assistance rules live in
``hub/rules/shanghai.toml`` (or the file ``HUB_RULES_FILE`` names), never in code. ``load``
validates the file into a frozen ``Rules``; the household engine and the jobs ask it
(``standard_on``, ``review_cycle``, ...) rather than carrying numbers of their own.
"""

from hub.rules.loader import PACKAGED_RULES, RulesError, default_rules, load, rules_path
from hub.rules.model import NotInForce, ReviewCycle, Rules
from hub.rules.synthetic import synthetic_rules

__all__ = [
    "PACKAGED_RULES",
    "NotInForce",
    "ReviewCycle",
    "Rules",
    "RulesError",
    "default_rules",
    "load",
    "rules_path",
    "synthetic_rules",
]
