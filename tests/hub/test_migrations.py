from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import metadata, migrate
from hub.db.session import create_engine

TABLES = set(metadata().tables)


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_migrations_go_up_down_and_up_again(database_url: str):
    engine = create_engine(database_url)
    try:
        assert await migrate.current(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.current(engine) == migrate.head()
        assert await _tables(engine) >= TABLES
        await migrate.downgrade(engine, "base")
        assert await migrate.current(engine) is None
        assert not (TABLES & await _tables(engine))
        await migrate.upgrade(engine)
        assert await _tables(engine) >= TABLES
    finally:
        await engine.dispose()


async def test_the_migrations_match_the_models(engine: AsyncEngine):
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), metadata())
        )
    assert diff == []
