"""Undercurrent's local Discord: an aiohttp server on 127.0.0.1 that speaks Discord's REST API
v10 and gateway well enough for an unmodified discord.py bot, with a driver that acts as guild
members, a world clock tests move forward (which a bot pointed here follows), a recorder of every
request and frame, fault injection, sustained rate limits, and a bot-process helper.

Modules: ``server`` (Emulator), ``model`` (the world), ``gateway``, ``rest`` (routes),
``driver`` (acting as members), ``clock`` (the world's time, ``GET /sandbox/clock``), ``timers``
(what happens by itself as time passes), ``recorder``, ``faults``, ``limits`` (sustained rate
limits), ``validation``, ``permissions``, ``process`` (the bot as a subprocess), ``ids``
(snowflakes and timestamps).

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
        emulator.limits.route("POST", "/channels/{channel_id}/messages", per=5, seconds=5)
        await emulator.gateway.drop()             # the bot resumes on resume_gateway_url
        [event] = driver.scheduled_events()
        await driver.rsvp(event, user="bob")
        await driver.advance(timedelta(days=1))   # the bot's clock jumps too; the event started
        await driver.react(message, "🔥", user="alice")
        driver.close_dms("bob")                   # the bot's next DM to bob: 403 50007
        assert await bot.stop() == 0
        emulator.recorder.assert_all_implemented()
"""

from sandbox.clock import WorldClock
from sandbox.driver import (
    ActionNotPossible,
    CommandNotAvailable,
    Driver,
    InteractionResult,
    message_text,
)
from sandbox.faults import FaultPlan
from sandbox.limits import RateLimits
from sandbox.model import (
    ChannelType,
    EventStatus,
    Guild,
    Member,
    Message,
    Role,
    ScheduledEvent,
    World,
)
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
    "EventStatus",
    "FaultPlan",
    "Guild",
    "InteractionResult",
    "Member",
    "Message",
    "Overwrite",
    "OverwriteType",
    "Permission",
    "RateLimits",
    "Recorder",
    "Role",
    "ScheduledEvent",
    "World",
    "WorldClock",
    "message_text",
]
