"""A log of every REST request and gateway frame, with event-driven waiting.

Tests wait on the recorder instead of sleeping: ``await recorder.wait_until(predicate)`` wakes
whenever anything is recorded (or the world changes) and re-checks the predicate. ``mark()``
returns a position so that a wait can look only at what happened after it. Listeners
(``add_listener``) hear the same wake-ups; the try-out page pushes them to the browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

T = TypeVar("T")

UNIMPLEMENTED = "<unimplemented>"


@dataclass(frozen=True, slots=True)
class RecordedFile:
    """A file part of a multipart request."""

    field: str
    filename: str
    content_type: str | None
    size: int


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One REST request and the emulator's answer."""

    index: int
    at: float
    method: str
    path: str
    #: The route template, e.g. ``/channels/{channel_id}/messages``, or ``UNIMPLEMENTED``.
    route: str
    query: dict[str, str]
    body: Any
    files: tuple[RecordedFile, ...]
    status: int
    response: Any
    #: ``"429"``/``"500"``… when the answer came from fault injection.
    fault: str | None = None

    @property
    def implemented(self) -> bool:
        return self.route != UNIMPLEMENTED

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    """One gateway frame, sent to the bot (``direction="send"``) or received from it."""

    index: int
    at: float
    session: str | None
    direction: Literal["send", "receive"]
    op: int | None
    event: str | None
    seq: int | None
    data: Any


@dataclass(frozen=True, slots=True)
class RecordedNote:
    """Something the driver or the emulator did that is not a request or a frame (a refused
    command, a dropped connection, an injected fault)."""

    index: int
    at: float
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


class Recorder:
    """Everything that crossed the emulator's sockets, in order."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.frames: list[RecordedFrame] = []
        self.notes: list[RecordedNote] = []
        self._counter = 0
        self._changed: asyncio.Event | None = None
        self._listeners: list[Callable[[], None]] = []

    # -- recording ----------------------------------------------------------------------------

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def record_request(
        self,
        *,
        method: str,
        path: str,
        route: str,
        query: dict[str, str],
        body: Any,
        files: tuple[RecordedFile, ...],
        status: int,
        response: Any,
        fault: str | None = None,
    ) -> RecordedRequest:
        entry = RecordedRequest(
            self._next(),
            time.monotonic(),
            method,
            path,
            route,
            query,
            body,
            files,
            status,
            response,
            fault,
        )
        self.requests.append(entry)
        self.notify()
        return entry

    def record_frame(
        self, *, session: str | None, direction: Literal["send", "receive"], frame: dict[str, Any]
    ) -> RecordedFrame:
        entry = RecordedFrame(
            self._next(),
            time.monotonic(),
            session,
            direction,
            frame.get("op"),
            frame.get("t"),
            frame.get("s"),
            frame.get("d"),
        )
        self.frames.append(entry)
        self.notify()
        return entry

    def note(self, kind: str, **detail: Any) -> RecordedNote:
        entry = RecordedNote(self._next(), time.monotonic(), kind, detail)
        self.notes.append(entry)
        self.notify()
        return entry

    def notify(self) -> None:
        """Wake every waiter so it re-checks its predicate, and tell every listener."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None
        for listener in list(self._listeners):
            listener()

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` (it must not block or raise) whenever anything is recorded or the
        world changes; the try-out page's live updates use it."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    # -- waiting ------------------------------------------------------------------------------

    def mark(self) -> int:
        """A position: pass it as ``after=`` to only consider what happens from now on."""
        return self._counter

    async def wait_until(
        self, predicate: Callable[[], T | None], *, within: float = 5.0, what: str = ""
    ) -> T:
        """Wait until ``predicate()`` returns something truthy and return it.

        The predicate is re-checked each time anything is recorded or ``notify()`` is called;
        ``TimeoutError`` names ``what`` and the last requests to help the failure message.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n  ".join(str(r) for r in self.requests[-8:])
                raise TimeoutError(
                    f"timed out after {within}s waiting for {what or predicate!r}; last requests:\n  {recent}"
                )
            if self._changed is None:
                self._changed = asyncio.Event()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue

    async def wait_for_request(
        self,
        method: str | None = None,
        route: str | None = None,
        *,
        after: int = 0,
        where: Callable[[RecordedRequest], bool] | None = None,
        within: float = 5.0,
    ) -> RecordedRequest:
        """The first request after ``after`` matching method, route template and ``where``."""

        def find() -> RecordedRequest | None:
            for entry in self.requests:
                if (
                    entry.index > after
                    and _matches(entry, method, route)
                    and (where is None or where(entry))
                ):
                    return entry
            return None

        return await self.wait_until(find, within=within, what=f"{method or '*'} {route or '*'}")

    async def wait_for_frame(
        self,
        *,
        op: int | None = None,
        event: str | None = None,
        direction: Literal["send", "receive"] | None = None,
        after: int = 0,
        within: float = 5.0,
    ) -> RecordedFrame:
        """The first frame after ``after`` with this op / event name / direction."""

        def find() -> RecordedFrame | None:
            for frame in self.frames:
                if (
                    frame.index > after
                    and (op is None or frame.op == op)
                    and (event is None or frame.event == event)
                    and (direction is None or frame.direction == direction)
                ):
                    return frame
            return None

        return await self.wait_until(find, within=within, what=f"frame op={op} event={event}")

    # -- querying -----------------------------------------------------------------------------

    def requests_to(
        self, method: str | None = None, route: str | None = None, *, after: int = 0
    ) -> list[RecordedRequest]:
        """Requests matching a method and route template (or concrete path)."""
        return [r for r in self.requests if r.index > after and _matches(r, method, route)]

    def unimplemented(self) -> list[RecordedRequest]:
        """Requests to routes the emulator does not implement."""
        return [r for r in self.requests if not r.implemented]

    def assert_all_implemented(self) -> None:
        """Fail if the bot called any route the emulator does not know."""
        missing = self.unimplemented()
        if missing:
            listing = "\n  ".join(str(r) for r in missing)
            raise AssertionError(
                f"the bot called routes the emulator does not implement:\n  {listing}"
            )

    def rate_limited(
        self, method: str | None = None, route: str | None = None, *, after: int = 0
    ) -> list[RecordedRequest]:
        """Requests answered 429, by a sustained limit or an injected fault."""
        return [r for r in self.requests_to(method, route, after=after) if r.status == 429]

    def server_errors(self) -> list[RecordedRequest]:
        """5xx answers that were not injected faults (emulator bugs)."""
        return [r for r in self.requests if r.status >= 500 and r.fault is None]


def _matches(entry: RecordedRequest, method: str | None, route: str | None) -> bool:
    if method is not None and entry.method != method.upper():
        return False
    return route is None or route in (entry.route, entry.path)
