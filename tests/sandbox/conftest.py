"""Fixtures for the emulator's own tests: an emulator on an ephemeral loopback port, a small
in-process discord.py bot (not Undercurrent) connected to it, and a bare HTTP client with the
bot's token for checking the wire (``call``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
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


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {emulator.world.token}"}
    async with aiohttp.ClientSession(base_url=emulator.base_url, headers=headers) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, path: str, body: Any = None
) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    async with http.request(method, "/api/v10" + path, json=body) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None, response.headers
