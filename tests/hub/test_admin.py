"""The hub command for managing clients and tokens and checking the audit log."""

import asyncio
import re

from click.testing import CliRunner
from sqlalchemy import update

from hub import audit
from hub.cli import main
from hub.db.models import AuditEntry
from hub.db.session import create_engine, session_factory


def hub(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"HUB_DATABASE_URL": database_url})
    return result.exit_code, result.output


def test_clients_and_tokens_are_managed_from_the_command_line(database_url, engine):
    code, out = hub(
        database_url,
        "clients",
        "add",
        "pd-mz",
        "--kind",
        "agency",
        "--department",
        "civil_affairs",
        "--district",
        "pudong",
    )
    assert code == 0, out
    code, out = hub(database_url, "clients", "add", "no-dept", "--kind", "agency")
    assert code != 0
    assert "needs its department" in out
    code, out = hub(database_url, "tokens", "issue", "pd-mz", "--days", "7")
    assert code == 0
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("hub_")
    code, out = hub(database_url, "tokens", "list")
    assert "pd-mz" in out
    assert secret not in out  # secrets are shown once, never listed
    token_id = re.search(r"(tk_[0-9a-f]{12})", out).group(1)  # type: ignore[union-attr]
    assert hub(database_url, "tokens", "revoke", token_id)[0] == 0
    assert "revoked" in hub(database_url, "tokens", "list")[1]
    assert hub(database_url, "clients", "disable", "pd-mz")[0] == 0
    assert "DISABLED" in hub(database_url, "clients", "list")[1]


def test_audit_verify_passes_then_names_the_entry_edited_by_hand(database_url, engine):
    async def fill_and_tamper(tamper: bool) -> None:
        local = create_engine(database_url)
        sessions = session_factory(local)
        try:
            if not tamper:
                for n in range(1, 4):
                    await audit.append(
                        sessions,
                        audit.AccessRecord(
                            request_id=f"r{n}",
                            client_id=None,
                            client_kind="AGENCY",
                            token_id=None,
                            purpose="CASE_MANAGEMENT",
                            operation="query",
                            households=(f"H31010100000{n:02d}",),
                            sections=("members",),
                            outcome="GRANTED",
                        ),
                    )
            else:
                async with sessions.begin() as session:
                    await session.execute(
                        update(AuditEntry).where(AuditEntry.seq == 2).values(outcome="DENIED")
                    )
        finally:
            await local.dispose()

    asyncio.run(fill_and_tamper(tamper=False))
    code, out = hub(database_url, "audit", "verify")
    assert (code, out.strip()) == (0, "audit log intact: 3 entries")
    head = hub(database_url, "audit", "head")[1].strip()
    assert hub(database_url, "audit", "verify", "--anchor", head)[0] == 0
    asyncio.run(fill_and_tamper(tamper=True))
    code, out = hub(database_url, "audit", "verify")
    assert code == 1
    assert "entry 2" in out
    assert "altered" in out


def test_audit_lookups_finds_the_entries_that_looked_a_number_up(database_url, engine):
    from datetime import date

    from adapters import idnumber
    from hub.keys import Keys
    from hub.settings import Settings

    wanted = idnumber.make("310101", date(1980, 5, 17), 123)
    other = idnumber.make("310101", date(1980, 5, 17), 125)
    keys = Keys(Settings(database_url=database_url).secret)

    async def write() -> None:
        local = create_engine(database_url)
        sessions = session_factory(local)
        for seq, number in enumerate((wanted, other, wanted), start=1):
            await audit.append(
                sessions,
                audit.AccessRecord(
                    request_id=f"r{seq}",
                    client_id="c",
                    client_kind="AGENCY",
                    token_id="t",
                    purpose="CASE_MANAGEMENT",
                    operation="query",
                    households=(),
                    sections=(),
                    outcome="NOT_FOUND",
                    lookups=(keys.lookup_hash(number),),
                ),
            )
        await local.dispose()

    asyncio.run(write())
    code, out = hub(database_url, "audit", "lookups", wanted)
    assert code == 0, out
    assert [line.split()[0] for line in out.splitlines()] == ["3", "1"]
    assert wanted not in out
    code, out = hub(database_url, "audit", "lookups", idnumber.make("310101", date(1980, 5, 17), 7))
    assert (code, out.strip()) == (0, "no entry looked this number up")
    code, out = hub(database_url, "audit", "lookups", "not-a-number")
    assert code != 0
