"""Fixtures for the emulator's own tests: an emulator on an ephemeral loopback port and a small
in-process discord.py bot (not Undercurrent) connected to it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from sandbox import Emulator
from tests.sandbox.probe_bot import ProbeBot


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator() as running:
        yield running
        running.recorder.assert_all_implemented()
        assert running.recorder.server_errors() == [], "the emulator answered 500 by itself"


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[ProbeBot]:
    """The probe bot, logged in, connected, READY and with its commands synced."""
    with emulator.patch_discord():
        client = ProbeBot()
        await client.login(emulator.world.token)
        runner = asyncio.create_task(client.connect(reconnect=True))
        try:
            async with asyncio.timeout(10):
                await client.wait_until_ready()
                await emulator.driver.wait_for_commands("echo", "settings", "admin")
            yield client
        finally:
            await client.close()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
