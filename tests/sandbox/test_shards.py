"""Sharding in the emulator, checked with bare websockets: ``GET /gateway/bot``'s recommendation,
IDENTIFY's ``shard`` and its close codes, each shard getting only its guilds' events and DMs
arriving on shard 0 only, and RESUME keeping the shard."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox import Emulator
from sandbox.gateway import Intent
from sandbox.ids import new_snowflake, shard_of
from sandbox.model import World

Frame = dict[str, Any]


@pytest.fixture
async def sharded() -> AsyncIterator[Emulator]:
    """An emulator recommending 2 shards, with "Sandbox" on shard 0 and "Shard 1" on shard 1."""
    async with Emulator(World.sharded(2), shards=2) as running:
        yield running
        running.recorder.assert_all_implemented()
        assert running.recorder.server_errors() == []


async def rest(emulator: Emulator, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bot {emulator.world.token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.request(method, emulator.api_base + path, json=body) as response,
    ):
        assert response.status < 300, await response.text()
        return await response.json()


async def receive(ws: aiohttp.ClientWebSocketResponse) -> Frame:
    message = await ws.receive(timeout=5)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)  # type: ignore[no-any-return]


async def identify(
    ws: aiohttp.ClientWebSocketResponse, token: str, shard: Any = None
) -> aiohttp.WSMessage | Frame:
    """HELLO, IDENTIFY (with ``shard`` unless None); the READY, or the close message."""
    assert (await receive(ws))["op"] == 10
    intents = Intent.GUILDS | Intent.DIRECT_MESSAGES
    data: Frame = {"token": token, "intents": int(intents), "properties": {}}
    if shard is not None:
        data["shard"] = shard
    await ws.send_json({"op": 2, "d": data})
    message = await ws.receive(timeout=5)
    if message.type != aiohttp.WSMsgType.TEXT:
        return message
    return json.loads(message.data)  # type: ignore[no-any-return]


async def until_ack(ws: aiohttp.ClientWebSocketResponse) -> list[Frame]:
    """Every dispatch sent before a heartbeat we send now (the ack comes after them)."""
    await ws.send_json({"op": 1, "d": None})
    frames = []
    while (frame := await receive(ws))["op"] != 11:
        frames.append(frame)
    return frames


def events(frames: list[Frame]) -> list[tuple[str, int | None]]:
    """(event, guild id) of each dispatch."""
    found: list[tuple[str, int | None]] = []
    for frame in frames:
        data = frame["d"]
        guild_id = data["id"] if frame["t"] == "GUILD_CREATE" else data.get("guild_id")
        found.append((frame["t"], int(guild_id) if guild_id else None))
    return found


def test_snowflakes_can_be_placed_on_a_shard() -> None:
    issued = [new_snowflake(shard=(n % 3, 3)) for n in range(30)]
    assert [shard_of(i, 3) for i in issued] == [n % 3 for n in range(30)]
    assert issued == sorted(set(issued))  # still unique and increasing
    with pytest.raises(ValueError, match="no shard 3"):
        new_snowflake(shard=(3, 3))


async def test_gateway_bot_recommends_the_configured_shard_count(
    emulator: Emulator, sharded: Emulator
) -> None:
    assert (await rest(emulator, "GET", "/gateway/bot"))["shards"] == 1
    body = await rest(sharded, "GET", "/gateway/bot")
    assert body["url"] == sharded.gateway_url
    assert body["shards"] == 2
    limit = body["session_start_limit"]
    assert limit["max_concurrency"] == 1 and limit["total"] == limit["remaining"] == 1000
    async with aiohttp.ClientSession() as session, session.ws_connect(sharded.gateway_url) as ws:
        assert (await identify(ws, sharded.world.token, [0, 2]))["t"] == "READY"  # type: ignore[index]
    limit = (await rest(sharded, "GET", "/gateway/bot"))["session_start_limit"]
    assert limit["remaining"] == 999


@pytest.mark.parametrize("shard", [[2, 2], [-1, 2], [0, 0], [0], [0, 1, 2], "0,1", [True, 2]])
async def test_invalid_shard_is_closed_with_4010(sharded: Emulator, shard: Any) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(sharded.gateway_url) as ws:
        closing = await identify(ws, sharded.world.token, shard)
        assert isinstance(closing, aiohttp.WSMessage)
        assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 4010)
    assert sharded.gateway.live_sessions == []


async def test_too_many_guilds_for_one_connection_is_closed_with_4011(sharded: Emulator) -> None:
    sharded.gateway.max_guilds_per_shard = 1  # Discord's is 2,500
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(sharded.gateway_url) as ws:
            closing = await identify(ws, sharded.world.token)
            assert isinstance(closing, aiohttp.WSMessage) and closing.data == 4011
        async with session.ws_connect(sharded.gateway_url) as ws:
            closing = await identify(ws, sharded.world.token, [0, 1])
            assert isinstance(closing, aiohttp.WSMessage) and closing.data == 4011
        async with session.ws_connect(sharded.gateway_url) as ws:
            assert (await identify(ws, sharded.world.token, [1, 2]))["t"] == "READY"  # type: ignore[index]


async def test_an_identify_too_soon_for_its_bucket_gets_an_invalid_session(
    sharded: Emulator,
) -> None:
    sharded.gateway.enforce_identify_rate = True  # max_concurrency 1: one IDENTIFY per 5 s
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(sharded.gateway_url) as ws:
            assert (await identify(ws, sharded.world.token, [0, 2]))["t"] == "READY"  # type: ignore[index]
        async with session.ws_connect(sharded.gateway_url) as ws:
            refused = await identify(ws, sharded.world.token, [1, 2])
            assert refused == {"op": 9, "d": False}
        sharded.gateway.max_concurrency = 2  # shard 1 is in a bucket of its own now
        async with session.ws_connect(sharded.gateway_url) as ws:
            assert (await identify(ws, sharded.world.token, [1, 2]))["t"] == "READY"  # type: ignore[index]
    assert sharded.gateway.identify_refusals == 1


async def test_each_shard_gets_its_guilds_and_dms_go_to_shard_zero(sharded: Emulator) -> None:
    world = sharded.world
    zero, one = sharded.driver.guild("Sandbox"), sharded.driver.guild("Shard 1")
    assert (shard_of(zero.id, 2), shard_of(one.id, 2)) == (0, 1)
    await rest(sharded, "PUT", f"/applications/{world.application_id}/commands", [
        {"name": "ping", "description": "Ping", "type": 1}
    ])  # fmt: skip
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(sharded.gateway_url) as ws0,
        session.ws_connect(sharded.gateway_url) as ws1,
    ):
        ready0 = await identify(ws0, world.token, [0, 2])
        ready1 = await identify(ws1, world.token, [1, 2])
        assert isinstance(ready0, dict) and isinstance(ready1, dict)
        assert ready0["d"]["shard"] == [0, 2] and ready1["d"]["shard"] == [1, 2]
        assert [g["id"] for g in ready0["d"]["guilds"]] == [str(zero.id)]
        assert [g["id"] for g in ready1["d"]["guilds"]] == [str(one.id)]
        assert events(await until_ack(ws0)) == [("GUILD_CREATE", zero.id)]
        assert events(await until_ack(ws1)) == [("GUILD_CREATE", one.id)]

        zero.add_text_channel("listening-room")
        one.add_text_channel("listening-room")
        await sharded.driver.run_command("ping", user="alice")
        await sharded.driver.in_guild(one).run_command("ping", user="alice")
        dm = await rest(sharded, "POST", "/users/@me/channels", {"recipient_id": str(one.owner_id)})
        await rest(sharded, "POST", f"/channels/{dm['id']}/messages", {"content": "hello"})

        assert events(await until_ack(ws0)) == [
            ("CHANNEL_CREATE", zero.id),
            ("INTERACTION_CREATE", zero.id),
            ("MESSAGE_CREATE", None),
        ]
        assert events(await until_ack(ws1)) == [
            ("CHANNEL_CREATE", one.id),
            ("INTERACTION_CREATE", one.id),
        ]


async def test_resume_keeps_the_shard(sharded: Emulator) -> None:
    world = sharded.world
    one = sharded.driver.guild("Shard 1")
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(sharded.gateway_url) as ws:
            ready = await identify(ws, world.token, [1, 2])
            assert isinstance(ready, dict)
            seq = (await until_ack(ws))[-1]["s"]
            await ws.close(code=4000)  # not 1000/1001: the session stays resumable
        session_id = ready["d"]["session_id"]
        world.guild.add_text_channel("missed-on-shard-0")
        one.add_text_channel("missed-on-shard-1")
        async with session.ws_connect(sharded.resume_gateway_url) as ws:
            assert (await receive(ws))["op"] == 10
            resume = {"token": world.token, "session_id": session_id, "seq": seq}
            await ws.send_json({"op": 6, "d": resume})
            assert events(await until_ack(ws)) == [("CHANNEL_CREATE", one.id), ("RESUMED", None)]
            one.add_text_channel("after-resume")
            world.guild.add_text_channel("not-for-shard-1")
            assert events(await until_ack(ws)) == [("CHANNEL_CREATE", one.id)]
    assert sharded.gateway.sessions[session_id].shard == (1, 2)
