"""The policy table in its own words: what each kind of client, for each purpose, sees.

Pure: no GraphQL, no database. The expected views are written out by hand from the
README's "Who sees what", so that a change to the table has to change them too.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from adapters.vocabulary import Source
from hub.auth.policy import (
    OPEN,
    PURPOSE_LEVEL,
    PURPOSE_VALUES,
    SECTIONS,
    VALUES,
    Carries,
    Decision,
    Level,
    PersonalValue,
    Treatment,
    View,
    view,
    view_of,
)
from hub.auth.principal import DEFAULT_PURPOSES, ClientKind, Principal, Purpose

K, P, V = ClientKind, Purpose, PersonalValue


def _levels(default: Level, **except_: Level) -> dict[Source, Level]:
    return {s: except_.get(s.name, default) for s in Source}


def _values(default: Treatment, **except_: Treatment) -> dict[PersonalValue, Treatment]:
    return {v: except_.get(v.name, default) for v in PersonalValue}


Row = tuple[dict[Source, Level], dict[PersonalValue, Treatment]]
NOTHING: Row = (_levels(Level.NONE), _values(Treatment.WITHHELD))

# (kind, purpose) → (levels, treatments): every purpose each kind may declare.
EXPECTED: dict[tuple[ClientKind, Purpose], Row] = {
    (K.AGENCY, P.CASE_MANAGEMENT): (
        _levels(Level.FULL),
        _values(Treatment.SHOWN, INCOME=Treatment.MASKED),
    ),
    (K.AGENCY, P.ELIGIBILITY_REVIEW): (_levels(Level.FULL), _values(Treatment.SHOWN)),
    (K.AGENCY, P.PROACTIVE_OUTREACH): (
        _levels(Level.SUMMARY),
        _values(Treatment.SHOWN, AMOUNT=Treatment.MASKED, INCOME=Treatment.WITHHELD),
    ),
    (K.CHARITY, P.CHARITY_MATCHING): (
        _levels(Level.SUMMARY, CHARITY=Level.FULL),
        _values(
            Treatment.MASKED,
            DATE_OF_BIRTH=Treatment.WITHHELD,
            INCOME=Treatment.WITHHELD,
        ),
    ),
    (K.PARTNER, P.CROSS_REGION_CHECK): NOTHING,
    (K.AUDITOR, P.AUDIT): NOTHING,
    (K.OPERATOR, P.OPERATIONS): NOTHING,
}


def test_every_purpose_a_kind_may_declare_has_an_expected_view() -> None:
    assert set(EXPECTED) == {(k, p) for k, ps in DEFAULT_PURPOSES.items() for p in ps}


@pytest.mark.parametrize(("kind", "purpose"), list(EXPECTED), ids=lambda x: x.value)
def test_each_view_is_the_table_s_row_for_its_kind_and_purpose(
    kind: ClientKind, purpose: Purpose
) -> None:
    levels, values = EXPECTED[(kind, purpose)]
    seen = view(kind, purpose)
    assert (seen.kind, seen.purpose) == (kind, purpose)
    assert {s: seen.level(s) for s in Source} == levels
    assert {v: seen.treatment(v) for v in PersonalValue} == values
    assert dict(seen.levels) == levels
    assert dict(seen.values) == values


@pytest.mark.parametrize("kind", list(ClientKind), ids=lambda k: k.value)
@pytest.mark.parametrize("purpose", list(Purpose), ids=lambda p: p.value)
def test_a_purpose_only_ever_narrows_what_the_kind_may_see(
    kind: ClientKind, purpose: Purpose
) -> None:
    seen = view(kind, purpose)
    for source in Source:
        assert seen.level(source) <= SECTIONS[kind][source]
        assert seen.level(source) <= PURPOSE_LEVEL[purpose]
    for value in PersonalValue:
        assert seen.treatment(value) >= VALUES[kind][value]
        assert seen.treatment(value) >= PURPOSE_VALUES[purpose].get(value, Treatment.SHOWN)


def test_the_table_has_a_row_for_every_kind_section_value_and_purpose() -> None:
    for kind in ClientKind:
        assert set(SECTIONS[kind]) == set(Source), kind
        assert set(VALUES[kind]) == set(PersonalValue), kind
    assert set(SECTIONS) == set(ClientKind)
    assert set(VALUES) == set(ClientKind)
    assert set(PURPOSE_LEVEL) == set(Purpose)
    assert set(PURPOSE_VALUES) == set(Purpose)
    for narrowed in PURPOSE_VALUES.values():
        assert set(narrowed) <= set(PersonalValue)


def test_view_returns_the_same_object_every_time() -> None:
    for kind, purpose in EXPECTED:
        assert view(kind, purpose) is view(kind, purpose)


def test_a_principal_s_view_is_that_of_its_kind_and_purpose() -> None:
    principal = Principal(
        client_id="c1",
        client_name="pudong-mz",
        kind=K.AGENCY,
        token_id="tk_1",
        purpose=P.PROACTIVE_OUTREACH,
    )
    assert view_of(principal) is view(K.AGENCY, P.PROACTIVE_OUTREACH)


# --- View.decide -----------------------------------------------------------------------

CASEWORKER = view(K.AGENCY, P.CASE_MANAGEMENT)
REVIEWER = view(K.AGENCY, P.ELIGIBILITY_REVIEW)
OUTREACH = view(K.AGENCY, P.PROACTIVE_OUTREACH)
CHARITY = view(K.CHARITY, P.CHARITY_MATCHING)
AUDITOR = view(K.AUDITOR, P.AUDIT)
PARTNER = view(K.PARTNER, P.CROSS_REGION_CHECK)
OPERATOR = view(K.OPERATOR, P.OPERATIONS)
VIEWS = {
    "caseworker": CASEWORKER,
    "reviewer": REVIEWER,
    "outreach": OUTREACH,
    "charity": CHARITY,
    "auditor": AUDITOR,
    "partner": PARTNER,
    "operator": OPERATOR,
}

A, M, D = Decision.ALLOW, Decision.MASK, Decision.DENY
HOUSING = Source.HOUSING

# What each carries decides for each caller, in the order of VIEWS.
DECISIONS: list[tuple[str, Carries, tuple[Decision, ...]]] = [
    ("open: paging, provenance", OPEN, (A, A, A, A, A, A, A)),
    ("a summary flag", Carries(HOUSING, Level.SUMMARY), (A, A, A, A, D, D, D)),
    ("a department record", Carries(HOUSING, Level.FULL), (A, A, D, D, D, D, D)),
    (
        "the charity's own records",
        Carries(Source.CHARITY, Level.FULL),
        (A, A, D, A, D, D, D),
    ),
    (
        "an amount in a record",
        Carries(HOUSING, Level.FULL, V.AMOUNT),
        (A, A, D, D, D, D, D),
    ),
    (
        "a banded total",
        Carries(HOUSING, Level.SUMMARY, V.AMOUNT),
        (A, A, M, M, D, D, D),
    ),
    (
        "income in a summary",
        Carries(Source.CIVIL_AFFAIRS, Level.SUMMARY, V.INCOME),
        (M, A, D, D, D, D, D),
    ),
    (
        "an ID number",
        Carries(Source.CIVIL_AFFAIRS, Level.SUMMARY, V.ID_NUMBER),
        (A, A, A, M, D, D, D),
    ),
    (
        "a date of birth",
        Carries(Source.CIVIL_AFFAIRS, Level.SUMMARY, V.DATE_OF_BIRTH),
        (A, A, A, D, D, D, D),
    ),
    ("a name outside any section", Carries(value=V.NAME), (A, A, A, M, D, D, D)),
    (
        "only auditors: the disclosure log",
        Carries(kinds=frozenset({K.AUDITOR})),
        (D, D, D, D, A, D, D),
    ),
    (
        "a lookup by ID number",
        Carries(lookup=V.ID_NUMBER),
        (A, A, A, D, D, D, D),
    ),
    (
        "a lookup by ID number for auditors only",
        Carries(kinds=frozenset({K.AUDITOR}), lookup=V.ID_NUMBER),
        (D, D, D, D, D, D, D),
    ),
]


@pytest.mark.parametrize(
    ("carries", "decisions"),
    [pytest.param(c, d, id=name) for name, c, d in DECISIONS],
)
def test_decide_allows_masks_or_denies_what_data_carries(
    carries: Carries, decisions: tuple[Decision, ...]
) -> None:
    assert {name: v.decide(carries) for name, v in VIEWS.items()} == dict(
        zip(VIEWS, decisions, strict=True)
    )


def test_only_data_that_declares_nothing_is_open() -> None:
    assert OPEN.open
    assert not Carries(section=HOUSING).open
    assert not Carries(value=V.NAME).open
    assert not Carries(kinds=frozenset(ClientKind)).open
    assert not Carries(lookup=V.ID_NUMBER).open


def test_a_missing_section_level_is_refused_before_a_value_is_masked() -> None:
    # A charity's ID numbers are masked, but a record it may not see is not shown masked.
    carries = Carries(Source.EDUCATION, Level.FULL, V.ID_NUMBER)
    assert CHARITY.decide(carries) is Decision.DENY
    assert CHARITY.decide(Carries(Source.CHARITY, Level.FULL, V.ID_NUMBER)) is Decision.MASK


def test_a_caller_whose_kind_is_listed_is_still_held_to_its_section_and_values() -> None:
    carries = Carries(Source.CHARITY, Level.FULL, V.AMOUNT, kinds=frozenset({K.CHARITY}))
    assert CHARITY.decide(carries) is Decision.MASK
    assert CASEWORKER.decide(carries) is Decision.DENY


@pytest.mark.parametrize(("name", "seen"), list(VIEWS.items()), ids=list(VIEWS))
def test_only_callers_shown_a_value_in_full_may_look_households_up_by_it(
    name: str, seen: View
) -> None:
    for value in PersonalValue:
        assert seen.may_look_up(value) is (seen.treatment(value) is Treatment.SHOWN)
    assert seen.may_look_up(V.ID_NUMBER) is (name in ("caseworker", "reviewer", "outreach"))


def test_a_hand_built_view_decides_by_its_own_rows() -> None:
    levels: Mapping[Source, Level] = {**REVIEWER.levels, Source.HOUSING: Level.NONE}
    values: Mapping[PersonalValue, Treatment] = {**REVIEWER.values, V.NAME: Treatment.MASKED}
    built = View(K.AGENCY, P.ELIGIBILITY_REVIEW, levels=levels, values=values)
    assert built.decide(Carries(HOUSING, Level.SUMMARY)) is Decision.DENY
    assert built.decide(Carries(Source.EDUCATION, Level.FULL)) is Decision.ALLOW
    assert built.decide(Carries(value=V.NAME)) is Decision.MASK
    assert not built.may_look_up(V.NAME)
    assert built.may_look_up(V.ID_NUMBER)
