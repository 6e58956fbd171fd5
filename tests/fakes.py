"""Test doubles that behave like the real thing: a clock whose time moves only when told; and
small helpers every layer's tests share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.jobs import JobKind

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday


class FakeClock:
    """Implements ``bot.clock.Clock``. ``sleep`` returns when ``advance`` moves time past it."""

    def __init__(self, start: datetime = START) -> None:
        self._now = start
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []
        self._changed = asyncio.Condition()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self._now + timedelta(seconds=seconds), future)
        self._sleepers.append(entry)
        async with self._changed:
            self._changed.notify_all()
        try:
            await future
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    def advance(self, delta: timedelta | float) -> None:
        self._now += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        for deadline, future in list(self._sleepers):
            if deadline <= self._now and not future.done():
                future.set_result(None)

    @property
    def sleeping_until(self) -> list[datetime]:
        """Deadlines of everything currently asleep on this clock, earliest first."""
        return sorted(deadline for deadline, future in self._sleepers if not future.done())

    async def wait_for_sleeper(self, until: datetime | None = None, within: float = 5.0) -> None:
        """Wait until something sleeps on this clock (until ``until``, if given)."""

        def asleep() -> bool:
            deadlines = self.sleeping_until
            return bool(deadlines) if until is None else until in deadlines

        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(asleep)


async def wait_until(
    predicate: Callable[[], bool], within: float = 5.0, what: str = "condition"
) -> None:
    """Yield to the event loop until ``predicate()`` holds; fail after ``within`` real seconds.

    For effects that have no event of their own (a row written by a background task)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def json_kind(name: str, max_lateness: timedelta | None = None) -> JobKind[dict[str, Any]]:
    """A job kind whose payload is the stored JSON object, for the runner's own tests (every
    feature declares a dataclass)."""
    return JobKind(name, dict, max_lateness=max_lateness)
