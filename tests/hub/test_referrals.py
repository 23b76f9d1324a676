"""Referrals without GraphQL: the state machine, who may act, reach, due dates, versions.

Each test runs on SQLite and PostgreSQL over a migrated database holding two households
of its own in the index (one in Pudong, one in Huangpu) and the clients that act.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.vocabulary import District, Source
from hub import rules as hub_rules
from hub.auth.clients import add_client
from hub.auth.principal import ClientKind, Principal, Purpose
from hub.coordination import referral_lists, referrals
from hub.coordination.calendar import add_working_days, is_working_day
from hub.coordination.referral_lists import ReferralFilter
from hub.coordination.referrals import (
    TRANSITIONS,
    ReferralDirection,
    ReferralErrorCode,
    ReferralProblem,
    ReferralState,
)
from hub.db.coordination import Alert, Referral, ReferralEvent
from hub.db.models import IndexedHousehold
from hub.households.reach import EVERYTHING, Reach, reach_of
from hub.rules import model

RULES = hub_rules.load()
# Short deadlines of its own, so that the test says which days it expects.
SHORT = RULES.model_copy(
    update={"referral": model.Referral(response_working_days=2, completion_days=10)}
)
PUDONG_HOUSEHOLD = "H3101150000001"
HUANGPU_HOUSEHOLD = "H3101010000002"
MISSING_HOUSEHOLD = "H3101019999999"
FRIDAY = date(2026, 12, 4)
NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday morning in Shanghai
STATES = list(ReferralState)


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    civil: Principal  # city-wide civil affairs: refers
    hr: Principal  # city-wide human resources: receives
    hr_huangpu: Principal  # human resources limited to Huangpu
    housing: Principal  # a third department
    charity: Principal


async def _agency(
    sessions: async_sessionmaker[AsyncSession],
    department: Source,
    district: District | None = None,
) -> Principal:
    client = await add_client(
        sessions,
        name=f"{department.value}-{uuid.uuid4().hex[:8]}",
        kind=ClientKind.AGENCY,
        department=department,
        district=district,
    )
    return Principal(
        client_id=client.id,
        client_name=client.name,
        kind=ClientKind.AGENCY,
        token_id="tk_test",
        purpose=Purpose.CASE_MANAGEMENT,
        department=department,
        district=district,
    )


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    async with sessions.begin() as session:
        for household_id, district, street in [
            (PUDONG_HOUSEHOLD, District.PUDONG, "花木街道"),
            (HUANGPU_HOUSEHOLD, District.HUANGPU, "外滩街道"),
        ]:
            session.add(
                IndexedHousehold(
                    household_id=household_id,
                    district=district.code,
                    street=street,
                    hukou_type="LOCAL",
                    upstream_updated_at=NOW,
                    fingerprint="-",
                    synced_at=NOW,
                    member_ids="",
                    categories="",
                )
            )
    charity = Principal(
        client_id=str(uuid.uuid4()),
        client_name="charity",
        kind=ClientKind.CHARITY,
        token_id="tk_test",
        purpose=Purpose.CHARITY_MATCHING,
        organisation_id="org-a",
    )
    return World(
        sessions=sessions,
        civil=await _agency(sessions, Source.CIVIL_AFFAIRS),
        hr=await _agency(sessions, Source.HUMAN_RESOURCES),
        hr_huangpu=await _agency(sessions, Source.HUMAN_RESOURCES, District.HUANGPU),
        housing=await _agency(sessions, Source.HOUSING),
        charity=charity,
    )


async def _refer(
    world: World,
    by: Principal | None = None,
    *,
    household_id: str = PUDONG_HOUSEHOLD,
    to: Source = Source.HUMAN_RESOURCES,
    now: datetime = NOW,
    **extra: Any,
) -> Referral:
    by = by or world.civil
    return await referrals.refer(
        world.sessions,
        by,
        household_id=household_id,
        to_department=to,
        reason=extra.pop("reason", "失业，需要就业援助"),
        reach=reach_of(by),
        rules=SHORT,
        now=now,
        today=now.date(),
        **extra,
    )


async def _act(world: World, by: Principal, to: ReferralState, row: Referral, **extra: Any):
    """Move ``row`` (at the version read) to ``to``, as ``by``."""
    common: dict[str, Any] = {
        "referral_id": extra.pop("referral_id", row.id),
        "version": extra.pop("version", row.version),
        "reach": reach_of(by),
        "now": extra.pop("now", NOW),
    }
    if to in (ReferralState.ACCEPTED, ReferralState.DECLINED):
        return await referrals.respond(
            world.sessions,
            by,
            accept=to is ReferralState.ACCEPTED,
            note=extra.pop("note", "已收到"),
            rules=SHORT,
            today=common["now"].date(),
            **common,
            **extra,
        )
    if to is ReferralState.COMPLETED:
        outcome = extra.pop("outcome", "已推荐公益性岗位")
        return await referrals.complete(world.sessions, by, outcome=outcome, **common, **extra)
    assert to is ReferralState.WITHDRAWN
    return await referrals.withdraw(world.sessions, by, **common, **extra)


def _actor(world: World, to: ReferralState) -> Principal:
    """The department that takes a referral to ``to``: the referring one withdraws."""
    return world.civil if to is ReferralState.WITHDRAWN else world.hr


async def _history(world: World, referral_id: str) -> list[referral_lists.Step]:
    return (await referral_lists.history(world.sessions, [referral_id]))[referral_id]


async def _stored(world: World, referral_id: str) -> tuple[str, int, int]:
    """A referral's state, version and number of steps, as stored."""
    async with world.sessions() as session:
        row = await session.get_one(Referral, referral_id)
        steps = await session.scalars(
            select(ReferralEvent.id).where(ReferralEvent.referral_id == referral_id)
        )
        return row.state, row.version, len(list(steps))


