"""Message nonces as Discord treats them: echoed back, at most 25 characters, and with
``enforce_nonce`` a repeat by the same author in the same channel within the window returns the
first message instead of creating (and announcing) another. Plus the lost-reply fault that
makes a client retry a create that already happened."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from sandbox import Emulator
from tests.sandbox.probe_bot import ProbeBot


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {emulator.world.token}"}
    async with aiohttp.ClientSession(base_url=emulator.base_url, headers=headers) as session:
        yield session


async def post(http: aiohttp.ClientSession, channel_id: int, body: Any) -> tuple[int, Any]:
    async with http.post(f"/api/v10/channels/{channel_id}/messages", json=body) as response:
        return response.status, json.loads(await response.text())


def contents(emulator: Emulator, channel_id: int) -> list[str]:
    return [m.content for m in emulator.world.channels[channel_id].visible_messages()]


async def test_enforced_nonce_returns_the_first_message(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    general = emulator.world.guild.channel("general").id
    first_body = {"content": "card", "nonce": "uc1.abc", "enforce_nonce": True}
    status, first = await post(http, general, first_body)
    assert status == 200 and first["nonce"] == "uc1.abc"
    status, again = await post(http, general, {**first_body, "content": "card, resent"})
    assert status == 200
    assert again["id"] == first["id"] and again["content"] == "card"
    assert contents(emulator, general) == ["card"]


async def test_nonce_is_per_channel_and_only_enforced_when_asked(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    general = emulator.world.guild.channel("general").id
    other = emulator.world.guild.add_text_channel("recommendations").id
    _, first = await post(http, general, {"content": "a", "nonce": 7, "enforce_nonce": True})
    _, elsewhere = await post(http, other, {"content": "b", "nonce": 7, "enforce_nonce": True})
    _, unenforced = await post(http, general, {"content": "c", "nonce": 7})
    assert first["nonce"] == 7 and unenforced["nonce"] == 7  # echoed as sent
    assert len({first["id"], elsewhere["id"], unenforced["id"]}) == 3
    assert contents(emulator, general) == ["a", "c"]


async def test_enforced_nonce_is_forgotten_after_the_window(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    general = emulator.world.guild.channel("general").id
    body = {"content": "card", "nonce": "uc2.abc", "enforce_nonce": True}
    _, first = await post(http, general, body)
    emulator.advance_clock(emulator.nonce_window - 1)
    _, within = await post(http, general, body)
    assert within["id"] == first["id"]
    emulator.advance_clock(2)
    _, after = await post(http, general, body)
    assert after["id"] != first["id"]
    assert contents(emulator, general) == ["card", "card"]


async def test_a_deleted_message_is_not_returned_for_its_nonce(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    general = emulator.world.guild.channel("general").id
    body = {"content": "card", "nonce": "uc3.abc", "enforce_nonce": True}
    _, first = await post(http, general, body)
    async with http.delete(f"/api/v10/channels/{general}/messages/{first['id']}") as response:
        assert response.status == 204
    _, again = await post(http, general, body)
    assert again["id"] != first["id"]


@pytest.mark.parametrize("nonce", ["x" * 26, 1.5, ["a"]])
async def test_nonce_must_be_an_integer_or_a_short_string(
    emulator: Emulator, http: aiohttp.ClientSession, nonce: Any
) -> None:
    general = emulator.world.guild.channel("general").id
    status, body = await post(http, general, {"content": "card", "nonce": nonce})
    assert status == 400 and body["code"] == 50035 and "nonce" in body["errors"]
    assert contents(emulator, general) == []


async def test_a_lost_reply_retried_by_discord_py_posts_once(
    emulator: Emulator, bot: ProbeBot
) -> None:
    """discord.py resends a create answered 502 with the same nonce; the retry gets the message
    the first request created, and the gateway announced it once."""
    general = emulator.world.guild.channel("general")
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)
    mark = emulator.recorder.mark()
    emulator.faults.lose_reply("/channels/{channel_id}/messages", method="POST")
    message = await channel.send("the card", nonce="uc4.abc")
    creates = emulator.recorder.requests_to("POST", "/channels/{channel_id}/messages", after=mark)
    assert [r.status for r in creates] == [502, 200]
    assert [m.id for m in general.visible_messages()] == [message.id]
    announced = [
        f for f in emulator.recorder.frames if f.index > mark and f.event == "MESSAGE_CREATE"
    ]
    assert len(announced) == 1


async def test_history_carries_component_custom_ids(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    general = emulator.world.guild.channel("general").id
    button = {"type": 2, "style": 2, "label": "Heard it", "custom_id": "uc:pick:heard:12"}
    await post(
        http, general, {"content": "card", "components": [{"type": 1, "components": [button]}]}
    )
    async with http.get(f"/api/v10/channels/{general}/messages?limit=100") as response:
        history = await response.json()
    assert history[0]["components"][0]["components"][0]["custom_id"] == "uc:pick:heard:12"
