"""The emulator's file store: files uploaded with messages (and to a command's attachment
option), served at ``/attachments/{channel_id}/{attachment_id}/{filename}?hm=KEY``.

As Discord's CDN signs its URLs (``?ex=…&is=…&hm=…``), each file's URL carries a random key of
its own, so an address cannot be guessed from a message's ids: without the right key the answer
is 404. The route, like the page's API, answers only on the emulator's own loopback address and
refuses other sites' requests (``sandbox.page.guard``); a file is served with the type its
filename says, ``nosniff``, a content security policy under which nothing in it runs, and as a
download unless it is a picture the page shows.

The store itself is not saved: the files live in the world's messages, which the try-out saves,
and ``rebuild`` indexes them again when an emulator starts on a world, pointing their URLs at
its own address (a restarted try-out may listen on another port).
"""

from __future__ import annotations

import hmac
import mimetypes
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from aiohttp import web

from sandbox.model import Attachment, World

if TYPE_CHECKING:
    from sandbox.server import Emulator

ROUTE = "/attachments/{channel_id}/{attachment_id}/{filename}"
#: Pictures the page shows in a message (and the route serves inline); any other file,
#: SVG included, is served as a download.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
#: Nothing in a served file may run, load anything or be framed; a picture opened on its own
#: still shows (Chromium styles its picture viewer inline).
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
#: A file never changes under its keyed URL.
CACHE_CONTROL = "private, max-age=86400, immutable"


def served_type(attachment: Attachment) -> str:
    """The type a file is served with: what its filename says (discord.py uploads everything
    as ``application/octet-stream``), else what the uploader said."""
    guessed, _ = mimetypes.guess_type(attachment.filename, strict=False)
    return guessed or attachment.content_type or "application/octet-stream"


def content_disposition(disposition: str, filename: str) -> str:
    """``Content-Disposition`` with the filename as it is (RFC 6266's ``filename*``) and a
    plain-ASCII stand-in for old clients."""
    plain = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"{disposition}; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def shown_inline(attachment: Attachment) -> bool:
    """Whether the page shows the file as a picture (and the route serves it inline)."""
    return served_type(attachment) in INLINE_TYPES


class AttachmentStore:
    """Every file the emulator serves, by attachment id, with the channel its URL names."""

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator
        self._files: dict[int, tuple[int, Attachment]] = {}

    def add(self, attachment: Attachment, channel_id: int) -> Attachment:
        """Serve ``attachment`` (giving it a key when it has none) and point its URL at this
        emulator's address."""
        if not attachment.key:
            attachment.key = secrets.token_hex(16)
        attachment.url = (
            f"{self._emulator.base_url}/attachments/{channel_id}/{attachment.id}/"
            f"{quote(attachment.filename, safe='')}?hm={attachment.key}"
        )
        self._files[attachment.id] = (channel_id, attachment)
        return attachment

    def rebuild(self, world: World) -> None:
        """Serve again every file of ``world``'s messages, at this emulator's address."""
        self._files.clear()
        for message in world.messages.values():
            for attachment in message.attachments:
                self.add(attachment, message.channel_id)

    def find(
        self, channel_id: str, attachment_id: str, filename: str, key: str
    ) -> Attachment | None:
        """The file this URL names, or None unless every part of it (the key above all)
        matches."""
        found = self._files.get(int(attachment_id)) if attachment_id.isdigit() else None
        if found is None:
            return None
        channel, attachment = found
        if str(channel) != channel_id or attachment.filename != filename:
            return None
        return attachment if hmac.compare_digest(attachment.key, key) else None


def attachment_route(emulator: Emulator) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The ``GET``/``HEAD`` endpoint serving ``emulator.attachments``."""
    # Imported here: the page's modules import this one (a message's files, as shown).
    from sandbox.page.guard import error_response, refusal

    async def endpoint(request: web.Request) -> web.StreamResponse:
        reason = refusal(emulator, request)
        if reason is not None:
            return error_response(403, reason)
        info = request.match_info
        attachment = emulator.attachments.find(
            info["channel_id"], info["attachment_id"], info["filename"], request.query.get("hm", "")
        )
        if attachment is None:
            return web.Response(status=404, text="This content is no longer available.")
        disposition = "inline" if shown_inline(attachment) else "attachment"
        return web.Response(
            body=attachment.data,
            headers={
                "Content-Type": served_type(attachment),
                "Content-Disposition": content_disposition(disposition, attachment.filename),
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "X-Frame-Options": "DENY",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": CACHE_CONTROL,
            },
        )

    return endpoint