def _paths() -> Iterator[list[ReferralState]]:
    """Every sequence of legal steps from REQUESTED to a state with none after it."""

    def walk(path: list[ReferralState]) -> Iterator[list[ReferralState]]:
        after = [to for (state, to) in TRANSITIONS if state is path[-1]]
        if not after:
            yield path
        for to in after:
            yield from walk([*path, to])

    yield from walk([ReferralState.REQUESTED])


def _reached() -> list[tuple[list[ReferralState], ReferralState]]:
    """Each state a referral can reach (by the path that first reaches it) and each step
    asked of it."""
    found: dict[ReferralState, list[ReferralState]] = {}
    for path in _paths():
        for i, state in enumerate(path):
            found.setdefault(state, path[1 : i + 1])
    steps = [s for s in STATES if s is not ReferralState.REQUESTED]
    return [(path, to) for path in found.values() for to in steps]


@pytest.mark.parametrize("path", list(_paths()), ids=lambda p: "-".join(s.value for s in p))
async def test_every_legal_path_is_taken_and_recorded(world: World, path):
    row = await _refer(world)
    for to in path[1:]:
        row = await _act(world, _actor(world, to), to, row)
        assert ReferralState(row.state) is to
    steps = await _history(world, row.id)
    assert [(s.from_state, s.to_state) for s in steps] == [
        (None, ReferralState.REQUESTED),
        *pairwise(path),
    ]
    assert row.version == len(path)


@pytest.mark.parametrize(
    ("path", "to"),
    _reached(),
    ids=lambda v: (
        "-".join(["REQUESTED", *(s.value for s in v)]) if isinstance(v, list) else v.value
    ),
)
async def test_every_step_the_table_does_not_allow_is_an_illegal_transition(world: World, path, to):
    row = await _refer(world)
    for step in path:
        row = await _act(world, _actor(world, step), step, row)
    state = ReferralState(row.state)
    if (state, to) in TRANSITIONS:
        assert ReferralState((await _act(world, _actor(world, to), to, row)).state) is to
        return
    before = await _stored(world, row.id)
    with pytest.raises(ReferralProblem) as raised:
        await _act(world, _actor(world, to), to, row)
    problem = raised.value
    assert problem.code is ReferralErrorCode.ILLEGAL_TRANSITION
    assert (problem.from_state, problem.to_state) == (state, to)
    assert f"from {state.value} to {to.value}" in problem.message
    assert await _stored(world, row.id) == before


@pytest.mark.parametrize("to", [ReferralState.ACCEPTED, ReferralState.DECLINED])
async def test_only_the_receiving_department_answers(world: World, to):
    row = await _refer(world)
    with pytest.raises(ReferralProblem) as raised:
        await _act(world, world.civil, to, row)
    assert raised.value.code is ReferralErrorCode.NOT_ALLOWED
    assert await _stored(world, row.id) == ("REQUESTED", 1, 1)


