"""The hub's own data: models, engine and sessions, migrations."""

from __future__ import annotations

from sqlalchemy import MetaData


def metadata() -> MetaData:
    """Every table of the hub (the models are in more than one module)."""
    from hub.db import coordination, signing  # noqa: F401  (register their tables)
    from hub.db.models import Base

    return Base.metadata
