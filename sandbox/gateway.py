"""The gateway websocket: HELLO, heartbeats, IDENTIFY/READY/GUILD_CREATE, RESUME with replay,
dispatch of events by intent, and the connection faults tests inject.

Frames are JSON. When the client asks for ``compress=zlib-stream`` (discord.py does unless
``zstandard`` is installed) every frame is sent as binary, compressed with one zlib stream per
connection and flushed with ``Z_SYNC_FLUSH``, as Discord does. For any other compression request
frames go out as plain text, which discord.py accepts whatever it asked for.

A session outlives its connection: events dispatched while the bot is disconnected are kept (up
to ``BACKLOG``) and replayed on RESUME.

Sharding as Discord does it: IDENTIFY may carry ``shard: [shard_id, shard_count]`` (a bad one is
closed with 4010); a session gets only the guilds with ``(guild_id >> 22) % shard_count ==
shard_id`` (in READY, GUILD_CREATE and every guild event, interactions included), and events
without a guild (DMs) only on shard 0. A session without ``shard`` is shard ``[0, 1]`` and gets
everything; one that would hold more than ``max_guilds_per_shard`` guilds is closed with 4011.
RESUME keeps the session's shard. ``GET /gateway/bot`` recommends ``recommended_shards``.

Not emulated: zombie detection (the server never closes a connection for missed heartbeats),
the identify rate limit (``max_concurrency``), ETF encoding.

Kept as one module (about 660 lines): sessions, connections, sharding and dispatch share the per-
session queues and sequence numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import WSMsgType, web

from sandbox.ids import new_session_id, shard_of

if TYPE_CHECKING:
    from sandbox.model import Message
    from sandbox.server import Emulator

_log = logging.getLogger(__name__)

JSON = dict[str, Any]
BACKLOG = 2000
#: Seconds in which each rate limit bucket (``shard_id % max_concurrency``) may IDENTIFY once.
IDENTIFY_WINDOW = 5.0
#: Discord refuses a connection that would hold more guilds than this (close code 4011).
MAX_GUILDS_PER_SHARD = 2500
#: IDENTIFYs a bot may send per day (``session_start_limit.total`` in ``GET /gateway/bot``).
SESSION_START_TOTAL = 1000
#: Seconds before a HEARTBEAT is acknowledged, about what Discord's own round trip takes.
#: discord.py's keep-alive thread notes when it sent a heartbeat only once the send has
#: completed; an ACK answered at once can be read (on the bot's event loop) before that note,
#: and is then measured against the previous heartbeat: "Can't keep up, shard ID None
#: websocket is 41.3s behind", a whole interval, logged against a local emulator.
HEARTBEAT_ACK_DELAY = 0.1


class Op(enum.IntEnum):
    """Gateway opcodes."""

    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE_UPDATE = 3
    VOICE_STATE_UPDATE = 4
    RESUME = 6
    RECONNECT = 7
    REQUEST_GUILD_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11


class Intent(enum.IntFlag):
    """Gateway intents."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MODERATION = 1 << 2
    GUILD_EXPRESSIONS = 1 << 3
    GUILD_INTEGRATIONS = 1 << 4
    GUILD_WEBHOOKS = 1 << 5
    GUILD_INVITES = 1 << 6
    GUILD_VOICE_STATES = 1 << 7
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    GUILD_MESSAGE_TYPING = 1 << 11
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    DIRECT_MESSAGE_TYPING = 1 << 14
    MESSAGE_CONTENT = 1 << 15
    GUILD_SCHEDULED_EVENTS = 1 << 16
    AUTO_MODERATION_CONFIGURATION = 1 << 20
    AUTO_MODERATION_EXECUTION = 1 << 21
    GUILD_MESSAGE_POLLS = 1 << 24
    DIRECT_MESSAGE_POLLS = 1 << 25


PRIVILEGED_INTENTS = Intent.GUILD_MEMBERS | Intent.GUILD_PRESENCES | Intent.MESSAGE_CONTENT

