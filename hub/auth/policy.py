"""Who sees what, as data: one table for sections, one for fields, one for masks, one for rows.

Deny by default: a field the ``FIELDS`` table does not name is never served, so a new
field is invisible until someone decides who may see it. Rows out of a caller's reach
are filtered where the index is read (``hub.index.search``), so that they look exactly
like households that do not exist.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from decimal import Decimal

from adapters import idnumber
from adapters.vocabulary import District, Source
from hub.auth.principal import ClientKind, Principal, Purpose


class Access(enum.IntEnum):
    """How much of a department's section a client kind may see."""

    NONE = 0
    SUMMARY = 1  # derived answers: flags, levels, banded totals
    FULL = 2


class Mask(enum.Enum):
    ID_NUMBER = "ID_NUMBER"  # 310***********123X
    NAME = "NAME"  # 张*
    ADDRESS = "ADDRESS"  # street or town only
    AMOUNT = "AMOUNT"  # a band, e.g. "1500-2000"


CIVIL = Source.CIVIL_AFFAIRS
MEDICAL = Source.HEALTH_INSURANCE
EDUCATION = Source.EDUCATION
HOUSING = Source.HOUSING
EMPLOYMENT = Source.HUMAN_RESOURCES
DISASTER = Source.EMERGENCY_MANAGEMENT
CHARITY = Source.CHARITY

# Client kind × department section.
SECTIONS: dict[ClientKind, dict[Source, Access]] = {
    ClientKind.AGENCY: {source: Access.FULL for source in Source},
    ClientKind.CHARITY: {
        CIVIL: Access.SUMMARY,
        MEDICAL: Access.SUMMARY,
        EDUCATION: Access.SUMMARY,
        HOUSING: Access.SUMMARY,
        EMPLOYMENT: Access.SUMMARY,
        DISASTER: Access.SUMMARY,
        CHARITY: Access.FULL,
    },
    ClientKind.PARTNER: {source: Access.NONE for source in Source},
    ClientKind.AUDITOR: {source: Access.NONE for source in Source},
    ClientKind.OPERATOR: {source: Access.NONE for source in Source},
}

# Which personal values each client kind sees masked.
MASKED: dict[ClientKind, frozenset[Mask]] = {
    ClientKind.AGENCY: frozenset(),
    ClientKind.CHARITY: frozenset(Mask),
    ClientKind.PARTNER: frozenset(Mask),
    ClientKind.AUDITOR: frozenset(Mask),
    ClientKind.OPERATOR: frozenset(Mask),
}


@dataclass(frozen=True, slots=True)
class Rule:
    """A field's owner, the section level it needs, and the mask that applies to it."""

    source: Source | None  # None: not department data (paging, provenance, audit)
    level: Access = Access.SUMMARY
    mask: Mask | None = None
    kinds: frozenset[ClientKind] | None = None  # only these kinds (root and audit fields)
    # A lookup by this kind of personal value: only for kinds that see it unmasked, since
    # a lookup by a value confirms it, and a masked value narrows the guesses to a few.
    lookup: Mask | None = None


S, F = Access.SUMMARY, Access.FULL
OPEN = Rule(None)
EVERYONE = frozenset(ClientKind)


def _rules(type_name: str, owner: Source | None, /, **fields: Access | Rule) -> dict[str, Rule]:
    return {
        f"{type_name}.{name}": rule if isinstance(rule, Rule) else Rule(owner, rule)
        for name, rule in fields.items()
    }


