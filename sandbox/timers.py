"""What happens in the emulated world by itself as its time passes, as Discord's own automation
does it, each change announced to the bot like any other:

* an external scheduled event starts at ``scheduled_start_time`` (SCHEDULED → ACTIVE) and ends
  at ``scheduled_end_time`` (ACTIVE → COMPLETED), each a GUILD_SCHEDULED_EVENT_UPDATE
  (Discord's "Guild Scheduled Event Status Update Automation");
* a thread nobody has posted in for its ``auto_archive_duration`` minutes is archived, a
  THREAD_UPDATE whose ``archive_timestamp`` is the moment it went quiet for that long.

One task sleeps until the next of these is due. It is woken when the clock jumps and when a
scheduled event is created or edited (``poke``); ``run_due`` does everything due at once, in the
order it fell due, and is what ``Driver.advance`` calls after moving the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.clock import wait_first
from sandbox.model import Channel, ScheduledEvent, World


@dataclass(frozen=True, slots=True)
class _Due:
    at: datetime.datetime
    apply: Callable[[], None]


class WorldTimers:
    """The world's automatic changes, and the task that makes them on time."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._poked = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- what is due ----------------------------------------------------------------------------

    def _pending(self) -> list[_Due]:
        pending: list[_Due] = []
        for guild in self.world.guilds.values():
            for event in guild.scheduled_events.values():
                transition = event.next_transition()
                if transition is not None:
                    at, status = transition
                    pending.append(_Due(at, _status_change(self.world, event, status)))
            for thread in guild.threads():
                quiet_since = self._quiet_since(thread)
                if quiet_since is not None:
                    at = quiet_since + datetime.timedelta(minutes=thread.auto_archive_duration)
                    pending.append(_Due(at, _archive(self.world, thread, at)))
        return pending

    def _quiet_since(self, thread: Channel) -> datetime.datetime | None:
        """When an open thread last saw activity: its last message, or the last time it was
        (un)archived, or its creation."""
        if thread.archived:
            return None
        since = thread.archive_timestamp or thread.created_at
        last = self.world.messages.get(thread.last_message_id or 0)
        if last is not None and last.created_at > since:
            since = last.created_at
        return since

    def next_at(self) -> datetime.datetime | None:
        """When the next automatic change is due, if any is pending."""
        return min((due.at for due in self._pending()), default=None)

    def run_due(self) -> int:
        """Make every change due by the world's now, earliest first; returns how many."""
        made = 0
        while True:
            now = self.world.now()
            due = [d for d in self._pending() if d.at <= now]
            if not due:
                return made
            # One at a time: a change can make or unmake others (an event that starts is then
            # due to end).
            min(due, key=lambda d: d.at).apply()
            made += 1

    # -- the task -----------------------------------------------------------------------------

    def poke(self) -> None:
        """Look again: something that has a due time was created or changed."""
        self._poked.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sandbox-world-timers")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        clock = self.world.clock
        while True:
            self._poked.clear()
            self.run_due()
            next_at = self.next_at()
            timeout = None if next_at is None else max(0.0, next_at.timestamp() - clock.time())
            await wait_first(clock.wait_for_jump(clock.generation, timeout), self._poked.wait())


def _status_change(world: World, event: ScheduledEvent, status: int) -> Callable[[], None]:
    def apply() -> None:
        event.status = status
        world.announce("GUILD_SCHEDULED_EVENT_UPDATE", event.to_payload(), event.guild_id)

    return apply


def _archive(world: World, thread: Channel, at: datetime.datetime) -> Callable[[], None]:
    def apply() -> None:
        thread.archived = True
        thread.archive_timestamp = at
        world.announce("THREAD_UPDATE", thread.to_payload(), thread.guild_id)

    return apply
