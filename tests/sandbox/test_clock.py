"""The world's clock: what ``GET /sandbox/clock`` answers and how its long poll waits, and that
what the emulator stamps and decides by time (messages, edits, snowflakes, joins, the "start in
the past" rule, thread auto-archiving) reads the world's time after a jump."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import discord
import pytest

from bot.clock import FollowedClock
from sandbox import Emulator, World
from sandbox.ids import new_snowflake, snowflake_time
from tests.sandbox.probe_bot import ProbeBot

DAY = datetime.timedelta(days=1)


@pytest.fixture
async def web(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    """A client without the bot's token: the clock is outside the API."""
    async with aiohttp.ClientSession(base_url=emulator.base_url) as session:
        yield session


async def read_clock(web: aiohttp.ClientSession, query: str = "") -> tuple[int, Any]:
    async with web.get("/sandbox/clock" + query) as response:
        return response.status, await response.json()


def close_to(moment: datetime.datetime, expected: datetime.datetime) -> bool:
    """Within a minute: the world's time runs on while a test does its work."""
    return abs((moment - expected).total_seconds()) < 60


async def test_the_clock_answers_the_world_time_and_a_generation(
    emulator: Emulator, web: aiohttp.ClientSession
) -> None:
    status, body = await read_clock(web)
    assert status == 200 and body["generation"] == 0
    real = datetime.datetime.now(datetime.UTC)
    assert close_to(datetime.datetime.fromtimestamp(body["now"], datetime.UTC), real)

    await emulator.driver.advance(DAY)
    status, body = await read_clock(web)
    assert body["generation"] == 1
    assert close_to(datetime.datetime.fromtimestamp(body["now"], datetime.UTC), real + DAY)
    assert close_to(emulator.driver.now(), real + DAY)


async def test_a_long_poll_answers_as_soon_as_the_clock_jumps(
    emulator: Emulator, web: aiohttp.ClientSession
) -> None:
    poll = asyncio.create_task(read_clock(web, "?after=0&wait=30"))
    await asyncio.sleep(0.05)  # let it reach the emulator (if it has not, it answers at once)
    assert not poll.done()
    # not Driver.advance: this poll is no follower, it never asks again
    emulator.advance_clock(3600)
    status, body = await asyncio.wait_for(poll, 10)
    assert status == 200 and body["generation"] == 1
    # a generation already past answers at once, whatever the wait
    status, body = await asyncio.wait_for(read_clock(web, "?after=0&wait=30"), 10)
    assert body["generation"] == 1


async def test_a_long_poll_with_nothing_to_report_answers_when_its_wait_ends(
    web: aiohttp.ClientSession,
) -> None:
    status, body = await asyncio.wait_for(read_clock(web, "?after=0&wait=0.05"), 10)
    assert (status, body["generation"]) == (200, 0)


async def test_a_pending_long_poll_does_not_hold_up_the_emulator_stopping() -> None:
    emulator = Emulator()
    await emulator.start()
    async with aiohttp.ClientSession(base_url=emulator.base_url) as web:
        poll = asyncio.create_task(read_clock(web, "?after=0&wait=30"))
        await asyncio.sleep(0.05)
        await asyncio.wait_for(emulator.stop(), 10)
        status, body = await asyncio.wait_for(poll, 10)
    assert (status, body["generation"]) == (200, 0)


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("?after=0&wait=31", "wait", "NUMBER_TYPE_MAX"),
        ("?after=0&wait=-1", "wait", "NUMBER_TYPE_MIN"),
        ("?after=soon", "after", "NUMBER_TYPE_COERCE"),
    ],
)
async def test_a_bad_poll_is_refused(
    web: aiohttp.ClientSession, query: str, field: str, code: str
) -> None:
    status, body = await read_clock(web, query)
    assert status == 400 and body["code"] == 50035
    assert body["errors"][field]["_errors"][0]["code"] == code


async def test_time_only_moves_forward(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="forward"):
        await emulator.driver.advance(-1)
    assert emulator.world.clock.generation == 0


async def test_what_the_emulator_stamps_reads_the_world_time(
    emulator: Emulator, bot: ProbeBot
) -> None:
    driver = emulator.driver
    general = bot.get_channel(emulator.world.guild.channel("general").id)
    assert isinstance(general, discord.TextChannel)
    before = await general.send("before the jump")
    await driver.advance(DAY)
    real = datetime.datetime.now(datetime.UTC)

    after = await general.send("after the jump")
    assert close_to(after.created_at, real + DAY)  # the timestamp field
    assert close_to(discord.utils.snowflake_time(after.id), real + DAY)
    assert before.id < after.id
    edited = await before.edit(content="edited tomorrow")
    assert edited.edited_at is not None and close_to(edited.edited_at, real + DAY)

    spoken = await driver.send_message("hi from tomorrow", user="alice")
    assert close_to(spoken.created_at, real + DAY) and spoken.id > after.id
    carol = emulator.world.guild.add_member("carol")
    assert close_to(carol.joined_at, real + DAY)


