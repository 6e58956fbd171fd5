"""Durable jobs as values, and the rules for retrying them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

JobStatus = Literal["pending", "running", "done", "failed", "cancelled", "skipped"]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job to be scheduled: what kind, when, with which data, and an optional idempotency key.

    Two specs with the same ``dedupe_key`` make one job, ever (unless the first was cancelled).
    """

    kind: str
    run_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    guild_id: int | None = None

    def __post_init__(self) -> None:
        if self.run_at.tzinfo is None:
            raise ValueError("JobSpec.run_at must be an aware datetime")
        if not self.kind:
            raise ValueError("JobSpec.kind must not be empty")


@dataclass(frozen=True, slots=True)
class Job:
    """A stored job, as its handler receives it. ``attempts`` counts this run."""

    id: int
    kind: str
    guild_id: int | None
    run_at: datetime
    payload: Mapping[str, Any]
    dedupe_key: str | None
    status: JobStatus
    attempts: int
    last_error: str | None


def retry_delay(attempt: int, base: timedelta, cap: timedelta) -> timedelta:
    """Exponential backoff after the ``attempt``-th failure: base, 2·base, 4·base … at most cap."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    factor: int = 2 ** min(attempt - 1, 30)
    return min(cap, base * factor)


def is_stale(run_at: datetime, now: datetime, max_lateness: timedelta | None) -> bool:
    """True when a job is so overdue that running it now would be wrong (e.g. a past reminder)."""
    return max_lateness is not None and now - run_at > max_lateness
