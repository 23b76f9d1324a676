"""The ``hub`` command: serve, run the stand-ins, migrate, sync, export the schema."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import uvicorn

from adapters.vocabulary import District
from hub.runtime import tune_gc
from hub.settings import SANDBOX_CONTROL_PORT, SANDBOX_PORTS, Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette

T = TypeVar("T")

SDL_PATH = Path(__file__).resolve().parents[1] / "schema" / "schema.graphql"
FEDERATION_SDL_PATH = SDL_PATH.with_name("federation.graphql")


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """The social-assistance integration hub."""
    ctx.obj = _settings()
    _configure_logs(ctx.obj, verbose=verbose)


def _configure_logs(settings: Settings, *, verbose: bool = False) -> None:
    """JSON lines in production, readable ones in development (HUB_LOG_FORMAT forces)."""
    from hub.observability import logs

    level = logging.DEBUG if verbose else logging.getLevelName(settings.log_level.upper())
    logs.configure(
        logs.log_format(development=settings.development, forced=settings.log_format),
        level=level if isinstance(level, int) else logging.INFO,
    )


def app_from_environment() -> Starlette:
    """The app for the settings in the environment: what each ``serve --workers`` worker runs."""
    from hub.app import create_app

    settings = Settings()
    _configure_logs(settings)  # a fresh process: the parent's logging is not inherited
    app = create_app(settings)
    tune_gc()
    return app


@main.command()
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes sharing the port (rate limits are per worker unless HUB_REDIS_URL).",
)
def serve(workers: int) -> None:
    """Serve GraphQL at http://HOST:PORT/graphql (HUB_HOST, HUB_PORT)."""
    from hub.observability import multiproc

    settings = _settings()
    # Several workers count together: each is a fresh process, which finds the directory in
    # its environment when it imports prometheus_client.
    with multiproc.shared_metrics(workers):
        from hub.app import create_app

        # uvicorn's own logging setup and access lines give way to the hub's.
        quiet: dict[str, Any] = {"log_config": None, "access_log": False}
        if workers > 1:
            # uvicorn starts each worker in a fresh process, so it needs an import string.
            uvicorn.run(
                "hub.cli:app_from_environment",
                factory=True,
                workers=workers,
                host=settings.host,
                port=settings.port,
                log_level=settings.log_level,
                **quiet,
            )
            return
        app = create_app(settings)
        tune_gc()
        uvicorn.run(
            app, host=settings.host, port=settings.port, log_level=settings.log_level, **quiet
        )


@main.command()
@click.option("--seed", type=int, default=None, help="Population seed (HUB_SANDBOX_SEED).")
@click.option("--size", type=int, default=None, help="Households (HUB_SANDBOX_SIZE).")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="SOURCE:FAULT=VALUE[,...]",
    help="Inject faults from the start, e.g. education:latency_ms=50 or charity:down=true.",
)
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="SOURCE",
    help="Serve only this department (repeatable), e.g. to run one in a process of its own.",
)
@click.option(
    "--control-port",
    type=int,
    default=SANDBOX_CONTROL_PORT,
    show_default=True,
    help="Port of the faults, scenario and call-count service; 0 for none.",
)
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Hand-built households (YAML or JSON) served beside the synthetic ones "
    "(with --size 0, instead of them).",
)
def sandbox(
    seed: int | None,
    size: int | None,
    faults: tuple[str, ...],
    only: tuple[str, ...],
    control_port: int,
    scenario_file: Path | None,
) -> None:
    """Serve the stand-in department systems on loopback."""
    from adapters.sandbox.faults import parse_assignment
    from adapters.sandbox.scenario import ScenarioError, parse_scenario
    from adapters.sandbox.server import build_apps, serve
    from adapters.vocabulary import Source

    settings = _settings()
    try:
        scenario = parse_scenario(scenario_file) if scenario_file is not None else None
    except ScenarioError as exc:
        raise click.BadParameter(str(exc), param_hint="--scenario") from None
    try:
        chosen = [Source[name.upper()] for name in only] or None
    except KeyError as exc:
        raise click.BadParameter(
            f"unknown department {exc.args[0]!r}", param_hint="--only"
        ) from None
    try:
        apps = build_apps(
            seed if seed is not None else settings.sandbox_seed,
            size if size is not None else settings.sandbox_size,
            only=chosen,
            scenario=scenario,
        )
    except ScenarioError as exc:
        raise click.BadParameter(str(exc), param_hint="--scenario") from None
    for spec in faults:
        name, _, assignments = spec.partition(":")
        try:
            apps[Source[name.upper()]].faults.update(parse_assignment(assignments))
        except KeyError:
            raise click.BadParameter(f"unknown department {name!r}", param_hint="--fault") from None
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--fault") from None
    for source in apps:
        click.echo(f"{source.value}: http://127.0.0.1:{SANDBOX_PORTS[source]}")
    if control_port:
        click.echo(f"faults and call counts: http://127.0.0.1:{control_port}/faults")
    asyncio.run(serve(apps, SANDBOX_PORTS, control_port=control_port or None))


