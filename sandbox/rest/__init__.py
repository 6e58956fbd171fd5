"""Discord's REST API v10, as far as the emulator implements it.

``add_routes`` mounts every route module under ``/api/v10`` behind one wrapper that parses the
body, checks the bot token, applies the rate limits in force (``sandbox.limits``), injects planned
faults, turns ``ApiError`` into Discord's JSON error shape, records the exchange, and flushes the
answer before recording it. Anything else under
``/api`` answers ``404 {"message": "404: Not Found", "code": 0}`` and is recorded as
unimplemented, so a test can fail on it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox import errors
from sandbox.faults import bucket_headers
from sandbox.recorder import UNIMPLEMENTED, RecordedFile
from sandbox.rest import channels, commands, core, events, interactions
from sandbox.rest.common import Ctx, Reply, Route, json_response, parse_body

if TYPE_CHECKING:
    from sandbox.server import Emulator

_log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
ROUTE_TABLES = (core.routes, commands.routes, interactions.routes, channels.routes, events.routes)

#: Rate-limit headers sent with every successful answer of a route without a limit: a generous
#: bucket that never runs dry on its own (``FaultPlan.rate_limit`` makes the bot wait once,
#: ``RateLimits.route`` keeps a route limited).
_BUCKET_LIMIT = 50


def add_routes(app: web.Application, emulator: Emulator) -> None:
    """Mount the REST API and the unimplemented-route catcher."""
    for table in ROUTE_TABLES:
        for route in table.routes:
            app.router.add_route(route.method, API_PREFIX + route.path, _endpoint(emulator, route))
    app.router.add_route("*", "/api/{tail:.*}", _unimplemented(emulator))


def _record(
    emulator: Emulator,
    request: web.Request,
    route: str,
    body: Any,
    files: list[Any],
    status: int,
    response: Any,
    fault: str | None = None,
) -> None:
    path = request.path.removeprefix(API_PREFIX)
    recorded_files = tuple(
        RecordedFile(f.field, f.filename, f.content_type, len(f.data)) for f in files
    )
    emulator.recorder.record_request(
        method=request.method,
        path=path,
        route=route,
        query=dict(request.query),
        body=body,
        files=recorded_files,
        status=status,
        response=response,
        fault=fault,
    )


def _ratelimit_headers(route: Route) -> dict[str, str]:
    return bucket_headers(
        limit=_BUCKET_LIMIT,
        remaining=_BUCKET_LIMIT - 1,
        reset_after=1.0,
        bucket=format(abs(hash((route.method, route.path))) & 0xFFFFFFFF, "08x"),
    )


async def _handle(
    emulator: Emulator,
    request: web.Request,
    route: Route,
    body: Any,
    files: list[Any],
    limit_headers: dict[str, str] | None,
) -> Reply:
    """Run the route's handler, or answer with a planned fault instead of (or after) it."""
    fault = emulator.faults.take(request.method, route.path, request.path.removeprefix(API_PREFIX))
    if fault is None or fault.after_handling:
        reply = await route.handler(Ctx(emulator, request, body, files))
        reply.headers = {**(limit_headers or _ratelimit_headers(route)), **reply.headers}
    if fault is not None:
        status, headers, payload = fault.response()
        emulator.recorder.note("fault_injected", status=status, path=request.path)
        reply = Reply(status, payload, headers, fault=str(status))
    return reply


def _endpoint(emulator: Emulator, route: Route) -> Any:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        body: Any = None
        files: list[Any] = []
        fault_name: str | None = None
        limit_headers: dict[str, str] | None = None
        try:
            body, files = await parse_body(request)
            if route.auth and request.headers.get("Authorization") != f"Bot {emulator.world.token}":
                raise errors.unauthorized()
            limit_headers, limited = emulator.limits.take(
                request.method, route.path, request.match_info
            )
            if limited is not None:
                status, headers, payload = limited
                reply = Reply(status, payload, headers)
            else:
                reply = await _handle(emulator, request, route, body, files, limit_headers)
                fault_name = reply.fault
        except errors.ApiError as exc:
            reply = Reply(exc.status, exc.to_payload(), dict(limit_headers or {}))
        except Exception:
            _log.exception("emulator error in %s %s", request.method, request.path)
            reply = Reply(
                500, {"message": "500: Internal Server Error (sandbox bug, see logs)", "code": 0}
            )
        response = json_response(reply.status, reply.body, reply.headers)
        await response.prepare(request)
        await response.write_eof()
        _record(emulator, request, route.path, body, files, reply.status, reply.body, fault_name)
        return response

    return endpoint


def _unimplemented(emulator: Emulator) -> Any:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        try:
            body, files = await parse_body(request)
        except errors.ApiError:
            body, files = None, []
        payload = errors.not_found().to_payload()
        _log.warning("sandbox: unimplemented route %s %s", request.method, request.path)
        _record(emulator, request, UNIMPLEMENTED, body, files, 404, payload)
        return json_response(404, payload)

    return endpoint
