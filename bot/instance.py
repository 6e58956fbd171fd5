"""What a running bot leaves beside its database for other processes to see.

``<database>.running`` is locked (``flock``) by the bot for as long as it runs, and holds its
process id: a second bot on the same file is refused (two would post everything twice), and
``python -m bot restore`` refuses to replace a database a bot is using. The kernel drops the
lock when the process ends, however it ends (``kill -9`` included), so a stale file never blocks.

``<database>.heartbeat`` is a small JSON document the bot rewrites every ``HEARTBEAT_EVERY``
seconds and whenever a shard connects or drops: for each shard, whether its gateway socket is
open and when Discord last acknowledged its heartbeat. ``python -m bot check --live`` reads it
(a container's HEALTHCHECK): the bot is healthy only if the file is fresh, the process is alive,
and every shard is connected with a recent acknowledgement. Times are the machine's real time,
never the try-out's moved clock.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import discord

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 20.0
#: A heartbeat file older than this means the bot is stuck or gone.
HEARTBEAT_STALE_AFTER = 90.0
#: Discord asks for a heartbeat every ~41 s; an acknowledgement older than this means the
#: gateway has gone quiet (discord.py itself gives up on a socket after 60 s of silence).
ACK_STALE_AFTER = 120.0


def lock_path(database: Path) -> Path:
    # Resolved: a database reached through a symlink has the one lock, not one per path.
    database = database.resolve()
    return database.with_name(database.name + ".running")


def heartbeat_path(database: Path) -> Path:
    database = database.resolve()
    return database.with_name(database.name + ".heartbeat")


class AlreadyRunning(Exception):
    """Another process holds the database's lock; ``pid`` is what it wrote, if readable."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(f"held by process {pid}" if pid else "held by another process")
        self.pid = pid

    @property
    def who(self) -> str:
        """`` (process N)`` when the holder's pid is known, else nothing: for messages."""
        return f" (process {self.pid})" if self.pid else ""


class InstanceLock:
    """An exclusive ``flock`` on ``<database>.running``, held from ``acquire`` to ``release``."""

    def __init__(self, database: Path) -> None:
        self.path = lock_path(database)
        self._file: IO[str] | None = None
        self._writable = False

    def acquire(self) -> None:
        """Take the lock now or raise ``AlreadyRunning``; writes this process's id."""
        try:
            handle = self.path.open("a+")
            self._writable = True
        except PermissionError:
            # Left by another user (root running `restore`): it locks as well read-only; only
            # the process id cannot be written.
            handle = self.path.open("r")
            self._writable = False
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read().strip()
            handle.close()
            raise AlreadyRunning(int(text) if text.isdecimal() else None) from None
        if self._writable:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            # Emptied first: a reader that finds the file without a lock sees no process id.
            if self._writable:
                self._file.truncate(0)
            self._file.close()
            self._file = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


# -- heartbeat ---------------------------------------------------------------------------------


def _last_ack(shard: discord.ShardInfo) -> float | None:
    """When (``time.time()``) Discord last acknowledged the shard's heartbeat, or None.

    discord.py keeps it as ``perf_counter`` time on the socket's keep-alive handler, which has
    no public accessor; tests/e2e/test_service_e2e.py fails if that ever changes.
    """
    socket = getattr(shard, "_parent", None)
    socket = getattr(socket, "ws", None)
    keep_alive = getattr(socket, "_keep_alive", None)
    acked = getattr(keep_alive, "_last_ack", None)
    if not isinstance(acked, float):
        return None
    return time.time() - (time.perf_counter() - acked)


def heartbeat_document(bot: discord.AutoShardedClient, *, version: str) -> dict[str, Any]:
    shards: dict[str, dict[str, Any]] = {}
    for shard_id, shard in sorted(bot.shards.items()):
        latency = shard.latency
        shards[str(shard_id)] = {
            "connected": not shard.is_closed(),
            "last_ack": _last_ack(shard),
            "latency_ms": None if math.isinf(latency) else round(latency * 1000, 1),
        }
    return {
        "pid": os.getpid(),
        "version": version,
        "written_at": time.time(),
        "ready": bot.is_ready(),
        "shards": shards,
    }


def write_heartbeat(path: Path, document: dict[str, Any]) -> None:
    """Replace the file in one step (a reader never sees half of it)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document), encoding="utf-8")
    partial.replace(path)


@dataclass(frozen=True, slots=True)
class Health:
    healthy: bool
    summary: str


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def assess_heartbeat(path: Path, *, now: float | None = None) -> Health:
    """What ``check --live`` says about the bot writing ``path``."""
    now = time.time() if now is None else now
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Health(False, f"no heartbeat at {path}: the bot is not running (or never connected)")
    except (OSError, ValueError) as exc:
        return Health(False, f"the heartbeat at {path} cannot be read ({exc})")
    if not isinstance(document, dict):
        return Health(False, f"the heartbeat at {path} is not one the bot wrote")
    written = document.get("written_at")
    if not isinstance(written, float | int):
        return Health(False, f"the heartbeat at {path} is not one the bot wrote")
    if not _alive(document.get("pid")):
        return Health(False, f"the bot that wrote {path} (process {document.get('pid')}) is gone")
    age = now - written
    if age > HEARTBEAT_STALE_AFTER:
        return Health(False, f"the bot has not written its heartbeat for {age:.0f} s (stuck?)")
    if not document.get("ready"):
        return Health(False, "the bot is running but not connected to Discord yet")
    shards = document.get("shards") or {}
    if not shards:
        return Health(False, "the bot has no gateway connection")
    worst = 0.0
    for shard_id, shard in sorted(shards.items()):
        if not shard.get("connected"):
            return Health(False, f"shard {shard_id}'s gateway connection is down (reconnecting)")
        acked = shard.get("last_ack")
        if isinstance(acked, float | int):
            ack_age = now - acked
            if ack_age > ACK_STALE_AFTER:
                return Health(
                    False,
                    f"shard {shard_id}: Discord has not answered a heartbeat for {ack_age:.0f} s",
                )
            worst = max(worst, ack_age)
    return Health(
        True,
        f"connected: {len(shards)} shard(s), last heartbeat acknowledged {worst:.0f} s ago",
    )
