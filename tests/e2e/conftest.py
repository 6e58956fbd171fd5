"""Fixtures for the end-to-end layer: the real bot (``python -m bot``) as a subprocess,
connected over loopback sockets to a fresh emulator, with its own database file.

The bot runs in ``tmp_path`` (so no developer ``.env`` is read) with the project on PYTHONPATH.
After each test the emulator must have seen no unimplemented route and produced no 500 of its
own, and the bot is stopped with SIGTERM and must exit 0.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox import BotProcess, Driver, Emulator

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    """One emulator and the bot process connected to it."""

    emulator: Emulator
    bot: BotProcess
    database_path: Path

    @property
    def driver(self) -> Driver:
        return self.emulator.driver


#: The title of the bot's notices to the moderators, as the mod-log shows it.
NOTICE = "Undercurrent needs a moderator"


async def mod_log_notice(driver: Driver) -> str:
    """The text of the first notice to the moderators in #mod-log, once there is one."""
    notices = await driver.wait_until(
        lambda: (
            [
                m
                for m in driver.messages("mod-log")
                if m.embeds and m.embeds[0].get("title") == NOTICE
            ]
            or None
        ),
        within=20,
    )
    return str(notices[0].embeds[0]["description"])


def bot_process(
    emulator: Emulator,
    tmp_path: Path,
    database_path: Path,
    *,
    module: str = "bot",
    log_name: str = "bot.log",
    extra_env: dict[str, str] | None = None,
) -> BotProcess:
    """``python -m <module>`` run in ``tmp_path`` with this checkout on PYTHONPATH."""
    return BotProcess(
        emulator,
        database_path=database_path,
        cwd=tmp_path,
        module=module,
        pythonpath=[PROJECT_ROOT],
        python=sys.executable,
        log_level="DEBUG",
        log_path=tmp_path / log_name,
        extra_env=extra_env,
    )


@asynccontextmanager
async def bot_stack(emulator: Emulator, tmp_path: Path) -> AsyncIterator[Stack]:
    """The bot process started against a running ``emulator``, READY and with its commands."""
    database_path = tmp_path / "undercurrent.sqlite3"
    bot = bot_process(emulator, tmp_path, database_path)
    await bot.start()
    try:
        await emulator.driver.wait_for_commands("settings", within=10)
        yield Stack(emulator, bot, database_path)
        if bot.running:
            assert await bot.stop() == 0, bot.log_tail()
        emulator.recorder.assert_all_implemented()
        assert emulator.recorder.server_errors() == []
    finally:
        await bot.kill()


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with Emulator() as emulator, bot_stack(emulator, tmp_path) as running:
        yield running
