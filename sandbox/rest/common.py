"""Plumbing shared by the REST routes: the route table, request context, body parsing
(JSON and multipart with ``payload_json``), JSON answers, and message building shared by channel
messages, interaction responses and webhook follow-ups.

Kept as one module (about 440 lines): every route module builds on it, and the message-building
rules must be the same for the three places a message is made.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from sandbox import errors
from sandbox.model import Attachment, Channel, Guild, Member, Message, User, World
from sandbox.permissions import Permission
from sandbox.validation import FormErrors

if TYPE_CHECKING:
    from sandbox.server import Emulator

JSON = dict[str, Any]

#: Largest upload accepted, like Discord's default for unboosted guilds (10 MiB).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@dataclass(slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str
    content_type: str | None
    data: bytes


@dataclass(slots=True)
class Reply:
    """What a handler answers: status and JSON body (None for an empty body)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Set when the answer is an injected fault (``"429"``, ``"500"``…), for the recorder.
    fault: str | None = None


@dataclass(slots=True)
class Ctx:
    """One request, parsed, with access to the emulator."""

    emulator: Emulator
    request: web.Request
    body: Any
    files: list[UploadedFile]

    @property
    def world(self) -> World:
        return self.emulator.world

    @property
    def query(self) -> Mapping[str, str]:
        return self.request.query

    def param(self, name: str) -> str:
        return self.request.match_info[name]

    def snowflake(
        self, name: str, *, unknown: Callable[[], errors.ApiError] = errors.not_found
    ) -> int:
        """A path parameter that must be a snowflake (404 with the route's "Unknown …" otherwise)."""
        value = self.request.match_info[name]
        if not value.isdigit():
            raise unknown()
        return int(value)

    def json(self) -> JSON:
        """The JSON object body; 400 Invalid Form Body when it is not an object."""
        if not isinstance(self.body, dict):
            raise errors.invalid_form_body(
                {
                    "_errors": [
                        {
                            "code": "DICT_TYPE_CONVERT",
                            "message": "Only dictionaries may be used in a DictType",
                        }
                    ]
                }
            )
        return self.body

    def query_flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true", "yes")

    def query_int(self, name: str, *, default: int, low: int, high: int) -> int:
        """An integer query parameter within ``low``..``high``, or 400 Invalid Form Body naming it
        as Discord does."""
        raw = self.query.get(name)
        if raw is None:
            return default
        form = FormErrors()
        try:
            value = int(raw)
        except ValueError:
            form.add((name,), "NUMBER_TYPE_COERCE", f'Value "{raw}" is not int.')
            raise form.error() from None
        if value < low:
            form.add(
                (name,), "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {low}."
            )
        elif value > high:
            form.add(
                (name,), "NUMBER_TYPE_MAX", f"int value should be less than or equal to {high}."
            )
        form.raise_if_any()
        return value

    def query_snowflake(self, name: str) -> int | None:
        """A snowflake query parameter (``before``, ``after``), or None when absent."""
        raw = self.query.get(name)
        if raw is None:
            return None
        if not raw.isdigit():
            form = FormErrors()
            form.add((name,), "SNOWFLAKE_TYPE_INVALID", f'Value "{raw}" is not snowflake.')
            raise form.error()
        return int(raw)

    # -- lookups that answer Discord's errors ---------------------------------------------------

    def channel(self, name: str = "channel_id") -> Channel:
        channel = self.world.channels.get(self.snowflake(name, unknown=errors.unknown_channel))
        if channel is None:
            raise errors.unknown_channel()
        return channel

    def guild(self, name: str = "guild_id") -> Guild:
        guild = self.world.guilds.get(self.snowflake(name, unknown=errors.unknown_guild))
        if guild is None:
            raise errors.unknown_guild()
        return guild

    def message_in(self, channel: Channel, name: str = "message_id") -> Message:
        message = self.world.messages.get(self.snowflake(name, unknown=errors.unknown_message))
        if (
            message is None
            or message.deleted
            or message.channel_id != channel.id
            or message.ephemeral_for is not None
        ):
            raise errors.unknown_message()
        return message

    def bot_member(self, guild: Guild) -> Member:
        return guild.members[self.world.bot_user.id]

    def require(self, channel: Channel, needed: Permission) -> None:
        """403 Missing Access without VIEW_CHANNEL, 403 Missing Permissions without ``needed``."""
        have = self.world.bot_permissions_in(channel)
        if not have & Permission.VIEW_CHANNEL:
            raise errors.missing_access()
        if have & needed != needed:
            raise errors.missing_permissions()

    def require_guild(self, guild: Guild, needed: Permission) -> None:
        """403 Missing Permissions unless the bot has ``needed`` guild-wide (any one of the bits
        when several are given counts only if all are present)."""
        if guild.base_permissions(self.bot_member(guild)) & needed != needed:
            raise errors.missing_permissions()


