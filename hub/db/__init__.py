"""The hub's own data: models, engine and sessions, migrations."""

from __future__ import annotations

from sqlalchemy import MetaData


def metadata() -> MetaData:
    """Every table of the hub (the models are in more than one module)."""
    # Imported to register their tables.
    from hub.db import (  # noqa: F401
        checkpoints,  # signed audit checkpoints
        coordination,
        partners,  # partner regions, transfers
        signing,
    )
    from hub.db.models import Base

    return Base.metadata
