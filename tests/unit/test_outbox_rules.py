"""Outbox nonces and the rule for when a retry must look before it posts again."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.outbox import (
    NONCE_MAX_LENGTH,
    NONCE_SALT_LENGTH,
    NONCE_TRUSTED_FOR,
    OutboxEntry,
    make_nonce,
    must_look_before_posting,
)

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
ENTRY = OutboxEntry(
    id=7, key="pick:7:card", kind="message", guild_id=1, channel_id=2, marker="uc:pick:heard:7",
    nonce_salt="a" * NONCE_SALT_LENGTH, posted_id=None, status="pending", attempts=0,
    last_attempt_at=None, last_error=None, created_at=T0,
)  # fmt: skip


@pytest.mark.parametrize("entry_id", [0, 1, 35, 36, 2**31, 2**63 - 1])
def test_nonce_fits_discord_and_is_unique_per_id(entry_id: int) -> None:
    nonce = make_nonce(entry_id, "f" * NONCE_SALT_LENGTH)
    assert len(nonce) <= NONCE_MAX_LENGTH
    assert nonce != make_nonce(entry_id + 1, "f" * NONCE_SALT_LENGTH)
    assert nonce == make_nonce(entry_id, "f" * NONCE_SALT_LENGTH)


def test_nonce_differs_between_databases_for_the_same_id() -> None:
    assert make_nonce(1, "0" * NONCE_SALT_LENGTH) != make_nonce(1, "1" * NONCE_SALT_LENGTH)
    assert ENTRY.nonce == f"7.{'a' * NONCE_SALT_LENGTH}"


def test_a_nonce_too_long_for_discord_is_refused() -> None:
    with pytest.raises(ValueError):
        make_nonce(1, "x" * NONCE_MAX_LENGTH)


@pytest.mark.parametrize(
    ("kind", "attempts", "age", "look"),
    [
        ("message", 0, None, False),  # never tried: nothing to find
        ("message", 1, timedelta(0), False),  # the nonce brings the first message back
        ("message", 1, NONCE_TRUSTED_FOR - timedelta(seconds=1), False),
        ("message", 1, NONCE_TRUSTED_FOR, True),  # Discord may have forgotten the nonce
        ("response", 1, timedelta(0), True),  # interaction responses take no nonce
        ("event", 1, timedelta(0), True),  # scheduled events have no idempotency
    ],
)
def test_when_a_retry_looks_first(
    kind: str, attempts: int, age: timedelta | None, look: bool
) -> None:
    entry = dataclasses.replace(
        ENTRY, kind=kind, attempts=attempts, last_attempt_at=None if age is None else T0 - age
    )  # type: ignore[arg-type]
    assert must_look_before_posting(entry, T0) is look


def test_after_downtime_the_next_sweep_is_the_next_hour_not_every_hour_missed() -> None:
    from datetime import UTC, datetime, timedelta

    from bot.client import next_on_the_hour

    last = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert next_on_the_hour(last, last + timedelta(minutes=1)) == last + timedelta(hours=1)
    assert next_on_the_hour(last, last + timedelta(days=2, minutes=30)) == last + timedelta(
        days=2, hours=1
    )
    assert next_on_the_hour(last, last + timedelta(hours=1)) == last + timedelta(hours=2)