FIELDS: dict[str, Rule] = {
    # Root fields: rows are scoped by reach; audit and operations have their own readers;
    # lookups by ID number only for those who see ID numbers in full.
    **_rules(
        "Query",
        None,
        household=OPEN,
        householdByMember=Rule(None, lookup=Mask.ID_NUMBER),
        person=Rule(None, lookup=Mask.ID_NUMBER),
        households=OPEN,
        consents=OPEN,
        sources=Rule(None, kinds=frozenset({ClientKind.AGENCY, ClientKind.OPERATOR})),
        disclosures=Rule(None, kinds=frozenset({ClientKind.AUDITOR})),
        breakGlassAccesses=Rule(None, kinds=frozenset({ClientKind.AUDITOR})),
    ),
    **_rules("Mutation", None, recordConsent=OPEN, withdrawConsent=OPEN),
    # Consents are read and written by civil-affairs caseworkers (checked where they are).
    **_rules("ConsentPayload", None, consent=OPEN),
    **_rules("ConsentError", None, code=OPEN, message=OPEN),
    **_rules(
        "Consent",
        None,
        id=OPEN,
        householdId=OPEN,
        organisationId=OPEN,
        purpose=OPEN,
        grantedAt=OPEN,
        expiresAt=OPEN,
        withdrawnAt=OPEN,
        live=OPEN,
        version=OPEN,
    ),
    # The disclosure log holds no personal values: household IDs and section names.
    **_rules(
        "Disclosure",
        None,
        seq=OPEN,
        at=OPEN,
        clientName=OPEN,
        clientKind=OPEN,
        purpose=OPEN,
        operation=OPEN,
        households=OPEN,
        sections=OPEN,
        outcome=OPEN,
        breakGlass=OPEN,
        justification=OPEN,
        requestId=OPEN,
        lookups=OPEN,
        listing=OPEN,
        refused=OPEN,
    ),
    **_rules("ListingAccess", None, district=OPEN, street=OPEN, category=OPEN, counted=OPEN),
    **_rules("HouseholdConnection", None, edges=OPEN, pageInfo=OPEN, totalCount=OPEN),
    **_rules("HouseholdEdge", None, cursor=OPEN, node=OPEN),
    **_rules(
        "PageInfo", None, hasNextPage=OPEN, hasPreviousPage=OPEN, startCursor=OPEN, endCursor=OPEN
    ),
    **_rules(
        "SourceStatus", None, source=OPEN, state=OPEN, asOf=OPEN, latencyMs=OPEN, errorCode=OPEN
    ),
    **_rules(
        "SourceHealth", None, source=OPEN, status=OPEN, latencyMs=OPEN, breaker=OPEN, detail=OPEN
    ),
    # The household as the index knows it (synced from civil affairs).
    **_rules(
        "Household",
        CIVIL,
        id=S,
        district=S,
        districtName=S,
        street=S,
        categories=S,
        hukouType=F,
        lastReviewedOn=F,
        members=S,
        civilAffairs=S,
        sources=S,
        medical=Rule(MEDICAL),
        education=Rule(EDUCATION),
        housing=Rule(HOUSING),
        employment=Rule(EMPLOYMENT),
        disaster=Rule(DISASTER),
        charity=Rule(CHARITY),
    ),
    **_rules(
        "Person",
        CIVIL,
        idNumber=Rule(CIVIL, S, Mask.ID_NUMBER),
        name=Rule(CIVIL, S, Mask.NAME),
        sex=S,
        birthDate=F,
        age=S,
        relation=S,
        disabilityGrade=F,
        chronicIllness=F,
        workAbility=S,
        ableToWork=S,
        household=S,
    ),
    **_rules(
        "CivilAffairsSection",
        CIVIL,
        address=Rule(CIVIL, S, Mask.ADDRESS),
        hukouType=S,
        enrollments=S,
    ),
    **_rules(
        "Enrollment",
        CIVIL,
        category=S,
        status=S,
        since=S,
        monthlyAmount=Rule(CIVIL, S, Mask.AMOUNT),
        incomeStable=F,
        lastReviewedOn=F,
    ),
    # 医保: a charity learns whether there is serious illness and how heavy the costs are.
    **_rules(
        "MedicalSection",
        MEDICAL,
        insured=F,
        uninsuredIdNumbers=Rule(MEDICAL, F, Mask.ID_NUMBER),
        totalCost=Rule(MEDICAL, S, Mask.AMOUNT),
        totalOutOfPocket=Rule(MEDICAL, S, Mask.AMOUNT),
        totalAssistance=Rule(MEDICAL, S, Mask.AMOUNT),
        seriousIllness=S,
    ),
    **_rules(
        "MedicalInsuredPerson",
        MEDICAL,
        idNumber=Rule(MEDICAL, F, Mask.ID_NUMBER),
        scheme=F,
        insuredSince=F,
        premiumYear=F,
        annualPremium=F,
        subsidisedPremium=F,
        personalPremium=F,
        claims=F,
        assistancePayments=F,
    ),
    **_rules(
        "MedicalClaim",
        MEDICAL,
        settlementId=F,
        settledOn=F,
        kind=F,
        totalCost=F,
        reimbursed=F,
        outOfPocket=F,
        seriousIllness=F,
    ),
    **_rules("MedicalAssistancePayment", MEDICAL, paidOn=F, kind=F, amount=F, settlementId=F),
    # 教育: the recognised difficulty and the stage of each child, not schools or records.
    **_rules(
        "EducationSection",
        EDUCATION,
        students=S,
        difficulty=S,
        aidTotal=Rule(EDUCATION, S, Mask.AMOUNT),
        homeTeaching=S,
    ),
    **_rules(
        "EducationStudent",
        EDUCATION,
        idNumber=Rule(EDUCATION, S, Mask.ID_NUMBER),
        studentNumber=F,
        stage=S,
        grade=F,
        schoolName=F,
        schoolDistrict=F,
        enrolledOn=F,
        difficulty=S,
        difficultySchoolYear=F,
        aid=F,
        aidTotal=Rule(EDUCATION, S, Mask.AMOUNT),
    ),
    **_rules("EducationAid", EDUCATION, kind=F, amount=F, schoolYear=F, paidOn=F),
    # 住房: tenure and whether housing aid is given.
    **_rules("HousingSection", HOUSING, dwellings=S),
    **_rules(
        "Dwelling",
        HOUSING,
        dwellingId=F,
        district=S,
        address=Rule(HOUSING, S, Mask.ADDRESS),
        floorArea=S,
        tenure=S,
        occupantIdNumbers=Rule(HOUSING, F, Mask.ID_NUMBER),
        lowRentHousing=S,
        ruralRenovations=S,
    ),
    **_rules("LowRentHousing", HOUSING, since=S, monthlyRentSubsidy=Rule(HOUSING, S, Mask.AMOUNT)),
    **_rules("RuralRenovation", HOUSING, year=S, amount=Rule(HOUSING, S, Mask.AMOUNT)),
    # 人社: whether anyone works (零就业家庭) and each member's status.
    **_rules("EmploymentSection", EMPLOYMENT, members=S, zeroEmployment=S),
    **_rules(
        "PersonEmployment",
        EMPLOYMENT,
        idNumber=Rule(EMPLOYMENT, S, Mask.ID_NUMBER),
        status=S,
        wageBand=F,
        contributionMonths=F,
        lastContributionMonth=F,
        monthlyPension=F,
        unemploymentRegisteredOn=F,
        services=F,
    ),
    **_rules("EmploymentService", EMPLOYMENT, kind=F, providedOn=F),
    # 应急管理: which disasters hit and how hard.
    **_rules(
        "DisasterSection",
        DISASTER,
        impacts=S,
        totalRelief=Rule(DISASTER, S, Mask.AMOUNT),
        lastDisasterOn=S,
    ),
    **_rules(
        "DisasterImpact",
        DISASTER,
        event=S,
        headIdNumber=Rule(DISASTER, F, Mask.ID_NUMBER),
        memberIdNumbers=Rule(DISASTER, F, Mask.ID_NUMBER),
        district=S,
        damageLevel=S,
        relief=F,
        totalRelief=Rule(DISASTER, S, Mask.AMOUNT),
    ),
    **_rules("DisasterEvent", DISASTER, id=S, type=S, name=S, occurredOn=S, districts=S),
    **_rules("DisasterRelief", DISASTER, stage=F, amount=F, paidOn=F),
    # 慈善: charities coordinate with each other, so they see the aid record in full.
    **_rules("CharitySection", CHARITY, aid=S, totalAmount=S, lastGivenOn=S),
    **_rules(
        "CharityAidGiven",
        CHARITY,
        id=S,
        idNumber=Rule(CHARITY, S, Mask.ID_NUMBER),
        recipient=S,
        organisationId=S,
        organisationName=S,
        projectId=S,
        projectName=S,
        kind=S,
        amount=S,
        givenOn=S,
    ),
}