Handler = Callable[[Ctx], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    #: Interaction callbacks and webhook routes authenticate by the token in the path.
    auth: bool = True


class RouteTable:
    """Routes of one module, registered with ``@routes.get("/path")`` and friends."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, path, handler, auth))
            return handler

        return register

    def get(self, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        return self.add("GET", path, auth=auth)

    def post(self, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        return self.add("POST", path, auth=auth)

    def patch(self, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        return self.add("PATCH", path, auth=auth)

    def put(self, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        return self.add("PUT", path, auth=auth)

    def delete(self, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        return self.add("DELETE", path, auth=auth)


def page_of_ids(
    ids: Iterable[int], *, before: int | None, after: int | None, limit: int
) -> list[int]:
    """One page of a list Discord returns in ascending ID order (interested users, reactions):
    with ``before``, the ``limit`` IDs just below it; otherwise the ``limit`` IDs just above
    ``after`` (the lowest ones when it is absent). Ascending either way; ``before`` wins when both
    are given."""
    ordered = sorted(ids)
    if before is not None:
        end = bisect.bisect_left(ordered, before)
        return ordered[max(0, end - limit) : end]
    start = 0 if after is None else bisect.bisect_right(ordered, after)
    return ordered[start : start + limit]


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    """A response whose Content-Type is exactly ``application/json`` (discord.py compares it
    verbatim, so aiohttp's ``json_response`` with its ``; charset=utf-8`` would not do)."""
    all_headers = {"Via": "1.1 google"}
    if headers:
        all_headers.update(headers)
    if body is None:
        return web.Response(status=status, headers=all_headers)
    all_headers["Content-Type"] = "application/json"
    return web.Response(status=status, body=json_bytes(body), headers=all_headers)


async def parse_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    """The JSON body (``payload_json`` for multipart) and uploaded files."""
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("multipart/form-data"):
        payload: Any = None
        files: list[UploadedFile] = []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            data = bytes(await part.read())
            if part.name == "payload_json":
                payload = json.loads(data.decode())
            elif part.filename is not None:
                content = part.headers.get("Content-Type")
                files.append(
                    UploadedFile(
                        field=part.name or "",
                        filename=part.filename,
                        content_type=content,
                        data=data,
                    )
                )
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        raise errors.ApiError(400, 50109, "The request body contains invalid JSON.") from None


# -- messages ----------------------------------------------------------------------------------


def attachments_from(
    ctx: Ctx, channel: Channel, payload: JSON, files: list[UploadedFile], existing: list[Attachment]
) -> list[Attachment]:
    """Attachments after a create or edit.

    New files are matched to ``attachments[].id`` by their ``files[N]`` index; existing
    attachments are kept when listed by ID (or when ``attachments`` is absent on an edit).
    """
    form = FormErrors()
    listed = payload.get("attachments")
    by_field = {f.field: f for f in files}
    result: list[Attachment] = []
    if listed is None:
        result.extend(existing)
        for upload in files:
            result.append(_store(ctx, channel, upload, None))
        return result
    known = {a.id: a for a in existing}
    used: set[str] = set()
    for index, item in enumerate(listed):
        raw_id = item.get("id")
        matched = by_field.get(f"files[{raw_id}]")
        if matched is not None:
            used.add(matched.field)
            stored = _store(ctx, channel, matched, item.get("description"))
            if item.get("filename"):
                stored.filename = str(item["filename"])
            result.append(stored)
        elif str(raw_id).isdigit() and int(str(raw_id)) in known:
            result.append(known[int(str(raw_id))])
        else:
            form.add(("attachments", index, "id"), "ATTACHMENT_NOT_FOUND", "Unknown attachment")
    for upload in files:
        if upload.field not in used:
            result.append(_store(ctx, channel, upload, None))
    form.raise_if_any()
    return result


def _store(ctx: Ctx, channel: Channel, upload: UploadedFile, description: str | None) -> Attachment:
    if len(upload.data) > MAX_UPLOAD_BYTES:
        raise errors.ApiError(413, 40005, "Request entity too large")
    attachment = Attachment(
        ctx.world.new_id(), upload.filename, upload.content_type, upload.data, "", description
    )
    return ctx.emulator.attachments.add(attachment, channel.id)


def new_message(
    ctx: Ctx,
    channel: Channel,
    author: User,
    payload: JSON,
    *,
    member: Member | None = None,
    webhook_id: int | None = None,
    application_id: int | None = None,
    interaction_metadata: JSON | None = None,
    message_type: int = 0,
    flags_mask: int = (1 << 2) | (1 << 12) | (1 << 15),
    ephemeral_for: int | None = None,
) -> Message:
    """Build (not store) a message from a create body: content, embeds, components, files,
    allowed flags, and a checked reply reference."""
    reference = payload.get("message_reference")
    if reference:
        referenced = ctx.world.messages.get(int(reference.get("message_id") or 0))
        if referenced is None or referenced.deleted:
            if reference.get("fail_if_not_exists", True):
                raise errors.invalid_form_body(
                    {
                        "message_reference": {
                            "_errors": [
                                {
                                    "code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                    "message": "Unknown message",
                                }
                            ]
                        }
                    }
                )
            reference = None
        else:
            reference = {
                "type": 0,
                "message_id": str(referenced.id),
                "channel_id": str(referenced.channel_id),
                "guild_id": None if referenced.guild_id is None else str(referenced.guild_id),
            }
            message_type = 19 if message_type == 0 else message_type
    flags = int(payload.get("flags") or 0) & flags_mask
    message = Message(
        id=ctx.world.new_id(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author=author,
        content=str(payload.get("content") or ""),
        embeds=[_normalise_embed(e) for e in payload.get("embeds") or []],
        components=list(payload.get("components") or []),
        flags=flags,
        type=message_type,
        webhook_id=webhook_id,
        application_id=application_id,
        interaction_metadata=interaction_metadata,
        message_reference=reference,
        poll=payload.get("poll"),
        allowed_mentions=payload.get("allowed_mentions"),
        ephemeral_for=ephemeral_for,
        member=member,
        created_at=ctx.world.now(),
    )
    message.attachments = attachments_from(ctx, channel, payload, ctx.files, [])
    resolve_pings(ctx.world, message, author_permissions=ctx.world.bot_permissions_in(channel))
    return message


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def resolve_pings(world: World, message: Message, *, author_permissions: Permission | None) -> None:
    """Work out whom a message pings, as Discord does: mentions in the content, filtered by
    ``allowed_mentions`` (``parse`` and explicit ``users``/``roles`` lists), @everyone only with
    MENTION_EVERYONE, roles only if mentionable or the author may mention everyone, and the
    replied-to author only with ``replied_user``."""
    allowed = message.allowed_mentions
    parse = (
        set(allowed.get("parse") or []) if allowed is not None else {"users", "roles", "everyone"}
    )
    allowed_users = {int(u) for u in (allowed or {}).get("users") or []}
    allowed_roles = {int(r) for r in (allowed or {}).get("roles") or []}
    may_mention_everyone = author_permissions is None or bool(
        author_permissions & Permission.MENTION_EVERYONE
    )
    guild = world.guilds.get(message.guild_id) if message.guild_id is not None else None
    users: list[User] = []
    for raw in _USER_MENTION.findall(message.content):
        user = world.users.get(int(raw))
        if (
            user is not None
            and user not in users
            and ("users" in parse or user.id in allowed_users)
        ):
            users.append(user)
    if message.message_reference and (allowed is None or allowed.get("replied_user")):
        referenced = world.messages.get(int(message.message_reference["message_id"]))
        if referenced is not None and referenced.author not in users:
            users.append(referenced.author)
    roles: list[int] = []
    for raw in _ROLE_MENTION.findall(message.content):
        role = guild.roles.get(int(raw)) if guild is not None else None
        if role is None or role.id in roles:
            continue
        if ("roles" in parse or role.id in allowed_roles) and (
            role.mentionable or may_mention_everyone
        ):
            roles.append(role.id)
    message.pinged_users = users
    message.pinged_role_ids = roles
    message.pinged_everyone = (
        "everyone" in parse
        and may_mention_everyone
        and ("@everyone" in message.content or "@here" in message.content)
    )


def _normalise_embed(embed: JSON) -> JSON:
    result = dict(embed)
    result.setdefault("type", "rich")
    return result


def store_message(ctx: Ctx, channel: Channel, message: Message, *, dispatch: bool = True) -> None:
    """Add a message to its channel and tell the bot (unless ephemeral)."""
    ctx.world.messages[message.id] = message
    channel.messages.append(message)
    if message.ephemeral_for is None:
        channel.last_message_id = message.id
        if channel.is_thread:
            channel.message_count += 1
        if dispatch:
            ctx.emulator.gateway.dispatch_message("MESSAGE_CREATE", message)


def edit_message(ctx: Ctx, channel: Channel, message: Message, payload: JSON) -> None:
    """Apply an edit body to a message and tell the bot."""
    if "content" in payload:
        message.content = str(payload["content"] or "")
    if "embeds" in payload:
        message.embeds = [_normalise_embed(e) for e in payload["embeds"] or []]
    if "components" in payload:
        message.components = list(payload["components"] or [])
    if "flags" in payload and payload["flags"] is not None:
        keep = message.flags & (1 << 6)
        message.flags = (int(payload["flags"]) & ((1 << 2) | (1 << 15))) | keep
    if "allowed_mentions" in payload:
        message.allowed_mentions = payload["allowed_mentions"]
    if "content" in payload or "allowed_mentions" in payload:
        resolve_pings(ctx.world, message, author_permissions=ctx.world.bot_permissions_in(channel))
    if "attachments" in payload or ctx.files:
        message.attachments = attachments_from(
            ctx, channel, payload, ctx.files, message.attachments
        )
    message.edited_at = ctx.world.now()
    if message.ephemeral_for is None:
        ctx.emulator.gateway.dispatch_message("MESSAGE_UPDATE", message)
