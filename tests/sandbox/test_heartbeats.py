"""Heartbeats as discord.py measures them: each HEARTBEAT_ACK must reach the client after its
keep-alive thread has noted the heartbeat as sent, or discord.py measures the ACK against the
previous heartbeat and logs "Can't keep up, shard ID None websocket is 41.3s behind".

The emulator runs on its own thread and event loop here, as it runs beside a bot process in the
try-out: sharing the bot's loop, it could not answer before the keep-alive thread's note."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import discord.gateway
import pytest

from sandbox import Emulator
from tests.sandbox.probe_bot import ProbeBot

#: Short, so a few heartbeats go by quickly; longer than the emulator's ACK delay.
INTERVAL_MS = 300
ACKS = 5


class NotingKeepAlive(discord.gateway.KeepAliveHandler):
    """discord.py's keep-alive thread, noting for each ACK whether the heartbeat it answers had
    been noted as sent (``_last_send``) when the ACK was read."""

    acks: list[bool]
    got_acks: asyncio.Event

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sending_since = 0.0

    def get_payload(self) -> dict[str, Any]:
        if threading.current_thread() is self:  # a heartbeat of its own, not an answer
            self.sending_since = time.perf_counter()
        return super().get_payload()

    def ack(self) -> None:
        if self.sending_since:
            self.acks.append(self._last_send >= self.sending_since)
            if len(self.acks) >= ACKS:
                self.ws.loop.call_soon_threadsafe(self.got_acks.set)
        super().ack()


@contextlib.contextmanager
def emulator_on_its_own_thread() -> Iterator[Emulator]:
    started = threading.Event()
    emulators: list[Emulator] = []
    stop: list[asyncio.Event] = []
    loops: list[asyncio.AbstractEventLoop] = []

    async def serve() -> None:
        async with Emulator(heartbeat_interval_ms=INTERVAL_MS) as emulator:
            emulators.append(emulator)
            stop.append(asyncio.Event())
            loops.append(asyncio.get_running_loop())
            started.set()
            await stop[0].wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="emulator")
    thread.start()
    try:
        assert started.wait(30), "the emulator did not start"
        yield emulators[0]
    finally:
        if loops:
            loops[0].call_soon_threadsafe(stop[0].set)
        thread.join(30)


async def test_every_heartbeat_ack_is_read_after_discord_py_noted_the_heartbeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    NotingKeepAlive.acks = []
    NotingKeepAlive.got_acks = asyncio.Event()
    monkeypatch.setattr(discord.gateway, "KeepAliveHandler", NotingKeepAlive)
    with emulator_on_its_own_thread() as emulator, emulator.patch_discord():
        client = ProbeBot()
        await client.login(emulator.world.token)
        runner = asyncio.create_task(client.connect(reconnect=False))
        try:
            async with asyncio.timeout(30):
                await NotingKeepAlive.got_acks.wait()
        finally:
            await client.close()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
    assert NotingKeepAlive.acks[:ACKS] == [True] * ACKS
