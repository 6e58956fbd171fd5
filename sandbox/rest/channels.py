"""Channel routes: messages (create, fetch, history, edit, delete), typing, reactions (the
bot's own, and who reacted), channel fetch/edit/delete, and threads (from a message, standalone,
forum posts, members, listings).

Kept as one module (about 530 lines): one family of Discord's routes, in Discord's own grouping.
"""

from __future__ import annotations

from typing import Any

from sandbox import errors
from sandbox.model import MAX_REACTION_EMOJI, Channel, ChannelType, Message, reaction_emoji
from sandbox.permissions import Permission
from sandbox.rest.common import (
    Ctx,
    Reply,
    RouteTable,
    edit_message,
    new_message,
    page_of_ids,
    store_message,
)
from sandbox.validation import FormErrors, check_message, check_nonce

routes = RouteTable()

JSON = dict[str, Any]
_ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)


def _send_permission(channel: Channel) -> Permission:
    return Permission.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permission.SEND_MESSAGES


def _check_dm(ctx: Ctx, channel: Channel) -> None:
    """Discord lets a bot message a user only while they share a server and the user accepts
    DMs; otherwise the send (never the DM channel's creation) answers 403 50007."""
    if channel.type == ChannelType.DM and not all(
        u.dms_open and ctx.world.shares_a_guild(u) for u in channel.recipients
    ):
        raise errors.cannot_dm_user()


def _reopen_thread(ctx: Ctx, channel: Channel) -> None:
    """Sending in an archived thread unarchives it unless it is locked."""
    if not channel.is_thread or not channel.archived:
        return
    if channel.locked:
        raise errors.thread_archived()
    channel.archived = False
    channel.archive_timestamp = ctx.world.now()
    ctx.world.announce("THREAD_UPDATE", channel.to_payload(), channel.guild_id)


