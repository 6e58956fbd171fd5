"""Backups of a live database and restoring them: consistent while someone writes, checked,
never overwriting anything, refusing what is not an Undercurrent database this version knows."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
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
    dead = _a_dead_pid()
    abandoned = folder / f".undercurrent-20261101T040000Z.sqlite3.partial-{dead}"
    abandoned.write_bytes(b"SQLite format 3\x00 half of a copy")
    (folder / f"{abandoned.name}-journal").write_bytes(b"journal")
    # pid 1 is always alive: a copy some running process may still be writing is left alone
    in_progress = folder / ".undercurrent-20261031T040000Z.sqlite3.partial-1"
    in_progress.write_bytes(b"another process still writing this one")
    backups.take_scheduled_backup(db_path, folder, 7, datetime(2026, 11, 1, 4, tzinfo=UTC))
    assert sorted(p.name for p in folder.iterdir()) == [
        in_progress.name,
        "undercurrent-20261101T040000Z.sqlite3",
    ]


def _a_dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_the_daily_backup_runs_at_four_utc_once_a_day() -> None:
    at = backups.next_backup_time(datetime(2026, 12, 1, 3, 59, tzinfo=UTC))
    assert at == datetime(2026, 12, 1, 4, tzinfo=UTC)
    assert backups.next_backup_time(at) == datetime(2026, 12, 2, 4, tzinfo=UTC)
    assert backups.daily_backup_job(at).dedupe_key == "backup.daily:2026-12-02"
