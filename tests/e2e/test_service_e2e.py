"""Running it 24/7, end to end with the real bot process and the emulator: a backup taken while
the bot writes restores into a fresh folder with every pick; a bot started before the network
is up connects when it comes up; ``check --live`` follows the gateway; the daily backup runs
on the bot's own scheduler and a failed one reaches the mod-log; JSON logs carry nothing a
member typed."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import sys
import time
from datetime import UTC, timedelta
from pathlib import Path

from bot.instance import heartbeat_path
from sandbox import Emulator, World
from tests.e2e.conftest import PROJECT_ROOT, Stack, bot_process, mod_log_notice


async def cli(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """``python -m bot ARGS`` as a host would run it; (status, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env={**env, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def host_env(database: Path, **more: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    return {**keep, "DATABASE_PATH": str(database), **more}


async def share(stack: Stack, n: int, *, user: str = "alice") -> str:
    title = f"Backup Study {n:03d}"
    result = await stack.driver.run_command(
        "rec share",
        user=user,
        artist="Tape Loop Society",
        title=title,
        link=f"https://tapeloop.bandcamp.com/album/backup-study-{n:03d}",
    )
    await result.wait_response(within=10)
    assert result.original is not None, result.text()
    return title


def titles(database: Path) -> set[str]:
    conn = sqlite3.connect(database)
    try:
        return {row[0] for row in conn.execute("SELECT title FROM picks")}
    finally:
        conn.close()


async def test_a_backup_taken_while_the_bot_writes_restores_with_every_pick(
    stack: Stack, tmp_path: Path
) -> None:
    done: list[str] = []
    after: set[str] = set()
    backed_up = asyncio.Event()
    warmed_up = asyncio.Event()

    async def keep_sharing() -> None:
        n = 0
        while not backed_up.is_set() or len(done) < len(after) + 5:
            done.append(await share(stack, n))
            n += 1
            if n == 12:
                warmed_up.set()

    writing = asyncio.create_task(keep_sharing())
    await warmed_up.wait()
    before = set(done)
    backup = tmp_path / "backups" / "monday.sqlite3"
    backup.parent.mkdir()
    status, out, err = await cli(
        "backup", str(backup), env=host_env(stack.database_path), cwd=tmp_path
    )
    after = set(done)
    backed_up.set()
    await writing
    assert status == 0, err
    assert out.startswith(f"Backed up {stack.database_path} to {backup}: ")
    assert "integrity check ok" in out
    assert after > before, "members went on sharing while the backup ran"
    assert titles(stack.database_path) == set(done)

    # Restored into a fresh folder, as on a new machine.
    fresh = tmp_path / "new-machine" / "undercurrent.sqlite3"
    fresh.parent.mkdir()
    status, out, err = await cli("restore", str(backup), env=host_env(fresh), cwd=tmp_path)
    assert status == 0, err
    assert out.startswith(f"Restored {fresh} from {backup}")
    restored = titles(fresh)
    assert before <= restored <= after  # every pick shared before it began, nothing half-made

    # The bot, moved to the restored database, finds them.
    assert await stack.bot.stop() == 0
    moved = bot_process(stack.emulator, tmp_path, fresh, log_name="restored.log")
    await moved.start()
    try:
        await moved.wait_for_log(r"Ready as ")
        first = min(before)
        found = await stack.driver.run_command(
            "archive search", user="bob", options={"query": first}
        )
        await found.wait_response(within=10)
        assert first in found.text(), found.text()
    finally:
        assert await moved.stop() == 0, moved.log_tail()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_bot_started_before_the_network_connects_when_it_comes_up(
    tmp_path: Path,
) -> None:
    emulator = Emulator(World.default(), port=free_port())  # not listening yet
    bot = bot_process(emulator, tmp_path, tmp_path / "undercurrent.sqlite3")
    await bot.start(wait_ready=False)
    try:
        first = await bot.wait_for_log(r"Discord is not reachable yet \(attempt 1: ", within=20)
        await bot.wait_for_log(r"Discord is not reachable yet \(attempt 2: ", within=20)
        assert "trying again in" in first
        assert bot.running  # waiting, not exited
        await emulator.start()
        try:
            await bot.wait_ready(within=60)
            await bot.wait_for_log(r"Reached Discord after \d+ attempts")
            await bot.wait_for_log(r"Ready as ")
            assert await bot.stop() == 0, bot.log_tail()
        finally:
            await emulator.stop()
    finally:
        await bot.kill()


async def test_a_bot_waiting_for_the_network_stops_when_told(tmp_path: Path) -> None:
    """systemctl stop / docker stop at a boot with no network: a clean exit, not a SIGKILL."""
    emulator = Emulator(World.default(), port=free_port())  # never listens
    bot = bot_process(emulator, tmp_path, tmp_path / "undercurrent.sqlite3")
    # What a bot killed a moment ago left: healthy-looking, from a live pid (in a container
    # every bot is pid 1). It must say nothing about this one.
    left = {"pid": os.getpid(), "version": "0.1.0", "written_at": time.time(), "ready": True}
    left["shards"] = {"0": {"connected": True, "last_ack": time.time(), "latency_ms": 40.0}}
    heartbeat_path(bot.database_path).write_text(json.dumps(left))
    await bot.start(wait_ready=False)
    try:
        await bot.wait_for_log(r"Discord is not reachable yet \(attempt 2: ", within=20)
        status, _, err = await cli("check", "--live", env=bot.env(), cwd=tmp_path)
        assert status == 5  # running, and saying so, but not healthy
        assert "not healthy: the bot is running but not connected to Discord yet" in err
        assert await bot.stop(within=20) == 0, bot.log_tail()  # raises if it had to be killed
        assert "Stopped cleanly" in bot.log_tail()
    finally:
        await bot.kill()


async def test_check_live_is_healthy_only_while_the_gateway_is_up(tmp_path: Path) -> None:
    emulator = Emulator(World.default(), port=free_port())
    await emulator.start()
    bot = bot_process(emulator, tmp_path, tmp_path / "undercurrent.sqlite3")
    try:
        await bot.start()
        await bot.wait_for_log(r"Ready as ")
        env = bot.env()
        status, out, err = await cli("check", "--live", env=env, cwd=tmp_path)
        assert status == 0, err
        assert "connected: 1 shard(s), last heartbeat acknowledged" in out
        assert emulator.world.token not in out + err
        beat = json.loads(heartbeat_path(bot.database_path).read_text())
        # discord.py's keep-alive still has the attribute the heartbeat reads (bot/instance.py).
        assert isinstance(beat["shards"]["0"]["last_ack"], float)

        await emulator.stop()  # Discord goes away: the bot keeps trying to reconnect
        await bot.wait_for_log(r"Shard 0 lost its gateway connection", within=20)
        status, out, err = await cli("check", "--live", env=env, cwd=tmp_path)
        assert status == 5
        assert "not healthy: shard 0's gateway connection is down" in err
        assert bot.running

        assert await bot.stop() == 0, bot.log_tail()
        status, out, err = await cli("check", "--live", env=env, cwd=tmp_path)
        assert status == 5 and "the bot is not running" in err
    finally:
        await bot.kill()
        await emulator.stop()


async def test_the_daily_backup_runs_at_four_utc_and_a_failed_one_is_told_to_the_mod_log(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    async with Emulator(World.default()) as emulator:
        bot = bot_process(
            emulator,
            tmp_path,
            tmp_path / "undercurrent.sqlite3",
            extra_env={"BACKUP_DIR": str(folder), "BACKUP_KEEP": "2"},
        )
        driver = emulator.driver
        try:
            await bot.start()
            await bot.wait_for_log(r"Ready as ")
            mod_log = await driver.run_command(
                "settings mod-log", user="mod", options={"channel": "mod-log"}
            )
            await mod_log.wait_done()

            now = driver.now().astimezone(UTC)
            four = now.replace(hour=4, minute=0, second=0, microsecond=0)
            if four <= now:
                four += timedelta(days=1)
            for day in range(3):
                offset = bot.log_path.stat().st_size
                await driver.advance(four + timedelta(days=day, seconds=1) - driver.now())
                line = await bot.wait_for_log(r"Backup written to ", offset=offset, within=20)
                assert "keeping 2" in line
            taken = sorted(p.name[: len("undercurrent-20261201T0400")] for p in folder.iterdir())
            assert taken == [
                f"undercurrent-{four + timedelta(days=day):%Y%m%dT%H%M}" for day in (1, 2)
            ]  # the oldest of three pruned

            # The folder goes away (an unmounted disk): the moderators are told.
            for path in folder.iterdir():
                path.unlink()
            folder.rmdir()
            await driver.advance(four + timedelta(days=3, seconds=1) - driver.now())
            text = await mod_log_notice(driver)
            assert text.startswith("**Today's backup of the bot's database failed.**")
            assert "does not exist" in text and "python -m bot backup PATH" in text
            assert await bot.stop() == 0, bot.log_tail()
        finally:
            await bot.kill()


async def test_json_logs_carry_no_token_and_nothing_a_member_typed(tmp_path: Path) -> None:
    typed = ("Velvetfog Quartet", "Songs for the 7731 Lighthouse", "heard it at 3am in Oulu")
    async with Emulator(World.default()) as emulator:
        bot = bot_process(
            emulator,
            tmp_path,
            tmp_path / "undercurrent.sqlite3",
            extra_env={"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"},
        )
        try:
            await bot.start()
            await bot.wait_for_log(r"Ready as ")
            shared = await emulator.driver.run_command(
                "rec share",
                user="alice",
                artist=typed[0],
                title=typed[1],
                note=typed[2],
                link="https://velvetfog.bandcamp.com/album/lighthouse",
            )
            await shared.wait_response(within=10)
            found = await emulator.driver.run_command(
                "archive search", user="bob", options={"query": "lighthouse oulu"}
            )
            await found.wait_response(within=10)
            assert await bot.stop() == 0, bot.log_tail()
        finally:
            await bot.kill()
        token = emulator.world.token
    lines = [
        line
        for line in bot.log_path.read_text().splitlines()
        if line and not line.startswith("--- sandbox:")
    ]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(e["message"].startswith("Ready as ") for e in entries)
    assert all(e["time"].endswith("Z") for e in entries)
    text = "\n".join(lines)
    assert token not in text
    for words in (*typed, "lighthouse oulu"):
        assert words not in text, words