@main.group()
def db() -> None:
    """Manage the hub's database (HUB_DATABASE_URL)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from hub.db import migrate

    asyncio.run(_with_engine(migrate.upgrade, revision))
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION ('base' undoes all)."""
    from hub.db import migrate

    asyncio.run(_with_engine(migrate.downgrade, revision))
    click.echo(f"database at {revision}")


@db.command("current")
def db_current() -> None:
    """Print the revision the database is at."""
    from hub.db import migrate

    click.echo(asyncio.run(_with_engine(migrate.current)) or "empty (no migrations applied)")


async def _with_engine(action: Callable[..., Awaitable[T]], *args: str) -> T:
    from hub.db.session import create_engine

    engine = create_engine(_settings().database_url)
    try:
        return await action(engine, *args)
    finally:
        await engine.dispose()


@main.command()
def sync() -> None:
    """Pull the civil-affairs change feed into the household index."""
    from hub.jobs import run_sync

    report = asyncio.run(run_sync(_settings()))
    click.echo(
        f"seen {report.seen}, inserted {report.inserted}, updated {report.updated}, "
        f"removed {report.removed}, unchanged {report.unchanged}"
    )
    if report.analyzed:
        click.echo("the index's planner statistics brought up to date (ANALYZE)")


@main.command()
@click.option(
    "--district",
    type=click.Choice([d.name.lower() for d in District], case_sensitive=False),
    help="Judge only this district's households (one partition of the work).",
)
@click.option("--batch", type=click.IntRange(10, 5000), default=500, show_default=True)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Batches in flight at once.",
)
@click.option(
    "--queue",
    "queued",
    is_flag=True,
    help="Queue one job per district on Redis (HUB_REDIS_URL) for `hub worker`, and return.",
)
def discover(district: str | None, batch: int, concurrency: int, queued: bool) -> None:
    """Judge every indexed household by the discovery rules and keep the alerts (主动发现)."""
    from hub.jobs import run_discovery

    chosen = District[district.upper()] if district else None
    if queued:
        from hub.jobs.queue import enqueue_discovery

        settings = _settings()
        if not settings.redis_url:
            raise click.UsageError("--queue needs HUB_REDIS_URL")
        names = asyncio.run(enqueue_discovery(settings, [chosen] if chosen else None))
        click.echo(f"queued {len(names)} district(s): {', '.join(names) or 'all already queued'}")
        return
    tune_gc()
    report = asyncio.run(
        run_discovery(_settings(), district=chosen, batch_size=batch, concurrency=concurrency)
    )
    tally = report.tally
    click.echo(
        f"judged {report.households} households in {report.seconds:.1f} s "
        f"({report.per_second:.0f}/s): {tally.opened} alerts opened, {tally.updated} updated, "
        f"{tally.resolved} resolved, {tally.kept} unchanged"
    )
    for department, count in sorted(report.unavailable.items()):
        click.echo(
            f"  {department} could not be read for {count} households: rules needing it "
            "were not judged for them"
        )


@main.command()
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
def worker(burst: bool) -> None:
    """Process queued discovery jobs (HUB_REDIS_URL); run as many as wanted."""
    from hub.jobs.queue import worker as make_worker

    settings = _settings()
    if not settings.redis_url:
        raise click.UsageError("the worker needs HUB_REDIS_URL")
    tune_gc()
    asyncio.run(make_worker(settings, burst=burst).start())


@main.group("schema")
def schema_group() -> None:
    """The GraphQL schema as SDL."""


@schema_group.command("export")
@click.option("--check", is_flag=True, help="Fail if the checked-in file differs.")
@click.option(
    "--federation",
    is_flag=True,
    help="The Apollo Federation v2 subgraph's SDL, to schema/federation.graphql.",
)
def schema_export(check: bool, federation: bool) -> None:
    """Write schema/schema.graphql (or schema/federation.graphql) from the code."""
    import schema

    path = FEDERATION_SDL_PATH if federation else SDL_PATH
    text = schema.federation_sdl() if federation else schema.sdl()
    command = "hub schema export" + (" --federation" if federation else "")
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise click.ClickException(f"{path.name} is out of date: run '{command}'")
        click.echo(f"{path.name} is up to date")
        return
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}")


@main.command()
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Hand-built households (YAML or JSON) for the stand-ins, beside the demo ones.",
)
def demo(scenario_file: Path | None) -> None:
    """Start the stand-ins, migrate, sync a demo population and serve the hub."""
    from hub.demo import run

    sys.exit(run(_settings(), scenario=scenario_file))


def _register_admin() -> None:
    from hub.admin import audit_group, clients, keys_group, tokens
    from hub.partners.cli import partners
    from hub.rules.cli import rules

    for group in (clients, tokens, keys_group, audit_group, rules, partners):
        main.add_command(group)


_register_admin()

if __name__ == "__main__":
    main()
