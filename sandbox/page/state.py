"""What the page shows for one member: the guild's channels (threads under their parent) and
events, the member's DMs with the bot, the members to switch to, the commands this member is
offered in the selected channel, that channel's messages, the world's clock and the bot's status.

``GET /app/api/state?as=<user id>&channel=<channel id>`` answers ``page_state``; both parameters
are optional (the first plain member and their guild's system channel are the defaults, and a
channel the member may not see falls back to the default).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.model import Channel, ChannelType, Guild, Member, ScheduledEvent
from sandbox.page.guard import PageError
from sandbox.page.messages import MESSAGES_SHOWN, display_name, message_view
from sandbox.permissions import Permission

if TYPE_CHECKING:
    from sandbox.server import Emulator

JSON = dict[str, Any]

#: Guild channels a member can open in the page (threads are listed under these).
READABLE_TYPES = frozenset({ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT})
#: Listed for the look of it, not opened.
LISTED_TYPES = READABLE_TYPES | {ChannelType.GUILD_VOICE, ChannelType.GUILD_STAGE_VOICE}


def page_guild(emulator: Emulator) -> Guild:
    return emulator.driver.guild()


def humans(guild: Guild) -> list[Member]:
    return [m for m in guild.members.values() if not m.user.bot]


def acting_member(emulator: Emulator, raw: str | int | None, *, or_default: bool = False) -> Member:
    """The member the page acts as: by user ID, or by default the first plain member (also
    for an unknown ID with ``or_default``: a page remembering a member of a world started
    afresh since)."""
    guild = page_guild(emulator)
    if or_default and raw not in (None, "") and str(raw).isdigit():
        known = guild.members.get(int(str(raw)))
        if known is None or known.user.bot:
            raw = None
    if raw in (None, ""):
        members = humans(guild)
        plain = [m for m in members if m.id != guild.owner_id and not m.role_ids]
        return (plain or members)[0]
    member = guild.members.get(_snowflake(raw, "member"))
    if member is None or member.user.bot:
        raise PageError(404, "There is no such member.")
    return member


def visible_channel(emulator: Emulator, member: Member, raw: str | int | None) -> Channel:
    """The channel the page shows: ``raw`` if the member may read it, else the default."""
    guild = page_guild(emulator)
    if raw not in (None, ""):
        found = emulator.world.channels.get(_snowflake(raw, "channel"))
        if found is not None and _readable(emulator, guild, member, found):
            return found
    fallback = [
        c
        for c in _listed_channels(guild, member)
        if c.type in READABLE_TYPES and _readable(emulator, guild, member, c)
    ]
    if guild.system_channel_id in {c.id for c in fallback}:
        return guild.channels[guild.system_channel_id]
    if not fallback:
        raise PageError(404, "This member can read no channel.")
    return fallback[0]


def page_state(emulator: Emulator, member: Member, channel: Channel) -> JSON:
    guild = page_guild(emulator)
    world = emulator.world
    return {
        "guild": {"id": str(guild.id), "name": guild.name},
        "me": _member_view(guild, member),
        "bot_user": {"id": str(world.bot_user.id), "name": display_name(world.bot_user)},
        "members": [_member_view(guild, m) for m in humans(guild)],
        "channels": _channel_tree(emulator, guild, member),
        "dms": _dms(emulator, member),
        "events": [_event_view(e, member) for e in sorted(_events(guild), key=_event_start)],
        "names": _names(emulator, guild),
        "channel": _channel_view(emulator, guild, member, channel),
        "commands": _commands(emulator, member, channel),
        "messages": [
            message_view(emulator, m, member.id)
            for m in channel.visible_messages(member.id)[-MESSAGES_SHOWN:]
        ],
        "clock": world.clock.reading(),
        "bot": _bot(emulator),
    }


# -- pieces -----------------------------------------------------------------------------------


def _snowflake(raw: str | int, what: str) -> int:
    text = str(raw)
    if not text.isdigit():
        raise PageError(400, f"That is not a {what} ID.")
    return int(text)


def _readable(emulator: Emulator, guild: Guild, member: Member, channel: Channel) -> bool:
    if channel.type == ChannelType.DM:
        return any(u.id == member.id for u in channel.recipients)
    if channel.guild_id != guild.id:
        return False
    if not (channel.is_thread or channel.type in READABLE_TYPES):
        return False
    return bool(guild.permissions_in(member, channel) & Permission.VIEW_CHANNEL)


def _may_send(guild: Guild, member: Member, channel: Channel) -> bool:
    if channel.type == ChannelType.DM:
        return False  # the driver acts in guilds; the bot is talked to with commands there
    needed = Permission.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permission.SEND_MESSAGES
    perms = guild.permissions_in(member, channel)
    return bool(perms & Permission.VIEW_CHANNEL and perms & needed)


def _member_view(guild: Guild, member: Member) -> JSON:
    roles = [guild.roles[r] for r in member.role_ids if r in guild.roles]
    return {
        "id": str(member.id),
        "username": member.user.username,
        "name": display_name(member.user, member.nick),
        "owner": member.id == guild.owner_id,
        "roles": [r.name for r in sorted(roles, key=lambda r: -r.position)],
    }


def _listed_channels(guild: Guild, member: Member) -> list[Channel]:
    listed = [
        c
        for c in guild.channels.values()
        if c.type in LISTED_TYPES and guild.permissions_in(member, c) & Permission.VIEW_CHANNEL
    ]
    return sorted(listed, key=lambda c: (c.type != ChannelType.GUILD_TEXT, c.position, c.id))


def _channel_tree(emulator: Emulator, guild: Guild, member: Member) -> list[JSON]:
    tree = []
    for channel in _listed_channels(guild, member):
        threads = [
            t
            for t in sorted(guild.threads(channel), key=lambda t: t.id)
            if _readable(emulator, guild, member, t)
        ]
        entry = _channel_summary(channel)
        entry["threads"] = [_channel_summary(t) for t in threads]
        tree.append(entry)
    return tree


def _channel_summary(channel: Channel) -> JSON:
    return {
        "id": str(channel.id),
        "name": channel.name,
        "type": int(channel.type),
        "readable": channel.is_thread or channel.type in READABLE_TYPES,
        "archived": channel.archived,
    }


def _channel_view(emulator: Emulator, guild: Guild, member: Member, channel: Channel) -> JSON:
    if channel.type == ChannelType.DM:
        kind, name = "dm", display_name(emulator.world.bot_user)
    else:
        kind, name = ("thread" if channel.is_thread else "text"), channel.name or ""
    parent = None if channel.parent_id is None else emulator.world.channels.get(channel.parent_id)
    return {
        "id": str(channel.id),
        "name": name,
        "kind": kind,
        "topic": channel.topic,
        "parent": None if parent is None else {"id": str(parent.id), "name": parent.name},
        "archived": channel.archived,
        "can_send": _may_send(guild, member, channel),
    }


def _dms(emulator: Emulator, member: Member) -> list[JSON]:
    channel = emulator.world.dm_channels.get(member.id)
    if channel is None:
        return []
    return [{"id": str(channel.id), "name": display_name(emulator.world.bot_user)}]


def _events(guild: Guild) -> list[ScheduledEvent]:
    return [e for e in guild.scheduled_events.values() if not e.deleted]


def _event_start(event: ScheduledEvent) -> float:
    return event.scheduled_start_time.timestamp()


def _event_view(event: ScheduledEvent, member: Member) -> JSON:
    end = event.scheduled_end_time
    return {
        "id": str(event.id),
        "name": event.name,
        "description": event.description,
        "start": event.scheduled_start_time.timestamp(),
        "end": None if end is None else end.timestamp(),
        "status": int(event.status),
        "location": event.location,
        "channel_id": None if event.channel_id is None else str(event.channel_id),
        "interested": member.id in event.user_ids,
        "count": len(event.user_ids),
        "can_rsvp": event.uncompleted,
    }


def _names(emulator: Emulator, guild: Guild) -> JSON:
    """What mentions in content resolve to: user, role and channel names by ID."""
    members = guild.members
    return {
        "users": {
            str(u.id): display_name(u, members[u.id].nick if u.id in members else None)
            for u in emulator.world.users.values()
        },
        "roles": {
            str(r.id): {"name": r.name, "color": r.color}
            for r in guild.roles.values()
            if r.id != guild.id
        },
        "channels": {str(c.id): c.name for c in guild.channels.values()},
    }


def _commands(emulator: Emulator, member: Member, channel: Channel) -> list[JSON]:
    """The slash commands this member is offered here, as the bot registered them."""
    if channel.type == ChannelType.DM:
        return []
    offered = emulator.driver.offered_commands(user=member, channel=channel)
    return [
        {
            "id": str(c.id),
            "name": c.name,
            "description": c.description,
            "options": c.options,
        }
        for c in offered
    ]


def _bot(emulator: Emulator) -> JSON:
    status = emulator.bot_status() if emulator.bot_status is not None else None
    return {
        "connected": bool(emulator.gateway.connected_sessions),
        "status": status,
        "can_restart": emulator.restart_bot is not None,
        "can_skip": emulator.next_scheduled is not None,
    }
