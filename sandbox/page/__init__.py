"""The try-out page: a Discord-like web client the emulator serves, so a person can use the real
bot in a browser with no Discord account or token.

Open ``http://127.0.0.1:<port>/app`` (``/`` redirects there). The page lives in ``static/``
(plain HTML, CSS and JavaScript; no framework, no CDN, no build step) and talks to a JSON API
under ``/app/api``: ``GET state`` (what one member sees), ``GET live`` (server-sent events on
every change) and one ``POST`` per action (``sandbox.page.actions``), each done through the
``Driver`` as Discord would deliver it. Only the emulator's own loopback origin may call it
(``sandbox.page.guard``).

Modules: ``routes`` (mounting), ``guard`` (host/origin checks, error shape), ``state``,
``messages`` (a message as the page draws it), ``actions``, ``live``, ``hooks`` (what a launcher
plugs in).

A launcher (the bot's ``sandbox`` command) sets three optional hooks on the Emulator; without
them the matching controls are hidden or answer 404::

    emulator.next_scheduled = next_job_due   # async () -> datetime | None  ("skip ahead")
    emulator.bot_status = status             # () -> BotStatus  (running, crashed, log lines)
    emulator.restart_bot = restart           # async () -> None ("Restart bot" after a crash)
"""

from sandbox.page.hooks import BotStatus, BotStatusHook, NextScheduledHook, RestartBotHook
from sandbox.page.routes import add_page_routes

__all__ = [
    "BotStatus",
    "BotStatusHook",
    "NextScheduledHook",
    "RestartBotHook",
    "add_page_routes",
]
