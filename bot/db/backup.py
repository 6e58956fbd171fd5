"""Consistent copies of a live database, checked; putting one back; and the daily backup job.

The database runs in WAL mode, so copying its file while the bot runs can give a copy that
misses committed writes or is corrupt. A backup here uses SQLite's online backup API on its own
read-only connection: one read transaction, so the copy is the database as of one moment, while
the bot goes on writing (WAL readers never block the writer). The copy is written beside its
destination under a temporary name, switched out of WAL mode (one self-contained file), checked
(``PRAGMA integrity_check``, and that it is an Undercurrent database this version can open),
flushed to disk, and only then given its name — never over an existing file.

These functions are synchronous (``sqlite3``): the command line calls them directly and the bot
runs them on a worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.db.connection import SQLITE_MAGIC
from bot.db.migrate import latest_version
from bot.domain.jobs import JobKind, JobSpec, NoPayload

log = logging.getLogger(__name__)

#: Tables every Undercurrent database has had since its first version.
CORE_TABLES = frozenset({"bot_meta", "guild_settings", "jobs"})
BACKUP_PREFIX = "undercurrent-"
BACKUP_SUFFIX = ".sqlite3"
PARTIAL_MARK = ".partial-"


class BackupRefused(Exception):
    """The path given cannot be used; nothing was written. The message says why."""


@dataclass(frozen=True, slots=True)
class DatabaseFacts:
    """What a database file holds, as ``check``, ``backup`` and ``restore`` report it."""

    path: Path
    size: int
    schema: int
    latest: int
    picks: int | None
    servers: int | None

    @property
    def upgrade_pending(self) -> bool:
        return self.schema < self.latest

    def describe(self) -> str:
        schema = f"schema v{self.schema}"
        if self.upgrade_pending:
            schema += f" (v{self.latest} after the upgrade the bot applies on start)"
        if self.picks is None:
            return f"{human_size(self.size)}, {schema}"
        return (
            f"{human_size(self.size)}, {schema}, {self.picks:,} pick(s) from "
            f"{self.servers or 0:,} server(s)"
        )


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection: it never changes the database (SQLite may still create the
    ``-wal``/``-shm`` files a WAL database's readers share). Not ``immutable``: the bot may be
    writing."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        yield conn
    finally:
        conn.close()


def _is_sqlite_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def inspect(path: Path, *, integrity: bool = False, counts: bool = True) -> DatabaseFacts:
    """Read ``path``'s facts without changing it; ``BackupRefused`` if it is not an Undercurrent
    database this version can use (not SQLite, another program's, newer, damaged).
    ``counts=False`` skips counting picks (a health check every minute need not)."""
    if path.is_dir():
        raise BackupRefused(f"{path} is a folder, not a database file")
    if not path.exists():
        raise BackupRefused(f"{path} does not exist")
    if not _is_sqlite_file(path):
        raise BackupRefused(f"{path} is not an SQLite database")
    latest = latest_version()
    try:
        with _read_only(path) as conn:
            schema = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if schema < 1 or not tables >= CORE_TABLES:
                raise BackupRefused(f"{path} is an SQLite database, but not an Undercurrent one")
            if schema > latest:
                raise BackupRefused(
                    f"{path} was written by a newer Undercurrent (schema v{schema}; this "
                    f"version knows up to v{latest}): upgrade Undercurrent first"
                )
            if integrity:
                problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
                if problems != ["ok"]:
                    raise BackupRefused(
                        f"{path} failed SQLite's integrity check: {'; '.join(problems[:3])}"
                    )
            picks: int | None = None
            servers: int | None = None
            if counts and "picks" in tables:
                picks, servers = conn.execute(
                    "SELECT count(*), count(DISTINCT guild_id) FROM picks"
                ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(f"{path} cannot be read as a database: {exc}") from exc
    return DatabaseFacts(path, _size_with_wal(path), schema, latest, picks, servers)


def _size_with_wal(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def check_destination(destination: Path) -> None:
    """``BackupRefused`` unless a new file can be created at ``destination``."""
    if destination.is_dir():
        raise BackupRefused(f"{destination} is a folder: give the backup a file name inside it")
    if destination.exists() or destination.is_symlink():
        raise BackupRefused(f"{destination} already exists: nothing was overwritten")
    folder = destination.parent
    if not folder.is_dir():
        raise BackupRefused(f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BackupRefused(f"the folder {folder} is not writable by this user")


def _copy(source: Path, partial: Path) -> None:
    """The online backup of ``source`` into a new file ``partial``, made self-contained."""
    with _read_only(source) as src:
        dst = sqlite3.connect(partial, isolation_level=None)
        try:
            # One step (-1): the whole copy in one read transaction, a single moment's database.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    with partial.open("rb+") as handle:
        os.fsync(handle.fileno())


def backup(source: Path, destination: Path) -> DatabaseFacts:
    """Write a checked copy of the live database ``source`` to the new file ``destination``."""
    check_destination(destination)
    inspect(source)  # an Undercurrent database this version knows, before anything is written
    partial = destination.with_name(f".{destination.name}{PARTIAL_MARK}{os.getpid()}")
    try:
        _copy(source, partial)
        facts = inspect(partial, integrity=True)
        try:
            os.link(partial, destination)  # never replaces: fails if the name was taken meanwhile
        except FileExistsError:
            raise BackupRefused(f"{destination} already exists: nothing was overwritten") from None
        _fsync_folder(destination.parent)
    except sqlite3.Error as exc:
        raise BackupRefused(f"the copy failed: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        for leftover in (partial.with_name(partial.name + "-journal"),):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return DatabaseFacts(
        destination,
        destination.stat().st_size,
        facts.schema,
        facts.latest,
        facts.picks,
        facts.servers,
    )


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass(frozen=True, slots=True)
class Restored:
    facts: DatabaseFacts
    replaced: Path | None


def restore(source: Path, target: Path, *, now: datetime | None = None) -> Restored:
    """Put the backup ``source`` in place of the database ``target``. The caller holds the
    target's instance lock (no bot is running on it). The database replaced is kept beside it
    as ``<name>.replaced-<UTC time>``; ``source`` is left as it was."""
    facts = inspect(source, integrity=True)
    if target.is_dir():
        raise BackupRefused(f"DATABASE_PATH {target} is a folder, not a database file")
    if target.exists() and not _is_sqlite_file(target) and target.stat().st_size > 0:
        raise BackupRefused(
            f"DATABASE_PATH {target} is not an SQLite database; refusing to replace it"
        )
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    partial = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    try:
        _copy(source, partial)
        inspect(partial, integrity=True)
        replaced: Path | None = None
        if target.exists():
            _fold_wal_into(target)
            replaced = target.with_name(f"{target.name}.replaced-{stamp}")
            target.replace(replaced)
        try:
            for leftover in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    target.with_name(target.name + leftover).unlink()
            partial.replace(target)
        except OSError:
            if replaced is not None and not target.exists():
                replaced.replace(target)  # put the database back where it was
            raise
        _fsync_folder(target.parent)
    except sqlite3.Error as exc:
        raise BackupRefused(f"the copy failed: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return Restored(
        DatabaseFacts(
            target, target.stat().st_size, facts.schema, facts.latest, facts.picks, facts.servers
        ),
        replaced,
    )


def _fold_wal_into(database: Path) -> None:
    """Write what a bot that was killed left in ``-wal`` into the file itself, so the copy kept
    aside holds every committed write."""
    if not _is_sqlite_file(database):
        return
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()


# -- scheduled backups -------------------------------------------------------------------------


def backup_name(moment: datetime) -> str:
    return f"{BACKUP_PREFIX}{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}{BACKUP_SUFFIX}"


def scheduled_backups(folder: Path) -> list[Path]:
    """The backups this bot made in ``folder``, oldest first (their names sort by time)."""
    return sorted(
        path
        for path in folder.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}")
        if path.is_file() and len(path.name) == len(backup_name(datetime(2000, 1, 1, tzinfo=UTC)))
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned_copies(folder: Path) -> list[Path]:
    """Delete the half-written copies a backup killed mid-way left in ``folder`` (a process
    that is still alive may still be writing its own, so those stay); returns those deleted."""
    removed = []
    for path in folder.glob(f".*{BACKUP_SUFFIX}{PARTIAL_MARK}*"):
        pid = path.name.rpartition(PARTIAL_MARK)[2].removesuffix("-journal")
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` scheduled backups; returns those deleted."""
    backups = scheduled_backups(folder)
    doomed = backups[: max(0, len(backups) - keep)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def take_scheduled_backup(source: Path, folder: Path, keep: int, moment: datetime) -> str:
    """The daily backup: a new checked copy named by its time, then the oldest pruned. Returns
    one line for the log."""
    started = time.monotonic()
    remove_abandoned_copies(folder)
    facts = backup(source, folder / backup_name(moment))
    pruned = prune(folder, keep)
    return (
        f"Backup written to {facts.path} ({facts.describe()}) in "
        f"{time.monotonic() - started:.1f} s; {len(pruned)} older one(s) removed, keeping {keep}"
    )


BACKUP_HOUR_UTC = 4

DAILY_BACKUP = JobKind(
    "backup.daily",
    NoPayload,
    summary="the daily backup of the database",
    what_to_do="The bot's operator finds the error in its log; `python -m bot backup PATH` "
    "takes one by hand.",
)


def next_backup_time(after: datetime, *, hour: int = BACKUP_HOUR_UTC) -> datetime:
    """The daily backup runs at ``hour``:00 UTC, the first such time after ``after``."""
    moment = after.astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    while moment <= after:
        moment += timedelta(days=1)
    return moment


def daily_backup_job(after: datetime) -> JobSpec:
    """The next daily backup after ``after``: one per day, however often it is asked for."""
    at = next_backup_time(after)
    return DAILY_BACKUP.spec(at, NoPayload(), f"{DAILY_BACKUP.name}:{at:%Y-%m-%d}")


def failure_notice(folder: Path, error: BaseException) -> str:
    """What the moderators are told when a scheduled backup failed (no paths beyond the
    folder the operator configured)."""
    return (
        f"**Today's backup of the bot's database failed.** {error}\n"
        f"Backups go to `{folder}` (BACKUP_DIR). Whoever runs the bot: check that the folder "
        "exists, is writable and has room, then take one by hand with "
        "`python -m bot backup PATH`. The next backup is tried tomorrow."
    )
