"""Alerts of proactive discovery (主动发现), and what caseworkers do with them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, cast

import strawberry

from adapters.vocabulary import District, Source
from hub.auth.principal import ClientKind
from hub.coordination import alerts
from hub.coordination.alerts import AlertErrorCode, AlertFilter, AlertProblem, AlertState, Found
from hub.coordination.discovery import Rule
from schema.context import Info
from schema.enums import described
from schema.errors import bad_input
from schema.pagination import PageInfo, moment, open_cursor, seal_cursor
from schema.policy import INCOME, OPEN, F, Mark, S, field, mutation, section

if TYPE_CHECKING:
    from schema.household import Household

LazyHousehold = Annotated["Household", strawberry.lazy("schema.household")]
AGENCIES = Mark(open=True, kinds=frozenset({ClientKind.AGENCY}))

described(
    Rule,
    "What proactive discovery (主动发现) looks for; thresholds come from the rules file.",
    {
        "EXPENDITURE_POVERTY_RISK": "支出型贫困 risk: out-of-pocket medical costs over the "
        "rules' share of income, not enrolled in 支出型贫困.",
        "NEAR_MINIMUM_NOT_ENROLLED": "近低保: income per person under the near-低保 line, "
        "enrolled in no category.",
        "ZERO_EMPLOYMENT": "零就业家庭: nobody of working age who can and wants to work has work.",
        "MINOR_TURNING_ADULT": "A minor covered by 特困 turns 18 soon, not in schooling.",
        "STUDENT_WITHOUT_AID": "A student of an assisted household receives no education aid.",
        "DISASTER_WITHOUT_RELIEF": "A home badly damaged by a disaster, without transitional "
        "relief (过渡期生活救助).",
        "HOUSING_HARDSHIP": "住房困难: floor area per person under the line, no low-rent housing.",
        "DISABILITY_WITHOUT_CARE_SUBSIDY": "A severely disabled member without work receives no "
        "care subsidy (重残无业人员护理补贴).",
        "REVIEW_OVERDUE": "A review (动态管理复核) fell due and was not recorded.",
        "WITHDRAWAL_ENDING": "A gradual-withdrawal period (救助渐退) ends soon.",
    },
    name="AlertRule",
)
described(
    AlertState,
    "Where an alert stands.",
    {
        "OPEN": "Found; nobody has looked yet.",
        "ACKNOWLEDGED": "A caseworker is on it.",
        "DISMISSED": "Looked at and set aside, with a reason; stays so while the rule holds.",
        "REFERRED": "Turned into a referral to another department.",
        "RESOLVED": "The rule no longer holds.",
    },
)
described(
    AlertErrorCode,
    "Why an alert could not be changed.",
    {
        "NOT_ALLOWED": "Only agencies handle alerts.",
        "ALERT_NOT_FOUND": "No such alert within the caller's reach.",
        "ILLEGAL_TRANSITION": "The alert cannot move to that state from where it is.",
        "REASON_REQUIRED": "A dismissal needs its reason.",
        "CONFLICT": "Someone changed the alert since it was read; read it again.",
    },
)


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="Why an alert was raised, in words and figures.")
class Evidence:
    department: Source | None = field(S, description="The department whose data shows it.")
    fact: str = field(S, description="The fact judged, e.g. out_of_pocket_medical_costs.")
    summary: str = field(S, description="What holds, in words (no figures).")
    value: Decimal | None = field(
        F, INCOME, description="The figure judged (yuan, or m² per person), where there is one."
    )
    threshold: Decimal | None = field(
        F, INCOME, description="The rules' line it was judged against, where there is one."
    )
    rules_version: str = field(S, description="The rules it was judged by.")


async def _household(root: Found, info: Info) -> LazyHousehold | None:
    from schema.household import Household

    entry = await info.context.loaders.entry_by_id.load(root.household_id)
    return Household(entry=entry) if entry else None


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="A household proactive discovery found in need, by one rule.")
class Alert:
    id: strawberry.ID = field(S, description="Alert ID.")
    household_id: strawberry.ID = field(S, description="The household.")
    rule: Rule = field(S, description="The rule that holds.")
    state: AlertState = field(S, description="Where the alert stands.")
    evidence: Evidence = field(S, description="Why it was raised.")
    opened_at: datetime = field(S, description="When discovery raised it.")
    updated_at: datetime = field(S, description="When it last changed.")
    resolved_at: datetime | None = field(S, description="When the rule stopped holding.")
    dismissed_reason: str | None = field(F, description="Why it was dismissed.")
    referral_id: strawberry.ID | None = field(S, description="The referral it became.")
    version: int = field(S, description="Version, for changing only what was read.")
    household: LazyHousehold | None = field(S, description="The household.", resolver=_household)


@strawberry.type(description="An alert as changed.")
class AlertPayload:
    alert: Alert = field(OPEN, description="The alert.")


@strawberry.type(description="Why the alert could not be changed.")
class AlertError:
    code: AlertErrorCode = field(OPEN, description="What went wrong.")
    message: str = field(OPEN, description="The same, in words.")


AlertResult = Annotated[
    AlertPayload | AlertError,
    strawberry.union("AlertResult", description="The alert as changed, or why not."),
]


@strawberry.input(description="Narrows a list of alerts; every condition must hold.")
class AlertFilterInput:
    rule: Rule | None = strawberry.field(default=None, description="Raised by this rule.")
    state: AlertState | None = strawberry.field(default=None, description="In this state.")
    district: District | None = strawberry.field(default=None, description="In this district.")
    street: str | None = strawberry.field(default=None, description="In this street or town.")


@strawberry.type(description="An alert in a list, with its cursor.")
class AlertEdge:
    cursor: str = field(OPEN, description="Pass as `after` to continue after this one.")
    node: Alert = field(OPEN, description="The alert.")


@strawberry.type(description="Alerts, newest first (Relay connection).")
class AlertConnection:
    edges: list[AlertEdge] = field(OPEN, description="The alerts of this page.")
    page_info: PageInfo = field(OPEN, description="Where this page stands.")


CURSORS = "alerts"  # its cursors' kind: good for no other list


def _cursor(info: Info, alert: Found) -> str:
    return seal_cursor(info.context, CURSORS, alert.opened_at.isoformat(), alert.id)


def _after(info: Info, cursor: str) -> tuple[datetime, str]:
    opened, alert_id = open_cursor(info.context, CURSORS, cursor, parts=2)
    return moment(opened), alert_id


@strawberry.type
class AlertQuery:
    @field(AGENCIES, description="Alerts of proactive discovery in reach, newest first.")
    async def alerts(
        self,
        info: Info,
        filter: AlertFilterInput | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> AlertConnection:
        context = info.context
        limit = context.settings.max_page_size
        if not 1 <= first <= limit:
            raise bad_input("first", f"must be between 1 and {limit}")
        where = AlertFilter(
            rule=filter.rule if filter else None,
            state=filter.state if filter else None,
            district=filter.district.code if filter and filter.district else None,
            street=filter.street if filter else None,
        )
        context.access.listed(
            [(k, v) for k, v in (("district", where.district), ("street", where.street)) if v]
        )
        found, more = await alerts.listing(
            context.sessions,
            where=where,
            reach=context.reach,
            now=context.now,
            first=first,
            after=_after(info, after) if after is not None else None,
        )
        for alert in found:
            context.access.saw(alert.household_id, "alerts")
        edges = [AlertEdge(cursor=_cursor(info, a), node=cast(Alert, a)) for a in found]
        return AlertConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=more,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


async def _move(
    info: Info, alert_id: str, to: AlertState, version: int | None, reason: str | None
) -> AlertResult:
    context = info.context
    try:
        alert = await alerts.move(
            context.sessions,
            context.principal,
            alert_id=alert_id,
            to=to,
            version=version,
            reason=reason,
            reach=context.reach,
            now=context.now,
        )
    except AlertProblem as problem:
        if problem.denied is not None:
            context.access.deny(problem.denied)
        if problem.code is AlertErrorCode.NOT_ALLOWED:
            context.access.refuse(problem.code.value)
        return AlertError(code=problem.code, message=problem.message)
    context.access.saw(alert.household_id, "alerts")
    return AlertPayload(alert=cast(Alert, alert))


@strawberry.type
class AlertMutation:
    @mutation(OPEN, description="Take an alert on: a caseworker is looking into it.")
    async def acknowledge_alert(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> AlertResult:
        return await _move(info, str(id), AlertState.ACKNOWLEDGED, version, None)

    @mutation(OPEN, description="Set an alert aside, saying why; it stays so while it holds.")
    async def dismiss_alert(
        self, info: Info, id: strawberry.ID, reason: str, version: int | None = None
    ) -> AlertResult:
        return await _move(info, str(id), AlertState.DISMISSED, version, reason)
