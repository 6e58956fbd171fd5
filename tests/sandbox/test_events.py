"""Scheduled events as Discord runs them: external events start and end by themselves as the
world's time passes, a guild holds at most 100 uncompleted events, interested users page in
ascending ID order, and members can take their interest back. Checked through discord.py."""

from __future__ import annotations

import datetime

import discord
import pytest

from sandbox import ActionNotPossible, Emulator
from sandbox.model import EventStatus, ScheduledEvent
from tests.sandbox.probe_bot import ProbeBot

HOUR = datetime.timedelta(hours=1)
USERS_ROUTE = "/guilds/{guild_id}/scheduled-events/{event_id}/users"


def guild_of(emulator: Emulator, bot: ProbeBot) -> discord.Guild:
    guild = bot.get_guild(emulator.world.guild.id)
    assert guild is not None
    return guild


async def external_event(
    guild: discord.Guild, *, starts_in: datetime.timedelta, lasts: datetime.timedelta = 2 * HOUR
) -> discord.ScheduledEvent:
    start = discord.utils.utcnow() + starts_in
    return await guild.create_scheduled_event(
        name="Listening party",
        start_time=start,
        end_time=start + lasts,
        entity_type=discord.EntityType.external,
        privacy_level=discord.PrivacyLevel.guild_only,
        location="#listening-room",
    )


def stored(emulator: Emulator, event: discord.ScheduledEvent) -> ScheduledEvent:
    return emulator.world.guild.scheduled_events[event.id]


async def test_an_external_event_starts_and_ends_at_its_times(
    emulator: Emulator, bot: ProbeBot
) -> None:
    statuses: list[discord.EventStatus] = []

    async def on_scheduled_event_update(
        before: discord.ScheduledEvent, after: discord.ScheduledEvent
    ) -> None:
        statuses.append(after.status)

    bot.add_listener(on_scheduled_event_update)
    event = await external_event(guild_of(emulator, bot), starts_in=HOUR)
    driver = emulator.driver
    await driver.advance(HOUR - datetime.timedelta(minutes=1))
    assert stored(emulator, event).status == EventStatus.SCHEDULED
    await driver.advance(datetime.timedelta(minutes=2))
    assert stored(emulator, event).status == EventStatus.ACTIVE
    await driver.settle()  # the bot has read every frame sent so far
    assert statuses == [discord.EventStatus.active]
    await driver.advance(2 * HOUR)
    assert stored(emulator, event).status == EventStatus.COMPLETED
    await driver.settle()
    assert statuses == [discord.EventStatus.active, discord.EventStatus.completed]


async def test_one_jump_past_start_and_end_sends_both_updates_in_order(
    emulator: Emulator, bot: ProbeBot
) -> None:
    guild = guild_of(emulator, bot)
    late = await external_event(guild, starts_in=4 * HOUR)
    early = await external_event(guild, starts_in=HOUR)
    mark = emulator.recorder.mark()
    await emulator.driver.advance(datetime.timedelta(days=1))

    def updates() -> list[tuple[str, int]]:
        return [
            (f.data["id"], f.data["status"])
            for f in emulator.recorder.frames
            if f.index > mark and f.event == "GUILD_SCHEDULED_EVENT_UPDATE"
        ]

    await emulator.driver.wait_until(lambda: len(updates()) == 4)
    assert updates() == [
        (str(early.id), EventStatus.ACTIVE),
        (str(early.id), EventStatus.COMPLETED),
        (str(late.id), EventStatus.ACTIVE),
        (str(late.id), EventStatus.COMPLETED),
    ]


async def test_the_world_starts_an_event_without_a_jump_when_its_time_comes(
    emulator: Emulator, bot: ProbeBot
) -> None:
    """The emulator's own timer, woken by the event's creation, starts it on real time too."""
    event = await external_event(guild_of(emulator, bot), starts_in=datetime.timedelta(hours=1))
    await emulator.driver.advance(HOUR - datetime.timedelta(seconds=0.2))
    await emulator.driver.wait_until(
        lambda: stored(emulator, event).status == EventStatus.ACTIVE, within=10
    )


