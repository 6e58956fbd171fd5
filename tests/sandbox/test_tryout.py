"""The try-out's launcher without starting anything: the bot it would run never sees this
shell's Discord token or a ``.env``, the world survives a save and load with its clock ahead, and
"skip ahead" reads the bot's next job (not its housekeeping) from the database."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sandbox.demo import demo_world
from sandbox.server import Emulator
from sandbox.tryout import NotOurs, Tryout, load_world, next_scheduled, save_world

SECRET = "MTIzNDU2Nzg5MDEy.real-looking.token-that-must-stay-home"


def test_the_bot_gets_the_emulators_token_and_no_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", SECRET)
    monkeypatch.setenv("DISCORD_API_BASE", "https://discord.com/api/v10")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={SECRET}\n")
    world = demo_world()
    tryout = Tryout(port=0, database=Path("sandbox.sqlite3"), fresh=False)
    bot = tryout.bot_process(Emulator(world))
    env = bot.env()
    assert env["DISCORD_TOKEN"] == world.token != SECRET
    assert env["DISCORD_API_BASE"].startswith("http://127.0.0.1:")
    assert SECRET not in env.values()
    assert not (bot.cwd / ".env").exists() and bot.cwd != tmp_path
    assert env["DATABASE_PATH"] == str(tmp_path / "sandbox.sqlite3")


def test_a_saved_world_comes_back_with_its_clock_ahead(tmp_path: Path) -> None:
    world = demo_world()
    world.clock.advance(timedelta(hours=5))
    world.dispatch = lambda *_: None
    path = tmp_path / "sandbox.sqlite3.world"
    save_world(world, path)
    assert world.dispatch is not None  # the live world keeps its hook
    again = load_world(path)
    assert again is not None and again.dispatch is None
    assert again.clock.offset == world.clock.offset
    assert {c.name for c in again.guild.channels.values()} == {
        c.name for c in world.guild.channels.values()
    }
    assert again.new_id() > world.guild.id
    path.write_bytes(b"not a world")
    assert load_world(path) is None


def test_skip_ahead_is_the_next_job_a_person_would_notice(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert next_scheduled(database, now) is None  # no database yet
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE jobs (kind TEXT, run_at INTEGER, status TEXT)")
        at = int(now.timestamp())
        conn.executemany(
            "INSERT INTO jobs VALUES (?, ?, ?)",
            [
                ("party.sync", at + 30, "pending"),
                ("outbox.sweep", at + 60, "pending"),
                ("party.remind", at - 60, "pending"),
                ("digest.post", at + 90, "done"),
                ("party.start", at + 600, "pending"),
            ],
        )
    assert next_scheduled(database, now) == now + timedelta(minutes=10)


def test_only_the_tryouts_own_files_are_ever_replaced(tmp_path: Path) -> None:
    real = tmp_path / "undercurrent.sqlite3"
    real.write_bytes(b"a real bot's database")
    for fresh in (False, True):
        with pytest.raises(NotOurs, match="not a try-out database"):
            Tryout(port=0, database=real, fresh=fresh).prepare_world()
    assert real.read_bytes() == b"a real bot's database"


def test_a_second_tryout_on_the_same_files_is_refused(tmp_path: Path) -> None:
    first = Tryout(port=0, database=tmp_path / "sandbox.sqlite3", fresh=False)
    first.lock()
    with pytest.raises(NotOurs, match="another try-out is running"):
        Tryout(port=0, database=tmp_path / "sandbox.sqlite3", fresh=True).lock()
