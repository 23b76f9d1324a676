"""``hub partners``: partner regions, their keys and trusted documents, the outbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import admin
from hub.partners import documents, registry
from hub.partners.registry import PartnerError
from hub.settings import Settings

T = TypeVar("T")


def run(
    settings: Settings, action: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]
) -> T:
    """Run ``action`` on the hub's database; a partner error is a CLI error."""
    return admin.run(settings, action, user_errors=(PartnerError,))


def _json_file(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.ClickException(f"{path}: not a JSON file ({exc})") from None


@click.group("partners")
def partners() -> None:
    """Partner regions (长三角): their hubs, keys and trusted documents; case transfers."""


@partners.command("add")
@click.argument("name")
@click.option("--region", required=True, help="Its region code, the `iss` of its tokens: JS.")
@click.option("--url", help="Its hub, which this hub asks (its partner API is URL/partner/...).")
@click.option(
    "--audience", help="The `aud` its hub expects of this hub's tokens (default: REGION)."
)
@click.option("--jwks-url", help="Where it publishes its keys, fetched and kept up to date.")
@click.pass_obj
def partners_add(
    settings: Settings,
    name: str,
    region: str,
    url: str | None,
    audience: str | None,
    jwks_url: str | None,
) -> None:
    """Register a partner region's hub as client NAME."""
    row = run(
        settings,
        lambda s: registry.add(
            s, name=name, region=region, url=url, audience=audience, jwks_url=jwks_url
        ),
    )
    click.echo(f"partner {row.region} (client {name}, id {row.client_id})")
    click.echo(f"  its tokens must name aud {settings.audience!r} (this hub's HUB_REGION)")
    click.echo(f"  add its public keys: hub partners keys add {row.region} its-jwks.json")


@partners.command("set")
@click.argument("region")
@click.option("--url", help="Its hub, which this hub asks.")
@click.option("--audience", help="The `aud` its hub expects of this hub's tokens.")
@click.option("--jwks-url", help="Where it publishes its keys.")
@click.pass_obj
def partners_set(
    settings: Settings,
    region: str,
    url: str | None,
    audience: str | None,
    jwks_url: str | None,
) -> None:
    """Change where this hub reaches partner REGION; what is not given stays."""
    if url is None and audience is None and jwks_url is None:
        raise click.UsageError("give at least one of --url, --audience, --jwks-url")
    row = run(
        settings,
        lambda s: registry.change(s, region, url=url, audience=audience, jwks_url=jwks_url),
    )
    click.echo(
        f"partner {row.region}: url {row.url or '-'}, audience {row.audience or row.region}, "
        f"key set {row.jwks_url or '-'}"
    )


@partners.command("list")
@click.pass_obj
def partners_list(settings: Settings) -> None:
    """Every partner: region, client, state, URL and key IDs."""
    found = run(settings, registry.listing)
    for p in found:
        state = "enabled" if p.enabled else "DISABLED"
        keys = ",".join(sorted(p.keys)) or "no keys"
        click.echo(f"{p.region}\t{p.name}\t{state}\t{p.url or '-'}\t{keys}")
    if not found:
        click.echo("no partners (hub partners add NAME --region JS ...)")


@partners.group("keys")
def keys() -> None:
    """A partner's Ed25519 public keys (several at once while it rotates)."""


@keys.command("add")
@click.argument("region")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kid", help="Only this key of the file.")
@click.pass_obj
def keys_add(settings: Settings, region: str, file: Path, kid: str | None) -> None:
    """Add REGION's public keys from FILE: a JWK, or a key set as at /.well-known/jwks.json."""
    document = _json_file(file)
    added = run(settings, lambda s: registry.add_keys(s, region, document, only=kid))
    click.echo(f"added {', '.join(added)} for {region.upper()}")


@keys.command("remove")
@click.argument("region")
@click.argument("kid")
@click.pass_obj
def keys_remove(settings: Settings, region: str, kid: str) -> None:
    """Stop accepting REGION's key KID."""
    run(settings, lambda s: registry.remove_key(s, region, kid))
    click.echo(f"removed {kid} of {region.upper()}")


@partners.group("documents")
def documents_group() -> None:
    """Trusted documents: the only GraphQL partners may run."""


@documents_group.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--partner", help="Only for this region (default: every partner).")
@click.pass_obj
def documents_add(settings: Settings, file: Path, partner: str | None) -> None:
    """Register the document in FILE (its exact text); prints its ID."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    found = run(settings, lambda s: documents.add(s, text, partner=partner))
    click.echo(f"{found}\tfor {partner.upper() if partner else 'every partner'}")


@documents_group.command("list")
@click.pass_obj
def documents_list(settings: Settings) -> None:
    """Every trusted document: ID, who may run it, its operation."""
    for d in run(settings, documents.listing):
        click.echo(f"{d.document_id}\t{d.partner}\t{d.operation_name or '-'}")


@documents_group.command("remove")
@click.argument("document_id")
@click.pass_obj
def documents_remove(settings: Settings, document_id: str) -> None:
    """Unregister DOCUMENT_ID (sha256:...)."""
    run(settings, lambda s: documents.remove(s, document_id))
    click.echo(f"removed {document_id}")


@partners.command("deliver")
@click.pass_obj
def partners_deliver(settings: Settings) -> None:
    """Deliver the outbox now: every message to a partner hub whose time has come."""
    from hub.partners.outbox import deliver_due
    from hub.resources import Resources

    async def go() -> None:
        resources = Resources.open(settings)
        try:
            report = await deliver_due(resources.sessions, resources.partners, settings)
        finally:
            await resources.aclose()
        click.echo(f"delivered {len(report.delivered)}")
        for message_id, code in sorted(report.failed.items()):
            click.echo(f"not delivered {message_id}: {code} (tried again later)")
        for message_id, code in sorted(report.rejected.items()):
            click.echo(f"rejected {message_id}: {code}")

    asyncio.run(go())


@partners.command("outbox")
@click.pass_obj
def partners_outbox(settings: Settings) -> None:
    """Messages to partner hubs not delivered yet (and those refused): their attempts,
    next attempt and last error."""
    from hub.partners.outbox import pending

    found = run(settings, pending)
    for m in found:
        click.echo(
            f"{m.id}\t{m.partner_region}\t{m.kind}\t{m.state}\tattempts {m.attempts}\t"
            f"next {m.next_attempt_at:%Y-%m-%d %H:%M:%S}\t{m.last_error or '-'}"
        )
    if not found:
        click.echo("the outbox is empty: every message was delivered")
