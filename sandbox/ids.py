"""Snowflakes, tokens and timestamps shaped like Discord's.

Snowflakes are time-based (milliseconds since the Discord epoch in the top 42 bits) so that
``discord.utils.snowflake_time`` gives a sensible creation time, and strictly increasing within
one source so that ordering by ID is ordering by creation. Each emulated world has its own source
(``Snowflakes``), stamped with that world's time (which tests move forward) and with worker and
process bits of its own, so two worlds never issue the same ID and a jump in one world's time
leaves the next world's IDs alone. ``new_snowflake`` is the process-wide source on real time.
"""

from __future__ import annotations

import datetime
import itertools
import secrets
import threading
import time

DISCORD_EPOCH_MS = 1_420_070_400_000

#: Worker and process bits (10 together) handed to each new source in turn; the process-wide
#: source has worker 1, process 0.
_SOURCE_BITS = 10
_DEFAULT_SOURCE = 1 << 5
_source_numbers = itertools.count(_DEFAULT_SOURCE + 1)


class Snowflakes:
    """One source of snowflakes: each greater than every one it issued before.

    Up to 4,096 IDs share a millisecond; past that, or if the given time steps back, the
    timestamp part moves ahead of the time by as little as needed. With ``shard=(shard_id,
    shard_count)`` the ID is one Discord routes to that shard (``(id >> 22) % shard_count ==
    shard_id``): the timestamp moves ahead by under ``shard_count`` milliseconds.
    """

    def __init__(self, *, worker: int, process: int) -> None:
        self.worker = worker & 0x1F
        self.process = process & 0x1F
        self._lock = threading.Lock()
        self._last_ms = 0
        self._sequence = 0

    def __getstate__(self) -> dict[str, int]:
        """What a saved world keeps (the try-out stores its world between runs): not the lock."""
        return {
            "worker": self.worker, "process": self.process,
            "last_ms": self._last_ms, "sequence": self._sequence,
        }  # fmt: skip

    def __setstate__(self, state: dict[str, int]) -> None:
        self.__init__(worker=state["worker"], process=state["process"])  # type: ignore[misc]
        self._last_ms, self._sequence = state["last_ms"], state["sequence"]

    @classmethod
    def new_source(cls) -> Snowflakes:
        """A source whose worker and process bits no other live source in this process uses
        (they repeat only after 1,023 more sources)."""
        number = next(_source_numbers) % (1 << _SOURCE_BITS)
        if number == _DEFAULT_SOURCE:
            number = next(_source_numbers) % (1 << _SOURCE_BITS)
        return cls(worker=number >> 5, process=number)

    def next(self, at: float, *, shard: tuple[int, int] | None = None) -> int:
        """A new snowflake for the moment ``at`` (epoch seconds)."""
        with self._lock:
            now_ms = int(at * 1000)
            if now_ms > self._last_ms:
                self._last_ms, self._sequence = now_ms, 0
            else:
                self._sequence += 1
                if self._sequence > 0xFFF:
                    self._last_ms, self._sequence = self._last_ms + 1, 0
            if shard is not None:
                shard_id, shard_count = shard
                if not 0 <= shard_id < shard_count:
                    raise ValueError(f"no shard {shard_id} among {shard_count}")
                ahead = (shard_id - (self._last_ms - DISCORD_EPOCH_MS)) % shard_count
                if ahead:
                    self._last_ms, self._sequence = self._last_ms + ahead, 0
            return (
                ((self._last_ms - DISCORD_EPOCH_MS) << 22)
                | (self.worker << 17)
                | (self.process << 12)
                | self._sequence
            )


_process_source = Snowflakes(worker=_DEFAULT_SOURCE >> 5, process=_DEFAULT_SOURCE)


def new_snowflake(*, shard: tuple[int, int] | None = None) -> int:
    """A new snowflake for the real "now" from the process-wide source (see ``Snowflakes``);
    the emulator's own entities take theirs from their world (``World.new_id``)."""
    return _process_source.next(time.time_ns() / 1e9, shard=shard)


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a guild's events to."""
    return (guild_id >> 22) % shard_count


def snowflake_time(snowflake: int) -> datetime.datetime:
    """The aware UTC creation time encoded in a snowflake."""
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)


def utcnow() -> datetime.datetime:
    """The current aware UTC time, real (a world's own time is ``World.now()``)."""
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
