"""Live updates for the page: ``GET /app/api/live`` is a stream of server-sent events.

The page re-reads its state on each ``change`` event. One is sent whenever the world may have
changed: the recorder hears every REST request, gateway frame and driver act (messages created,
edited, deleted, reactions, channels and threads, events, interactions answered, the clock
moved), and the page listens to the same wake-ups (``Recorder.add_listener``), so nothing the
bot sees changes. Bursts are coalesced; the bot's status (from the launcher's hook) is polled,
since a crash makes no request. A comment line every few seconds keeps the stream alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.page.guard import SECURITY_HEADERS

if TYPE_CHECKING:
    from sandbox.server import Emulator

#: How long a burst of changes is gathered into one event.
COALESCE_SECONDS = 0.05
#: How often the bot's status is looked at, and a keep-alive is sent when nothing happened.
POLL_SECONDS = 2.0


class LiveStream:
    """One browser's event stream."""

    def __init__(self, emulator: Emulator, response: web.StreamResponse) -> None:
        self.emulator = emulator
        self.response = response
        self.changed = asyncio.Event()
        self.sent = 0

    async def run(self) -> None:
        recorder = self.emulator.recorder
        recorder.add_listener(self.changed.set)
        try:
            await self._send("hello")
            await self._loop()
        except ConnectionResetError:
            pass  # the browser went away
        finally:
            recorder.remove_listener(self.changed.set)

    async def _loop(self) -> None:
        status = self._bot_status()
        stopping = self.emulator.stopping
        while not stopping.is_set():
            woke = await self._wait()
            if stopping.is_set():
                return
            if woke:
                await asyncio.sleep(COALESCE_SECONDS)
                self.changed.clear()
                await self._send("change")
                continue
            now = self._bot_status()
            if now != status:
                status = now
                await self._send("change")
            else:
                await self.response.write(b": still here\n\n")

    async def _wait(self) -> bool:
        """Wait for a change (True) or the poll interval (False)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), POLL_SECONDS)
            return True
        return False

    def _bot_status(self) -> Any:
        hook = self.emulator.bot_status
        return None if hook is None else hook()

    async def _send(self, event: str) -> None:
        self.sent += 1
        data = json.dumps({"n": self.sent, "clock": self.emulator.world.clock.reading()})
        await self.response.write(f"event: {event}\ndata: {data}\n\n".encode())


def live_route(emulator: Emulator) -> Any:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                **SECURITY_HEADERS,
                "Content-Type": "text/event-stream",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        await LiveStream(emulator, response).run()
        return response

    return endpoint
