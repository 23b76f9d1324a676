"""The shared vocabulary of the hub: sources, districts and the enums records use."""

from __future__ import annotations

import enum
import re

# 户编号: H and 13 ASCII digits (the district's region code, then a sequence).
_HOUSEHOLD_ID = re.compile(r"H[0-9]{13}")


def is_household_id(value: object) -> bool:
    """Whether ``value`` is a civil-affairs household ID, exactly (no space, no newline)."""
    return isinstance(value, str) and _HOUSEHOLD_ID.fullmatch(value) is not None


class Term(enum.Enum):
    """An enum of the vocabulary. Members are singletons, so identity hashes them: the
    hash ``enum.Enum`` gives (a Python call hashing the name) shows in the profile of
    every loop that keys dicts and sets by department or category."""

    __hash__ = object.__hash__


class Source(Term):
    """A department system the hub reads from."""

    CIVIL_AFFAIRS = "civil_affairs"
    HEALTH_INSURANCE = "health_insurance"
    EDUCATION = "education"
    HOUSING = "housing"
    HUMAN_RESOURCES = "human_resources"
    EMERGENCY_MANAGEMENT = "emergency_management"
    CHARITY = "charity"


class District(Term):
    """Shanghai's 16 districts, valued by their GB/T 2260 region code."""

    HUANGPU = "310101"
    XUHUI = "310104"
    CHANGNING = "310105"
    JINGAN = "310106"
    PUTUO = "310107"
    HONGKOU = "310109"
    YANGPU = "310110"
    MINHANG = "310112"
    BAOSHAN = "310113"
    JIADING = "310114"
    PUDONG = "310115"
    JINSHAN = "310116"
    SONGJIANG = "310117"
    QINGPU = "310118"
    FENGXIAN = "310120"
    CHONGMING = "310151"

    @property
    def code(self) -> str:
        return self.value

    @property
    def name_zh(self) -> str:
        return DISTRICT_NAMES[self]

    @classmethod
    def from_code(cls, code: str) -> District:
        return cls(code)


DISTRICT_NAMES: dict[District, str] = {
    District.HUANGPU: "黄浦区",
    District.XUHUI: "徐汇区",
    District.CHANGNING: "长宁区",
    District.JINGAN: "静安区",
    District.PUTUO: "普陀区",
    District.HONGKOU: "虹口区",
    District.YANGPU: "杨浦区",
    District.MINHANG: "闵行区",
    District.BAOSHAN: "宝山区",
    District.JIADING: "嘉定区",
    District.PUDONG: "浦东新区",
    District.JINSHAN: "金山区",
    District.SONGJIANG: "松江区",
    District.QINGPU: "青浦区",
    District.FENGXIAN: "奉贤区",
    District.CHONGMING: "崇明区",
}


class AssistanceCategory(Term):
    """Social-assistance categories held by civil affairs."""

    MINIMUM_LIVING = "MINIMUM_LIVING"
    EXTREME_HARDSHIP = "EXTREME_HARDSHIP"
    LOW_INCOME = "LOW_INCOME"
    EXPENDITURE_POVERTY = "EXPENDITURE_POVERTY"
    TEMPORARY = "TEMPORARY"


class EnrollmentStatus(Term):
    """Where a household stands in an assistance category."""

    ACTIVE = "ACTIVE"
    PENDING = "PENDING"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"


class Sex(Term):
    MALE = "MALE"
    FEMALE = "FEMALE"


class Relation(Term):
    """A member's relation to the head of the household."""

    HEAD = "HEAD"
    SPOUSE = "SPOUSE"
    CHILD = "CHILD"
    GRANDCHILD = "GRANDCHILD"
    PARENT = "PARENT"
    GRANDPARENT = "GRANDPARENT"
    SIBLING = "SIBLING"
    OTHER = "OTHER"


class HukouType(Term):
    """Household registration type (户籍类型)."""

    URBAN = "URBAN"
    RURAL = "RURAL"


class WorkAbility(Term):
    """Ability to work as assessed by civil affairs (劳动能力)."""

    FULL = "FULL"
    PARTIAL = "PARTIAL"
    NONE = "NONE"
