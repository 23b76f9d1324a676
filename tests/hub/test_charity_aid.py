"""Charity aid without GraphQL: needs derived from facts, and aid recorded once per key.

The recording tests run on SQLite and PostgreSQL over a migrated database holding three
households of its own in the index: one with a live consent naming the charity, one with
a consent naming another charity, one with none.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters import idnumber, records
from adapters.cache import Freshness
from adapters.charity import CharityAid, CharityAidKind, CharityRecipient
from adapters.education import EducationDifficulty
from adapters.emergency_management import (
    DisasterDamageLevel,
    DisasterEvent,
    DisasterRecord,
    DisasterReliefStage,
    DisasterType,
    ReliefPayment,
)
from adapters.vocabulary import (
    AssistanceCategory,
    District,
    HukouType,
    Relation,
    Sex,
    Source,
    WorkAbility,
)
from hub.auth.clients import add_client
from hub.auth.principal import ClientKind, Principal, Purpose
from hub.coordination import charity, charity_needs
from hub.coordination.charity import (
    AidProvenance,
    AidToRecord,
    CharityAidErrorCode,
    CharityAidProblem,
    GivenAid,
)
from hub.coordination.charity_needs import NeedKind
from hub.db.coordination import RecordedCharityAid
from hub.db.models import Consent, IndexedHousehold
from hub.households import facts
from hub.households.reach import reach_of
from hub.rules import default_rules

RULES = default_rules()
C = AssistanceCategory
TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
CONSENTED = "H3101150000011"
OTHER_CHARITY = "H3101150000012"
UNCONSENTED = "H3101150000013"
MISSING = "H3101159999999"


# --- needs -----------------------------------------------------------------------------


def _medical(*, serious: bool, window: str) -> facts.MedicalFacts:
    return facts.MedicalFacts(
        insured=(),
        uninsured_id_numbers=(),
        total_cost=Decimal(0),
        total_out_of_pocket=Decimal(window),
        total_assistance=Decimal(0),
        window_out_of_pocket=Decimal(window),
        serious_illness=serious,
        rules_version=RULES.version,
    )


def test_medical_bills_are_a_serious_illness_or_the_costs_of_expenditure_poverty():
    serious = charity_needs.medical_bills(_medical(serious=True, window="12840.00"), (), RULES)
    assert serious is not None
    assert (serious.kind, serious.department) == (NeedKind.MEDICAL_BILLS, Source.HEALTH_INSURANCE)
    assert serious.amount == Decimal("12840.00")
    assert serious.window_months == RULES.expenditure_poverty.window_months
    assert not any(ch.isdigit() for ch in serious.summary.split("over the last")[0])
    spending = _medical(serious=False, window="3000")
    assert charity_needs.medical_bills(spending, (C.LOW_INCOME,), RULES) is None
    found = charity_needs.medical_bills(spending, (C.EXPENDITURE_POVERTY,), RULES)
    assert found is not None
    assert not found.serious_illness
    nothing = _medical(serious=False, window="0")
    assert charity_needs.medical_bills(nothing, (C.EXPENDITURE_POVERTY,), RULES) is None


def _education(students: int, difficulty: EducationDifficulty | None) -> facts.EducationFacts:
    return facts.EducationFacts(
        students=tuple(object() for _ in range(students)),  # type: ignore[misc]
        difficulty=difficulty,
        aid_total=Decimal("1500.00"),
        home_teaching=False,
        rules_version=RULES.version,
    )


def test_school_costs_are_students_in_difficulty_or_of_an_assisted_household():
    recognised = _education(2, EducationDifficulty.DIFFICULT)
    found = charity_needs.school_costs(recognised, ())
    assert found is not None
    assert (found.students, found.difficulty, found.amount) == (
        2,
        EducationDifficulty.DIFFICULT,
        Decimal("1500.00"),
    )
    plain = _education(1, None)
    assert charity_needs.school_costs(plain, ()) is None
    assert charity_needs.school_costs(plain, (C.TEMPORARY,)) is None
    assert charity_needs.school_costs(plain, (C.MINIMUM_LIVING,)) is not None
    assert charity_needs.school_costs(_education(0, None), (C.MINIMUM_LIVING,)) is None


def _impact(days_ago: int) -> DisasterRecord:
    occurred = TODAY - timedelta(days=days_ago)
    return DisasterRecord(
        event=DisasterEvent(f"ev{days_ago}", DisasterType.FLOOD, "暴雨", occurred, ()),
        head_id_number="310115198001010011",
        member_id_numbers=(),
        district=District.PUDONG,
        damage_level=DisasterDamageLevel.SEVERE,
        relief=(ReliefPayment(DisasterReliefStage.EMERGENCY, Decimal(3000), occurred),),
    )


def test_a_disaster_is_a_need_within_the_rules_window_only():
    window = RULES.disaster.transitional_relief_days
    recent = facts.DisasterFacts((_impact(10),), Decimal(0), TODAY, RULES.version)
    found = charity_needs.disaster_damage(recent, RULES, TODAY)
    assert found is not None
    assert (found.disaster_type, found.damage_level) == (
        DisasterType.FLOOD,
        DisasterDamageLevel.SEVERE,
    )
    assert found.occurred_on == TODAY - timedelta(days=10)
    assert found.amount == Decimal(3000)  # the relief already paid
    old = facts.DisasterFacts((_impact(window + 1),), Decimal(0), TODAY, RULES.version)
    assert charity_needs.disaster_damage(old, RULES, TODAY) is None


def test_housing_hardship_and_severe_disability():
    crowded = facts.HousingFacts((), Decimal("9.5"), True, RULES.version)
    roomy = facts.HousingFacts((), Decimal("30"), False, RULES.version)
    housing = charity_needs.housing_hardship(crowded)
    assert housing is not None
    assert housing.amount is None
    assert charity_needs.housing_hardship(roomy) is None

    def member(grade: int | None, n: int) -> records.Member:
        born = date(1970, 1, 1)
        return records.Member(
            id_number=idnumber.make("310115", born, n),
            name="王一",
            sex=Sex.MALE,
            birth_date=born,
            relation=Relation.HEAD,
            disability_grade=grade,
            chronic_illness=False,
            work_ability=WorkAbility.NONE,
            household_id=CONSENTED,
        )

    def household(*members: records.Member) -> records.Household:
        return records.Household(
            id=CONSENTED,
            district=District.PUDONG,
            street="花木街道",
            address="花木街道",
            hukou_type=HukouType.URBAN,
            members=members,
            enrollments=(),
            updated_at=NOW,
        )

    severe = charity_needs.severe_disability(household(member(1, 11), member(3, 13)), RULES)
    assert severe is not None
    assert severe.members == 1
    assert charity_needs.severe_disability(household(member(3, 15)), RULES) is None


# --- the charity section ----------------------------------------------------------------


def _department_aid(aid_id: str, amount: str, given_on: date) -> CharityAid:
    return CharityAid(
        id=aid_id,
        beneficiary_id_number="310115198001010011",
        recipient=CharityRecipient.PERSON,
        household_member_ids=(),
        organisation_id="scf",
        organisation_name="上海市慈善基金会",
        project_id="scf_ltx",
        project_name="蓝天下的至爱",
        kind=CharityAidKind.CASH,
        amount=Decimal(amount),
        given_on=given_on,
    )


def _hub_aid(aid_id: str, amount: str, given_on: date) -> GivenAid:
    return GivenAid(
        id=aid_id,
        beneficiary_id_number=None,
        recipient=CharityRecipient.HOUSEHOLD,
        organisation_id="org-a",
        organisation_name="charity-a",
        project_id=None,
        project_name="慈善助学",
        kind=CharityAidKind.EDUCATION,
        amount=Decimal(amount),
        given_on=given_on,
        provenance=AidProvenance.HUB,
    )


def test_the_section_holds_both_kinds_most_recent_first_and_counts_both():
    department = facts.charity(
        facts.Part(
            source=Source.CHARITY,
            keys=("310115198001010011",),
            records={
                "310115198001010011": [
                    _department_aid("ca1", "500.00", date(2026, 3, 1)),
                    _department_aid("ca2", "800.00", date(2026, 9, 1)),
                ]
            },
            freshness=Freshness.LIVE,
            as_of=NOW,
            latency_ms=1.0,
        ),
        RULES,
    )
    shown = charity.combined(department, [_hub_aid("hub-1", "1200.00", date(2026, 6, 1))])
    assert [(a.id, a.provenance) for a in shown.aid] == [
        ("ca2", AidProvenance.CHARITY_DEPARTMENT),
        ("hub-1", AidProvenance.HUB),
        ("ca1", AidProvenance.CHARITY_DEPARTMENT),
    ]
    assert shown.total_amount == Decimal("2500.00")
    assert shown.last_given_on == date(2026, 9, 1)
    later = charity.combined(department, [_hub_aid("hub-2", "1.00", date(2026, 11, 1))])
    assert later.last_given_on == date(2026, 11, 1)


# --- recording --------------------------------------------------------------------------


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    charity: Principal  # org-a
    same_organisation: Principal  # another client of org-a
    other_charity: Principal  # org-b
    agency: Principal


def _charity(client_id: str, name: str, organisation: str) -> Principal:
    return Principal(
        client_id=client_id,
        client_name=name,
        kind=ClientKind.CHARITY,
        token_id="tk_test",
        purpose=Purpose.CHARITY_MATCHING,
        organisation_id=organisation,
    )


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    async with sessions.begin() as session:
        for household_id in (CONSENTED, OTHER_CHARITY, UNCONSENTED):
            session.add(
                IndexedHousehold(
                    household_id=household_id,
                    district=District.PUDONG.code,
                    street="花木街道",
                    hukou_type="URBAN",
                    upstream_updated_at=NOW,
                    fingerprint="-",
                    synced_at=NOW,
                    member_ids="",
                    categories="",
                )
            )
        for household_id, organisation in ((CONSENTED, "org-a"), (OTHER_CHARITY, "org-b")):
            session.add(
                Consent(
                    id=str(uuid.uuid4()),
                    household_id=household_id,
                    organisation_id=organisation,
                    purpose=Purpose.CHARITY_MATCHING.value,
                    granted_at=NOW - timedelta(days=1),
                    expires_at=NOW + timedelta(days=30),
                    withdrawn_at=None,
                    recorded_by="caseworker",
                )
            )
    clients = [
        await add_client(sessions, name=name, kind=ClientKind.CHARITY, organisation_id=org)
        for name, org in (("charity-a", "org-a"), ("charity-a2", "org-a"), ("charity-b", "org-b"))
    ]
    return World(
        sessions=sessions,
        charity=_charity(clients[0].id, clients[0].name, "org-a"),
        same_organisation=_charity(clients[1].id, clients[1].name, "org-a"),
        other_charity=_charity(clients[2].id, clients[2].name, "org-b"),
        agency=Principal(
            client_id=str(uuid.uuid4()),
            client_name="civil",
            kind=ClientKind.AGENCY,
            token_id="tk_test",
            purpose=Purpose.CASE_MANAGEMENT,
            department=Source.CIVIL_AFFAIRS,
        ),
    )


def _aid(household_id: str = CONSENTED, **changes: Any) -> AidToRecord:
    values: dict[str, Any] = {
        "household_id": household_id,
        "kind": CharityAidKind.EDUCATION,
        "amount": Decimal("1200"),
        "given_on": TODAY - timedelta(days=2),
        "project_name": "慈善助学",
    }
    return AidToRecord(**(values | changes))


async def _record(
    world: World, by: Principal, aid: AidToRecord, key: str = "key-1"
) -> charity.Recorded:
    return await charity.record_aid(
        world.sessions,
        by,
        aid=aid,
        idempotency_key=key,
        reach=reach_of(by),
        now=NOW,
        today=TODAY,
    )


async def _rows(world: World) -> list[RecordedCharityAid]:
    async with world.sessions() as session:
        return list(await session.scalars(select(RecordedCharityAid)))


async def test_aid_is_recorded_and_a_retry_answers_the_same_record(world: World):
    first = await _record(world, world.charity, _aid())
    assert not first.replayed
    assert first.aid.provenance is AidProvenance.HUB
    assert first.aid.amount == Decimal("1200.00")
    assert first.aid.organisation_name == "charity-a"
    again = await _record(world, world.charity, _aid(amount=Decimal("1200.00")))
    assert again.replayed
    assert again.aid == first.aid
    assert again.recorded_at == first.recorded_at
    (row,) = await _rows(world)
    assert (row.organisation_id, row.idempotency_key, row.amount_fen) == ("org-a", "key-1", 120000)
    assert row.recorded_by == world.charity.client_id


async def test_five_concurrent_retries_record_one_row(world: World):
    done = await asyncio.gather(*(_record(world, world.charity, _aid()) for _ in range(5)))
    assert len({d.aid.id for d in done}) == 1
    assert sorted(d.replayed for d in done) == [False, True, True, True, True]
    async with world.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(RecordedCharityAid))
    assert count == 1


async def test_retries_that_all_miss_each_other_race_to_the_index_and_one_wins(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    # Every retry reads "no such key" before any records: only the unique index decides.
    read = charity._existing
    together = asyncio.Barrier(5)
    calls = 0

    async def in_step(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        found = await read(*args)
        if calls <= 5:
            assert found is None
            await together.wait()
        return found

    monkeypatch.setattr(charity, "_existing", in_step)
    done = await asyncio.gather(*(_record(world, world.charity, _aid()) for _ in range(5)))
    assert calls == 9  # five reads in the transactions, four after losing the race
    assert len({d.aid.id for d in done}) == 1
    assert sorted(d.replayed for d in done) == [False, True, True, True, True]
    assert len(await _rows(world)) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"amount": Decimal("1300")},
        {"kind": CharityAidKind.CASH},
        {"given_on": TODAY - timedelta(days=3)},
        {"project_name": "慈善助医"},
    ],
    ids=["amount", "kind", "date", "project"],
)
async def test_the_same_key_with_other_content_is_refused(world: World, change):
    await _record(world, world.charity, _aid())
    with pytest.raises(CharityAidProblem) as refused:
        await _record(world, world.charity, _aid(**change))
    assert refused.value.code is CharityAidErrorCode.IDEMPOTENCY_KEY_REUSED
    assert len(await _rows(world)) == 1


async def test_keys_are_the_organisations_own(world: World):
    await _record(world, world.charity, _aid())
    # Another client of the same organisation retrying is the same request ...
    same = await _record(world, world.same_organisation, _aid())
    assert same.replayed
    assert same.aid.organisation_name == "charity-a"  # who recorded it, not who asked
    # ... another organisation's key is its own.
    await _record(world, world.other_charity, _aid(OTHER_CHARITY))
    assert len(await _rows(world)) == 2


@pytest.mark.parametrize("household_id", [UNCONSENTED, OTHER_CHARITY, MISSING])
async def test_out_of_reach_is_not_found_and_records_nothing(world: World, household_id):
    with pytest.raises(CharityAidProblem) as refused:
        await _record(world, world.charity, _aid(household_id))
    assert refused.value.code is CharityAidErrorCode.HOUSEHOLD_NOT_FOUND
    assert refused.value.message == "no such household"
    assert refused.value.denied == (None if household_id == MISSING else household_id)
    assert await _rows(world) == []


async def test_a_withdrawn_consent_closes_the_door_to_retries_too(world: World):
    await _record(world, world.charity, _aid())
    async with world.sessions.begin() as session:
        consent = await session.scalar(select(Consent).where(Consent.household_id == CONSENTED))
        assert consent is not None
        consent.withdrawn_at = NOW - timedelta(minutes=1)
    with pytest.raises(CharityAidProblem) as refused:
        await _record(world, world.charity, _aid())
    assert refused.value.code is CharityAidErrorCode.HOUSEHOLD_NOT_FOUND


async def test_only_charities_record_charity_aid(world: World):
    unregistered = dataclasses.replace(world.charity, organisation_id=None)
    for by in (world.agency, unregistered):
        with pytest.raises(CharityAidProblem) as refused:
            await _record(world, by, _aid())
        assert refused.value.code is CharityAidErrorCode.NOT_ALLOWED
    assert await _rows(world) == []


INVALID: list[tuple[str, Callable[[], AidToRecord], str, CharityAidErrorCode]] = [
    ("zero", lambda: _aid(amount=Decimal(0)), "k", CharityAidErrorCode.INVALID_AMOUNT),
    ("negative", lambda: _aid(amount=Decimal(-5)), "k", CharityAidErrorCode.INVALID_AMOUNT),
    ("fen", lambda: _aid(amount=Decimal("1.001")), "k", CharityAidErrorCode.INVALID_AMOUNT),
    ("nan", lambda: _aid(amount=Decimal("NaN")), "k", CharityAidErrorCode.INVALID_AMOUNT),
    ("huge", lambda: _aid(amount=Decimal("1E+30")), "k", CharityAidErrorCode.INVALID_AMOUNT),
    (
        "tomorrow",
        lambda: _aid(given_on=TODAY + timedelta(days=1)),
        "k",
        CharityAidErrorCode.INVALID_DATE,
    ),
    ("empty key", _aid, "", CharityAidErrorCode.INVALID_IDEMPOTENCY_KEY),
    ("long key", _aid, "k" * 129, CharityAidErrorCode.INVALID_IDEMPOTENCY_KEY),
    ("spaced key", _aid, " k", CharityAidErrorCode.INVALID_IDEMPOTENCY_KEY),
    ("control key", _aid, "k\n", CharityAidErrorCode.INVALID_IDEMPOTENCY_KEY),
    (
        "blank project",
        lambda: _aid(project_name="  "),
        "k",
        CharityAidErrorCode.INVALID_PROJECT_NAME,
    ),
]


@pytest.mark.parametrize(
    ("aid", "key", "code"), [i[1:] for i in INVALID], ids=[i[0] for i in INVALID]
)
async def test_invalid_aid_is_refused_before_anything_is_read(world: World, aid, key, code):
    with pytest.raises(CharityAidProblem) as refused:
        await _record(world, world.charity, aid(), key=key)
    assert refused.value.code is code
    assert await _rows(world) == []


async def test_recorded_aid_is_read_for_many_households_at_once(world: World):
    await _record(world, world.charity, _aid(), key="a")
    await _record(world, world.charity, _aid(given_on=TODAY), key="b")
    await _record(world, world.other_charity, _aid(OTHER_CHARITY), key="a")
    # A charity client deleted since is named by its organisation ID.
    async with world.sessions.begin() as session:
        session.add(
            RecordedCharityAid(
                id=str(uuid.uuid4()),
                household_id=OTHER_CHARITY,
                organisation_id="org-gone",
                idempotency_key="x",
                request_hash="0" * 64,
                kind=CharityAidKind.CASH.value,
                amount_fen=100,
                given_on=TODAY,
                project_name="慈善超市",
                beneficiary_id_number=None,
                recorded_by=str(uuid.uuid4()),
                recorded_at=NOW,
            )
        )
    found = await charity.recorded_aid(world.sessions, [CONSENTED, OTHER_CHARITY, UNCONSENTED])
    assert [a.given_on for a in found[CONSENTED]] == [TODAY, TODAY - timedelta(days=2)]
    assert {a.organisation_name for a in found[OTHER_CHARITY]} == {"charity-b", "org-gone"}
    assert found[UNCONSENTED] == []
    assert all(a.provenance is AidProvenance.HUB for a in found[CONSENTED])