@routes.post("/channels/{channel_id}/messages")
async def create_message(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    body = ctx.json()
    needed = _send_permission(channel)
    if ctx.files:
        needed |= Permission.ATTACH_FILES
    if channel.guild_id is not None:
        ctx.require(channel, needed)
    _check_dm(ctx, channel)
    check_message(body, files=len(ctx.files))
    nonce = body.get("nonce")
    check_nonce(nonce)
    author = ctx.world.bot_user
    if nonce is not None and body.get("enforce_nonce"):
        earlier = _message_with_nonce(ctx, channel, str(nonce))
        if earlier is not None:
            # Discord returns the first message and creates (and announces) nothing.
            return Reply(body={**earlier.to_payload(), "nonce": nonce})
    _reopen_thread(ctx, channel)
    message = new_message(ctx, channel, author, body, member=_bot_member(ctx, channel))
    store_message(ctx, channel, message)
    payload = message.to_payload()
    if nonce is not None:
        ctx.emulator.remember_nonce(channel.id, author.id, str(nonce), message.id)
        payload["nonce"] = nonce
    return Reply(body=payload)


def _message_with_nonce(ctx: Ctx, channel: Channel, nonce: str) -> Message | None:
    """The bot's message created here with ``nonce`` in the last few minutes, if not deleted."""
    message_id = ctx.emulator.recall_nonce(channel.id, ctx.world.bot_user.id, nonce)
    message = None if message_id is None else ctx.world.messages.get(message_id)
    return None if message is None or message.deleted else message


def _bot_member(ctx: Ctx, channel: Channel) -> Any:
    guild = ctx.world.guild_of(channel)
    return None if guild is None else guild.members.get(ctx.world.bot_user.id)


def _readable(ctx: Ctx, channel: Channel) -> None:
    if channel.guild_id is not None:
        ctx.require(channel, Permission.READ_MESSAGE_HISTORY)


@routes.get("/channels/{channel_id}/messages/{message_id}")
async def get_message(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    _readable(ctx, channel)
    return Reply(body=ctx.message_in(channel).to_payload())


@routes.get("/channels/{channel_id}/messages")
async def list_messages(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    _readable(ctx, channel)
    limit = ctx.query_int("limit", default=50, low=1, high=100)
    messages = channel.visible_messages()
    before = ctx.query.get("before")
    after = ctx.query.get("after")
    around = ctx.query.get("around")
    if before:
        messages = [m for m in messages if m.id < int(before)]
        selected = messages[-limit:]
    elif after:
        messages = [m for m in messages if m.id > int(after)]
        selected = messages[:limit]
    elif around:
        pivot = int(around)
        older = [m for m in messages if m.id <= pivot][-(limit // 2 + 1) :]
        newer = [m for m in messages if m.id > pivot][: limit - len(older)]
        selected = older + newer
    else:
        selected = messages[-limit:]
    return Reply(body=[m.to_payload() for m in reversed(selected)])


@routes.patch("/channels/{channel_id}/messages/{message_id}")
async def patch_message(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    message = ctx.message_in(channel)
    body = ctx.json()
    if message.author.id != ctx.world.bot_user.id:
        if set(body) - {"flags"}:
            raise errors.cannot_edit_other_users_message()
        ctx.require(channel, Permission.MANAGE_MESSAGES)
    check_message(body, require_content=False, files=len(ctx.files))
    edit_message(ctx, channel, message, body)
    return Reply(body=message.to_payload())


@routes.delete("/channels/{channel_id}/messages/{message_id}")
async def delete_message(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    message = ctx.message_in(channel)
    if message.author.id != ctx.world.bot_user.id and channel.guild_id is not None:
        ctx.require(channel, Permission.MANAGE_MESSAGES)
    delete_and_announce(ctx, message)
    return Reply(status=204)


def delete_and_announce(ctx: Ctx, message: Message) -> None:
    """Mark a message deleted and send MESSAGE_DELETE (unless it was ephemeral)."""
    message.deleted = True
    if message.ephemeral_for is None:
        payload: JSON = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
        ctx.emulator.gateway.dispatch("MESSAGE_DELETE", payload, guild_id=message.guild_id)


@routes.post("/channels/{channel_id}/messages/bulk-delete")
async def bulk_delete(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    ctx.require(channel, Permission.MANAGE_MESSAGES)
    ids = [int(i) for i in ctx.json().get("messages") or []]
    if not 2 <= len(ids) <= 100:
        form = FormErrors()
        form.add(("messages",), "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length.")
        form.raise_if_any()
    for message_id in ids:
        message = ctx.world.messages.get(message_id)
        if message is not None and message.channel_id == channel.id and not message.deleted:
            delete_and_announce(ctx, message)
    return Reply(status=204)


@routes.post("/channels/{channel_id}/typing")
async def trigger_typing(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    if channel.guild_id is not None:
        ctx.require(channel, _send_permission(channel))
    return Reply(status=204)


def _reaction_emoji(ctx: Ctx) -> tuple[str, JSON]:
    found = reaction_emoji(ctx.param("emoji"))
    if found is None:
        raise errors.unknown_emoji()
    return found


@routes.put("/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
async def add_own_reaction(ctx: Ctx) -> Reply:
    """React as the bot: READ_MESSAGE_HISTORY, and ADD_REACTIONS unless someone already reacted
    with this emoji; at most 20 different emoji a message."""
    channel = ctx.channel()
    message = ctx.message_in(channel)
    key, emoji = _reaction_emoji(ctx)
    if channel.guild_id is not None:
        needed = Permission.READ_MESSAGE_HISTORY
        if key not in message.reactions:
            needed |= Permission.ADD_REACTIONS
        ctx.require(channel, needed)
    if key not in message.reactions and len(message.reactions) >= MAX_REACTION_EMOJI:
        raise errors.too_many_reactions()
    bot = ctx.world.bot_user
    if message.add_reaction(key, emoji, bot.id, by_bot=True):
        member = _bot_member(ctx, channel)
        event = message.reaction_event(emoji, bot.id, member, added=True)
        ctx.world.announce("MESSAGE_REACTION_ADD", event, message.guild_id)
    return Reply(status=204)


@routes.delete("/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
async def remove_own_reaction(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    message = ctx.message_in(channel)
    key, emoji = _reaction_emoji(ctx)
    bot = ctx.world.bot_user
    if message.remove_reaction(key, bot.id, by_bot=True):
        event = message.reaction_event(emoji, bot.id, None, added=False)
        ctx.world.announce("MESSAGE_REACTION_REMOVE", event, message.guild_id)
    return Reply(status=204)


@routes.get("/channels/{channel_id}/messages/{message_id}/reactions/{emoji}")
async def list_reaction_users(ctx: Ctx) -> Reply:
    """Who reacted with an emoji, in ascending user-ID order: ``after`` a user ID, ``limit``
    1 to 100 (default 25); ``type=1`` (super reactions) is always empty here."""
    channel = ctx.channel()
    _readable(ctx, channel)
    message = ctx.message_in(channel)
    key, _ = _reaction_emoji(ctx)
    limit = ctx.query_int("limit", default=25, low=1, high=100)
    after = ctx.query_snowflake("after")
    kind = ctx.query_int("type", default=0, low=0, high=1)
    reaction = message.reactions.get(key)
    if reaction is None or kind == 1:
        return Reply(body=[])
    page = page_of_ids(reaction.user_ids, before=None, after=after, limit=limit)
    return Reply(body=[ctx.world.users[user_id].to_payload() for user_id in page])


# -- channels and threads ----------------------------------------------------------------------


@routes.get("/channels/{channel_id}")
async def get_channel(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    if channel.guild_id is not None:
        ctx.require(channel, Permission.VIEW_CHANNEL)
    return Reply(body=channel.to_payload())


@routes.patch("/channels/{channel_id}")
async def patch_channel(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    body = ctx.json()
    form = FormErrors()
    if "name" in body:
        form.length_between(("name",), body.get("name") or "", 1, 100)
    if "auto_archive_duration" in body and body["auto_archive_duration"] not in _ARCHIVE_DURATIONS:
        form.add(
            ("auto_archive_duration",),
            "BASE_TYPE_CHOICES",
            f"Value must be one of {_ARCHIVE_DURATIONS}.",
        )
    form.raise_if_any()
    if channel.is_thread:
        is_owner = channel.owner_id == ctx.world.bot_user.id
        needs_manage = "locked" in body or "invitable" in body or not is_owner
        ctx.require(channel, Permission.MANAGE_THREADS if needs_manage else Permission.VIEW_CHANNEL)
        for key in (
            "name",
            "archived",
            "locked",
            "invitable",
            "auto_archive_duration",
            "rate_limit_per_user",
        ):
            if key in body:
                setattr(channel, key, body[key])
        if "archived" in body:
            channel.archive_timestamp = ctx.world.now()
        ctx.world.announce("THREAD_UPDATE", channel.to_payload(), channel.guild_id)
    else:
        ctx.require(channel, Permission.MANAGE_CHANNELS)
        for key in ("name", "topic", "nsfw", "rate_limit_per_user", "position"):
            if key in body:
                setattr(channel, key, body[key])
        ctx.world.announce("CHANNEL_UPDATE", channel.to_payload(), channel.guild_id)
    return Reply(body=channel.to_payload())


@routes.delete("/channels/{channel_id}")
async def delete_channel(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    guild = ctx.world.guild_of(channel)
    if guild is None:
        return Reply(body=channel.to_payload())
    ctx.require(
        channel, Permission.MANAGE_THREADS if channel.is_thread else Permission.MANAGE_CHANNELS
    )
    del guild.channels[channel.id]
    del ctx.world.channels[channel.id]
    if channel.is_thread:
        payload = {
            "id": str(channel.id),
            "guild_id": str(guild.id),
            "parent_id": str(channel.parent_id),
            "type": int(channel.type),
        }
        ctx.world.announce("THREAD_DELETE", payload, guild.id)
    else:
        ctx.world.announce("CHANNEL_DELETE", channel.to_payload(), guild.id)
    return Reply(body=channel.to_payload())


def _thread_form(body: JSON) -> None:
    form = FormErrors()
    form.length_between(("name",), body.get("name") or "", 1, 100)
    duration = body.get("auto_archive_duration")
    if duration is not None and duration not in _ARCHIVE_DURATIONS:
        form.add(
            ("auto_archive_duration",),
            "BASE_TYPE_CHOICES",
            f"Value must be one of {_ARCHIVE_DURATIONS}.",
        )
    form.raise_if_any()


def _open_thread(
    ctx: Ctx, parent: Channel, body: JSON, *, thread_id: int, kind: ChannelType
) -> Channel:
    guild = ctx.world.guild_of(parent)
    assert guild is not None
    thread = Channel(
        id=thread_id,
        type=kind,
        name=str(body["name"]),
        guild_id=guild.id,
        parent_id=parent.id,
        owner_id=ctx.world.bot_user.id,
        auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
        invitable=bool(body.get("invitable", True)),
        member_ids={ctx.world.bot_user.id},
        created_at=ctx.world.now(),
    )
    guild.channels[thread.id] = thread
    ctx.world.channels[thread.id] = thread
    payload = thread.to_payload()
    payload["newly_created"] = True
    ctx.world.announce("THREAD_CREATE", payload, guild.id)
    return thread


def _thread_reply(ctx: Ctx, thread: Channel) -> Reply:
    payload = thread.to_payload()
    payload["member"] = {
        "id": str(thread.id),
        "user_id": str(ctx.world.bot_user.id),
        "join_timestamp": thread.created_at.isoformat(),
        "flags": 0,
    }
    return Reply(status=201, body=payload)


@routes.post("/channels/{channel_id}/messages/{message_id}/threads")
async def start_thread_from_message(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    message = ctx.message_in(channel)
    body = ctx.json()
    if channel.is_thread or channel.type not in (
        ChannelType.GUILD_TEXT,
        ChannelType.GUILD_ANNOUNCEMENT,
    ):
        raise errors.ApiError(400, 50024, "Cannot execute action on this channel type")
    ctx.require(channel, Permission.CREATE_PUBLIC_THREADS)
    _thread_form(body)
    if message.thread_id is not None:
        raise errors.thread_already_created()
    kind = (
        ChannelType.ANNOUNCEMENT_THREAD
        if channel.type == ChannelType.GUILD_ANNOUNCEMENT
        else ChannelType.PUBLIC_THREAD
    )
    thread = _open_thread(ctx, channel, body, thread_id=message.id, kind=kind)
    message.thread_id = thread.id
    return _thread_reply(ctx, thread)


@routes.post("/channels/{channel_id}/threads")
async def start_thread(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    body = ctx.json()
    if channel.is_thread or channel.guild_id is None:
        raise errors.ApiError(400, 50024, "Cannot execute action on this channel type")
    _thread_form(body)
    if channel.type == ChannelType.GUILD_FORUM:
        ctx.require(channel, Permission.SEND_MESSAGES)
        starter = body.get("message")
        if not isinstance(starter, dict):
            form = FormErrors()
            form.add(("message",), "BASE_TYPE_REQUIRED", "This field is required")
            form.raise_if_any()
            raise AssertionError("unreachable")
        check_message(starter, files=len(ctx.files))
        thread = _open_thread(
            ctx, channel, body, thread_id=ctx.world.new_id(), kind=ChannelType.PUBLIC_THREAD
        )
        message = new_message(
            ctx, thread, ctx.world.bot_user, starter, member=_bot_member(ctx, channel)
        )
        message.id = thread.id
        store_message(ctx, thread, message)
        reply = _thread_reply(ctx, thread)
        reply.body["message"] = message.to_payload()
        return reply
    kind = ChannelType(int(body.get("type") or ChannelType.PRIVATE_THREAD))
    if kind not in (
        ChannelType.PUBLIC_THREAD,
        ChannelType.PRIVATE_THREAD,
        ChannelType.ANNOUNCEMENT_THREAD,
    ):
        form = FormErrors()
        form.add(("type",), "BASE_TYPE_CHOICES", "Value must be one of {10, 11, 12}.")
        form.raise_if_any()
    needed = (
        Permission.CREATE_PRIVATE_THREADS
        if kind == ChannelType.PRIVATE_THREAD
        else Permission.CREATE_PUBLIC_THREADS
    )
    ctx.require(channel, needed)
    thread = _open_thread(ctx, channel, body, thread_id=ctx.world.new_id(), kind=kind)
    return _thread_reply(ctx, thread)


def _thread(ctx: Ctx) -> Channel:
    channel = ctx.channel()
    if not channel.is_thread:
        raise errors.ApiError(400, 50024, "Cannot execute action on this channel type")
    return channel


def _thread_member_payload(thread: Channel, user_id: int) -> JSON:
    return {
        "id": str(thread.id),
        "user_id": str(user_id),
        "join_timestamp": thread.created_at.isoformat(),
        "flags": 0,
    }


@routes.put("/channels/{channel_id}/thread-members/@me")
async def join_thread(ctx: Ctx) -> Reply:
    thread = _thread(ctx)
    ctx.require(thread, Permission.VIEW_CHANNEL)
    thread.member_ids.add(ctx.world.bot_user.id)
    return Reply(status=204)


@routes.delete("/channels/{channel_id}/thread-members/@me")
async def leave_thread(ctx: Ctx) -> Reply:
    _thread(ctx).member_ids.discard(ctx.world.bot_user.id)
    return Reply(status=204)


@routes.put("/channels/{channel_id}/thread-members/{user_id}")
async def add_thread_member(ctx: Ctx) -> Reply:
    thread = _thread(ctx)
    ctx.require(thread, Permission.SEND_MESSAGES_IN_THREADS)
    guild = ctx.world.guild_of(thread)
    user_id = ctx.snowflake("user_id", unknown=errors.unknown_member)
    if guild is None or user_id not in guild.members:
        raise errors.unknown_member()
    if thread.archived:
        raise errors.thread_archived()
    thread.member_ids.add(user_id)
    return Reply(status=204)


@routes.delete("/channels/{channel_id}/thread-members/{user_id}")
async def remove_thread_member(ctx: Ctx) -> Reply:
    thread = _thread(ctx)
    if thread.owner_id != ctx.world.bot_user.id:
        ctx.require(thread, Permission.MANAGE_THREADS)
    thread.member_ids.discard(ctx.snowflake("user_id", unknown=errors.unknown_member))
    return Reply(status=204)


@routes.get("/channels/{channel_id}/thread-members")
async def list_thread_members(ctx: Ctx) -> Reply:
    thread = _thread(ctx)
    return Reply(body=[_thread_member_payload(thread, u) for u in sorted(thread.member_ids)])


@routes.get("/channels/{channel_id}/thread-members/{user_id}")
async def get_thread_member(ctx: Ctx) -> Reply:
    thread = _thread(ctx)
    user_id = ctx.snowflake("user_id", unknown=errors.unknown_member)
    if user_id not in thread.member_ids:
        raise errors.unknown_member()
    return Reply(body=_thread_member_payload(thread, user_id))


@routes.get("/guilds/{guild_id}/threads/active")
async def active_threads(ctx: Ctx) -> Reply:
    guild = ctx.guild()
    threads = [t for t in guild.threads() if not t.archived]
    bot_id = ctx.world.bot_user.id
    members = [_thread_member_payload(t, bot_id) for t in threads if bot_id in t.member_ids]
    return Reply(body={"threads": [t.to_payload() for t in threads], "members": members})


@routes.get("/channels/{channel_id}/threads/archived/public")
async def archived_public_threads(ctx: Ctx) -> Reply:
    channel = ctx.channel()
    ctx.require(channel, Permission.READ_MESSAGE_HISTORY)
    guild = ctx.world.guild_of(channel)
    assert guild is not None
    threads = [
        t for t in guild.threads(channel) if t.archived and t.type != ChannelType.PRIVATE_THREAD
    ]
    return Reply(
        body={"threads": [t.to_payload() for t in threads], "members": [], "has_more": False}
    )