async def test_only_the_receiving_department_completes(world: World):
    row = await _act(world, world.hr, ReferralState.ACCEPTED, await _refer(world))
    with pytest.raises(ReferralProblem) as raised:
        await _act(world, world.civil, ReferralState.COMPLETED, row)
    assert raised.value.code is ReferralErrorCode.NOT_ALLOWED


async def test_only_the_referring_department_withdraws(world: World):
    row = await _refer(world)
    with pytest.raises(ReferralProblem) as raised:
        await _act(world, world.hr, ReferralState.WITHDRAWN, row)
    assert raised.value.code is ReferralErrorCode.NOT_ALLOWED
    assert await _stored(world, row.id) == ("REQUESTED", 1, 1)


async def test_another_department_finds_no_referral_and_the_log_names_it_denied(world: World):
    row = await _refer(world)
    with pytest.raises(ReferralProblem) as raised:
        await _act(world, world.housing, ReferralState.ACCEPTED, row)
    assert raised.value.code is ReferralErrorCode.REFERRAL_NOT_FOUND
    assert raised.value.denied == PUDONG_HOUSEHOLD
    listed = await referral_lists.page(
        world.sessions,
        ReferralFilter(Source.HOUSING),
        first=10,
        after=None,
        reach=EVERYTHING,
        now=NOW,
    )
    assert listed.referrals == []


async def test_only_agencies_act(world: World):
    with pytest.raises(ReferralProblem) as raised:
        await _refer(world, world.charity)
    assert raised.value.code is ReferralErrorCode.NOT_ALLOWED
    row = await _refer(world)
    with pytest.raises(ReferralProblem) as raised:
        await _act(world, world.charity, ReferralState.ACCEPTED, row)
    assert raised.value.code is ReferralErrorCode.NOT_ALLOWED


async def test_a_department_does_not_refer_to_itself(world: World):
    with pytest.raises(ReferralProblem) as raised:
        await _refer(world, to=Source.CIVIL_AFFAIRS)
    assert raised.value.code is ReferralErrorCode.SAME_DEPARTMENT


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"reason": "  "}, ReferralErrorCode.INVALID_REASON),
        ({"reason": "x" * 2001}, ReferralErrorCode.INVALID_REASON),
    ],
)
async def test_a_referral_needs_a_reason(world: World, change, code):
    with pytest.raises(ReferralProblem) as raised:
        await _refer(world, **change)
    assert raised.value.code is code


async def test_a_decline_needs_a_note_and_a_completion_an_outcome(world: World):
    row = await _refer(world)
    with pytest.raises(ReferralProblem) as raised:
        await _act(world, world.hr, ReferralState.DECLINED, row, note=" ")
    assert raised.value.code is ReferralErrorCode.INVALID_NOTE
    row = await _act(world, world.hr, ReferralState.ACCEPTED, row, note=None)
    with pytest.raises(ReferralProblem) as raised:
        await _act(world, world.hr, ReferralState.COMPLETED, row, outcome="")
    assert raised.value.code is ReferralErrorCode.INVALID_OUTCOME


async def test_out_of_reach_is_exactly_not_found(world: World):
    hidden = await _refer(world)  # a Pudong household
    limited = world.hr_huangpu
    with pytest.raises(ReferralProblem) as out_of_reach:
        await _act(world, limited, ReferralState.ACCEPTED, hidden)
    with pytest.raises(ReferralProblem) as missing:
        await _act(world, limited, ReferralState.ACCEPTED, hidden, referral_id=str(uuid.uuid4()))
    assert (out_of_reach.value.code, out_of_reach.value.message) == (
        missing.value.code,
        missing.value.message,
    )
    assert out_of_reach.value.code is ReferralErrorCode.REFERRAL_NOT_FOUND
    assert (out_of_reach.value.denied, missing.value.denied) == (PUDONG_HOUSEHOLD, None)
    assert await _stored(world, hidden.id) == ("REQUESTED", 1, 1)
    # Huangpu's human resources see only what is in Huangpu.
    visible = await _refer(world, household_id=HUANGPU_HOUSEHOLD)
    inbox = await referral_lists.page(
        world.sessions,
        ReferralFilter(Source.HUMAN_RESOURCES),
        first=10,
        after=None,
        reach=reach_of(limited),
        now=NOW,
    )
    assert [r.id for r in inbox.referrals] == [visible.id]


