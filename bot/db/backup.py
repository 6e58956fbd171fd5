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
import fcntl
import itertools
import logging
import os
import re
import secrets
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.db.connection import SQLITE_MAGIC, check_database_path
from bot.db.migrate import latest_version
from bot.domain.jobs import JobKind, JobSpec, NoPayload
from bot.errors import DatabaseRefused

log = logging.getLogger(__name__)

#: Tables every Undercurrent database has had since its first version.
CORE_TABLES = frozenset({"bot_meta", "guild_settings", "jobs"})
BACKUP_PREFIX = "undercurrent-"
BACKUP_SUFFIX = ".sqlite3"
PARTIAL_MARK = ".partial-"
#: What the daily backup names its files (a person's own names in the folder are never pruned).
SCHEDULED_NAME = re.compile(re.escape(BACKUP_PREFIX) + r"\d{8}T\d{6}Z" + re.escape(BACKUP_SUFFIX))


class BackupRefused(Exception):
    """The path given cannot be used; nothing was written. The message says why."""


class DatabaseUnusable(BackupRefused):
    """The database itself (DATABASE_PATH) is the problem, not the path given; untouched."""


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


@contextlib.contextmanager
def _partial_beside(final: Path) -> Iterator[Path]:
    """A new empty file beside ``final`` to write a copy into, locked (``flock``) while this
    process writes it, and removed afterwards with its journal. A copy left by a process that
    was killed is unlocked, so ``remove_abandoned_copies`` knows it for one whatever the pid."""
    partial = final.with_name(f".{final.name}{PARTIAL_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    descriptor = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield partial
    finally:
        for leftover in (partial, partial.with_name(partial.name + "-journal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        os.close(descriptor)


def _place(partial: Path, destination: Path) -> None:
    """Give the finished copy its name, never over a file that has it."""
    try:
        os.link(partial, destination)  # fails if the name was taken meanwhile
    except FileExistsError:
        raise BackupRefused(f"{destination} already exists: nothing was overwritten") from None
    except OSError:
        # No hard links on this file system (FAT on a USB disk, some network shares).
        if destination.exists() or destination.is_symlink():
            raise BackupRefused(f"{destination} already exists: nothing was overwritten") from None
        partial.rename(destination)


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
    try:
        with _partial_beside(destination) as partial:
            _copy(source, partial)
            try:
                facts = inspect(partial, integrity=True)
            except BackupRefused as exc:  # a faithful copy of a damaged database
                raise DatabaseUnusable(f"{source} is damaged: its copy {exc}") from exc
            _place(partial, destination)
            _fsync_folder(destination.parent)
    except sqlite3.Error as exc:
        raise BackupRefused(f"the copy failed: {exc}") from exc
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
    as ``<name>.replaced-<UTC time>`` (never over an earlier one); ``source`` is left as it was.
    At every moment ``target`` is either the old database or the new one."""
    facts = inspect(source, integrity=True)
    try:
        check_database_path(target)
    except DatabaseRefused as exc:
        raise DatabaseUnusable(exc.message) from None
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    remove_abandoned_copies(target.parent)
    try:
        with _partial_beside(target) as partial:
            _copy(source, partial)
            inspect(partial, integrity=True)
            _same_owner(partial, target)
            replaced: Path | None = None
            if target.exists():
                _fold_wal_into(target)  # the file alone now holds every committed write
                replaced = _keep_aside(target, stamp)
            for leftover in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    target.with_name(target.name + leftover).unlink()
            partial.replace(target)  # one step: the old database or the new, never none
            _fsync_folder(target.parent)
    except sqlite3.Error as exc:
        raise BackupRefused(f"the copy failed: {exc}") from exc
    return Restored(
        DatabaseFacts(
            target, target.stat().st_size, facts.schema, facts.latest, facts.picks, facts.servers
        ),
        replaced,
    )


def _keep_aside(database: Path, stamp: str) -> Path:
    """A second name for ``database`` (or a copy, where the file system has no hard links):
    ``<name>.replaced-<stamp>``, with ``-2``, ``-3``… when an earlier restore took it."""
    for attempt in itertools.count(1):
        suffix = "" if attempt == 1 else f"-{attempt}"
        kept = database.with_name(f"{database.name}.replaced-{stamp}{suffix}")
        try:
            os.link(database, kept)
        except FileExistsError:
            continue
        except OSError:
            try:
                with database.open("rb") as old, kept.open("xb") as new:
                    shutil.copyfileobj(old, new)
                    new.flush()
                    os.fsync(new.fileno())
            except FileExistsError:
                continue
            shutil.copystat(database, kept)
        return kept
    raise AssertionError("unreachable")


def _same_owner(new: Path, old: Path) -> None:
    """Run as root (``sudo python -m bot restore``), give the restored file the owner and mode
    of the one it replaces (or of its folder), so the bot's own user can still write it."""
    if os.geteuid() != 0:
        return
    model = old if old.exists() else old.parent
    facts = model.stat()
    os.chown(new, facts.st_uid, facts.st_gid)
    if model == old:
        new.chmod(stat.S_IMODE(facts.st_mode))


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
        if path.is_file() and SCHEDULED_NAME.fullmatch(path.name)
    )


def remove_abandoned_copies(folder: Path) -> list[Path]:
    """Delete the half-written copies a backup or restore killed mid-way left in ``folder``.
    A copy is abandoned when nothing holds its lock: one still being written is left alone."""
    removed = []
    for path in sorted(folder.glob(f".*{PARTIAL_MARK}*")):
        if path.name.endswith("-journal"):
            continue  # goes with its copy, below
        try:
            descriptor = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # being written right now
        else:
            for leftover in (path, path.with_name(path.name + "-journal")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
                    removed.append(leftover)
        finally:
            os.close(descriptor)
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
