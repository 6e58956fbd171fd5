"""The emulator: one aiohttp server on 127.0.0.1 serving the REST API under ``/api/v10``, the
gateway at ``/gateway`` (and ``/gateway-resume``, the ``resume_gateway_url`` READY hands out),
uploaded files under ``/attachments`` (see ``sandbox.attachments``), the world's clock at
``/sandbox/clock`` (see ``sandbox.clock``; a bot pointed here follows it), and the try-out page
at ``/app`` with its API under ``/app/api`` (see ``sandbox.page``; ``/`` redirects there).

Typical use::

    async with Emulator() as emulator:          # World.default(): guild "Sandbox"
        env = emulator.bot_env()                # DISCORD_TOKEN, DISCORD_API_BASE, DISCORD_GATEWAY_URL
        ...
        result = await emulator.driver.run_command("settings show", user="alice")
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING

from aiohttp import web

from sandbox.attachments import ROUTE as ATTACHMENT_ROUTE
from sandbox.attachments import AttachmentStore, attachment_route
from sandbox.clock import WorldClock, clock_route
from sandbox.faults import FaultPlan
from sandbox.gateway import Gateway
from sandbox.limits import RateLimits
from sandbox.model import JSON, Interaction, World
from sandbox.page import BotStatusHook, NextScheduledHook, RestartBotHook, add_page_routes
from sandbox.recorder import Recorder
from sandbox.rest import add_routes
from sandbox.timers import WorldTimers

if TYPE_CHECKING:
    from sandbox.driver import Driver

#: Discord's limit for the initial interaction response.
INTERACTION_DEADLINE = 3.0
#: How long interaction tokens (follow-ups, editing the original) stay valid.
FOLLOWUP_LIFETIME = 15 * 60.0
#: How long a message nonce is remembered for ``enforce_nonce`` (Discord says "the past few
#: minutes" without a figure).
NONCE_WINDOW = 5 * 60.0


class Emulator:
    """A local Discord: REST + gateway + the world they serve, a recorder and a fault plan."""

    def __init__(
        self,
        world: World | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        interaction_deadline: float = INTERACTION_DEADLINE,
        followup_lifetime: float = FOLLOWUP_LIFETIME,
        nonce_window: float = NONCE_WINDOW,
        heartbeat_interval_ms: int = 41250,
        shards: int = 1,
    ) -> None:
        """``shards`` is the shard count ``GET /gateway/bot`` recommends (see ``sandbox.gateway``)."""
        self.world = world if world is not None else World.default()
        self.host = host
        self.port = port
        self.interaction_deadline = interaction_deadline
        self.followup_lifetime = followup_lifetime
        self.nonce_window = nonce_window
        self.recorder = Recorder()
        self.faults = FaultPlan()
        #: Sustained rate limits, none until a test switches them on.
        self.limits = RateLimits()
        self.gateway = Gateway(self, heartbeat_interval_ms=heartbeat_interval_ms, shards=shards)
        #: What the world does by itself as time passes (events starting and ending…).
        self.timers = WorldTimers(self.world)
        #: The files messages carry, served at their URLs (see ``sandbox.attachments``).
        self.attachments = AttachmentStore(self)
        self.interaction_tokens: dict[str, Interaction] = {}
        # (channel, author, nonce) -> (message id, emulator-clock time), oldest first.
        self._nonces: dict[tuple[int, int, str], tuple[int, float]] = {}
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._driver: Driver | None = None
        self.world.dispatch = self._announce
        #: The try-out page's hooks, set by its launcher (see ``sandbox.page``): when the bot's
        #: next job is due, the bot process's status, and restarting it.
        self.next_scheduled: NextScheduledHook | None = None
        self.bot_status: BotStatusHook | None = None
        self.restart_bot: RestartBotHook | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and serve; ``port=0`` picks a free ephemeral port (see ``self.port``)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway-resume", self.gateway.handle)
        self._stopping.clear()
        app.router.add_get("/sandbox/clock", clock_route(self.world.clock, self._stopping))
        app.router.add_get(ATTACHMENT_ROUTE, attachment_route(self))
        add_routes(app, self)
        add_page_routes(app, self)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])
        self.attachments.rebuild(self.world)  # a saved world's files, at this address
        self.timers.start()

    async def stop(self) -> None:
        """Close gateway connections and stop serving."""
        await self.timers.stop()
        if self._runner is not None:
            self._stopping.set()
            self.recorder.notify()  # the page's live streams see the stop and end
            await self.gateway.close_all()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def stopping(self) -> asyncio.Event:
        """Set while the emulator stops (long polls and live streams end on it)."""
        return self._stopping

    # -- addresses ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """The value for ``DISCORD_API_BASE`` / ``discord.http.Route.BASE``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The value for ``DISCORD_GATEWAY_URL`` / ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        """Handed out in READY; a different path so tests can see the client used it."""
        return f"ws://{self.host}:{self.port}/gateway-resume"

    def bot_env(self) -> dict[str, str]:
        """Environment variables that point the bot at this emulator."""
        return {
            "DISCORD_TOKEN": self.world.token,
            "DISCORD_API_BASE": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
        }

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Point an in-process discord.py at this emulator (``Route.BASE``, ``DEFAULT_GATEWAY``)
        for the duration of the block; what the bot's config does at start-up."""
        import discord.gateway
        import discord.http
        import yarl

        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    # -- time ---------------------------------------------------------------------------------

    @property
    def world_clock(self) -> WorldClock:
        """The world's time, which tests move forward (``Driver.advance``)."""
        return self.world.clock

    def clock(self) -> float:
        """The world's monotonic clock, used for interaction deadlines, token lifetimes and
        the nonce window."""
        return self.world.clock.monotonic()

    def advance_clock(self, seconds: float | datetime.timedelta) -> None:
        """Pretend ``seconds`` have passed (e.g. to expire interaction tokens). What became due
        meanwhile happens soon after; ``Driver.advance`` also waits for it."""
        if isinstance(seconds, datetime.timedelta):
            seconds = seconds.total_seconds()
        generation = self.world.clock.advance(seconds)
        self.recorder.note("clock_advanced", seconds=seconds, generation=generation)

    # -- message nonces -----------------------------------------------------------------------

    def remember_nonce(self, channel_id: int, author_id: int, nonce: str, message_id: int) -> None:
        """Note the nonce a message was created with, for ``enforce_nonce`` within the window."""
        self._forget_old_nonces()
        self._nonces[(channel_id, author_id, nonce)] = (message_id, self.clock())

    def recall_nonce(self, channel_id: int, author_id: int, nonce: str) -> int | None:
        """The message this author created in this channel with ``nonce`` within the window."""
        self._forget_old_nonces()
        found = self._nonces.get((channel_id, author_id, nonce))
        return None if found is None else found[0]

    def _forget_old_nonces(self) -> None:
        oldest_kept = self.clock() - self.nonce_window
        for key, (_, at) in list(self._nonces.items()):
            if at > oldest_kept:
                break  # the clock only moves forward, so the rest are newer
            del self._nonces[key]

    # -- wiring -------------------------------------------------------------------------------

    def _announce(self, event: str, payload: JSON, guild_id: int | None) -> None:
        self.gateway.dispatch(event, payload, guild_id=guild_id)
        self.timers.poke()  # a new or changed event or thread may be due sooner

    def register_interaction(self, interaction: Interaction) -> None:
        self.world.interactions[interaction.id] = interaction
        self.interaction_tokens[interaction.token] = interaction

    @property
    def driver(self) -> Driver:
        """The test driver acting as guild members."""
        if self._driver is None:
            from sandbox.driver import Driver

            self._driver = Driver(self)
        return self._driver
