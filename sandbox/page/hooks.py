"""What the launcher of the try-out page plugs into the Emulator: the shape of the bot's status
and the types of the three optional hooks (``Emulator.next_scheduled``, ``Emulator.bot_status``,
``Emulator.restart_bot``). The emulator cannot see the bot's process or jobs by itself."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import TypedDict


class BotStatus(TypedDict):
    """How the bot process is doing, as the page shows it."""

    #: The process is alive.
    running: bool
    #: The process ended by itself (not stopped on purpose): the page offers **Restart bot**.
    crashed: bool
    #: The last lines of the bot's log, oldest first.
    log: list[str]


#: When the bot's next job is due (its jobs table, read-only), or None when nothing is pending.
NextScheduledHook = Callable[[], Awaitable[datetime.datetime | None]]
#: The bot process's status right now.
BotStatusHook = Callable[[], BotStatus]
#: Start the bot process again after it crashed; returns once it is READY (or raises).
RestartBotHook = Callable[[], Awaitable[None]]
