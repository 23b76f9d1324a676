"""The hub's signing keys: made on first need, rotated with the old still published,
retired, sealed with the hub's secret, and published at /.well-known/jwks.json."""

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hub import signing
from hub.cli import main
from hub.db.signing import SigningKey
from hub.keys import Keys
from hub.signing import KeyRing, KeyRingError, unb64url

KEYS = Keys(b"a secret of the hub, long enough to count as one")


def hub(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"HUB_DATABASE_URL": database_url})
    return result.exit_code, result.output


async def test_the_first_key_is_made_on_first_need_and_signs(sessions):
    ring = await signing.read(sessions, KEYS)
    signature = ring.signer.sign(b"what the hub said")
    public = ring.public(ring.signer.kid)
    assert public is not None
    assert public.verify(b"what the hub said", signature)
    assert not public.verify(b"what the hub did not say", signature)
    # Read again: the same key, not a second one.
    assert (await signing.read(sessions, KEYS)).signer.kid == ring.signer.kid
    async with sessions() as session:
        row = (await session.scalars(select(SigningKey))).one()
    # The private half is not in the database in the clear.
    assert ring.signer.private.private_bytes_raw() not in unb64url(row.private_sealed)
    assert len(row.private_sealed) > 40


async def test_a_rotation_signs_with_the_new_key_and_keeps_the_old_published(sessions):
    before = await signing.read(sessions, KEYS)
    signed_before = before.signer.sign(b"yesterday")
    kid = await signing.rotate(sessions, KEYS)
    after = await signing.read(sessions, KEYS)
    assert after.signer.kid == kid != before.signer.kid
    assert [k["kid"] for k in after.jwks()["keys"]] == [before.signer.kid, kid]
    old = after.public(before.signer.kid)
    assert old is not None
    assert old.verify(b"yesterday", signed_before)

    await signing.retire(sessions, before.signer.kid)
    assert [k["kid"] for k in (await signing.read(sessions, KEYS)).jwks()["keys"]] == [kid]
    with pytest.raises(KeyRingError, match="last key"):
        await signing.retire(sessions, kid)
    with pytest.raises(KeyRingError, match="no key"):
        await signing.retire(sessions, "hub-nonexistent")


async def test_a_key_sealed_with_another_secret_is_refused_by_name(sessions):
    ring = await signing.read(sessions, KEYS)
    other = Keys(b"another secret, as long as the first one was, too")
    with pytest.raises(KeyRingError, match=f"{ring.signer.kid} was sealed with another"):
        await signing.read(sessions, other)


async def test_a_process_takes_up_a_rotation_after_its_ttl(sessions):
    ring = KeyRing(sessions, KEYS, ttl=3600)
    first = (await ring.current()).signer.kid
    await signing.rotate(sessions, KEYS)
    assert (await ring.current()).signer.kid == first  # within the TTL
    ring.forget()
    assert (await ring.current()).signer.kid != first


def test_keys_are_listed_rotated_and_retired_from_the_command_line(database_url, engine):
    code, out = hub(database_url, "keys", "list")
    assert code == 0
    assert "no keys yet" in out
    code, out = hub(database_url, "keys", "rotate")
    assert code == 0, out
    first = out.split()[0]
    code, out = hub(database_url, "keys", "rotate")
    second = out.split()[0]
    code, out = hub(database_url, "keys", "list")
    lines = out.strip().splitlines()
    assert lines[0].startswith(first)
    assert lines[0].endswith("published")
    assert lines[1].startswith(second)
    assert lines[1].endswith("signs")
    assert hub(database_url, "keys", "retire", first)[0] == 0
    assert "retired" in hub(database_url, "keys", "list")[1].splitlines()[0]
    code, out = hub(database_url, "keys", "retire", second)
    assert code != 0
    assert "rotate first" in out


async def test_the_public_keys_are_published_without_a_token(hub_client: httpx.AsyncClient):
    response = await hub_client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert key["kty"] == "OKP"
    assert key["crv"] == "Ed25519"
    assert key["alg"] == "EdDSA"
    assert len(unb64url(key["x"])) == 32
    assert "d" not in key  # never the private half
