"""Finding 6: break-glass justifications are text.

Starlette decodes headers as Latin-1, so a Chinese justification was stored as mojibake
and its length counted in bytes. It is read as UTF-8 (or RFC 8187 percent-encoding),
weighed in characters, stored and shown intact, and refused without substance.
"""

from collections import Counter
from urllib.parse import quote

import pytest

from adapters.sandbox.population import Population
from adapters.vocabulary import Source
from hub.auth import breakglass
from hub.auth.principal import ClientKind, Purpose
from tests.hubclient import audit_entries, credentials

CHINESE = "火灾紧急安置需要核实家庭成员情况"  # 16 characters, weighing 32


@pytest.fixture
async def headers(hub_sessions, population: Population) -> dict[str, str]:
    district = Counter(h.district for h in population.households).most_common(1)[0][0]
    return await credentials(
        hub_sessions,
        ClientKind.AGENCY,
        Purpose.CASE_MANAGEMENT,
        department=Source.CIVIL_AFFAIRS,
        district=district,
    )


async def _ask(hub_client, headers, justification: bytes | str):
    return await hub_client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={**headers, "X-Break-Glass": justification},
    )


@pytest.mark.parametrize(
    "sent",
    [CHINESE.encode(), "UTF-8''" + quote(CHINESE), "utf-8''" + quote(CHINESE)],
    ids=["raw UTF-8", "RFC 8187", "RFC 8187 lower case"],
)
async def test_a_chinese_justification_is_stored_and_shown_intact(
    sent, hub_client, headers, hub_sessions, as_client
):
    response = await _ask(hub_client, headers, sent)
    assert response.status_code == 200
    entry = (await audit_entries(hub_sessions))[-1]
    assert entry.justification == CHINESE
    auditor = await as_client(ClientKind.AUDITOR)
    shown = await auditor("{ breakGlassAccesses { justification } }")
    assert shown["data"]["breakGlassAccesses"][0]["justification"] == CHINESE


async def test_bytes_that_are_not_utf8_are_refused(hub_client, headers):
    response = await _ask(
        hub_client, headers, "Überschwemmung im Keller des Hauses".encode("latin-1")
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "JUSTIFICATION_INVALID"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("火灾紧急安置", "JUSTIFICATION_TOO_SHORT"),  # 6 characters, weighing 12
        ("urgent!!", "JUSTIFICATION_TOO_SHORT"),
        ("a" * 40, "JUSTIFICATION_INVALID"),  # a single repeated character
        ("1234567890" * 3, "JUSTIFICATION_INVALID"),  # no words at all
        ("abab" * 10, "JUSTIFICATION_INVALID"),
    ],
)
async def test_a_justification_without_substance_is_refused(text, code, hub_client, headers):
    response = await _ask(hub_client, headers, text.encode())
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == code


def test_wide_characters_weigh_two():
    assert breakglass.weight("火灾") == 4
    assert breakglass.weight("fire") == 4
    ten = "火灾后需紧急安置核实"
    assert breakglass.check(ten) == ten  # 10 characters weigh 20: enough
    with pytest.raises(breakglass.JustificationProblem):
        breakglass.check(ten[:9])
