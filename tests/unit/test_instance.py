"""One bot per database (a lock the kernel drops however the process ends), and what
``check --live`` makes of the heartbeat the bot writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.instance import AlreadyRunning, InstanceLock, assess_heartbeat


def test_a_second_holder_is_refused_and_told_who_holds_it(tmp_path: Path) -> None:
    database = tmp_path / "u.sqlite3"
    with InstanceLock(database):
        with pytest.raises(AlreadyRunning) as refused:
            InstanceLock(database).acquire()
        assert refused.value.pid == os.getpid()
    InstanceLock(database).acquire()  # released: free again


def test_the_same_database_through_a_symlink_has_the_same_lock(tmp_path: Path) -> None:
    database = tmp_path / "data" / "u.sqlite3"
    database.parent.mkdir()
    (tmp_path / "link").symlink_to(database.parent)
    with InstanceLock(database), pytest.raises(AlreadyRunning):
        InstanceLock(tmp_path / "link" / "u.sqlite3").acquire()


def test_a_lock_file_another_user_left_still_locks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`restore` run as root leaves a root-owned lock file the bot's user cannot write."""
    database = tmp_path / "u.sqlite3"
    with InstanceLock(database):  # the file exists from here on
        pass
    opened = Path.open

    def not_writable(path: Path, mode: str = "r", *args: object, **kwargs: object) -> object:
        if path.name.endswith(".running") and mode != "r":
            raise PermissionError(13, "Permission denied", str(path))
        return opened(path, mode, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", not_writable)
    with InstanceLock(database), pytest.raises(AlreadyRunning):
        InstanceLock(database).acquire()


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    database = tmp_path / "u.sqlite3"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from bot.instance import InstanceLock;"
            f"lock = InstanceLock(Path({str(database)!r})); lock.acquire(); print('held', flush=True);"
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(AlreadyRunning) as refused:
        InstanceLock(database).acquire()
    assert refused.value.pid == holder.pid
    holder.kill()
    holder.wait()
    InstanceLock(database).acquire()


def beat(path: Path, **changes: object) -> Path:
    document: dict[str, object] = {
        "pid": os.getpid(),
        "version": "0.1.0",
        "written_at": time.time(),
        "ready": True,
        "shards": {"0": {"connected": True, "last_ack": time.time() - 30, "latency_ms": 40.0}},
    }
    document.update(changes)
    path.write_text(json.dumps(document))
    return path


def test_healthy_only_when_fresh_alive_connected_and_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "u.sqlite3.heartbeat"
    assert not assess_heartbeat(path).healthy  # no file: not running
    assert "not running" in assess_heartbeat(path).summary
    health = assess_heartbeat(beat(path))
    assert health.healthy and "1 shard(s)" in health.summary and "30 s ago" in health.summary
    stale = assess_heartbeat(beat(path, written_at=time.time() - 600))
    assert not stale.healthy and "stuck" in stale.summary
    gone = assess_heartbeat(beat(path, pid=2**22 + 12345))
    assert not gone.healthy and "is gone" in gone.summary
    down = beat(path, shards={"0": {"connected": False, "last_ack": time.time(), "latency_ms": 1}})
    assert "connection is down" in assess_heartbeat(down).summary
    quiet = beat(path, shards={"0": {"connected": True, "last_ack": time.time() - 300}})
    assert "has not answered a heartbeat for 300 s" in assess_heartbeat(quiet).summary
    starting = assess_heartbeat(beat(path, ready=False, shards={}))
    assert not starting.healthy and "not connected to Discord yet" in starting.summary
    path.write_text("{half a docu")
    assert "cannot be read" in assess_heartbeat(path).summary
