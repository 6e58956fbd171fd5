"""``bot.outbox`` against the emulator: a real discord.py client over loopback HTTP, a real
database, and "crashes" between the steps of a post (an exception nothing catches, after which a
fresh ``Outbox`` plays the restarted process)."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import discord
import pytest

from bot.db import Database
from bot.db.repos import outbox as outbox_repo
from bot.db.repos.meta import get_meta, set_meta
from bot.domain.outbox import NONCE_TRUSTED_FOR, OutboxEntry
from bot.outbox import SWEEP_IDLE, Outbox, OutboxMessage, PostRefused, ReconcileReport
from bot.scheduler import PermanentJobError
from sandbox import Emulator
from sandbox.permissions import Overwrite, OverwriteType, Permission
from tests.fakes import FakeClock

MESSAGES = "/channels/{channel_id}/messages"


class Crash(BaseException):
    """The process dies here: nothing after this point runs."""


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[discord.Client]:
    """A logged-in discord.py client that only speaks HTTP (the outbox needs nothing else)."""
    with emulator.patch_discord():
        bot = discord.Client(intents=discord.Intents(guilds=True))
        await bot.login(emulator.world.token)
        try:
            yield bot
        finally:
            await bot.close()


@dataclass
class Rig:
    emulator: Emulator
    db: Database
    client: discord.Client
    clock: FakeClock
    channel_id: int

    def outbox(self) -> Outbox:
        """The outbox as a (re)started process has it: no memory beyond the database."""
        return Outbox(self.db, self.client, self.clock)

    async def reserve(
        self, key: str, *, kind: Any = "message", outbox: Outbox | None = None
    ) -> OutboxEntry:
        async with self.db.transaction() as conn:
            return await (outbox or self.outbox()).reserve(
                conn, key, marker=f"uc:test:{key}", channel_id=self.channel_id, kind=kind
            )

    async def post_and_crash(self, monkeypatch: pytest.MonkeyPatch, key: str) -> OutboxEntry:
        """Post ``key`` in a process that dies once the message is sent, before its id is
        recorded."""
        entry = await self.reserve(key)
        crash_before(monkeypatch, outbox_repo, "mark_posted")
        with pytest.raises(Crash):
            await self.outbox().post(key, card(entry.marker))
        return entry

    def messages(self) -> list[int]:
        return [m.id for m in self.emulator.world.channels[self.channel_id].visible_messages()]

    def requests(self, method: str, mark: int) -> list[Any]:
        return self.emulator.recorder.requests_to(method, MESSAGES, after=mark)


@pytest.fixture
def rig(emulator: Emulator, db: Database, client: discord.Client, clock: FakeClock) -> Rig:
    return Rig(emulator, db, client, clock, emulator.world.guild.channel("general").id)


def card(marker: str, content: str = "card") -> OutboxMessage:
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Heard it", custom_id=marker))
    return OutboxMessage(content=content, view=view)


def crash_before(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
    """The "process" dies when it next calls ``owner.<name>``; the restarted one has it back."""
    original = getattr(owner, name)

    async def crashing(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(owner, name, original)
        raise Crash

    monkeypatch.setattr(owner, name, crashing)


async def test_a_post_goes_out_once_and_its_id_is_kept(rig: Rig) -> None:
    outbox = rig.outbox()
    entry = await rig.reserve("pick:1:card", outbox=outbox)
    posted = await outbox.post(entry.key, card(entry.marker))
    mark = rig.emulator.recorder.mark()
    assert await outbox.post(entry.key, card(entry.marker)) == posted
    assert rig.emulator.recorder.requests_to(after=mark) == []
    assert rig.messages() == [posted]
    stored = await outbox.get(entry.key)
    assert stored is not None and (stored.status, stored.posted_id) == ("posted", posted)
    [create] = rig.requests("POST", 0)
    assert create.body["nonce"] == entry.nonce and create.body["enforce_nonce"] is True


async def test_a_crash_after_the_send_is_healed_by_the_nonce(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await rig.post_and_crash(monkeypatch, "pick:2:card")
    [first] = rig.messages()
    rig.clock.advance(NONCE_TRUSTED_FOR / 2)

    mark = rig.emulator.recorder.mark()
    assert await rig.outbox().post(entry.key, card(entry.marker)) == first
    assert rig.messages() == [first]
    assert rig.requests("GET", mark) == []  # no history read: the nonce did it
    assert [r.response["id"] for r in rig.requests("POST", mark)] == [str(first)]


async def test_past_the_nonce_window_the_message_is_found_and_linked(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await rig.post_and_crash(monkeypatch, "pick:3:card")
    [first] = rig.messages()
    # Others talk in the channel meanwhile; Discord forgets the nonce.
    for n in range(3):
        await rig.emulator.driver.send_message(f"chatter {n}", user="alice", channel="general")
    rig.clock.advance(NONCE_TRUSTED_FOR)
    rig.emulator.advance_clock(rig.emulator.nonce_window)

    mark = rig.emulator.recorder.mark()
    assert await rig.outbox().post(entry.key, card(entry.marker)) == first
    assert rig.requests("POST", mark) == []
    assert len(rig.messages()) == 4
    stored = await rig.outbox().get(entry.key)
    assert stored is not None and stored.posted_id == first


async def test_past_the_window_an_attempt_that_never_arrived_is_posted_once(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await rig.reserve("pick:4:card")
    crash_before(monkeypatch, discord.PartialMessageable, "send")  # the attempt is counted
    with pytest.raises(Crash):
        await rig.outbox().post(entry.key, card(entry.marker))
    assert rig.messages() == []
    rig.clock.advance(NONCE_TRUSTED_FOR)

    mark = rig.emulator.recorder.mark()
    posted = await rig.outbox().post(entry.key, card(entry.marker))
    assert rig.messages() == [posted]
    assert len(rig.requests("GET", mark)) == 1 and len(rig.requests("POST", mark)) == 1


async def test_a_message_without_its_marker_is_refused_before_sending(rig: Rig) -> None:
    outbox = rig.outbox()
    entry = await rig.reserve("pick:5:card", outbox=outbox)
    with pytest.raises(ValueError, match="custom_id"):
        await outbox.post(entry.key, card("uc:pick:heard:999"))
    with pytest.raises(ValueError, match="custom_id"):
        await outbox.post(entry.key, OutboxMessage(content="no buttons"))
    assert rig.messages() == []


async def test_a_deleted_channel_is_a_permanent_refusal(rig: Rig) -> None:
    guild = rig.emulator.world.guild
    entry = await rig.reserve("pick:6:card")
    del guild.channels[rig.channel_id], rig.emulator.world.channels[rig.channel_id]
    with pytest.raises(PostRefused) as refused:
        await rig.outbox().post(entry.key, card(entry.marker))
    assert isinstance(refused.value, PermanentJobError)
    stored = await rig.outbox().get(entry.key)
    assert stored is not None and stored.status == "failed"
    assert "Unknown Channel" in (stored.last_error or "")


async def test_a_refusal_closes_the_entry_and_a_server_error_leaves_it_pending(rig: Rig) -> None:
    outbox = rig.outbox()
    refused = await rig.reserve("pick:7:card", outbox=outbox)
    rig.emulator.faults.server_error(MESSAGES, method="POST", status=400)
    with pytest.raises(PostRefused):
        await outbox.post(refused.key, card(refused.marker))
    pending = await rig.reserve("pick:8:card", outbox=outbox)
    # discord.py does not retry a 503 itself: it reaches the outbox, which keeps the entry.
    rig.emulator.faults.server_error(MESSAGES, method="POST", status=503)
    with pytest.raises(discord.HTTPException) as failed:
        await outbox.post(pending.key, card(pending.marker))
    assert not isinstance(failed.value, PostRefused)
    after = [await outbox.get(key) for key in (refused.key, pending.key)]
    assert [(e.status, e.attempts) for e in after if e] == [("failed", 1), ("pending", 1)]


async def test_reconcile_links_posts_and_drops_what_an_earlier_process_left(rig: Rig) -> None:
    # An interaction response went out, but the process died before recording its id.
    answered = await rig.reserve("pick:10:card", kind="response")
    response = await rig.client.get_partial_messageable(rig.channel_id).send(
        "card 10", view=card(answered.marker).view
    )
    # Reserved with its pick and never posted; one whose pick is gone by now; one nobody renders.
    unposted = await rig.reserve("pick:11:card")
    gone = await rig.reserve("pick:12:card")
    await rig.reserve("swap:1:reveal")
    rendered: list[str] = []

    async def render_pick(entry: OutboxEntry) -> OutboxMessage | None:
        rendered.append(entry.key)
        return None if entry.key == gone.key else card(entry.marker, "card 11")

    async def attach_card(conn: Any, entry: OutboxEntry, message_id: int) -> None:
        await set_meta(conn, f"card:{entry.key}", str(message_id))

    outbox = rig.outbox()
    outbox.register("pick:", render_pick, on_posted=attach_card)
    mark = rig.emulator.recorder.mark()
    assert await outbox.reconcile() == ReconcileReport(linked=1, posted=1, dropped=1, waiting=1)

    assert rendered == [unposted.key, gone.key]  # the answered card needed no rendering
    after = {key: await outbox.get(key) for key in (answered.key, unposted.key, gone.key)}
    assert [(e.status, e.posted_id) for e in after.values() if e] == [
        ("posted", response.id),
        ("posted", rig.messages()[-1]),
        ("dropped", None),
    ]
    assert len(rig.messages()) == 2 and len(rig.requests("POST", mark)) == 1
    async with rig.db.read() as conn:  # the feature linked its rows in the same transactions
        attached = [await get_meta(conn, f"card:{key}") for key in after]
    assert attached == [str(response.id), str(rig.messages()[-1]), None]
    assert await outbox.reconcile() == ReconcileReport(waiting=1)


async def test_reconcile_leaves_what_is_being_posted_or_was_taken_back(rig: Rig) -> None:
    outbox = rig.outbox()
    outbox.register("pick:", _never_called)
    taken_back = await rig.reserve("pick:14:card")
    async with rig.db.transaction() as conn:
        assert await outbox.drop_in(conn, taken_back.key, "the card could not be posted")
    assert await rig.outbox().post(taken_back.key) is None
    earlier = await outbox.last_id()  # as the process starts, before it takes any work
    await rig.reserve("pick:15:card", kind="response")  # this process, answering right now
    assert await outbox.reconcile(up_to=earlier) == ReconcileReport()
    # The hourly sweep leaves it too, until it has been left alone for a while.
    rig.clock.advance(SWEEP_IDLE - timedelta(seconds=1))
    assert await outbox.reconcile(idle_for=SWEEP_IDLE) == ReconcileReport()
    assert rig.emulator.recorder.requests_to(route=MESSAGES) == []


async def test_lost_access_keeps_a_post_pending_and_the_sweep_makes_it_once_access_is_back(
    rig: Rig,
) -> None:
    channel = rig.emulator.world.channels[rig.channel_id]
    bot_id = rig.emulator.world.bot_user.id
    channel.overwrites.append(
        Overwrite(bot_id, OverwriteType.MEMBER, deny=Permission.SEND_MESSAGES)
    )
    entry = await rig.reserve("pick:20:card")
    outbox = rig.outbox()

    async def render(entry: OutboxEntry) -> OutboxMessage:
        return card(entry.marker)

    outbox.register("pick:", render)
    with pytest.raises(PostRefused):
        await outbox.post(entry.key)
    refused = await outbox.get(entry.key)
    assert refused is not None and refused.status == "pending"  # a moderator can undo this
    assert "Missing Permissions" in (refused.last_error or "")

    channel.overwrites.clear()  # a moderator gives access back
    rig.clock.advance(SWEEP_IDLE)
    assert await outbox.reconcile(idle_for=SWEEP_IDLE) == ReconcileReport(posted=1)
    posted = await outbox.get(entry.key)
    assert posted is not None and posted.status == "posted"
    assert rig.messages() == [posted.posted_id]


async def _never_called(entry: OutboxEntry) -> OutboxMessage | None:
    raise AssertionError(f"rendered {entry.key}")


async def test_an_event_is_looked_up_before_it_is_created_again(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    guild_id = rig.emulator.world.guild.id
    async with rig.db.transaction() as conn:
        entry = await rig.outbox().reserve(
            conn, "party:1:event", marker="uc:party:1", guild_id=guild_id, kind="event"
        )

    async def create(marker: str) -> discord.ScheduledEvent:
        guild = await rig.client.fetch_guild(guild_id)
        start = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
        return await guild.create_scheduled_event(
            name="Listening party",
            start_time=start,
            end_time=start + datetime.timedelta(hours=2),
            entity_type=discord.EntityType.external,
            privacy_level=discord.PrivacyLevel.guild_only,
            location="#listening-room",
            description=f"Bring headphones.\n{marker}",
        )

    crash_before(monkeypatch, outbox_repo, "mark_posted")
    with pytest.raises(Crash):
        await rig.outbox().create_event_once(entry.key, create)
    [event] = rig.emulator.world.guild.scheduled_events.values()
    assert await rig.outbox().create_event_once(entry.key, create) == event.id
    assert len(rig.emulator.world.guild.scheduled_events) == 1


async def test_an_attempt_never_looks_more_recent_than_it_was(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored times are whole seconds: rounding an attempt's time up would make a retry in the
    same second trust a nonce it was told not to count on."""
    rig.clock.advance(0.5)
    entry = await rig.post_and_crash(monkeypatch, "pick:20:card")
    rig.emulator.advance_clock(rig.emulator.nonce_window)
    trusting_nothing = Outbox(rig.db, rig.client, rig.clock, nonce_trusted_for=timedelta(0))
    [first] = rig.messages()
    assert await trusting_nothing.post(entry.key, card(entry.marker)) == first
    assert rig.messages() == [first]
