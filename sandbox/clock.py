"""The emulated world's time: real UTC time plus an offset that tests move forward.

Everything the emulator stamps reads it: message and edit timestamps, snowflakes, join and
creation times, thread archive times, the "start in the past" rule of scheduled events, their
automatic start and end, interaction deadlines and the nonce window. Jumps only go forward
(Discord's time never goes back), and each one bumps ``generation``.

A bot process follows it over HTTP, outside the API prefix::

    GET /sandbox/clock                      -> {"now": 1767225600.125, "generation": 3}
    GET /sandbox/clock?after=3&wait=25      -> the same, as soon as the generation is not 3,
                                               or after 25 seconds (at most 30)

``now`` is epoch seconds. Real Discord has no such route (it answers 404), which is how the bot
tells the emulator from Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import time
from collections.abc import Awaitable
from typing import Any

from aiohttp import web

from sandbox.validation import FormErrors

#: The longest a long poll of ``GET /sandbox/clock`` may wait.
MAX_WAIT = 30.0


class WorldClock:
    """Real time plus an offset; ``advance`` moves it forward and wakes whoever waits on it."""

    def __init__(self) -> None:
        self.offset = 0.0
        #: Bumped on every jump.
        self.generation = 0
        self._jumped: asyncio.Event | None = None
        #: The connections of the long polls waiting now: followers (a bot's ``FollowedClock``)
        #: that will hear of the next jump.
        self.waiting: set[asyncio.BaseTransport] = set()
        #: Each open connection that asked for what follows a generation, and the latest it
        #: asked after: that follower has taken in that generation (``caught_up``).
        self._asked: dict[asyncio.BaseTransport, int] = {}
        self._polled = asyncio.Event()

    def __getstate__(self) -> dict[str, float]:
        """What a saved world keeps of its clock: how far ahead of real time it is."""
        return {"offset": self.offset, "generation": self.generation}

    def __setstate__(self, state: dict[str, float]) -> None:
        self.__init__()  # type: ignore[misc]
        self.offset, self.generation = state["offset"], int(state["generation"])

    def time(self) -> float:
        """The world's now, in epoch seconds."""
        return time.time() + self.offset

    def now(self) -> datetime.datetime:
        """The world's now, an aware UTC datetime."""
        return datetime.datetime.fromtimestamp(self.time(), tz=datetime.UTC)

    def monotonic(self) -> float:
        """A monotonic reading that jumps with the world (for deadlines and windows)."""
        return time.monotonic() + self.offset

    def advance(self, seconds: float | datetime.timedelta) -> int:
        """Jump forward by ``seconds``; returns the new generation."""
        if isinstance(seconds, datetime.timedelta):
            seconds = seconds.total_seconds()
        if seconds < 0:
            raise ValueError("the world's time only moves forward")
        self.offset += seconds
        self.generation += 1
        if self._jumped is not None:
            self._jumped.set()
            self._jumped = None
        return self.generation

    async def wait_for_jump(self, after: int, within: float | None) -> None:
        """Return once the generation is no longer ``after``, or after ``within`` seconds
        (None: no limit)."""
        if self.generation != after or (within is not None and within <= 0):
            return
        if self._jumped is None:
            self._jumped = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._jumped.wait(), within)

    def followers(self) -> list[asyncio.BaseTransport]:
        """The followers waiting for the next jump, by connection (those still open: a bot
        killed is no follower)."""
        return [transport for transport in self.waiting if not transport.is_closing()]

    def polled(self, transport: asyncio.BaseTransport, after: int) -> None:
        """A follower asked, on ``transport``, for what follows generation ``after``: it has
        taken that one in."""
        for closed in [t for t in self._asked if t.is_closing()]:
            del self._asked[closed]
        self._asked[transport] = max(after, self._asked.get(transport, 0))
        self._polled.set()
        self._polled = asyncio.Event()

    async def caught_up(
        self, generation: int, followers: list[asyncio.BaseTransport], within: float
    ) -> bool:
        """Wait until each of ``followers`` (the connections waiting when the clock jumped to
        ``generation``) has asked for what follows it or a later one, or has closed (a bot
        killed meanwhile), at most ``within`` seconds; whether they all did."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while any(
            not transport.is_closing() and self._asked.get(transport, -1) < generation
            for transport in followers
        ):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            # a poll wakes this at once; a connection closing says nothing, so look again soon
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._polled.wait(), min(remaining, 0.05))
        return True

    def reading(self) -> dict[str, Any]:
        """What ``GET /sandbox/clock`` answers."""
        return {"now": self.time(), "generation": self.generation}


def clock_route(clock: WorldClock, stopping: asyncio.Event) -> Any:
    """The aiohttp handler of ``GET /sandbox/clock``; pending long polls answer at once when
    ``stopping`` is set (so the server's shutdown never waits for them)."""

    async def endpoint(request: web.Request) -> web.StreamResponse:
        form = FormErrors()
        after = _number(form, request.query, "after", int, low=0)
        wait = _number(form, request.query, "wait", float, low=0.0, high=MAX_WAIT)
        if form:
            return web.json_response(form.error().to_payload(), status=400)
        transport = request.transport
        if after is not None and transport is not None:
            clock.polled(transport, int(after))
        if after is not None and wait:
            if transport is not None:
                clock.waiting.add(transport)
            try:
                await wait_first(clock.wait_for_jump(int(after), float(wait)), stopping.wait())
            finally:
                clock.waiting.discard(transport)
        return web.json_response(clock.reading())

    return endpoint


async def wait_first(*waits: Awaitable[Any]) -> None:
    """Wait until the first of ``waits`` is done, then cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _number(
    form: FormErrors,
    query: Any,
    name: str,
    kind: type[int] | type[float],
    *,
    low: float,
    high: float | None = None,
) -> float | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        value = kind(raw)
    except ValueError:
        form.add((name,), "NUMBER_TYPE_COERCE", f"Value {raw!r} is not a number.")
        return None
    if value < low:
        form.add((name,), "NUMBER_TYPE_MIN", f"Must be at least {low}.")
    elif high is not None and value > high:
        form.add((name,), "NUMBER_TYPE_MAX", f"Must be at most {high}.")
    return value
