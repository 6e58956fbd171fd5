"""The real bot process sharded: the emulator recommends 2 shards, one server on each; the bot
opens both from one process and answers commands in each server, also after both resume."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import Emulator
from sandbox.driver import InteractionResult
from sandbox.ids import shard_of
from sandbox.model import World
from tests.e2e.conftest import Stack, bot_stack


@pytest.fixture
async def sharded_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """ "Sandbox" on shard 0 and "Shard 1" on shard 1 of the 2 the emulator recommends, for a
    bot Discord lets start two shards at once (its rate limit enforced)."""
    async with Emulator(World.sharded(2), shards=2) as emulator:
        emulator.gateway.max_concurrency = 2
        emulator.gateway.enforce_identify_rate = True
        async with bot_stack(emulator, tmp_path) as running:
            yield running
        assert emulator.gateway.identify_refusals == 0


def shard_that_got(stack: Stack, result: InteractionResult) -> tuple[int, int] | None:
    """The shard of the session the interaction was dispatched to (there must be one)."""
    gateway = stack.emulator.gateway
    (session_id,) = [
        frame.session
        for frame in stack.emulator.recorder.frames
        if frame.direction == "send"
        and frame.event == "INTERACTION_CREATE"
        and frame.data["id"] == str(result.interaction.id)
    ]
    assert session_id is not None
    return gateway.sessions[session_id].shard


async def server_timezone(stack: Stack, server: str, zone: str) -> InteractionResult:
    driver = stack.driver.in_guild(server)
    result = await driver.run_command(f"settings server-timezone zone:{zone}", user="owner")
    return await result.wait_response()


async def show(stack: Stack, server: str) -> InteractionResult:
    result = await stack.driver.in_guild(server).run_command("settings show", user="alice")
    return await result.wait_response()


async def test_one_process_serves_a_server_on_each_shard(sharded_stack: Stack) -> None:
    stack = sharded_stack
    gateway = stack.emulator.gateway
    servers = {name: stack.driver.guild(name) for name in ("Sandbox", "Shard 1")}
    assert {name: shard_of(g.id, 2) for name, g in servers.items()} == {"Sandbox": 0, "Shard 1": 1}
    identifies = [
        f.data for f in stack.emulator.recorder.frames if f.direction == "receive" and f.op == 2
    ]
    assert sorted(i["shard"] for i in identifies) == [[0, 2], [1, 2]]
    assert sorted(s.shard for s in gateway.connected_sessions) == [(0, 2), (1, 2)]  # type: ignore[type-var]
    await stack.bot.wait_for_log(r"Ready as .* in 2 server\(s\) over 2 shard\(s\)")
    await stack.bot.wait_for_log(r"Shard 1/2 ready with 1 server\(s\)")

    tokyo = await server_timezone(stack, "Shard 1", "Asia/Tokyo")
    assert "Asia/Tokyo" in tokyo.content
    assert shard_that_got(stack, tokyo) == (1, 2)
    berlin = await server_timezone(stack, "Sandbox", "Europe/Berlin")
    assert "Europe/Berlin" in berlin.content
    assert shard_that_got(stack, berlin) == (0, 2)
    # each answer is about its own server: the guild id came through the right shard
    assert "Asia/Tokyo" in (await show(stack, "Shard 1")).text()
    assert "Europe/Berlin" in (await show(stack, "Sandbox")).text()

    mark = stack.emulator.recorder.mark()
    assert await gateway.drop() == 2
    assert await gateway.wait_session(after=mark, kind="RESUMED", count=2) == "RESUMED"
    assert sorted(s.shard for s in gateway.connected_sessions) == [(0, 2), (1, 2)]  # type: ignore[type-var]
    for server, zone in (("Shard 1", "Asia/Tokyo"), ("Sandbox", "Europe/Berlin")):
        answer = await show(stack, server)
        assert zone in answer.text()
        assert shard_that_got(stack, answer) == (shard_of(servers[server].id, 2), 2)
