"""``python -m bot sandbox`` as a person runs it: one command starts a local Discord with the demo
server and the real bot, seeds it through the bot's own commands, prints one address, and stops
cleanly on Ctrl-C; the next run continues the same world (its clock still ahead) without seeding
again; a DISCORD_TOKEN in the environment never reaches the bot. And the launcher in-process: a
bot that crashes is reported to the page with its last log lines, and **Restart bot** brings it
back."""

from __future__ import annotations

import asyncio
import os
import pickle
import re
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

import aiohttp

from sandbox.demo import demo_world
from sandbox.tryout import Tryout, save_world, world_path
from tests.e2e.conftest import PROJECT_ROOT

SECRET = "MTIzNDU2Nzg5MDEy.real-looking.token-that-must-stay-home"
ADDRESS = re.compile(r"(http://127\.0\.0\.1:\d+)/\S*")


async def start(tmp_path: Path, *extra: str) -> tuple[asyncio.subprocess.Process, str, Path]:
    out = tmp_path / f"tryout-{len(list(tmp_path.glob('tryout-*.out')))}.out"
    env = {**os.environ, "DISCORD_TOKEN": SECRET, "PYTHONPATH": str(PROJECT_ROOT)}
    with out.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "sandbox", "--port", "0",
            "--database", str(tmp_path / "sandbox.sqlite3"), *extra,
            cwd=tmp_path, env=env, stdout=sink, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    for _ in range(1200):  # up to two minutes on a busy machine
        text = out.read_text(errors="replace")
        if match := ADDRESS.search(text):
            return process, match.group(1), out
        if process.returncode is not None:
            break
        await asyncio.sleep(0.1)
    process.kill()
    raise AssertionError(f"no address printed:\n{out.read_text(errors='replace')}")


async def stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGINT)
    return await asyncio.wait_for(process.wait(), 60)


def picks(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM picks").fetchone()[0])


async def test_one_command_starts_a_seeded_demo_and_the_next_run_continues_it(
    tmp_path: Path,
) -> None:
    process, base, out = await start(tmp_path)
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{base}/sandbox/clock") as reply:
            assert reply.status == 200
        printed = out.read_text()
        assert printed.count(base) == 1 and "Nothing leaves this machine" in printed
        for step in ("Importing an archive", "swap round", "listening party", "weekly digest"):
            assert step in printed
    finally:
        assert await stop(process) == 0
    database = tmp_path / "sandbox.sqlite3"
    world_file = tmp_path / "sandbox.sqlite3.world"
    shared = picks(database)
    assert shared > 200  # the imported archive and the members' shares
    world = pickle.loads(world_file.read_bytes())
    assert world.clock.offset >= 3600  # the swap round was paired an hour ahead
    channels = {c.name: c.id for c in world.guild.channels.values()}
    assert {"general", "recs", "parties", "digests", "mod-log"} <= set(channels)
    # What the bot answered the demo's people privately while seeding is dismissed: a visitor
    # acting as one of them starts on a clean server.
    private = [m for m in world.messages.values() if m.ephemeral_for is not None]
    assert private and all(m.dismissed for m in private)
    log = (tmp_path / "sandbox.sqlite3.log").read_text(errors="replace")
    assert SECRET not in log and SECRET not in out.read_text()

    # The next run: the same world, no seeding, the clock still ahead.
    process, base, out = await start(tmp_path)
    try:
        printed = out.read_text()
        assert "Importing an archive" not in printed
    finally:
        assert await stop(process) == 0
    again = pickle.loads(world_file.read_bytes())
    assert {c.name: c.id for c in again.guild.channels.values()} == channels
    assert again.clock.offset >= world.clock.offset
    assert picks(database) == shared

    # --fresh starts over.
    process, _, out = await start(tmp_path, "--fresh")
    try:
        assert "Importing an archive" in out.read_text()
    finally:
        assert await stop(process) == 0
    fresh = pickle.loads(world_file.read_bytes())
    assert {c.id for c in fresh.guild.channels.values()}.isdisjoint(channels.values())


async def page_bot_state(page: aiohttp.ClientSession) -> dict[str, Any]:
    """The bot's part of what the page shows (``connected``, ``status``, ``can_restart``)."""
    async with page.get("/app/api/state") as reply:
        assert reply.status == 200, await reply.text()
        return dict((await reply.json())["bot"])


async def test_a_crashed_bot_shows_its_last_log_lines_and_restart_brings_it_back(
    tmp_path: Path,
) -> None:
    database = tmp_path / "sandbox.sqlite3"
    # A world set up already (the demo server, and a database beside it): no seeding to wait for.
    save_world(demo_world(), world_path(database))
    sqlite3.connect(database).close()
    tryout = Tryout(port=0, database=database, fresh=False)
    stop = asyncio.Event()
    running = asyncio.create_task(tryout.run(stop))
    try:
        async with asyncio.timeout(120):
            await tryout.ready.wait()
        emulator, bot = tryout.emulator, tryout.bot
        assert emulator is not None and bot is not None
        origin = {"Origin": emulator.base_url}
        async with aiohttp.ClientSession(base_url=emulator.base_url, headers=origin) as page:
            shown = await page_bot_state(page)
            assert shown["connected"] and shown["can_restart"]
            assert shown["status"] == {**shown["status"], "running": True, "crashed": False}

            await bot.kill()  # a crash: SIGKILL, no goodbye
            shown = await page_bot_state(page)
            assert shown["status"]["crashed"] and not shown["status"]["running"]
            written = bot.log_path.read_text(errors="replace").splitlines()
            assert shown["status"]["log"] == written[-30:]  # the last lines it wrote
            assert any("bot.db.connection: Database" in line for line in shown["status"]["log"])

            async with page.post("/app/api/restart", json={}) as reply:
                assert reply.status == 200, await reply.text()
            assert tryout.ready.is_set()
            shown = await page_bot_state(page)
            assert shown["connected"]
            assert shown["status"]["running"] and not shown["status"]["crashed"]
            assert "start #2" in "\n".join(shown["status"]["log"])
            # Back for real: it answers a member.
            about = await emulator.driver.run_command("about", user="wren", channel="general")
            await about.wait_done(within=30)
            assert about.original is not None and "Undercurrent" in about.text()
    finally:
        stop.set()
        assert await asyncio.wait_for(running, 60) == 0
    assert not (tryout.bot is not None and tryout.bot.running)
