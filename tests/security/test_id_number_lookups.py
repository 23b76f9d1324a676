"""Finding 1: no ID-number oracle.

A charity sees ``310***********6654`` and an age; with the few candidates left, lookups by
ID number used to confirm the right one, unaudited. Now only clients that see ID numbers
in full may look anyone up by one; every lookup is audited as a keyed hash, found or not;
and one request holds at most ``HUB_MAX_ID_LOOKUPS`` of them.
"""

from datetime import date
from typing import Any

import pytest

from adapters import idnumber
from adapters.sandbox.population import Population
from adapters.vocabulary import Source
from hub.auth.principal import ClientKind
from schema import lookups
from tests.hubclient import audit_entries, details
from tests.partners.fake import fake_partner

MISSING_PERSON = idnumber.make("310101", date(1970, 1, 1), 999)
BY_MEMBER = "query($n: String!) { householdByMember(idNumber: $n) { id } }"
PERSON = "query($n: String!) { person(idNumber: $n) { __typename } }"


def _raw_values(entry: object) -> str:
    return " ".join(str(v) for v in vars(entry).values())


@pytest.mark.parametrize("kind", [ClientKind.CHARITY, ClientKind.PARTNER, ClientKind.AUDITOR])
async def test_clients_that_see_id_numbers_masked_may_not_look_anyone_up(
    kind, as_client, hub_app, hub_client, hub_sessions, population: Population
):
    extra = {"organisation_id": "org-a"} if kind is ClientKind.CHARITY else {}
    caller = (
        await fake_partner(hub_app, hub_client)  # partners have the partner API only
        if kind is ClientKind.PARTNER
        else await as_client(kind, **extra)
    )
    keys = hub_app.state.resources.keys
    member = population.households[5].members[0].id_number
    for query, field in ((BY_MEMBER, "householdByMember"), (PERSON, "person")):
        for candidate in (member, MISSING_PERSON):
            result = await caller(query, n=candidate)
            assert result["data"] in (None, {field: None})
            assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            # Refused, and audited with what was tried: as a keyed hash, not the number.
            entry = (await audit_entries(hub_sessions))[-1]
            assert entry.outcome == "REFUSED"
            assert details(entry) == {
                "refused": "FORBIDDEN",
                "lookups": [keys.lookup_hash(candidate)],
            }
            assert candidate not in _raw_values(entry)


async def test_a_real_member_and_a_made_up_number_answer_the_same_to_a_charity(
    as_client, population: Population
):
    charity = await as_client(ClientKind.CHARITY, organisation_id="org-a")
    member = population.households[5].members[0].id_number
    assert await charity(BY_MEMBER, n=member) == await charity(BY_MEMBER, n=MISSING_PERSON)


async def test_every_lookup_is_audited_whether_it_finds_someone_or_not(
    gql, hub_app, hub_sessions, population: Population
):
    keys = hub_app.state.resources.keys
    household = population.households[3]
    member = household.members[0].id_number
    assert (await gql(PERSON, n=member))["data"] == {"person": {"__typename": "Person"}}
    found = (await audit_entries(hub_sessions))[-1]
    assert (found.outcome, found.households) == ("GRANTED", f'["{household.id}"]')
    assert details(found) == {"lookups": [keys.lookup_hash(member)]}

    assert (await gql(BY_MEMBER, n=MISSING_PERSON))["data"] == {"householdByMember": None}
    missed = (await audit_entries(hub_sessions))[-1]
    assert (missed.outcome, missed.households) == ("NOT_FOUND", "[]")
    assert details(missed) == {"lookups": [keys.lookup_hash(MISSING_PERSON)]}
    for entry in (found, missed):
        assert member not in _raw_values(entry)
        assert MISSING_PERSON not in _raw_values(entry)


async def test_an_invalid_id_number_is_refused_before_any_lookup(gql, hub_sessions):
    before = len(await audit_entries(hub_sessions))
    valid = MISSING_PERSON
    wrong = valid[:17] + ("0" if valid[17] != "0" else "1")  # wrong check digit
    result = await gql(PERSON, n=wrong)
    assert result["errors"][0]["extensions"]["code"] == "INVALID_ID_NUMBER"
    assert len(await audit_entries(hub_sessions)) == before


def _aliased(n: int, field: str = "householdByMember") -> str:
    ids = [idnumber.make("310101", date(1970, 1, 1), 100 + i) for i in range(n)]
    return (
        "{ "
        + " ".join(f'a{i}: {field}(idNumber: "{v}") {{ id }}' for i, v in enumerate(ids))
        + " }"
    )


async def test_more_lookups_than_allowed_are_refused_as_a_whole(gql, hub_sessions, settings):
    assert settings.max_id_lookups == 10
    ten = await gql(_aliased(10))
    assert "errors" not in ten
    assert len(ten["data"]) == 10

    eleven = await gql(_aliased(11))
    assert eleven["data"] is None
    error = eleven["errors"][0]
    assert error["extensions"] == {"code": "TOO_MANY_LOOKUPS", "lookups": 11, "maxLookups": 10}
    entry = (await audit_entries(hub_sessions))[-1]
    assert entry.outcome == "REFUSED"
    assert details(entry)["refused"] == "TOO_MANY_LOOKUPS"
    assert len(details(entry)["lookups"]) == 11


async def test_lookups_hidden_in_fragments_and_variables_count_at_every_spread(gql):
    six = " ".join(
        f'p{i}: person(idNumber: "{idnumber.make("310101", date(1970, 1, 1), 200 + i)}") '
        "{ __typename }"
        for i in range(6)
    )
    query = (
        f"{{ ...F b: householdByMember(idNumber: $n) {{ id }} }} fragment F on Query {{ {six} }}"
    )
    once = await gql(query.replace("{ ...F", "query($n: String!) { ...F"), n=MISSING_PERSON)
    assert "errors" not in once  # 6 + 1
    twice = query.replace("{ ...F", "query($n: String!) { ...F ...F", 1)
    refused = await gql(twice, n=MISSING_PERSON)
    assert refused["errors"][0]["extensions"]["code"] == "TOO_MANY_LOOKUPS"
    assert refused["errors"][0]["extensions"]["lookups"] == 13


async def test_agencies_of_any_department_may_look_up_by_id_number(
    as_client, population: Population
):
    household = population.households[4]
    health = await as_client(ClientKind.AGENCY, department=Source.HEALTH_INSURANCE)
    result = await health(BY_MEMBER, n=household.members[0].id_number)
    assert result == {"data": {"householdByMember": {"id": household.id}}}


async def test_a_query_naming_no_lookup_is_not_walked_and_one_naming_one_is(gql, monkeypatch):
    # Counting walks the whole document; a text without the name of any field that looks
    # up cannot select one (aliases rename answers, not fields), so it is not walked.
    walked: list[int] = []
    real = lookups.count_lookups

    def counting(*args: Any, **kwargs: Any) -> tuple[int, list[str]]:
        walked.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(lookups, "count_lookups", counting)
    assert "errors" not in await gql("{ households(first: 2) { edges { node { id } } } }")
    assert walked == []
    aliased = "query($n: String!) { who: householdByMember(idNumber: $n) { id } }"
    assert "errors" not in await gql(aliased, n=MISSING_PERSON)
    assert walked == [1]