async def test_moving_an_event_moves_its_start(emulator: Emulator, bot: ProbeBot) -> None:
    event = await external_event(guild_of(emulator, bot), starts_in=HOUR)
    start = discord.utils.utcnow() + 5 * HOUR
    await event.edit(start_time=start, end_time=start + HOUR)
    await emulator.driver.advance(2 * HOUR)
    assert stored(emulator, event).status == EventStatus.SCHEDULED
    await emulator.driver.advance(3.5 * HOUR)
    assert stored(emulator, event).status == EventStatus.ACTIVE


async def test_a_voice_event_waits_for_someone_to_start_it(
    emulator: Emulator, bot: ProbeBot
) -> None:
    guild = guild_of(emulator, bot)
    voice = guild.get_channel(emulator.world.guild.channel("party-voice").id)
    assert isinstance(voice, discord.VoiceChannel)
    event = await guild.create_scheduled_event(
        name="Voice party",
        start_time=discord.utils.utcnow() + HOUR,
        channel=voice,
        entity_type=discord.EntityType.voice,
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    await emulator.driver.advance(2 * HOUR)
    assert stored(emulator, event).status == EventStatus.SCHEDULED
    started = await event.start()
    assert started.status == discord.EventStatus.active


async def test_a_guild_holds_at_most_100_uncompleted_events(
    emulator: Emulator, bot: ProbeBot
) -> None:
    guild = guild_of(emulator, bot)
    half_hour = HOUR / 2
    events = [
        await external_event(guild, starts_in=HOUR * (n + 1), lasts=half_hour) for n in range(100)
    ]
    with pytest.raises(discord.HTTPException) as refused:
        await external_event(guild, starts_in=200 * HOUR)
    assert (refused.value.status, refused.value.code) == (400, 30038)
    assert (
        refused.value.text == "Maximum number of uncompleted guild scheduled events reached (100)"
    )
    await events[0].cancel()  # canceled and completed events no longer count
    await external_event(guild, starts_in=200 * HOUR)
    await emulator.driver.advance(4.7 * HOUR)  # the next three start and end by themselves
    for _ in range(3):
        await external_event(guild, starts_in=200 * HOUR)
    with pytest.raises(discord.HTTPException):
        await external_event(guild, starts_in=200 * HOUR)


async def test_two_hundred_fifty_interested_members_page_in_ascending_id_order(
    emulator: Emulator, bot: ProbeBot
) -> None:
    guild = guild_of(emulator, bot)
    event = await external_event(guild, starts_in=HOUR)
    world_guild = emulator.world.guild
    fans = [world_guild.add_member(f"fan{n}") for n in range(250)]
    for fan in reversed(fans):  # the order they RSVP in does not matter
        await emulator.driver.rsvp(event.id, user=fan)
    expected = sorted(m.id for m in fans)

    # Paging forward by ``after`` = the last ID of each page, as Discord documents it.
    seen: list[int] = []
    after: int | None = None
    while True:
        page = await bot.http.get_scheduled_event_users(
            guild.id, event.id, limit=100, with_member=False, after=after
        )
        ids = [int(u["user"]["id"]) for u in page]
        assert ids == sorted(ids)
        seen.extend(ids)
        if len(page) < 100:
            break
        after = ids[-1]
    assert seen == expected
    calls = emulator.recorder.requests_to("GET", USERS_ROUTE)
    assert [len(r.response) for r in calls] == [100, 100, 50]

    # ``before`` gives the users just below it, still in ascending order.
    page = await bot.http.get_scheduled_event_users(
        guild.id, event.id, limit=100, with_member=True, before=expected[150]
    )
    assert [int(u["user"]["id"]) for u in page] == expected[50:150]
    assert all(u["member"]["joined_at"] for u in page)
    fetched = await guild.fetch_scheduled_event(event.id, with_counts=True)
    assert fetched.user_count == 250


async def test_discord_py_users_iterator_against_discords_order(
    emulator: Emulator, bot: ProbeBot
) -> None:
    """discord.py 2.7's ``ScheduledEvent.users()`` pages as if Discord answered newest first (it
    takes the last user of a page as the next ``before``). Discord answers in ascending ID order,
    so past 100 interested users the iterator yields the first 100 again and never reaches the
    rest. This pins what a feature reading more than 100 RSVPs would meet: page with ``after``
    (as the test above does) instead."""
    guild = guild_of(emulator, bot)
    event = await external_event(guild, starts_in=HOUR)
    fans = sorted(emulator.world.guild.add_member(f"fan{n}").id for n in range(150))
    for fan in fans:
        await emulator.driver.rsvp(event.id, user=fan)
    fetched = await guild.fetch_scheduled_event(event.id)
    assert fetched.user_count == 150
    users = [u.id async for u in fetched.users()]
    assert len(users) == 150
    assert users[:100] == fans[:100]
    assert set(users) == set(fans[:100])  # repeats, and the last 50 never come
    # a limit of 100 or fewer is one page, and right
    assert [u.id async for u in fetched.users(limit=100)] == fans[:100]


async def test_users_limit_out_of_range_is_refused(emulator: Emulator, bot: ProbeBot) -> None:
    guild = guild_of(emulator, bot)
    event = await external_event(guild, starts_in=HOUR)
    with pytest.raises(discord.HTTPException) as refused:
        await bot.http.get_scheduled_event_users(guild.id, event.id, limit=101, with_member=False)
    assert refused.value.code == 50035 and "limit" in refused.value.text


async def test_interest_can_be_taken_back(emulator: Emulator, bot: ProbeBot) -> None:
    event = await external_event(guild_of(emulator, bot), starts_in=HOUR)
    driver = emulator.driver
    alice = driver.member("alice").id
    mark = emulator.recorder.mark()
    await driver.rsvp(event.id, user="alice")
    await driver.rsvp(event.id, user="alice")  # already interested: nothing new
    await driver.unrsvp(event.id, user="alice")
    await driver.unrsvp(event.id, user="alice")
    await driver.settle()
    sent = [
        (f.event, f.data)
        for f in emulator.recorder.frames
        if f.index > mark and f.direction == "send" and f.event
    ]
    payload = {
        "guild_scheduled_event_id": str(event.id),
        "user_id": str(alice),
        "guild_id": str(event.guild_id),
    }
    assert sent == [
        ("GUILD_SCHEDULED_EVENT_USER_ADD", payload),
        ("GUILD_SCHEDULED_EVENT_USER_REMOVE", payload),
    ]
    assert stored(emulator, event).user_ids == set()
    await event.cancel()
    with pytest.raises(ActionNotPossible):
        await driver.rsvp(event.id, user="alice")


async def test_the_list_counts_interested_users_only_when_asked(
    emulator: Emulator, bot: ProbeBot
) -> None:
    guild = guild_of(emulator, bot)
    event = await external_event(guild, starts_in=HOUR)
    await emulator.driver.rsvp(event.id, user="bob")
    counted = await bot.http.get_scheduled_events(guild.id, True)
    assert [e["user_count"] for e in counted] == [1]
    plain = await bot.http.get_scheduled_events(guild.id, False)
    assert "user_count" not in plain[0]


async def test_an_active_event_can_be_edited_a_finished_one_cannot(
    emulator: Emulator, bot: ProbeBot
) -> None:
    event = await external_event(guild_of(emulator, bot), starts_in=HOUR, lasts=HOUR)
    await emulator.driver.advance(1.5 * HOUR)
    assert stored(emulator, event).status == EventStatus.ACTIVE
    # times the bot sends are the world's (its followed clock), not this machine's
    longer = await event.edit(end_time=emulator.driver.now() + 3 * HOUR, name="Encore")
    assert longer.name == "Encore"
    await emulator.driver.advance(2 * HOUR)
    assert stored(emulator, event).status == EventStatus.ACTIVE  # its new end is still ahead
    await emulator.driver.advance(1.1 * HOUR)
    assert stored(emulator, event).status == EventStatus.COMPLETED
    with pytest.raises(discord.HTTPException) as refused:
        await event.edit(name="Too late")
    assert (refused.value.code, refused.value.text) == (180000, "Cannot update a finished event")
