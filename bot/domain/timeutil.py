"""Conversions between aware datetimes and the storage convention (UTC epoch seconds)."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def to_epoch(moment: datetime) -> int:
    """Whole UTC seconds, rounded up so that nothing scheduled ever fires early."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every datetime in Undercurrent must be aware")
    return math.ceil(moment.timestamp())


def from_epoch(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
