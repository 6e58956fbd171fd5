"""Posting exactly once: every message a job or a share posts goes through the outbox.

A feature first *reserves* an entry, keyed by its job's dedupe key, inside the transaction that
stores what the post is about (a pick and its card's entry commit together, or neither does).
Then it *posts*: the attempt is counted and committed, the message is sent with the entry's
``nonce`` (discord.py adds ``enforce_nonce``), and the message id is recorded in a transaction of
its own. A process killed anywhere in between leaves an entry without a message id, and the
retry cannot tell whether the send reached Discord, so:

- within a couple of minutes of the earlier attempt it sends again with the same nonce, and
  Discord answers with the first message instead of posting a second;
- later than that (Discord forgets nonces after a few minutes), and for interaction responses
  (which take no nonce), it first looks for its own message among the channel's recent messages
  by the entry's *marker*, a component ``custom_id`` the message carries, and links it;
- a scheduled event (no idempotency at all) is looked up among the guild's events by the marker
  in its description before it is created again.

At start-up ``reconcile`` walks the entries left pending, links what it finds and hands the rest
to the *renderer* the feature registered for the key's prefix: it rebuilds the message from the
database (or answers None: the thing is gone, and the entry is dropped), and the message is posted
once. Features register renderers when they load and unregister them when they unload, like
scheduler handlers; with a renderer a feature may give an ``on_posted`` hook, run inside the
transaction that records a posted id however it was found, so its own rows (a pick's card
message id) commit together with the outbox's.

Discord refusing (channel deleted, access lost, a malformed message) raises ``PostRefused``, a
``PermanentJobError``, so a job handler that lets it through gives up at once; anything else (a
5xx, a timeout) propagates for the caller's retry, the entry still pending. Lost access is the one
refusal a moderator can undo, so such an entry stays pending too, and the hourly sweep (entries
nobody has touched for a while) tries it again.

Kept as one module (about 500 lines): reserving, posting, finding and reconciling share the per-key
locks and the renderer registry, and one must read them together to see why a post is made once.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import aiosqlite
import discord

from bot.clock import Clock
from bot.db import Database
from bot.db.repos import outbox as outbox_repo
from bot.domain.jobs import JobKind, JobSpec, NoPayload
from bot.domain.outbox import (
    NONCE_TRUSTED_FOR,
    OutboxEntry,
    OutboxKind,
    must_look_before_posting,
    stamp,
)
from bot.replies import NO_MENTIONS
from bot.scheduler import PermanentJobError

log = logging.getLogger(__name__)

#: How many of a channel's most recent messages are searched for an entry's marker.
HISTORY_LIMIT = 100
#: Pending entries read per page by ``reconcile``.
RECONCILE_PAGE = 100
#: How often pending posts nobody is making any more are tried again, and how long an entry must
#: have been left alone to count (an interaction answer in flight takes seconds).
SWEEP_EVERY = timedelta(hours=1)
SWEEP_IDLE = timedelta(minutes=15)
OUTBOX_SWEEP = JobKind(
    "outbox.sweep",
    NoPayload,
    summary="the hourly retry of posts that did not go out",
    what_to_do="Nothing: the next hour's retry runs anyway. If it keeps failing, the bot's "
    "operator finds the error in the logs.",
)


def sweep_job(at: datetime) -> JobSpec:
    """The sweep at ``at``, one per hour however often it is asked for."""
    return OUTBOX_SWEEP.spec(at, NoPayload(), f"{OUTBOX_SWEEP.name}:{at:%Y-%m-%dT%H}")


class PostRefused(PermanentJobError):
    """Discord refused the post. The entry is closed as ``failed``, unless the bot lost access
    to the channel (403): then it stays pending, for the hourly sweep to try again once a
    moderator gives access back."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"outbox {key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """What to post. ``view`` must hold a component whose ``custom_id`` is the entry's marker:
    that is how the message is found again when the nonce no longer helps."""

    content: str | None = None
    embeds: Sequence[discord.Embed] = ()
    view: discord.ui.View | None = None
    allowed_mentions: discord.AllowedMentions = field(default_factory=lambda: NO_MENTIONS)
    #: ``(filename, bytes)`` of files to attach (a chart); an embed shows one as its image
    #: with ``attachment://filename``.
    files: Sequence[tuple[str, bytes]] = ()

    def discord_files(self) -> list[discord.File]:
        """Fresh ``discord.File`` objects for one send (a file is read as it is sent)."""
        return [discord.File(io.BytesIO(data), filename=name) for name, data in self.files]


#: Rebuilds an entry's message from the database; None when the thing it was for is gone.
Renderer = Callable[[OutboxEntry], Awaitable[OutboxMessage | None]]
#: Called inside the transaction that records a posted id (however it was found), so the feature's
#: own row (a pick's card message id, say) commits with the outbox's.
PostedHook = Callable[[aiosqlite.Connection, OutboxEntry, int], Awaitable[None]]
#: Creates a scheduled event whose description contains the marker it is given.
EventCreator = Callable[[str], Awaitable[discord.ScheduledEvent]]


#: How a post ended: already recorded, found and linked, sent now, or dropped.
Outcome = Literal["recorded", "linked", "sent", "dropped"]


#: Called when reconciliation finds Discord refusing an entry's post for good: ``(entry, why)``.
RefusedHook = Callable[[OutboxEntry, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Feature:
    renderer: Renderer
    on_posted: PostedHook | None
    describe: Callable[[OutboxEntry], str] | None


@dataclass(slots=True)
class ReconcileReport:
    """What one ``reconcile`` pass did with the entries it found pending."""

    linked: int = 0
    posted: int = 0
    dropped: int = 0
    failed: int = 0
    waiting: int = 0


class Outbox:
    """The process's one outbox (``bot.outbox`` on the client); see the module docstring."""

    def __init__(
        self,
        db: Database,
        client: discord.Client,
        clock: Clock,
        *,
        nonce_trusted_for: timedelta = NONCE_TRUSTED_FOR,
        history_limit: int = HISTORY_LIMIT,
    ) -> None:
        self._db = db
        self._client = client
        self.clock = clock
        self.nonce_trusted_for = nonce_trusted_for
        self.history_limit = history_limit
        self._features: dict[str, _Feature] = {}
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        #: Told when reconciliation finds a post Discord refuses for good (the bot lost access to
        #: a channel, say), so moderators can act; the client sets it.
        self.on_refused: RefusedHook | None = None

    # -- renderers ---------------------------------------------------------------------------

    def register(
        self,
        prefix: str,
        renderer: Renderer,
        *,
        on_posted: PostedHook | None = None,
        describe: Callable[[OutboxEntry], str] | None = None,
    ) -> None:
        """Entries whose key starts with ``prefix`` (``"pick:"``) are rebuilt by ``renderer``;
        ``on_posted`` runs in the transaction that records each one's posted id; ``describe``
        names one in words a moderator knows ("the card of archive entry #12"), for
        ``on_refused``."""
        if prefix in self._features:
            raise ValueError(f"an outbox renderer for {prefix!r} is already registered")
        self._features[prefix] = _Feature(renderer, on_posted, describe)

    def describe(self, entry: OutboxEntry) -> str | None:
        """The entry in a moderator's words, if its feature says."""
        feature = self._feature_for(entry.key)
        return None if feature is None or feature.describe is None else feature.describe(entry)

    def unregister(self, prefix: str) -> None:
        self._features.pop(prefix, None)

    def renderer_for(self, key: str) -> Renderer | None:
        feature = self._feature_for(key)
        return None if feature is None else feature.renderer

    def _feature_for(self, key: str) -> _Feature | None:
        """The feature of the longest registered prefix of ``key``."""
        matching = [prefix for prefix in self._features if key.startswith(prefix)]
        return self._features[max(matching, key=len)] if matching else None

    # -- reserving ---------------------------------------------------------------------------

    async def reserve(
        self,
        conn: aiosqlite.Connection,
        key: str,
        *,
        marker: str,
        channel_id: int | None = None,
        guild_id: int | None = None,
        kind: OutboxKind = "message",
    ) -> OutboxEntry:
        """Write the entry for ``key`` inside the caller's open transaction and return it; if
        ``key`` already has one, return that one unchanged.

        ``kind="response"`` is for a message the caller posts itself as an interaction response
        right after committing, then reports with ``record``; ``kind="event"`` is for
        ``create_event_once`` (``guild_id`` needed, no channel)."""
        entry, _ = await outbox_repo.reserve_entry(
            conn, key=key, kind=kind, guild_id=guild_id, channel_id=channel_id, marker=marker,
            now=self._now(),
        )  # fmt: skip
        return entry

    async def reserve_alone(
        self,
        key: str,
        *,
        marker: str,
        channel_id: int,
        guild_id: int | None = None,
    ) -> OutboxEntry:
        """``reserve`` a message in a transaction of its own: for a job's post that has no row
        of its own to commit with it (the job itself is what retries it)."""
        async with self._db.transaction() as conn:
            return await self.reserve(
                conn, key, marker=marker, channel_id=channel_id, guild_id=guild_id
            )

    async def get(self, key: str) -> OutboxEntry | None:
        async with self._db.read() as conn:
            return await outbox_repo.get_entry(conn, key)

    # -- posting -----------------------------------------------------------------------------

    async def post(self, key: str, message: OutboxMessage | None = None) -> int | None:
        """Post the message for ``key`` once and return its id (the id already recorded, if it
        was posted before). ``message`` defaults to the registered renderer's; None is returned
        when the entry was dropped because the thing it was for is gone.

        Raises ``PostRefused`` when Discord refuses for good, ``LookupError`` for an unknown key
        (or no message and no renderer); other errors leave the entry pending for a retry."""
        async with self._lock(key):
            posted_id, _ = await self._post_locked(await self._entry(key), message)
        return posted_id

    async def find_existing(self, key: str) -> int | None:
        """For a message entry that may have been posted without its id being recorded (an
        attempt was made): look for it in its channel by its marker, link it and return its id.
        None when it is not there (or the channel can't be read): then nothing was posted, and
        the caller may drop the entry and post elsewhere. Never posts."""
        async with self._lock(key):
            entry = await self._entry(key)
            if entry.status == "posted":
                return entry.posted_id
            if entry.attempts == 0 or entry.channel_id is None or entry.kind != "message":
                return None
            channel = self._client.get_partial_messageable(
                entry.channel_id, guild_id=entry.guild_id
            )
            try:
                found = await self._find_own_message(entry, channel)
            except (discord.HTTPException, PostRefused):  # the channel is gone
                return None
            if found is not None:
                await self._mark_posted(entry, found)
            return found

    async def record(self, key: str, message_id: int) -> None:
        """Record the id of the message posted for ``key`` by other means (an interaction
        response), in a transaction of its own."""
        entry = await self._entry(key)
        await self._mark_posted(entry, message_id)

    async def drop(self, key: str, reason: str) -> bool:
        """Give up a pending entry without posting, in a transaction of its own."""
        async with self._db.transaction() as conn:
            return await self.drop_in(conn, key, reason)

    async def drop_in(self, conn: aiosqlite.Connection, key: str, reason: str) -> bool:
        """Give up a pending entry inside the caller's open transaction (the share it was for
        is being taken back in the same one). False if there was no pending entry."""
        entry = await outbox_repo.get_entry(conn, key)
        if entry is None:
            return False
        return await outbox_repo.close_entry(conn, entry.id, "dropped", reason, self._now())

    async def last_id(self) -> int:
        """The newest entry's id: taken before the bot connects, it bounds what start-up
        reconciliation may touch (everything above it is this process's own)."""
        async with self._db.read() as conn:
            return await outbox_repo.last_id(conn)

    async def reconcile(
        self, *, up_to: int | None = None, idle_for: timedelta | None = None
    ) -> ReconcileReport:
        """Every pending entry that nobody is posting any more, and whose prefix has a
        renderer, ends up linked to the message posted for it, posted once, or dropped.

        Nobody is posting it when it was written by an earlier process (``up_to``: the newest
        id when this one started, before it could take any work) or has been left alone for
        ``idle_for`` (the hourly sweep: an answer in flight takes seconds). Events are left to
        their feature's job. A transient error leaves an entry pending (``waiting``), and so
        does a refusal a moderator can undo (access lost, see ``PostRefused``)."""
        report = ReconcileReport()
        after = 0
        idle_since = None if idle_for is None else self.clock.now() - idle_for
        while True:
            async with self._db.read() as conn:
                page = await outbox_repo.list_pending(
                    conn, after=after, up_to=up_to, limit=RECONCILE_PAGE
                )
            if not page:
                break
            after = page[-1].id
            for entry in page:
                touched = entry.last_attempt_at or entry.created_at
                if entry.kind == "event" or (idle_since is not None and touched > idle_since):
                    continue
                if self.renderer_for(entry.key) is None:
                    report.waiting += 1
                    continue
                await self._reconcile_one(entry, report)
        if report != ReconcileReport():
            log.info("Outbox reconciled: %s", report)
        return report

    async def _reconcile_one(self, entry: OutboxEntry, report: ReconcileReport) -> None:
        refused: PostRefused | None = None
        async with self._lock(entry.key):
            try:
                _, outcome = await self._post_locked(await self._entry(entry.key), None)
            except PostRefused as exc:
                log.warning("Outbox entry %s refused: %s", entry.key, exc.reason)
                report.failed += 1
                refused = exc
            except Exception:
                log.warning("Outbox entry %s still pending", entry.key, exc_info=True)
                report.waiting += 1
                return
        if refused is not None:
            if self.on_refused is not None:
                await self.on_refused(entry, refused.reason)
            return
        if outcome == "linked":
            report.linked += 1
        elif outcome == "sent":
            report.posted += 1
        elif outcome == "dropped":
            report.dropped += 1

    async def _post_locked(
        self, entry: OutboxEntry, message: OutboxMessage | None
    ) -> tuple[int | None, Outcome]:
        if entry.status == "posted":
            return entry.posted_id, "recorded"
        if entry.status == "dropped":
            return None, "dropped"
        if entry.kind == "event" or entry.channel_id is None:
            raise ValueError(f"outbox entry {entry.key} is an event: use create_event_once")
        channel = self._client.get_partial_messageable(entry.channel_id, guild_id=entry.guild_id)
        if must_look_before_posting(entry, self.clock.now(), self.nonce_trusted_for):
            found = await self._find_own_message(entry, channel)
            if found is not None:
                await self._mark_posted(entry, found)
                log.info("Outbox %s: found message %d already posted; linked it", entry.key, found)
                return found, "linked"
        if message is None:
            message = await self._render(entry)
            if message is None:
                await self.drop(entry.key, "nothing to post: what it was for is gone")
                return None, "dropped"
        _require_marker(entry, message)
        async with self._db.transaction() as conn:
            await outbox_repo.begin_attempt(conn, entry.id, self._now())
        try:
            sent = await channel.send(
                content=message.content,
                embeds=list(message.embeds),
                view=message.view if message.view is not None else discord.utils.MISSING,
                nonce=entry.nonce,
                allowed_mentions=message.allowed_mentions,
                files=message.discord_files() or discord.utils.MISSING,
            )
        except discord.HTTPException as exc:
            await self._note_failure(entry, exc)
            raise
        await self._mark_posted(entry, sent.id)
        return sent.id, "sent"

    async def _render(self, entry: OutboxEntry) -> OutboxMessage | None:
        renderer = self.renderer_for(entry.key)
        if renderer is None:
            raise LookupError(f"no message given and no outbox renderer for {entry.key!r}")
        return await renderer(entry)

    async def _find_own_message(
        self, entry: OutboxEntry, channel: discord.PartialMessageable
    ) -> int | None:
        """The id of the bot's message carrying the entry's marker among the channel's recent
        messages. If the history cannot be read, None (the post goes ahead: a card twice beats
        no card)."""
        me = self._client.user
        assert me is not None, "the outbox posts only once the client is logged in"
        try:
            async for message in channel.history(limit=self.history_limit):
                if message.author.id == me.id and entry.marker in _custom_ids_of(message):
                    return message.id
        except discord.NotFound as exc:
            await self._note_failure(entry, exc)
            raise
        except discord.Forbidden:
            log.warning("Outbox %s: cannot read channel %s's history", entry.key, channel.id)
        return None

    # -- scheduled events --------------------------------------------------------------------

    async def create_event_once(self, key: str, create: EventCreator) -> int | None:
        """Create the scheduled event for ``key`` once and return its id. ``create(marker)``
        must put ``marker`` in the event's description: after an interrupted attempt the
        guild's events are searched for it before ``create`` is called again."""
        async with self._lock(key):
            entry = await self._entry(key)
            if entry.status == "posted":
                return entry.posted_id
            if entry.status == "dropped":
                return None
            if entry.kind != "event" or entry.guild_id is None:
                raise ValueError(f"outbox entry {key} is not an event")
            if must_look_before_posting(entry, self.clock.now(), self.nonce_trusted_for):
                found = await self._find_own_event(entry)
                if found is not None:
                    await self._mark_posted(entry, found)
                    return found
            async with self._db.transaction() as conn:
                await outbox_repo.begin_attempt(conn, entry.id, self._now())
            try:
                event = await create(entry.marker)
            except discord.HTTPException as exc:
                await self._note_failure(entry, exc)
                raise
            if entry.marker not in (event.description or ""):
                log.error("Outbox %s: event %d lacks its marker %r", key, event.id, entry.marker)
            await self._mark_posted(entry, event.id)
            return event.id

    async def _find_own_event(self, entry: OutboxEntry) -> int | None:
        assert entry.guild_id is not None
        me = self._client.user
        assert me is not None, "the outbox posts only once the client is logged in"
        try:
            guild = self._client.get_guild(entry.guild_id) or await self._client.fetch_guild(
                entry.guild_id
            )
            events = await guild.fetch_scheduled_events(with_counts=False)
        except discord.HTTPException as exc:
            await self._note_failure(entry, exc)
            raise
        for event in events:
            if event.creator_id == me.id and entry.marker in (event.description or ""):
                return event.id
        return None

    # -- bookkeeping -------------------------------------------------------------------------

    async def _entry(self, key: str) -> OutboxEntry:
        entry = await self.get(key)
        if entry is None:
            raise LookupError(f"no outbox entry {key!r}: reserve it first")
        return entry

    async def _mark_posted(self, entry: OutboxEntry, posted_id: int) -> None:
        feature = self._feature_for(entry.key)
        async with self._db.transaction() as conn:
            updated = await outbox_repo.mark_posted(conn, entry.id, posted_id, self._now())
            if updated and feature is not None and feature.on_posted is not None:
                await feature.on_posted(conn, entry, posted_id)
        if not updated:
            log.warning("Outbox %s was already posted; kept the first id", entry.key)

    async def _note_failure(self, entry: OutboxEntry, exc: discord.HTTPException) -> None:
        """Record a failed request. If Discord refused (4xx other than 429) raise
        ``PostRefused``: the entry is closed as failed (the channel is gone, the message is
        malformed), except when the bot lost access (403), which a moderator can give back, so
        it stays pending for the hourly sweep. Otherwise keep the error on the pending entry and
        return, for the caller to re-raise."""
        error = f"{type(exc).__name__}: {exc}"[:1000]
        refused = 400 <= exc.status < 500 and exc.status != 429
        closed = refused and exc.status != 403
        async with self._db.transaction() as conn:
            if closed:
                await outbox_repo.close_entry(conn, entry.id, "failed", error, self._now())
            else:
                await outbox_repo.note_error(conn, entry.id, error, self._now())
        if refused:
            raise PostRefused(entry.key, error) from exc

    def _lock(self, key: str) -> _KeyLock:
        return _KeyLock(self._locks, key)

    def _now(self) -> int:
        return stamp(self.clock.now())


class _KeyLock:
    """One asyncio lock per key, forgotten once nobody holds or waits for it."""

    def __init__(self, locks: dict[str, tuple[asyncio.Lock, int]], key: str) -> None:
        self._locks = locks
        self._key = key

    async def __aenter__(self) -> None:
        lock, users = self._locks.get(self._key, (asyncio.Lock(), 0))
        self._locks[self._key] = (lock, users + 1)
        try:
            await lock.acquire()
        except BaseException:
            self._leave()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._locks[self._key][0].release()
        self._leave()

    def _leave(self) -> None:
        lock, users = self._locks[self._key]
        if users == 1:
            del self._locks[self._key]
        else:
            self._locks[self._key] = (lock, users - 1)


def _require_marker(entry: OutboxEntry, message: OutboxMessage) -> None:
    components = [] if message.view is None else message.view.to_components()
    if entry.marker not in set(_walk_custom_ids(components)):
        raise ValueError(
            f"outbox {entry.key}: the message needs a component with custom_id {entry.marker!r}"
        )


def _custom_ids_of(message: discord.Message) -> set[str]:
    return set(_walk_custom_ids(component.to_dict() for component in message.components))


def _walk_custom_ids(components: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for component in components:
        custom_id = component.get("custom_id")
        if isinstance(custom_id, str):
            yield custom_id
        yield from _walk_custom_ids(component.get("components") or ())
        accessory = component.get("accessory")
        if isinstance(accessory, Mapping):
            yield from _walk_custom_ids([accessory])