# "Type.field" of every lookup by a personal value, for the per-request lookup limit.
LOOKUP_FIELDS = frozenset(name for name, rule in FIELDS.items() if rule.lookup is not None)


class Decision(enum.Enum):
    ALLOW = "ALLOW"
    MASK = "MASK"
    DENY = "DENY"


def decide(principal: Principal, type_name: str, field_name: str) -> tuple[Decision, Rule | None]:
    """Whether ``principal`` may see ``type_name.field_name``, and the rule that says so."""
    rule = FIELDS.get(f"{type_name}.{field_name}")
    if rule is None:
        return Decision.DENY, None
    if rule.kinds is not None and principal.kind not in rule.kinds:
        return Decision.DENY, rule
    if rule.lookup is not None and rule.lookup in MASKED[principal.kind]:
        return Decision.DENY, rule
    if rule.source is not None and SECTIONS[principal.kind][rule.source] < rule.level:
        return Decision.DENY, rule
    if rule.mask is not None and rule.mask in MASKED[principal.kind]:
        return Decision.MASK, rule
    return Decision.ALLOW, rule


def section_access(principal: Principal, source: Source) -> Access:
    return SECTIONS[principal.kind][source]


@dataclass(frozen=True, slots=True)
class Reach:
    """Which households a caller may see at all; everything else looks nonexistent."""

    nothing: bool = False
    district: District | None = None
    street: str | None = None
    consent_organisation: str | None = None  # charities: a live consent for this one, or any
    consent_purpose: Purpose | None = None


def reach(principal: Principal) -> Reach:
    if principal.kind is ClientKind.AGENCY:
        if principal.break_glass:
            return Reach()  # an emergency, justified in writing and flagged for review
        return Reach(district=principal.district, street=principal.street)
    if principal.kind is ClientKind.CHARITY:
        return Reach(
            consent_organisation=principal.organisation_id, consent_purpose=principal.purpose
        )
    return Reach(nothing=True)  # partners, auditors and operators browse no households


_STREET = re.compile(r"^(.+?(?:街道|镇|乡))")


def mask(kind: Mask, value: object) -> object:
    """The masked form of ``value`` (lists are masked item by item)."""
    if isinstance(value, list):
        return [mask(kind, item) for item in value]
    if value is None:
        return None
    if kind is Mask.ID_NUMBER:
        return idnumber.mask(str(value))
    if kind is Mask.NAME:
        # The surname and one star, whatever the length: the length says something too.
        return str(value)[:1] + "*"
    if kind is Mask.ADDRESS:
        found = _STREET.match(str(value))
        return found.group(1) if found else "***"
    return amount_band(Decimal(str(value)))


def amount_band(amount: Decimal) -> str:
    """A band that says how large an amount is without saying what it is."""
    width = Decimal(500) if amount < 5000 else Decimal(5000) if amount < 50000 else Decimal(50000)
    low = (amount // width) * width
    return f"{low:.0f}-{low + width:.0f}"