async def test_an_event_cannot_start_in_the_world_past(emulator: Emulator, bot: ProbeBot) -> None:
    guild = bot.get_guild(emulator.world.guild.id)
    assert guild is not None
    start = discord.utils.utcnow() + datetime.timedelta(hours=2)
    await emulator.driver.advance(DAY)
    with pytest.raises(discord.HTTPException) as refused:
        await guild.create_scheduled_event(
            name="Yesterday's party",
            start_time=start,
            end_time=start + datetime.timedelta(hours=1),
            entity_type=discord.EntityType.external,
            privacy_level=discord.PrivacyLevel.guild_only,
            location="here",
        )
    assert refused.value.code == 50035
    assert "In scheduled_start_time: Cannot schedule event in the past." in refused.value.text


async def test_a_quiet_thread_archives_after_its_auto_archive_duration(
    emulator: Emulator, bot: ProbeBot
) -> None:
    general = bot.get_channel(emulator.world.guild.channel("general").id)
    assert isinstance(general, discord.TextChannel)
    thread = await general.create_thread(
        name="party", type=discord.ChannelType.public_thread, auto_archive_duration=60
    )
    await thread.send("first post")
    updates: list[discord.Thread] = []

    async def on_thread_update(before: discord.Thread, after: discord.Thread) -> None:
        updates.append(after)

    bot.add_listener(on_thread_update)
    posted = emulator.driver.world.channels[thread.id]
    await emulator.driver.advance(59 * 60)
    assert not posted.archived
    await emulator.driver.advance(2 * 60)
    assert posted.archived
    quiet_since = emulator.world.messages[posted.last_message_id or 0].created_at
    assert posted.archive_timestamp == quiet_since + datetime.timedelta(minutes=60)
    await emulator.driver.settle()
    assert [u.archived for u in updates] == [True]
    # posting in it opens it again, and the hour starts over
    await thread.send("back")
    assert not posted.archived
    await emulator.driver.advance(30 * 60)
    assert not posted.archived


async def test_a_jump_in_one_world_leaves_the_next_world_ids_alone() -> None:
    async with Emulator() as first:
        await first.driver.advance(datetime.timedelta(days=365))
        ahead = first.world.new_id()
    second = World.default()
    real = datetime.datetime.now(datetime.UTC)
    assert close_to(snowflake_time(second.new_id()), real)
    assert close_to(snowflake_time(new_snowflake()), real)
    assert snowflake_time(ahead) - real > datetime.timedelta(days=364)
    assert len({ahead, second.new_id(), new_snowflake()}) == 3


async def test_the_bots_followed_clock_follows_the_emulator(emulator: Emulator) -> None:
    """bot.clock.FollowedClock against the real route: a jump ends a sleep it jumped over."""
    clock = await FollowedClock.probe(emulator.base_url + "/sandbox/clock")
    assert clock is not None
    clock.start()
    try:
        sleeper = asyncio.create_task(clock.sleep(DAY.total_seconds()))
        await asyncio.sleep(0.05)
        assert not sleeper.done()
        await emulator.driver.advance(DAY + datetime.timedelta(minutes=1))
        await asyncio.wait_for(sleeper, 10)
        assert clock.generation == 1
        assert abs((clock.now() - emulator.driver.now()).total_seconds()) < 5
    finally:
        await clock.aclose()


async def test_when_the_driver_has_advanced_a_following_bot_reads_the_new_time(
    emulator: Emulator,
) -> None:
    """What a test does after ``Driver.advance`` (a command, a click) happens at the new time
    for the bot too: it has taken the jump in before ``advance`` returns."""
    clock = await FollowedClock.probe(emulator.base_url + "/sandbox/clock")
    assert clock is not None
    clock.start()
    try:
        await until(lambda: len(emulator.world.clock.followers()) == 1)
        for jumps in (1, 2, 3):
            await emulator.driver.advance(DAY)
            assert clock.generation == jumps  # at once: nothing else awaited in between
            assert abs((clock.now() - emulator.driver.now()).total_seconds()) < 5
        # two at once: the bot hears of both in one answer, which counts for each
        driver = emulator.driver
        await asyncio.wait_for(asyncio.gather(driver.advance(DAY), driver.advance(DAY)), 1)
        assert clock.generation == 5
    finally:
        await clock.aclose()
    await until(lambda: not emulator.world.clock.followers())  # its connection closed
    advanced = asyncio.create_task(emulator.driver.advance(DAY))
    await asyncio.wait_for(advanced, 1)  # a follower gone is not waited for
    assert not [n for n in emulator.driver.recorder.notes if n.kind == "clock_not_followed"]


async def until(condition: Callable[[], bool]) -> None:
    """Within 5 s: the emulator's side of a connection learns it is open or closed on one of
    its loop's next turns, which nothing announces."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within 5 s")
