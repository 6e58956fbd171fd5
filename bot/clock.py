"""The clock the runtime reads and sleeps on. Injected everywhere so tests never sleep for real.

Against Discord it is the system clock (``SystemClock``): nothing can move it. Pointed at the
project's local emulator, which offers its world's time at ``/sandbox/clock``, the bot follows
that instead (``FollowedClock``), so a test (or a person trying the bot out) can jump a day ahead
and the durable scheduler, asleep until its next job, wakes at once. ``open_clock`` picks one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp

from bot.config import is_loopback

log = logging.getLogger(__name__)

#: Where the emulator serves its clock, from the origin of ``DISCORD_API_BASE``.
CLOCK_PATH = "/sandbox/clock"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once ``seconds`` of this clock's time have passed."""
        ...


class SystemClock:
    """Wall-clock time and real sleeping."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FollowedClock:
    """System time plus the offset of the emulator's clock at ``url``, kept up to date by one
    background task that long-polls it (``start``; ``aclose`` stops it).

    A ``sleep`` returns once that much of this clock's time has passed: when the emulator's
    clock jumps forward, every sleep looks again at the new now and ends at once if its moment
    was jumped over. Between jumps both clocks run at the system clock's pace.
    """

    def __init__(
        self, url: str, session: aiohttp.ClientSession, *, poll_wait: float = 25.0
    ) -> None:
        self.url = url
        self.poll_wait = poll_wait
        #: Seconds the emulator's clock is ahead of this machine's.
        self.offset = 0.0
        #: The emulator's jump counter, as last read.
        self.generation = 0
        self._session = session
        self._jumped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def probe(cls, url: str, *, within: float = 2.0) -> FollowedClock | None:
        """A clock following ``url`` if an emulator's clock answers there (read once, not yet
        started); None if anything else does (Discord's 404) or nothing does."""
        session = aiohttp.ClientSession()
        clock = cls(url, session)
        try:
            clock._apply(await clock._read({}, within=within))
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError):
            await session.close()
            return None
        return clock

    # -- reading ----------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._time(), UTC)

    def _time(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        deadline = self._time() + max(0.0, seconds)
        while (remaining := deadline - self._time()) > 0:
            jumped = self._jumped
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(jumped.wait(), remaining)

    # -- following --------------------------------------------------------------------------

    def start(self) -> None:
        """Follow the emulator's clock until ``aclose``."""
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name="follow-emulator-clock")

    async def aclose(self) -> None:
        """Stop following and close the HTTP session."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._session.close()

    async def _follow(self) -> None:
        backoff = 0.5
        while True:
            query = {"after": str(self.generation), "wait": str(self.poll_wait)}
            try:
                reading = await self._read(query, within=self.poll_wait + 10.0)
                self._apply(reading)
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as exc:
                # Said once per outage: the emulator may be gone for a while (a test restarting it).
                level = logging.WARNING if backoff == 0.5 else logging.DEBUG
                log.log(level, "Could not read the emulator's clock (%s); trying again", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5

    async def _read(self, query: dict[str, str], *, within: float) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=within)
        async with self._session.get(self.url, params=query, timeout=timeout) as response:
            response.raise_for_status()
            reading: dict[str, Any] = await response.json()
        return reading

    def _apply(self, reading: dict[str, Any]) -> None:
        now, generation = float(reading["now"]), int(reading["generation"])
        self.offset = now - time.time()
        if generation != self.generation:
            self.generation = generation
            jumped, self._jumped = self._jumped, asyncio.Event()
            jumped.set()


def emulator_clock_url(api_base: str | None) -> str | None:
    """Where a local emulator would serve its clock, for a ``DISCORD_API_BASE`` on a loopback
    address; None for Discord (no base, or any other host)."""
    if api_base is None:
        return None
    parts = urlsplit(api_base)
    if not parts.hostname or not is_loopback(parts.hostname):
        return None
    return f"{parts.scheme}://{parts.netloc}{CLOCK_PATH}"


@contextlib.asynccontextmanager
async def open_clock(api_base: str | None) -> AsyncIterator[Clock]:
    """The clock for a process talking to ``api_base``: the emulator's, followed, when a local
    emulator offers one there, else the system clock. Says which in one log line; stops
    following on exit."""
    url = emulator_clock_url(api_base)
    followed = None if url is None else await FollowedClock.probe(url)
    if followed is None:
        log.info("Clock: the system clock")
        yield SystemClock()
        return
    log.info("Clock: following the local emulator's clock at %s", followed.url)
    followed.start()
    try:
        yield followed
    finally:
        await followed.aclose()
