"""Sustained rate limits: the headers of a limited route, the 429 past its allowance, one bucket
per major parameter, the global limit, and discord.py pacing itself through a burst so that every
message arrives exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiohttp
import discord
import pytest

from sandbox import Emulator
from tests.sandbox.conftest import call
from tests.sandbox.probe_bot import ProbeBot

MESSAGES = "/channels/{channel_id}/messages"
DM_CHANNELS = "/users/@me/channels"


async def post(http: aiohttp.ClientSession, path: str, body: Any) -> tuple[int, Any, Any]:
    return await call(http, "POST", path, body)


async def test_a_limited_route_counts_down_then_answers_429(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    bucket = emulator.limits.route("POST", MESSAGES, per=3, seconds=30)
    general = emulator.world.guild.channel("general").id
    path = f"/channels/{general}/messages"
    answers = [await post(http, path, {"content": f"m{n}"}) for n in range(4)]
    assert [status for status, _, _ in answers] == [200, 200, 200, 429]
    assert [h["X-RateLimit-Remaining"] for _, _, h in answers] == ["2", "1", "0", "0"]
    assert {h["X-RateLimit-Limit"] for _, _, h in answers} == {"3"}
    assert {h["X-RateLimit-Bucket"] for _, _, h in answers} == {bucket.name}
    assert all(0 < float(h["X-RateLimit-Reset-After"]) <= 30 for _, _, h in answers)
    status, body, headers = answers[-1]
    assert body["message"] == "You are being rate limited." and body["global"] is False
    assert 0 < body["retry_after"] <= 30
    assert headers["Via"] == "1.1 google" and headers["X-RateLimit-Scope"] == "user"
    assert int(headers["Retry-After"]) >= 1
    assert len(emulator.world.guild.channel("general").visible_messages()) == 3  # not handled
    assert (bucket.passed, bucket.limited) == (3, 1)
    assert [r.status for r in emulator.recorder.rate_limited("POST", MESSAGES)] == [429]

    # another channel is another bucket
    mod_log = emulator.world.guild.channel("mod-log").id
    status, _, _ = await post(http, f"/channels/{mod_log}/messages", {"content": "elsewhere"})
    assert status == 200
    emulator.limits.clear()
    status, _, _ = await post(http, path, {"content": "lifted"})
    assert status == 200


async def test_a_window_refills_when_it_resets(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.limits.route("POST", MESSAGES, per=1, seconds=0.1)
    general = emulator.world.guild.channel("general").id
    path = f"/channels/{general}/messages"
    assert (await post(http, path, {"content": "one"}))[0] == 200
    status, body, _ = await post(http, path, {"content": "two"})
    assert status == 429
    await asyncio.sleep(body["retry_after"])
    assert (await post(http, path, {"content": "two"}))[0] == 200


async def test_the_global_limit_spans_routes_but_not_interactions(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.limits.global_limit(per=2, seconds=30)
    general = emulator.world.guild.channel("general").id
    alice = emulator.driver.member("alice").id
    first = await post(http, f"/channels/{general}/messages", {"content": "one"})
    second = await post(http, DM_CHANNELS, {"recipient_id": str(alice)})
    third = await post(http, f"/channels/{general}/messages", {"content": "three"})
    assert [a[0] for a in (first, second, third)] == [200, 200, 429]
    _, body, headers = third
    assert body["global"] is True
    assert headers["X-RateLimit-Global"] == "true" and headers["X-RateLimit-Scope"] == "global"
    assert emulator.limits.limited == 1


@pytest.mark.parametrize("concurrently", [False, True])
async def test_discord_py_sends_thirty_messages_through_five_per_window_exactly_once(
    emulator: Emulator, bot: ProbeBot, concurrently: bool
) -> None:
    bucket = emulator.limits.route("POST", MESSAGES, per=5, seconds=0.2)
    channel = bot.get_channel(emulator.world.guild.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    texts = [f"card {n}" for n in range(30)]
    if concurrently:
        await asyncio.gather(*(channel.send(t) for t in texts))
    else:
        for text in texts:
            await channel.send(text)
    posted = Counter(m.content for m in emulator.world.guild.channel("general").visible_messages())
    assert posted == Counter(texts)
    assert bucket.passed == 30
    # discord.py reads the headers and waits for each window; the recorder counts any 429 it met
    assert len(emulator.recorder.rate_limited("POST", MESSAGES)) == bucket.limited


async def test_dm_channel_creation_can_be_limited(emulator: Emulator, bot: ProbeBot) -> None:
    bucket = emulator.limits.route("POST", DM_CHANNELS, per=2, seconds=0.2)
    guild = emulator.world.guild
    members = [guild.add_member(f"listener{n}") for n in range(6)]
    for member in members:
        user = await bot.fetch_user(member.id)
        await user.create_dm()
    opened = emulator.recorder.requests_to("POST", DM_CHANNELS)
    assert sum(r.status == 200 for r in opened) == 6
    assert bucket.passed == 6
