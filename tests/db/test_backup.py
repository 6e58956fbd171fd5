"""Backups of a live database and restoring them: consistent while someone writes, checked,
never overwriting anything, refusing what is not an Undercurrent database this version knows."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db import backup as backups
from bot.db.migrate import latest_version


def wal_writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def keys(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT key FROM bot_meta WHERE key LIKE 'w%'")}
    finally:
        conn.close()


def test_a_backup_taken_while_another_connection_writes_holds_every_earlier_commit(
    db_path: Path, tmp_path: Path
) -> None:
    writer = wal_writer(db_path)
    committed: list[str] = []
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            writer.execute("INSERT INTO bot_meta (key, value) VALUES (?, ?)", (f"w{n}", "x" * 500))
            committed.append(f"w{n}")
            n += 1

    for n in range(2000):  # a WAL with something in it, not yet checkpointed
        writer.execute("INSERT INTO bot_meta (key, value) VALUES (?, ?)", (f"pre{n}", "y" * 500))
    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(committed) < 200:
            pass
        before = set(committed)
        facts = backups.backup(db_path, tmp_path / "copy.sqlite3")
        after = set(committed)
    finally:
        stop.set()
        thread.join()
        writer.close()

    copied = keys(tmp_path / "copy.sqlite3")
    assert before <= copied <= after  # every commit made before it began; nothing half-made
    assert facts.schema == latest_version()
    assert facts.size == (tmp_path / "copy.sqlite3").stat().st_size
    # One self-contained file: not in WAL mode, nothing beside it.
    check = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert (
        check.execute("SELECT count(*) FROM bot_meta WHERE key LIKE 'pre%'").fetchone()[0] == 2000
    )
    check.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("copy", ".copy"))) == [
        "copy.sqlite3"
    ]


def test_backup_never_overwrites_and_says_why(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = tmp_path / "taken.sqlite3"
    existing.write_bytes(b"precious")
    with pytest.raises(backups.BackupRefused, match="already exists: nothing was overwritten"):
        backups.backup(db_path, existing)
    assert existing.read_bytes() == b"precious"
    with pytest.raises(backups.BackupRefused, match="is a folder"):
        backups.backup(db_path, tmp_path)
    with pytest.raises(backups.BackupRefused, match="does not exist"):
        backups.backup(db_path, tmp_path / "missing" / "b.sqlite3")
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == locked else real_access(p, mode)
    )
    with pytest.raises(backups.BackupRefused, match="not writable"):
        backups.backup(db_path, locked / "b.sqlite3")
    assert list(locked.iterdir()) == []


def test_what_is_not_an_undercurrent_database_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("my shoegaze list\n")
    with pytest.raises(backups.BackupRefused, match="not an SQLite database"):
        backups.inspect(text)
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA user_version = 3")
    conn.close()
    with pytest.raises(backups.BackupRefused, match="not an Undercurrent one"):
        backups.inspect(other)


def test_restore_keeps_the_replaced_database_with_what_its_wal_held(
    db_path: Path, tmp_path: Path
) -> None:
    writer = wal_writer(db_path)
    writer.execute("INSERT INTO bot_meta (key, value) VALUES ('w-old', 'kept')")
    backups.backup(db_path, tmp_path / "b.sqlite3")
    writer.execute("INSERT INTO bot_meta (key, value) VALUES ('w-after', 'in the WAL only')")
    # What a killed bot leaves: the file and a WAL holding the last commit, no lock held.
    killed = tmp_path / "killed"
    killed.mkdir()
    target = killed / db_path.name
    shutil.copyfile(db_path, target)
    shutil.copyfile(db_path.with_name(db_path.name + "-wal"), killed / f"{db_path.name}-wal")
    writer.close()
    assert (killed / f"{db_path.name}-wal").stat().st_size > 0

    restored = backups.restore(
        tmp_path / "b.sqlite3", target, now=datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    )
    assert restored.replaced == target.with_name(target.name + ".replaced-20261201T200000Z")
    assert keys(target) == {"w-old"}
    assert keys(restored.replaced) == {"w-old", "w-after"}
    assert sorted(p.name for p in killed.iterdir()) == [
        target.name,
        restored.replaced.name,
    ]  # no WAL of the old database left to be mistaken for the new one's
    assert (tmp_path / "b.sqlite3").exists()  # the backup itself is left as it was


def test_restore_refuses_a_newer_schema_and_leaves_the_database_untouched(
    db_path: Path, tmp_path: Path
) -> None:
    newer = tmp_path / "newer.sqlite3"
    backups.backup(db_path, newer)
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(backups.BackupRefused, match="newer Undercurrent"):
        backups.restore(newer, db_path)
    assert db_path.read_bytes() == before
    assert not list(tmp_path.glob("*.replaced-*"))


def test_daily_backups_are_named_by_time_and_the_oldest_pruned(
    db_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup")
    (folder / "undercurrent-manual.sqlite3").write_text("named by a person, not by the bot")
    for day in range(1, 10):
        backups.take_scheduled_backup(db_path, folder, 7, datetime(2026, 11, day, 4, tzinfo=UTC))
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "notes.txt",
        *[f"undercurrent-202611{day:02d}T040000Z.sqlite3" for day in range(3, 10)],
        "undercurrent-manual.sqlite3",
    ]


def test_a_copy_left_half_written_by_a_killed_backup_is_removed_by_the_next(
    db_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    # What a backup killed mid-copy leaves (its pid may be alive again: in a container every
    # bot is pid 1): a partial copy, and its journal, that nobody holds a lock on.
    abandoned = folder / ".undercurrent-20261101T040000Z.sqlite3.partial-1-0a1b2c3d"
    abandoned.write_bytes(b"SQLite format 3\x00 half of a copy")
    (folder / f"{abandoned.name}-journal").write_bytes(b"journal")
    # A copy another process is writing right now: locked, so left alone.
    in_progress = folder / ".undercurrent-20261031T040000Z.sqlite3.partial-7-0a1b2c3d"
    in_progress.write_bytes(b"still being written")
    with in_progress.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        backups.take_scheduled_backup(db_path, folder, 7, datetime(2026, 11, 1, 4, tzinfo=UTC))
    assert sorted(p.name for p in folder.iterdir()) == [
        in_progress.name,
        "undercurrent-20261101T040000Z.sqlite3",
    ]


def test_names_like_the_daily_backups_but_not_theirs_are_never_pruned(
    db_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    mine = folder / "undercurrent-before-upgrade-x.sqlite3"  # as long as a daily backup's name
    assert len(mine.name) == len(backups.backup_name(datetime(2026, 1, 1, tzinfo=UTC)))
    backups.backup(db_path, mine)
    for day in (1, 2):
        backups.take_scheduled_backup(db_path, folder, 1, datetime(2026, 11, day, 4, tzinfo=UTC))
    assert sorted(p.name for p in folder.iterdir()) == [
        "undercurrent-20261102T040000Z.sqlite3",
        mine.name,
    ]


def test_two_restores_in_one_second_keep_both_replaced_databases(
    db_path: Path, tmp_path: Path
) -> None:
    writer = wal_writer(db_path)
    writer.execute("INSERT INTO bot_meta (key, value) VALUES ('w-original', 'x')")
    backups.backup(db_path, tmp_path / "empty-ish.sqlite3")
    writer.execute("INSERT INTO bot_meta (key, value) VALUES ('w-later', 'x')")
    writer.close()
    backups.backup(db_path, tmp_path / "right.sqlite3")
    original = keys(db_path)
    moment = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    first = backups.restore(tmp_path / "empty-ish.sqlite3", db_path, now=moment)
    second = backups.restore(tmp_path / "right.sqlite3", db_path, now=moment)
    assert first.replaced is not None and second.replaced is not None
    assert second.replaced.name == f"{db_path.name}.replaced-20261202T010000Z-2"
    assert keys(first.replaced) == original  # the original database was not overwritten
    assert keys(second.replaced) == {"w-original"}
    assert keys(db_path) == original


def test_backup_and_restore_work_where_files_cannot_be_hard_linked(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FAT on a USB disk, some network shares: BACKUP_DIR is often one of those."""

    def no_links(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    copy = tmp_path / "b.sqlite3"
    backups.backup(db_path, copy)
    with pytest.raises(backups.BackupRefused, match="already exists"):
        backups.backup(db_path, copy)
    restored = backups.restore(copy, db_path)
    assert restored.replaced is not None and restored.replaced.read_bytes()[:6] == b"SQLite"
    assert backups.inspect(db_path).schema == latest_version()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_restore_run_as_root_leaves_the_database_to_the_bot_s_user(
    db_path: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "b.sqlite3"
    backups.backup(db_path, copy)
    os.chown(db_path, 10001, 10001)
    db_path.chmod(0o640)
    backups.restore(copy, db_path)
    facts = db_path.stat()
    assert (facts.st_uid, facts.st_gid, facts.st_mode & 0o777) == (10001, 10001, 0o640)


def test_the_daily_backup_runs_at_four_utc_once_a_day() -> None:
    at = backups.next_backup_time(datetime(2026, 12, 1, 3, 59, tzinfo=UTC))
    assert at == datetime(2026, 12, 1, 4, tzinfo=UTC)
    assert backups.next_backup_time(at) == datetime(2026, 12, 2, 4, tzinfo=UTC)
    assert backups.daily_backup_job(at).dedupe_key == "backup.daily:2026-12-02"