#: Which intent a guild event needs; events not listed are always sent.
_GUILD_EVENT_INTENTS: dict[str, Intent] = {
    **dict.fromkeys(
        [
            "GUILD_CREATE",
            "GUILD_UPDATE",
            "GUILD_DELETE",
            "GUILD_ROLE_CREATE",
            "GUILD_ROLE_UPDATE",
            "GUILD_ROLE_DELETE",
            "CHANNEL_CREATE",
            "CHANNEL_UPDATE",
            "CHANNEL_DELETE",
            "THREAD_CREATE",
            "THREAD_UPDATE",
            "THREAD_DELETE",
            "THREAD_LIST_SYNC",
            "THREAD_MEMBER_UPDATE",
        ],
        Intent.GUILDS,
    ),
    **dict.fromkeys(
        ["GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE", "THREAD_MEMBERS_UPDATE"],
        Intent.GUILD_MEMBERS,
    ),
    **dict.fromkeys(
        ["MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK"],
        Intent.GUILD_MESSAGES,
    ),
    **dict.fromkeys(
        ["MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE", "MESSAGE_REACTION_REMOVE_ALL"],
        Intent.GUILD_MESSAGE_REACTIONS,
    ),
    **dict.fromkeys(
        [
            "GUILD_SCHEDULED_EVENT_CREATE",
            "GUILD_SCHEDULED_EVENT_UPDATE",
            "GUILD_SCHEDULED_EVENT_DELETE",
            "GUILD_SCHEDULED_EVENT_USER_ADD",
            "GUILD_SCHEDULED_EVENT_USER_REMOVE",
        ],
        Intent.GUILD_SCHEDULED_EVENTS,
    ),
}
_DM_EVENT_INTENTS: dict[str, Intent] = {
    **dict.fromkeys(
        ["MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "CHANNEL_PINS_UPDATE"],
        Intent.DIRECT_MESSAGES,
    ),
    **dict.fromkeys(
        ["MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE"], Intent.DIRECT_MESSAGE_REACTIONS
    ),
}


@dataclass(slots=True, eq=False)
class Session:
    """A gateway session: survives disconnects until invalidated."""

    id: str
    intents: Intent
    seq: int = 0
    backlog: deque[JSON] = field(default_factory=lambda: deque(maxlen=BACKLOG))
    connection: Connection | None = None
    invalidated: bool = False
    resumes: int = 0
    #: ``(shard_id, shard_count)`` from IDENTIFY; None (unsharded) is ``(0, 1)``.
    shard: tuple[int, int] | None = None

    def serves(self, guild_id: int | None) -> bool:
        """Whether Discord sends this session the events of ``guild_id`` (None: a DM)."""
        if self.shard is None:
            return True
        shard_id, shard_count = self.shard
        if guild_id is None:
            return shard_id == 0
        return shard_of(guild_id, shard_count) == shard_id


@dataclass(slots=True, eq=False)
class Connection:
    """One websocket connection (a session may have several over its life)."""

    request: web.Request
    ws: web.WebSocketResponse
    path: str
    compressor: Any = None
    session: Session | None = None
    outbox: asyncio.Queue[JSON | None] = field(default_factory=asyncio.Queue)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    #: The close code the client sent, if the client closed the connection.
    client_close_code: int | None = None


class Gateway:
    """All gateway sessions and connections of one emulator."""

    def __init__(
        self, emulator: Emulator, *, heartbeat_interval_ms: int = 41250, shards: int = 1
    ) -> None:
        if shards < 1:
            raise ValueError("shards must be at least 1")
        self.emulator = emulator
        self.heartbeat_interval_ms = heartbeat_interval_ms
        #: The shard count ``GET /gateway/bot`` recommends.
        self.recommended_shards = shards
        #: ``session_start_limit.max_concurrency``: shards that may IDENTIFY at once.
        self.max_concurrency = 1
        self.max_guilds_per_shard = MAX_GUILDS_PER_SHARD
        #: IDENTIFYs accepted so far (``session_start_limit.remaining`` counts down from them).
        self.session_starts = 0
        #: Hold IDENTIFYs to Discord's session start rate (one per ``shard_id % max_concurrency``
        #: bucket every ``IDENTIFY_WINDOW`` seconds of real time): one too soon gets
        #: INVALID_SESSION, counted in ``identify_refusals``. Off by default, because restarting
        #: a bot process within 5 s (as tests do) is what a real bot is refused for too.
        self.enforce_identify_rate = False
        self.identify_refusals = 0
        self._identified_at: dict[int, float] = {}
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []
        #: Privileged intents the application is allowed (Discord's portal switches).
        self.allowed_privileged = PRIVILEGED_INTENTS
        self._accepting = asyncio.Event()
        self._accepting.set()

    # -- public API ---------------------------------------------------------------------------

    @property
    def live_sessions(self) -> list[Session]:
        """Sessions that have not been invalidated (connected or waiting to resume)."""
        return [s for s in self.sessions.values() if not s.invalidated]

    @property
    def connected_sessions(self) -> list[Session]:
        """Sessions with an open connection."""
        return [
            s for s in self.live_sessions if s.connection is not None and not s.connection.ws.closed
        ]

    def dispatch(
        self, event: str, payload: JSON | Callable[[Session], JSON | None], *, guild_id: int | None
    ) -> None:
        """Send a DISPATCH to every live session whose shard serves ``guild_id`` and whose
        intents cover the event.

        ``payload`` may be a function of the session (returning None skips that session), for
        events whose content depends on intents (MESSAGE_CONTENT).
        """
        table = _GUILD_EVENT_INTENTS if guild_id is not None else _DM_EVENT_INTENTS
        needed = table.get(event)
        for session in self.live_sessions:
            if not session.serves(guild_id):
                continue
            if needed is not None and not session.intents & needed:
                continue
            data = payload(session) if callable(payload) else payload
            if data is None:
                continue
            self._dispatch_to(session, event, data)
        self.emulator.recorder.notify()  # whatever changed the world, waiters look again

    def dispatch_message(self, event: str, message: Message) -> None:
        """MESSAGE_CREATE/UPDATE with content hidden from sessions without MESSAGE_CONTENT,
        as Discord does for messages not from, mentioning or DMing the bot."""
        bot_id = self.emulator.world.bot_user.id

        def build(session: Session) -> JSON:
            content_visible = (
                session.intents & Intent.MESSAGE_CONTENT
                or message.guild_id is None
                or message.author.id == bot_id
                or f"<@{bot_id}>" in message.content
            )
            payload = message.to_payload(include_content=bool(content_visible))
            if message.member is not None:
                payload["member"] = message.member.to_payload(with_user=False)
            return payload

        self.dispatch(event, build, guild_id=message.guild_id)

    async def drop(self, *, code: int | None = None) -> int:
        """Cut every open connection: abruptly (no close frame) when ``code`` is None, else with
        a close frame carrying ``code``. Sessions stay resumable. Returns how many were cut."""
        cut = 0
        for connection in list(self.connections):
            if connection.ws.closed:
                continue
            cut += 1
            self.emulator.recorder.note(
                "gateway_drop", code=code, session=connection.session and connection.session.id
            )
            if code is None:
                transport = connection.request.transport
                if transport is not None:
                    transport.abort()
                connection.outbox.put_nowait(None)
            else:
                await connection.ws.close(code=code, message=b"sandbox: dropped")
        for connection in list(self.connections):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(connection.closed.wait(), 5)
        return cut

    def pause_accepting(self) -> None:
        """Hold new connections before HELLO (a gateway outage) until ``resume_accepting``."""
        self._accepting.clear()

    def resume_accepting(self) -> None:
        """Let held and new connections proceed."""
        self._accepting.set()

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every connection (the client should resume)."""
        for connection in self.connections:
            self._enqueue(connection, {"op": Op.RECONNECT, "d": None})

    def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; unless ``resumable``, the sessions are forgotten."""
        for connection in self.connections:
            if connection.session is not None and not resumable:
                connection.session.invalidated = True
            self._enqueue(connection, {"op": Op.INVALID_SESSION, "d": resumable})

    async def ping(self, *, within: float = 5.0) -> None:
        """Ask every connected client for a heartbeat (op 1) and wait for the answers.

        A client answers only after handling every frame sent before the request, so this is
        a barrier: once it returns, the bot has read everything dispatched so far.
        """
        recorder = self.emulator.recorder
        for session in self.connected_sessions:
            connection = session.connection
            assert connection is not None
            mark = recorder.mark()
            self._enqueue(connection, {"op": Op.HEARTBEAT, "d": session.seq or None})

            def answered(session_id: str = session.id, since: int = mark) -> bool:
                return any(
                    f.index > since
                    and f.session == session_id
                    and f.direction == "receive"
                    and f.op == Op.HEARTBEAT
                    for f in recorder.frames
                )

            await recorder.wait_until(answered, within=within, what="heartbeat answer")

    async def close_all(self) -> None:
        """Close every connection with 1001 (going away), for shutdown."""
        for connection in list(self.connections):
            if not connection.ws.closed:
                await connection.ws.close(code=1001, message=b"sandbox shutting down")

    async def wait_session(
        self,
        *,
        after: int = 0,
        kind: Literal["READY", "RESUMED", "any"] = "any",
        count: int = 1,
        within: float = 10.0,
    ) -> str:
        """Wait until ``count`` READY or RESUMED frames (one per shard of a sharded bot) are sent
        after ``after``; returns the last one's event name."""
        recorder = self.emulator.recorder
        wanted = {"READY", "RESUMED"} if kind == "any" else {kind}

        def find() -> str | None:
            seen = [
                frame.event
                for frame in recorder.frames
                if frame.index > after and frame.direction == "send" and frame.event in wanted
            ]
            return seen[count - 1] if len(seen) >= count else None

        return await recorder.wait_until(find, within=within, what=f"gateway {kind}")

    # -- connection handling -----------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The websocket endpoint (both the gateway URL and the resume URL)."""
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        connection = Connection(request=request, ws=ws, path=request.path)
        if request.query.get("compress") == "zlib-stream":
            connection.compressor = zlib.compressobj()
        self.connections.append(connection)
        self.emulator.recorder.note("gateway_connect", path=request.path, query=dict(request.query))
        writer = asyncio.create_task(self._writer(connection))
        try:
            if request.query.get("encoding", "json") != "json":
                await ws.close(code=4002, message=b"sandbox: only JSON encoding is supported")
                return ws
            if request.query.get("v", "10") != "10":
                await ws.close(code=4012, message=b"Invalid API version")
                return ws
            await self._accepting.wait()
            self._enqueue(
                connection,
                {"op": Op.HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}},
            )
            await self._reader(connection)
        finally:
            connection.outbox.put_nowait(None)
            with contextlib.suppress(Exception):
                await writer
            session = connection.session
            if session is not None and session.connection is connection:
                session.connection = None
                if connection.client_close_code in (1000, 1001):
                    # A client that closes normally ends its session, as on Discord.
                    session.invalidated = True
            self.connections.remove(connection)
            connection.closed.set()
            self.emulator.recorder.note(
                "gateway_disconnect",
                path=request.path,
                code=ws.close_code,
                client_code=connection.client_close_code,
            )
        return ws

    async def _reader(self, connection: Connection) -> None:
        ws = connection.ws
        while not ws.closed:
            message = await ws.receive()
            if message.type == WSMsgType.CLOSE:
                connection.client_close_code = int(message.data)
                return
            if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                return
            try:
                raw = message.data if message.type == WSMsgType.TEXT else message.data.decode()
                frame = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                await ws.close(code=4002, message=b"Error while decoding payload.")
                return
            session_id = connection.session.id if connection.session else None
            self.emulator.recorder.record_frame(
                session=session_id, direction="receive", frame=_redacted(frame)
            )
            await self._handle_frame(connection, frame)
            if ws.closed:
                return

    async def _handle_frame(self, connection: Connection, frame: JSON) -> None:
        op = frame.get("op")
        data = frame.get("d")
        ws = connection.ws
        if op == Op.HEARTBEAT:
            asyncio.get_running_loop().call_later(
                HEARTBEAT_ACK_DELAY,
                self._enqueue,
                connection,
                {"op": Op.HEARTBEAT_ACK, "d": None},
            )
        elif op == Op.IDENTIFY:
            if connection.session is not None:
                await ws.close(code=4005, message=b"Already authenticated.")
            else:
                await self._identify(connection, data or {})
        elif op == Op.RESUME:
            await self._resume(connection, data or {})
        elif connection.session is None:
            await ws.close(code=4003, message=b"Not authenticated.")
        elif op == Op.REQUEST_GUILD_MEMBERS:
            self._send_member_chunk(connection, data or {})
        elif op in (Op.PRESENCE_UPDATE, Op.VOICE_STATE_UPDATE):
            pass
        else:
            await ws.close(code=4001, message=b"Unknown opcode.")

    def _token_ok(self, token: Any) -> bool:
        if not isinstance(token, str):
            return False
        return token.removeprefix("Bot ") == self.emulator.world.token

    def _identify_too_soon(self, shard: tuple[int, int] | None) -> bool:
        """Whether this IDENTIFY breaks the session start rate (when that is enforced)."""
        if not self.enforce_identify_rate:
            return False
        bucket = (0 if shard is None else shard[0]) % self.max_concurrency
        now = asyncio.get_running_loop().time()
        if now - self._identified_at.get(bucket, -IDENTIFY_WINDOW) < IDENTIFY_WINDOW:
            return True
        self._identified_at[bucket] = now
        return False

    async def _identify(self, connection: Connection, data: JSON) -> None:
        ws = connection.ws
        if not self._token_ok(data.get("token")):
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        raw_intents = data.get("intents")
        if not isinstance(raw_intents, int) or raw_intents < 0:
            await ws.close(code=4013, message=b"Invalid intent(s).")
            return
        intents = Intent(raw_intents)
        if intents & PRIVILEGED_INTENTS & ~self.allowed_privileged:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        raw_shard = data.get("shard")
        shard = _valid_shard(raw_shard)
        if raw_shard is not None and shard is None:
            await ws.close(code=4010, message=b"Invalid shard.")
            return
        if self._identify_too_soon(shard):
            self.identify_refusals += 1
            self._enqueue(connection, {"op": Op.INVALID_SESSION, "d": False})
            return
        session = Session(id=new_session_id(), intents=intents, connection=connection, shard=shard)
        world = self.emulator.world
        guilds = [g for g in world.guilds.values() if session.serves(g.id)]
        if len(guilds) > self.max_guilds_per_shard:
            await ws.close(code=4011, message=b"Sharding required.")
            return
        self.sessions[session.id] = session
        connection.session = session
        self.session_starts += 1
        ready = {
            "v": 10,
            "user": {
                **world.bot_user.to_payload(),
                "verified": True,
                "mfa_enabled": False,
                "flags": 0,
                "email": None,
                "locale": "en-US",
            },
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.emulator.resume_gateway_url,
            "application": {"id": str(world.application_id), "flags": self.application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["sandbox"],
            "user_settings": {},
            "auth": {},
            "_trace": ['["sandbox-gateway",{"micros":0}]'],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        self._dispatch_to(session, "READY", ready)
        include_members = bool(intents & Intent.GUILD_MEMBERS)
        if intents & Intent.GUILDS:
            for guild in guilds:
                payload = guild.to_create_payload(
                    include_members=include_members, bot_user_id=world.bot_user.id
                )
                self._dispatch_to(session, "GUILD_CREATE", payload)

    def application_flags(self) -> int:
        """Application flags matching the privileged intents the app is allowed."""
        flags = 0
        if self.allowed_privileged & Intent.GUILD_PRESENCES:
            flags |= 1 << 13
        if self.allowed_privileged & Intent.GUILD_MEMBERS:
            flags |= 1 << 15
        if self.allowed_privileged & Intent.MESSAGE_CONTENT:
            flags |= 1 << 19
        return flags

    async def _resume(self, connection: Connection, data: JSON) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq") or 0
        if not self._token_ok(data.get("token")):
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return
        if session is None or session.invalidated or not isinstance(seq, int) or seq > session.seq:
            self.emulator.recorder.note("gateway_resume_refused", session=data.get("session_id"))
            self._enqueue(connection, {"op": Op.INVALID_SESSION, "d": False})
            return
        missed = [frame for frame in session.backlog if frame["s"] > seq]
        if missed and missed[0]["s"] != seq + 1:
            # Part of what the client missed fell out of the backlog: it cannot resume.
            session.invalidated = True
            self._enqueue(connection, {"op": Op.INVALID_SESSION, "d": False})
            return
        old = session.connection
        if old is not None and old is not connection and not old.ws.closed:
            await old.ws.close(code=4000, message=b"sandbox: session resumed elsewhere")
        session.connection = connection
        connection.session = session
        session.resumes += 1
        for frame in missed:
            self._enqueue(connection, frame)
        self._dispatch_to(session, "RESUMED", {"_trace": ['["sandbox-gateway",{"micros":0}]']})

    def _send_member_chunk(self, connection: Connection, data: JSON) -> None:
        session = connection.session
        assert session is not None
        guild = self.emulator.world.guilds.get(int(data.get("guild_id") or 0))
        if guild is None or not session.serves(guild.id):
            return
        query = str(data.get("query") or "").lower()
        wanted = {int(u) for u in data.get("user_ids") or []}
        limit = int(data.get("limit") or 0) or len(guild.members)
        members = [
            m
            for m in guild.members.values()
            if (not wanted or m.id in wanted) and m.user.username.lower().startswith(query)
        ][:limit]
        payload: JSON = {
            "guild_id": str(guild.id),
            "members": [m.to_payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in wanted - {m.id for m in members}],
        }
        if data.get("nonce") is not None:
            payload["nonce"] = data["nonce"]
        self._dispatch_to(session, "GUILD_MEMBERS_CHUNK", payload)

    # -- sending ------------------------------------------------------------------------------

    def _dispatch_to(self, session: Session, event: str, data: JSON) -> None:
        session.seq += 1
        frame = {"op": Op.DISPATCH, "t": event, "s": session.seq, "d": data}
        session.backlog.append(frame)
        if session.connection is not None:
            self._enqueue(session.connection, frame)

    def _enqueue(self, connection: Connection, frame: JSON) -> None:
        if not connection.ws.closed:
            connection.outbox.put_nowait(frame)

    async def _writer(self, connection: Connection) -> None:
        ws = connection.ws
        while True:
            frame = await connection.outbox.get()
            if frame is None or ws.closed:
                return
            text = json.dumps(frame, separators=(",", ":"))
            session_id = connection.session.id if connection.session else None
            try:
                if connection.compressor is not None:
                    compressed = connection.compressor.compress(text.encode())
                    compressed += connection.compressor.flush(zlib.Z_SYNC_FLUSH)
                    await ws.send_bytes(compressed)
                else:
                    await ws.send_str(text)
            except (ConnectionError, RuntimeError) as exc:
                _log.debug("gateway send failed: %s", exc)
                return
            self.emulator.recorder.record_frame(session=session_id, direction="send", frame=frame)


def _valid_shard(raw: Any) -> tuple[int, int] | None:
    """``[shard_id, shard_count]`` as Discord accepts it, or None."""
    if not isinstance(raw, list) or len(raw) != 2:
        return None
    shard_id, shard_count = raw
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in raw):
        return None
    if not 0 <= shard_id < shard_count:
        return None
    return shard_id, shard_count


def _redacted(frame: JSON) -> JSON:
    """The frame as recorded: the bot token in IDENTIFY/RESUME replaced by ``<redacted>``."""
    data = frame.get("d")
    if isinstance(data, dict) and "token" in data:
        return {**frame, "d": {**data, "token": "<redacted>"}}
    return frame
