"""Snowflakes, tokens and timestamps shaped like Discord's.

Snowflakes are time-based (milliseconds since the Discord epoch in the top 42 bits) so that
``discord.utils.snowflake_time`` gives a sensible creation time, and strictly increasing within
one process so that ordering by ID is ordering by creation.
"""

from __future__ import annotations

import datetime
import secrets
import threading
import time

DISCORD_EPOCH_MS = 1_420_070_400_000

_lock = threading.Lock()
_last_ms = 0
_sequence = 0


def new_snowflake(
    *, worker: int = 1, process: int = 0, shard: tuple[int, int] | None = None
) -> int:
    """Return a new snowflake for "now", always greater than every one issued before.

    Up to 4,096 IDs share a millisecond; past that, or if the clock steps back, the timestamp
    part moves ahead of the clock by as little as needed. With ``shard=(shard_id, shard_count)``
    the ID is one Discord routes to that shard (``(id >> 22) % shard_count == shard_id``): the
    timestamp moves ahead by under ``shard_count`` milliseconds.
    """
    global _last_ms, _sequence
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms, _sequence = now_ms, 0
        else:
            _sequence += 1
            if _sequence > 0xFFF:
                _last_ms, _sequence = _last_ms + 1, 0
        if shard is not None:
            shard_id, shard_count = shard
            if not 0 <= shard_id < shard_count:
                raise ValueError(f"no shard {shard_id} among {shard_count}")
            ahead = (shard_id - (_last_ms - DISCORD_EPOCH_MS)) % shard_count
            if ahead:
                _last_ms, _sequence = _last_ms + ahead, 0
        return (
            ((_last_ms - DISCORD_EPOCH_MS) << 22)
            | ((worker & 0x1F) << 17)
            | ((process & 0x1F) << 12)
            | _sequence
        )


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a guild's events to."""
    return (guild_id >> 22) % shard_count


def snowflake_time(snowflake: int) -> datetime.datetime:
    """The aware UTC creation time encoded in a snowflake."""
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)


def utcnow() -> datetime.datetime:
    """The current aware UTC time."""
    return datetime.datetime.now(tz=datetime.UTC)


def iso(moment: datetime.datetime) -> str:
    """ISO 8601 with offset, the way Discord writes timestamps (``2024-01-01T12:00:00.000000+00:00``)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not Discord timestamps")
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime.datetime:
    """Parse a timestamp sent by a client; naive values are refused like Discord refuses them."""
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("timestamp has no offset")
    return moment


def new_token(prefix: str = "") -> str:
    """An opaque token (interaction tokens, session IDs)."""
    return prefix + secrets.token_urlsafe(48)


def new_session_id() -> str:
    """A gateway session ID: 32 hex characters, as Discord issues them."""
    return secrets.token_hex(16)
