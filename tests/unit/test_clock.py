"""The bot's clocks: ``FollowedClock`` against a fake emulator clock on 127.0.0.1 (its reading,
its long poll, a sleep that a jump ends early, a follower that outlives an outage and stops
cleanly) and ``open_clock``'s choice between it and the system clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from bot.clock import FollowedClock, SystemClock, emulator_clock_url, open_clock
from tests.fakes import wait_until

HOUR = 3600.0


@dataclass
class FakeEmulatorClock:
    """``GET /sandbox/clock`` as the emulator serves it, with a jump a test can make."""

    offset: float = 0.0
    generation: int = 0
    failing: int = 0  # answer this many requests with 500 first
    polls: int = 0
    _jumped: asyncio.Event = field(default_factory=asyncio.Event)

    def jump(self, seconds: float) -> None:
        self.offset += seconds
        self.generation += 1
        self._jumped.set()
        self._jumped = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.polls += 1
        if self.failing:
            self.failing -= 1
            return web.json_response({"message": "boom"}, status=500)
        after = request.query.get("after")
        if after is not None and int(after) == self.generation:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._jumped.wait(), float(request.query.get("wait", 0)))
        return web.json_response({"now": time.time() + self.offset, "generation": self.generation})


async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
def fake() -> FakeEmulatorClock:
    return FakeEmulatorClock()


@pytest.fixture
async def origin(fake: FakeEmulatorClock) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/sandbox/clock", fake.handle)
    async for url in serve(app):
        yield url


@pytest.fixture
async def followed(origin: str) -> AsyncIterator[FollowedClock]:
    clock = await FollowedClock.probe(origin + "/sandbox/clock")
    assert clock is not None
    clock.poll_wait = 5.0
    clock.start()
    try:
        yield clock
    finally:
        await clock.aclose()


def close_to(moment: datetime, expected: datetime) -> bool:
    return abs((moment - expected).total_seconds()) < 60


async def test_now_is_the_emulators_now(fake: FakeEmulatorClock, origin: str) -> None:
    fake.offset = 2 * HOUR
    clock = await FollowedClock.probe(origin + "/sandbox/clock")
    assert clock is not None
    try:
        assert close_to(clock.now(), datetime.now(UTC) + timedelta(hours=2))
        assert clock.now().tzinfo is UTC
    finally:
        await clock.aclose()


async def test_a_jump_is_followed_and_ends_a_sleep_it_jumped_over(
    fake: FakeEmulatorClock, followed: FollowedClock
) -> None:
    await wait_until(lambda: fake.polls >= 2, what="the follower waiting on its long poll")
    short = asyncio.create_task(followed.sleep(HOUR))
    long = asyncio.create_task(followed.sleep(10 * HOUR))
    await asyncio.sleep(0)
    fake.jump(2 * HOUR)
    await asyncio.wait_for(short, 10)
    assert followed.generation == 1
    assert close_to(followed.now(), datetime.now(UTC) + timedelta(hours=2))
    assert not long.done()  # eight hours of its time are still to come
    fake.jump(9 * HOUR)
    await asyncio.wait_for(long, 10)


async def test_a_sleep_without_a_jump_is_an_ordinary_sleep(followed: FollowedClock) -> None:
    await asyncio.wait_for(followed.sleep(0.01), 10)
    await asyncio.wait_for(followed.sleep(-5), 10)


async def test_the_follower_outlives_an_outage(
    fake: FakeEmulatorClock, followed: FollowedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.clock")
    fake.failing = 2
    fake.jump(HOUR)  # the current poll answers; the next two fail; then it follows again
    await wait_until(lambda: fake.failing == 0, what="the failed polls")
    fake.jump(HOUR)
    await wait_until(lambda: followed.generation == 2, within=10, what="catching up")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "emulator's clock" in warnings[0].getMessage()


async def test_closing_stops_the_follower(origin: str) -> None:
    clock = await FollowedClock.probe(origin + "/sandbox/clock")
    assert clock is not None
    clock.start()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(clock.aclose(), 10)
    assert [t for t in asyncio.all_tasks() if t.get_name() == "follow-emulator-clock"] == []


async def test_probe_finds_no_clock_where_discord_answers_404() -> None:
    app = web.Application()  # every path: 404, as Discord answers /sandbox/clock
    async for url in serve(app):
        assert await FollowedClock.probe(url + "/sandbox/clock") is None


async def test_probe_finds_no_clock_where_nothing_listens() -> None:
    app = web.Application()
    async for url in serve(app):
        closed = url
    assert await FollowedClock.probe(closed + "/sandbox/clock") is None


@pytest.mark.parametrize(
    ("api_base", "url"),
    [
        (None, None),
        ("https://discord.com/api/v10", None),
        ("https://10.0.0.5:8443/api/v10", None),
        ("http://127.0.0.1:8765/api/v10", "http://127.0.0.1:8765/sandbox/clock"),
        ("http://localhost:9000/api/v10", "http://localhost:9000/sandbox/clock"),
        ("http://[::1]:9000/api/v10", "http://[::1]:9000/sandbox/clock"),
    ],
)
def test_only_a_loopback_api_base_is_asked_for_a_clock(api_base: str | None, url: str) -> None:
    assert emulator_clock_url(api_base) == url


async def test_open_clock_follows_a_local_emulator(
    origin: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.clock")
    async with open_clock(origin + "/api/v10") as clock:
        assert isinstance(clock, FollowedClock)
    assert [r.getMessage() for r in caplog.records] == [
        f"Clock: following the local emulator's clock at {origin}/sandbox/clock"
    ]
    assert [t for t in asyncio.all_tasks() if t.get_name() == "follow-emulator-clock"] == []


async def test_open_clock_keeps_the_system_clock_for_discord(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.clock")
    async with open_clock("https://discord.com/api/v10") as clock:
        assert isinstance(clock, SystemClock)
    async with open_clock(None) as clock:
        assert isinstance(clock, SystemClock)
    assert [r.getMessage() for r in caplog.records] == ["Clock: the system clock"] * 2
