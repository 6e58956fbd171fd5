"""Undercurrent's local Discord: an aiohttp server on 127.0.0.1 that speaks Discord's REST API
v10 and gateway well enough for an unmodified discord.py bot, with a driver that acts as guild
members, a recorder of every request and frame, fault injection, and a bot-process helper.

Modules: ``server`` (Emulator), ``model`` (the world), ``gateway``, ``rest`` (routes),
``driver`` (acting as members), ``recorder``, ``faults``, ``validation``, ``permissions``,
``process`` (the bot as a subprocess), ``ids`` (snowflakes and timestamps).

Example::

    async with Emulator() as emulator:            # guild "Sandbox": owner, mod, alice, bob
        bot = BotProcess(emulator, database_path=tmp / "db.sqlite3", cwd=tmp, pythonpath=[root])
        await bot.start()                         # returns once READY was sent
        driver = emulator.driver
        await driver.wait_for_commands("settings")
        result = await driver.run_command("settings timezone zone:Europe/Berlin", user="alice")
        await result.wait_response()
        assert result.ephemeral and "Europe/Berlin" in result.content
        emulator.faults.rate_limit("/channels/{channel_id}/messages", method="POST")
        await emulator.gateway.drop()             # the bot resumes on resume_gateway_url
        assert await bot.stop() == 0
        emulator.recorder.assert_all_implemented()
"""

from sandbox.driver import (
    ActionNotPossible,
    CommandNotAvailable,
    Driver,
    InteractionResult,
    message_text,
)
from sandbox.faults import FaultPlan
from sandbox.model import ChannelType, Guild, Member, Message, Role, World
from sandbox.permissions import Overwrite, OverwriteType, Permission
from sandbox.process import BotExited, BotProcess
from sandbox.recorder import Recorder
from sandbox.server import Emulator

__all__ = [
    "ActionNotPossible",
    "BotExited",
    "BotProcess",
    "ChannelType",
    "CommandNotAvailable",
    "Driver",
    "Emulator",
    "FaultPlan",
    "Guild",
    "InteractionResult",
    "Member",
    "Message",
    "Overwrite",
    "OverwriteType",
    "Permission",
    "Recorder",
    "Role",
    "World",
    "message_text",
]
