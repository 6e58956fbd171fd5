"""Mounting the try-out page on the emulator's aiohttp application: the page's files, its state,
its live stream and its actions, each behind ``sandbox.page.guard``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.page.actions import PageActions
from sandbox.page.guard import guarded, json_body
from sandbox.page.live import live_route
from sandbox.page.state import acting_member, page_state, visible_channel

if TYPE_CHECKING:
    from sandbox.server import Emulator

JSON = dict[str, Any]
Action = Callable[[JSON], Awaitable[JSON]]

PAGE_PATH = "/app"
API_PATH = "/app/api"
#: The page's files and their types; nothing else under ``static/`` is served.
STATIC_FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "dom.js": "text/javascript",
    "markdown.js": "text/javascript",
    "render.js": "text/javascript",
    "composer.js": "text/javascript",
    "modal.js": "text/javascript",
    "style.css": "text/css",
}
#: Where the page may load from: itself only (attachments are served by the emulator too);
#: embed images may come from the web, as in Discord.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: https: http:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'none'"
)


def add_page_routes(app: web.Application, emulator: Emulator) -> None:
    """Mount ``/`` (a redirect), ``/favicon.ico`` (none), ``/app``, ``/app/static/*`` and
    ``/app/api/*``."""
    actions = PageActions(emulator)
    app.router.add_get("/", guarded(emulator, _redirect))
    app.router.add_get("/favicon.ico", guarded(emulator, _no_icon))
    app.router.add_get(PAGE_PATH, guarded(emulator, _static("index.html")))
    for name in STATIC_FILES:
        app.router.add_get(f"{PAGE_PATH}/static/{name}", guarded(emulator, _static(name)))
    app.router.add_get(f"{API_PATH}/state", guarded(emulator, _state(emulator)))
    app.router.add_get(f"{API_PATH}/live", guarded(emulator, live_route(emulator)))
    posts: dict[str, Action] = {
        "command": actions.command,
        "autocomplete": actions.autocomplete,
        "click": actions.click,
        "select": actions.select,
        "modal": actions.modal,
        "message": actions.message,
        "react": actions.react,
        "rsvp": actions.rsvp,
        "members": actions.add_member,
        "advance": actions.advance,
        "restart": actions.restart,
    }
    for name, action in posts.items():
        app.router.add_post(f"{API_PATH}/{name}", guarded(emulator, _post(action)))


async def _redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(PAGE_PATH)


async def _no_icon(request: web.Request) -> web.StreamResponse:
    """The icon a browser asks for by itself (the page names none: ``data:,``), for a file of
    the emulator's opened on its own; none, rather than a 404 in the browser's console."""
    return web.Response(status=204)


def _static(name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        body = resources.files("sandbox.page").joinpath("static", name).read_bytes()
        response = web.Response(body=body, content_type=STATIC_FILES[name], charset="utf-8")
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    return endpoint


def _state(emulator: Emulator) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        member = acting_member(emulator, request.query.get("as"), or_default=True)
        channel = visible_channel(emulator, member, request.query.get("channel"))
        return web.json_response(page_state(emulator, member, channel))

    return endpoint


def _post(action: Action) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        return web.json_response(await action(await json_body(request)))

    return endpoint