async def test_referring_a_household_out_of_reach_is_exactly_not_found(world: World):
    limited = await _agency(world.sessions, Source.CIVIL_AFFAIRS, District.HUANGPU)
    with pytest.raises(ReferralProblem) as out_of_reach:
        await _refer(world, limited, household_id=PUDONG_HOUSEHOLD)
    with pytest.raises(ReferralProblem) as missing:
        await _refer(world, limited, household_id=MISSING_HOUSEHOLD)
    assert out_of_reach.value.code is ReferralErrorCode.HOUSEHOLD_NOT_FOUND
    assert out_of_reach.value.message == missing.value.message
    assert (out_of_reach.value.denied, missing.value.missing) == (
        PUDONG_HOUSEHOLD,
        MISSING_HOUSEHOLD,
    )
    async with world.sessions() as session:
        assert list(await session.scalars(select(Referral.id))) == []


def test_working_days_skip_the_weekend():
    assert add_working_days(FRIDAY, 1) == date(2026, 12, 7)  # Monday
    assert add_working_days(FRIDAY, 5) == date(2026, 12, 11)
    assert add_working_days(date(2026, 12, 5), 1) == date(2026, 12, 7)  # from a Saturday
    assert add_working_days(date(2026, 12, 1), 3) == date(2026, 12, 4)  # within a week
    assert add_working_days(FRIDAY, 0) == FRIDAY
    day = date(2026, 11, 30)
    for days in range(30):
        due = add_working_days(day, days)
        between = [day + timedelta(n) for n in range(1, (due - day).days + 1)]
        assert sum(map(is_working_day, between)) == days
        assert days == 0 or is_working_day(due)


async def test_due_dates_come_from_the_rules(world: World):
    row = await _refer(world)  # on a Friday, answered within two working days
    assert row.response_due_on == date(2026, 12, 8)  # the Tuesday after
    assert row.completion_due_on is None
    assert not referrals.is_overdue(row, date(2026, 12, 8))
    assert referrals.is_overdue(row, date(2026, 12, 9))
    monday = NOW + timedelta(days=3)
    row = await _act(world, world.hr, ReferralState.ACCEPTED, row, now=monday)
    assert row.completion_due_on == date(2026, 12, 17)  # ten calendar days after
    assert not referrals.is_overdue(row, date(2026, 12, 9))  # answered: now the completion
    assert referrals.is_overdue(row, date(2026, 12, 18))
    row = await _act(world, world.hr, ReferralState.COMPLETED, row)
    assert not referrals.is_overdue(row, date(2027, 1, 1))


async def test_the_history_records_who_and_when(world: World):
    row = await _refer(world)
    later = NOW + timedelta(hours=1)
    row = await _act(world, world.hr, ReferralState.ACCEPTED, row, now=later, note="受理")
    steps = await _history(world, row.id)
    assert [(s.client_id, s.client_name, s.department, s.at, s.note) for s in steps] == [
        (world.civil.client_id, world.civil.client_name, Source.CIVIL_AFFAIRS, NOW, None),
        (world.hr.client_id, world.hr.client_name, Source.HUMAN_RESOURCES, later, "受理"),
    ]


async def test_a_change_against_an_older_version_is_a_conflict(world: World):
    row = await _refer(world)
    with pytest.raises(ReferralProblem) as raised:
        await _act(world, world.hr, ReferralState.ACCEPTED, row, version=row.version + 1)
    assert raised.value.code is ReferralErrorCode.CONFLICT
    assert await _stored(world, row.id) == ("REQUESTED", 1, 1)


async def test_two_answers_at_once_one_wins_the_other_is_a_conflict(world: World):
    row = await _refer(world)
    outcomes = await asyncio.gather(
        _act(world, world.hr, ReferralState.ACCEPTED, row),
        _act(world, world.hr, ReferralState.DECLINED, row),
        return_exceptions=True,
    )
    won = [o for o in outcomes if isinstance(o, Referral)]
    lost = [o for o in outcomes if isinstance(o, ReferralProblem)]
    assert len(won) == 1, outcomes
    assert [p.code for p in lost] == [ReferralErrorCode.CONFLICT]
    steps = await _history(world, row.id)
    assert [s.to_state for s in steps] == [ReferralState.REQUESTED, ReferralState(won[0].state)]
    assert await _stored(world, row.id) == (won[0].state, 2, 2)


