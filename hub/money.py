"""Money as the hub's tables keep it: whole fen, exact on SQLite and PostgreSQL alike."""

from __future__ import annotations

from decimal import Decimal


def fen(amount: Decimal | None) -> int | None:
    """Yuan to fen (amounts have at most two decimals; more are rounded half-even)."""
    return None if amount is None else int((amount * 100).to_integral_value())


def yuan(amount: int | None) -> Decimal | None:
    """Fen to yuan, with two decimals."""
    return None if amount is None else Decimal(amount).scaleb(-2)
