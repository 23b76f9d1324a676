"""``hub clients``, ``hub tokens``, ``hub audit``: who may call, and checking the log."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters import idnumber
from adapters.vocabulary import District, Source
from hub import audit, signing
from hub.audit import checkpoint_checks, checkpoints
from hub.auth import clients as registry
from hub.auth.principal import ClientKind, Purpose
from hub.db.session import create_engine, session_factory
from hub.keys import Keys
from hub.settings import Settings

T = TypeVar("T")


def run(
    settings: Settings,
    action: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]],
    *,
    user_errors: tuple[type[Exception], ...] = (registry.ClientError, signing.KeyRingError),
) -> T:
    """Run ``action`` with sessions on the hub's database; ``user_errors`` become CLI errors."""

    async def go() -> T:
        engine = create_engine(settings.database_url)
        try:
            return await action(session_factory(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except user_errors as exc:
        raise click.ClickException(str(exc)) from None


def _choice(enum_type: type[enum.Enum]) -> click.Choice[str]:
    return click.Choice([m.name.lower() for m in enum_type], case_sensitive=False)


@click.group()
def clients() -> None:
    """Clients of the hub: agencies, charities, partner regions, auditors, operators."""


@clients.command("add")
@click.argument("name")
@click.option("--kind", type=_choice(ClientKind), required=True)
@click.option("--department", type=_choice(Source), help="An agency's department.")
@click.option("--district", type=_choice(District), help="Limit an agency to a district.")
@click.option("--street", help="Limit an agency to a street or town in its district.")
@click.option("--organisation", help="A charity's organisation ID in the charity register.")
@click.option(
    "--purpose",
    "purposes",
    multiple=True,
    type=_choice(Purpose),
    help="A purpose it may declare (repeatable; default: all its kind may).",
)
@click.pass_obj
def clients_add(
    settings: Settings,
    name: str,
    kind: str,
    department: str | None,
    district: str | None,
    street: str | None,
    organisation: str | None,
    purposes: tuple[str, ...],
) -> None:
    """Register a client called NAME."""
    client = run(
        settings,
        lambda sessions: registry.add_client(
            sessions,
            name=name,
            kind=ClientKind[kind.upper()],
            department=Source[department.upper()] if department else None,
            district=District[district.upper()] if district else None,
            street=street,
            organisation_id=organisation,
            purposes=[Purpose[p.upper()] for p in purposes] or None,
        ),
    )
    click.echo(f"client {client.name} ({client.kind.lower()}) id {client.id}")


@clients.command("list")
@click.pass_obj
def clients_list(settings: Settings) -> None:
    """List clients with their kind, area and purposes."""
    for c in run(settings, registry.list_clients):
        area = "/".join(filter(None, [c.department, c.district, c.street, c.organisation_id]))
        state = "enabled" if c.enabled else "DISABLED"
        click.echo(f"{c.id}  {c.name}  {c.kind.lower()}  {area or '-'}  {c.purposes}  {state}")


@clients.command("disable")
@click.argument("client")
@click.pass_obj
def clients_disable(settings: Settings, client: str) -> None:
    """Disable CLIENT (name or ID): its tokens stop working at once."""
    run(settings, lambda s: registry.set_enabled(s, client, enabled=False))
    click.echo(f"disabled {client}")


@clients.command("enable")
@click.argument("client")
@click.pass_obj
def clients_enable(settings: Settings, client: str) -> None:
    """Enable CLIENT again."""
    run(settings, lambda s: registry.set_enabled(s, client, enabled=True))
    click.echo(f"enabled {client}")


@click.group()
def tokens() -> None:
    """Bearer tokens: shown once when issued, stored only as a hash."""


@tokens.command("issue")
@click.argument("client")
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True)
@click.pass_obj
def tokens_issue(settings: Settings, client: str, days: int) -> None:
    """Issue a token for CLIENT (name or ID); it is printed once and never again."""
    issued = run(settings, lambda s: registry.issue_token(s, client, ttl=timedelta(days=days)))
    click.echo(f"token {issued.id}, valid until {issued.expires_at:%Y-%m-%d %H:%M} UTC:")
    click.echo(issued.secret)


@tokens.command("list")
@click.option("--client", help="Only this client's tokens.")
@click.pass_obj
def tokens_list(settings: Settings, client: str | None) -> None:
    """List tokens (never their secrets)."""
    for token, owner in run(settings, lambda s: registry.list_tokens(s, client)):
        state = "revoked" if token.revoked_at else f"expires {token.expires_at:%Y-%m-%d}"
        click.echo(f"{token.id}  {owner.name}  created {token.created_at:%Y-%m-%d}  {state}")


@tokens.command("revoke")
@click.argument("token_id")
@click.pass_obj
def tokens_revoke(settings: Settings, token_id: str) -> None:
    """Revoke TOKEN_ID: the next request with it is refused."""
    run(settings, lambda s: registry.revoke_token(s, token_id))
    click.echo(f"revoked {token_id}")


@click.group("keys")
def keys_group() -> None:
    """The hub's Ed25519 signing keys (published at /.well-known/jwks.json)."""


@keys_group.command("list")
@click.pass_obj
def keys_list(settings: Settings) -> None:
    """Every key: its ID, when made, and whether it signs, is published, or is retired."""
    rows = run(settings, signing.listing)
    live = [r for r in rows if r.retired_at is None]
    for row in rows:
        state = (
            f"retired {row.retired_at:%Y-%m-%d}"
            if row.retired_at is not None
            else ("signs" if row is live[-1] else "published")
        )
        click.echo(f"{row.kid}\t{row.created_at:%Y-%m-%d %H:%M}\t{state}")
    if not rows:
        click.echo("no keys yet (the first is made on first need, or by 'hub keys rotate')")


@keys_group.command("rotate")
@click.pass_obj
def keys_rotate(settings: Settings) -> None:
    """Add a key that signs from now on; the keys before stay published for verification."""
    kid = run(settings, lambda sessions: signing.rotate(sessions, Keys(settings.secret)))
    click.echo(f"{kid} signs from now on (running hubs take it up within a minute)")


@keys_group.command("retire")
@click.argument("kid")
@click.pass_obj
def keys_retire(settings: Settings, kid: str) -> None:
    """Stop publishing KID: what it signed can no longer be verified with the hub's keys."""
    run(settings, lambda sessions: signing.retire(sessions, kid))
    click.echo(f"retired {kid}")


@click.group("audit")
def audit_group() -> None:
    """The hash-chained disclosure log."""


@audit_group.command("verify")
@click.option(
    "--anchor",
    metavar="SEQ:HASH",
    help="A head printed earlier by 'hub audit head' (kept elsewhere): also catches "
    "deleted newest entries and a rebuilt chain.",
)
@click.option(
    "--export",
    "export_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A checkpoint export file to check as well (default: HUB_AUDIT_CHECKPOINT_EXPORT).",
)
@click.pass_obj
def audit_verify(settings: Settings, anchor: str | None, export_file: Path | None) -> None:
    """Check the whole chain and every signed checkpoint (stored and exported); name the
    first entry that was altered, removed or moved, and every checkpoint that fails."""
    anchored: tuple[int, str] | None = None
    if anchor is not None:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise click.BadParameter("expected SEQ:HASH, as 'hub audit head' prints it")
        anchored = (int(seq), digest)
    export_file = export_file or settings.audit_checkpoint_export
    keys = Keys(settings.secret)
    broken = run(settings, lambda sessions: audit.verify(sessions, anchor=anchored))
    report = run(
        settings,
        lambda sessions: checkpoint_checks.verify_checkpoints(
            sessions, keys, export_file=export_file
        ),
    )
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if broken is not None:
        raise click.ClickException(f"audit log broken at entry {broken.seq}: {broken.reason}")
    if report.problems:
        raise click.ClickException(
            f"audit log broken: {len(report.problems)} signed checkpoint(s) do not hold"
        )
    head = run(settings, audit.head)
    click.echo(f"audit log intact: {head[0] if head else 0} entries")
    for line in checkpoint_checks.summary(report, export_file):
        click.echo(line)


@audit_group.command("checkpoint")
@click.option(
    "--export",
    "export_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append it to this file too (default: HUB_AUDIT_CHECKPOINT_EXPORT).",
)
@click.pass_obj
def audit_checkpoint(settings: Settings, export_file: Path | None) -> None:
    """Sign the log's head now with the hub's key and store the checkpoint."""
    export_file = export_file or settings.audit_checkpoint_export

    async def take(sessions: async_sessionmaker[AsyncSession]) -> checkpoints.Checkpoint | None:
        ring = await signing.read(sessions, Keys(settings.secret))
        made = await checkpoints.take(sessions, ring)
        if made is not None and export_file is not None:
            await checkpoints.export(export_file, [made])
        return made

    try:
        made = run(settings, take)
    except checkpoints.CheckpointRefused as exc:
        raise click.ClickException(str(exc)) from None
    if made is None:
        newest = run(settings, lambda sessions: checkpoints.listing(sessions, limit=1))
        click.echo(
            f"nothing new to sign: the newest checkpoint covers seq {newest[0].seq}"
            if newest
            else "nothing to sign: the audit log is empty"
        )
        return
    click.echo(f"checkpoint {made}")
    if export_file is not None:
        click.echo(f"appended to {export_file}")


@audit_group.group("checkpoints")
def audit_checkpoints() -> None:
    """Signed checkpoints of the log's head."""


@audit_checkpoints.command("list")
@click.option("--limit", type=click.IntRange(1, 100_000), default=20, show_default=True)
@click.pass_obj
def audit_checkpoints_list(settings: Settings, limit: int) -> None:
    """The newest checkpoints: seq, hash, when and by which key."""
    found = run(settings, lambda sessions: checkpoints.listing(sessions, limit=limit))
    for checkpoint in found:
        click.echo(str(checkpoint))
    if not found:
        click.echo("no checkpoints yet ('hub audit checkpoint' takes one)")


@audit_checkpoints.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def audit_checkpoints_export(settings: Settings, path: Path) -> None:
    """Append to PATH (JSON lines, fsynced) every checkpoint it does not hold yet."""
    added = run(settings, lambda sessions: checkpoints.export_missing(sessions, path))
    click.echo(f"appended {added} checkpoint(s) to {path}")


@audit_group.command("head")
@click.pass_obj
def audit_head(settings: Settings) -> None:
    """Print the newest entry's number and hash, to keep somewhere else as an anchor."""
    head = run(settings, audit.head)
    click.echo(f"{head[0]}:{head[1]}" if head else "empty")


@audit_group.command("lookups")
@click.argument("id_number")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.pass_obj
def audit_lookups(settings: Settings, id_number: str, limit: int) -> None:
    """Entries that looked ID_NUMBER up, newest first (the log keeps only its keyed hash)."""
    try:
        value = idnumber.parse(id_number).value
    except idnumber.InvalidIdNumber as exc:
        raise click.BadParameter(exc.message, param_hint="ID_NUMBER") from None
    keyed = Keys(settings.secret).lookup_hash(value)
    found = run(settings, lambda s: audit.lookups(s, keyed_hash=keyed, limit=limit))
    for entry in found:
        click.echo(
            f"{entry.seq}  {entry.at:%Y-%m-%d %H:%M:%S}  {entry.client_kind}  "
            f"{entry.client_id}  {entry.purpose}  {entry.outcome}  request {entry.request_id}"
        )
    if not found:
        click.echo("no entry looked this number up")