async def test_a_change_racing_another_past_the_version_check_is_a_conflict(world: World):
    """The other change commits between this one's read and its write: the version column
    (SQLAlchemy's ``version_id_col``) catches it, and nothing of this one is kept."""
    row = await _refer(world)

    def meanwhile(mapper: Any, connection: Any, target: Referral) -> None:
        connection.execute(
            update(Referral).where(Referral.id == target.id).values(version=Referral.version + 1)
        )

    event.listen(Referral, "before_update", meanwhile)
    try:
        with pytest.raises(ReferralProblem) as raised:
            await _act(world, world.hr, ReferralState.ACCEPTED, row)
    finally:
        event.remove(Referral, "before_update", meanwhile)
    assert raised.value.code is ReferralErrorCode.CONFLICT
    assert await _stored(world, row.id) == ("REQUESTED", 1, 1)


async def _alert(world: World, household_id: str, state: str = "OPEN") -> str:
    alert_id = str(uuid.uuid4())
    async with world.sessions.begin() as session:
        session.add(
            Alert(
                id=alert_id,
                household_id=household_id,
                rule=f"TEST_{uuid.uuid4().hex[:8]}",
                state=state,
                evidence="{}",
                rules_version="test",
                opened_at=NOW,
                updated_at=NOW,
            )
        )
    return alert_id


async def test_a_referral_from_an_alert_marks_it_referred(world: World):
    alert_id = await _alert(world, PUDONG_HOUSEHOLD)
    row = await _refer(world, alert_id=alert_id)
    assert row.alert_id == alert_id
    async with world.sessions() as session:
        alert = await session.get_one(Alert, alert_id)
    assert (alert.state, alert.referral_id, alert.handled_by) == (
        "REFERRED",
        row.id,
        world.civil.client_id,
    )
    with pytest.raises(ReferralProblem) as raised:
        await _refer(world, alert_id=alert_id, to=Source.HOUSING)
    assert raised.value.code is ReferralErrorCode.ALERT_NOT_ACTIVE


async def test_an_alert_of_another_household_is_not_found(world: World):
    alert_id = await _alert(world, HUANGPU_HOUSEHOLD)
    with pytest.raises(ReferralProblem) as raised:
        await _refer(world, alert_id=alert_id)
    assert raised.value.code is ReferralErrorCode.ALERT_NOT_FOUND
    with pytest.raises(ReferralProblem) as raised:
        await _refer(world, alert_id=str(uuid.uuid4()))
    assert raised.value.code is ReferralErrorCode.ALERT_NOT_FOUND
    async with world.sessions() as session:
        assert (await session.get_one(Alert, alert_id)).state == "OPEN"


async def test_the_inbox_pages_newest_first_in_each_direction(world: World):
    made = [
        await _refer(world, now=NOW + timedelta(minutes=i), to=to)
        for i, to in enumerate([Source.HUMAN_RESOURCES] * 5 + [Source.HOUSING])
    ]
    to_hr = [r.id for r in reversed(made[:5])]
    accepted = await _act(world, world.hr, ReferralState.ACCEPTED, made[0])

    async def listed(where: ReferralFilter, first: int = 2) -> list[str]:
        found: list[str] = []
        after: referral_lists.Position | None = None
        while True:
            page = await referral_lists.page(
                world.sessions, where, first=first, after=after, reach=EVERYTHING, now=NOW
            )
            found += [r.id for r in page.referrals]
            if not page.has_next_page:
                return found
            after = (page.referrals[-1].created_at, page.referrals[-1].id)

    hr, civil = Source.HUMAN_RESOURCES, Source.CIVIL_AFFAIRS
    assert await listed(ReferralFilter(hr, ReferralDirection.INCOMING)) == to_hr
    assert await listed(ReferralFilter(hr, ReferralDirection.OUTGOING)) == []
    assert await listed(ReferralFilter(civil, ReferralDirection.OUTGOING), first=4) == [
        made[5].id,
        *to_hr,
    ]
    assert await listed(ReferralFilter(hr, state=ReferralState.ACCEPTED)) == [accepted.id]
    assert await listed(ReferralFilter(hr, household_id=HUANGPU_HOUSEHOLD)) == []
    where = ReferralFilter(hr, state=ReferralState.REQUESTED)
    assert await referral_lists.count(world.sessions, where, reach=EVERYTHING, now=NOW) == 4
    nothing = Reach(nothing=True)
    assert await referral_lists.count(world.sessions, where, reach=nothing, now=NOW) == 0
