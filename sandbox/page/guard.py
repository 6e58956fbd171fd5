"""The try-out page's request guard and error shape.

Every page route goes through ``guarded``: the ``Host`` header must name the emulator's own
loopback address and port (so a DNS-rebinding page on another name gets 403), an ``Origin``
header, when present, must be the emulator's own origin, and anything but GET/HEAD must carry
one (browsers always send it with a ``fetch`` POST; a form or script on another site cannot
pass). Refusals, bad input and what the Discord client would not allow all answer
``{"error": "…"}`` with a 4xx status, which the page shows under the composer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.driver import ActionNotPossible, CommandNotAvailable

if TYPE_CHECKING:
    from sandbox.server import Emulator

_log = logging.getLogger(__name__)

JSON = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: Headers on every page answer: no framing by other sites, no sniffing, no referrer leaks.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class PageError(Exception):
    """A refusal the page shows as it is: ``status`` and a sentence for the member."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=SECURITY_HEADERS)


def allowed_hosts(emulator: Emulator) -> frozenset[str]:
    """``Host`` values naming this emulator: its loopback names with its port."""
    names = {*LOOPBACK_NAMES, emulator.host}
    return frozenset(f"{name}:{emulator.port}" for name in names)


def refusal(emulator: Emulator, request: web.Request) -> str | None:
    """Why this request may not reach the page or its API, or None if it may."""
    hosts = allowed_hosts(emulator)
    if request.headers.get("Host", "").lower() not in hosts:
        return "This page only answers on its own loopback address."
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower() not in {f"http://{h}" for h in hosts}:
        return "Requests from other sites are refused."
    if request.method not in SAFE_METHODS and origin is None:
        return "Requests without an Origin are refused."
    return None


def guarded(emulator: Emulator, handler: Handler) -> Handler:
    """``handler`` behind the host and origin checks, with errors turned into JSON answers."""

    async def endpoint(request: web.Request) -> web.StreamResponse:
        reason = refusal(emulator, request)
        if reason is not None:
            return error_response(403, reason)
        try:
            response = await handler(request)
        except PageError as exc:
            return error_response(exc.status, exc.message)
        except (ActionNotPossible, CommandNotAvailable) as exc:
            return error_response(400, str(exc))
        except TimeoutError:
            return error_response(504, "The application did not respond.")
        if not response.prepared:
            response.headers.update(SECURITY_HEADERS)
        return response

    return endpoint


async def json_body(request: web.Request) -> JSON:
    """The request's JSON object (400 for anything else)."""
    if request.content_type != "application/json":
        raise PageError(415, "Send JSON.")
    try:
        body = json.loads(await request.text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PageError(400, "That is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise PageError(400, "Send a JSON object.")
    return body
