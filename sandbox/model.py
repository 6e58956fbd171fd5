"""The emulated Discord world: users, guilds, roles, members, channels, threads, messages,
scheduled events, application commands and interactions.

Everything here is plain data plus the Discord-side rules that depend only on data
(permission computation, who can see which command). Each entity knows how to write itself as
the JSON payload Discord would send. Changes made while a bot is connected are announced through
``World.dispatch`` so the gateway can send the matching event.

Kept as one module (about 960 lines): the entities refer to each other (a message to its channel, a
channel to its guild, a member to its roles) and are serialised together; split, they would import
each other in a cycle.
"""

from __future__ import annotations

import base64
import datetime
import enum
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import WorldClock
from sandbox.ids import Snowflakes, iso, utcnow
from sandbox.permissions import (
    DEFAULT_EVERYONE,
    NO_PERMISSIONS,
    Overwrite,
    OverwriteType,
    Permission,
    apply_overwrites,
    base_permissions,
)

JSON = dict[str, Any]

#: Called with (event name, payload, guild ID or None) for every change a bot would be told about.
DispatchHook = Callable[[str, JSON, "int | None"], None]


class ChannelType(enum.IntEnum):
    """Channel types, as numbered by Discord."""

    GUILD_TEXT = 0
    DM = 1
    GUILD_VOICE = 2
    GUILD_CATEGORY = 4
    GUILD_ANNOUNCEMENT = 5
    ANNOUNCEMENT_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    GUILD_STAGE_VOICE = 13
    GUILD_FORUM = 15


THREAD_TYPES = frozenset(
    {ChannelType.ANNOUNCEMENT_THREAD, ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD}
)


class InteractionType(enum.IntEnum):
    """Interaction types, as numbered by Discord."""

    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    APPLICATION_COMMAND_AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class EventEntityType(enum.IntEnum):
    """Where a guild scheduled event happens, as numbered by Discord."""

    STAGE_INSTANCE = 1
    VOICE = 2
    EXTERNAL = 3


class EventStatus(enum.IntEnum):
    """A guild scheduled event's status, as numbered by Discord."""

    SCHEDULED = 1
    ACTIVE = 2
    COMPLETED = 3
    CANCELED = 4


class MessageFlag(enum.IntFlag):
    """The message flags the emulator interprets."""

    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_NOTIFICATIONS = 1 << 12
    IS_COMPONENTS_V2 = 1 << 15


def _discriminatorless(user_id: int, name: str) -> JSON:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": None,
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
    }


@dataclass(slots=True, eq=False)
class User:
    """A Discord account."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    #: Whether the user accepts DMs from the bot (Discord answers 50007 otherwise).
    dms_open: bool = True

    def to_payload(self) -> JSON:
        payload = _discriminatorless(self.id, self.username)
        payload["global_name"] = self.global_name
        if self.bot:
            payload["bot"] = True
        return payload


@dataclass(slots=True, eq=False)
class Role:
    """A guild role. The @everyone role has the guild's ID."""

    id: int
    guild_id: int
    name: str
    permissions: Permission
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    def to_payload(self) -> JSON:
        payload: JSON = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(int(self.permissions)),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            payload["tags"] = {"bot_id": str(self.bot_id)}
        return payload


@dataclass(slots=True, eq=False)
class Member:
    """A user's membership of one guild."""

    user: User
    guild_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime.datetime = field(default_factory=utcnow)

    @property
    def id(self) -> int:
        return self.user.id

    def to_payload(self, *, with_user: bool = True, permissions: Permission | None = None) -> JSON:
        payload: JSON = {
            "roles": [str(r) for r in self.role_ids],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = self.user.to_payload()
        if permissions is not None:
            payload["permissions"] = str(int(permissions))
        return payload


@dataclass(slots=True, eq=False)
class Channel:
    """A guild channel, thread or DM channel."""

    id: int
    type: ChannelType
    name: str | None
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    nsfw: bool = False
    rate_limit_per_user: int = 0
    last_message_id: int | None = None
    recipients: list[User] = field(default_factory=list)
    # Thread-only state.
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    archive_timestamp: datetime.datetime | None = None
    created_at: datetime.datetime = field(default_factory=utcnow)
    message_count: int = 0
    member_ids: set[int] = field(default_factory=set)
    messages: list[Message] = field(default_factory=list)

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    def visible_messages(self, user_id: int | None = None) -> list[Message]:
        """Messages not deleted; ephemeral ones only for the user they were meant for, until
        they dismiss them."""
        return [
            m
            for m in self.messages
            if not m.deleted
            and (m.ephemeral_for is None or (m.ephemeral_for == user_id and not m.dismissed))
        ]

    def to_payload(self) -> JSON:
        payload: JSON = {"id": str(self.id), "type": int(self.type), "flags": 0}
        if self.type == ChannelType.DM:
            payload["last_message_id"] = _opt_id(self.last_message_id)
            payload["recipients"] = [u.to_payload() for u in self.recipients]
            return payload
        payload.update(
            {
                "guild_id": str(self.guild_id),
                "name": self.name,
                "parent_id": _opt_id(self.parent_id),
                "rate_limit_per_user": self.rate_limit_per_user,
                "last_message_id": _opt_id(self.last_message_id),
            }
        )
        if self.is_thread:
            payload.update(
                {
                    "owner_id": str(self.owner_id),
                    "message_count": self.message_count,
                    "total_message_sent": self.message_count,
                    "member_count": min(len(self.member_ids), 50),
                    "thread_metadata": {
                        "archived": self.archived,
                        "auto_archive_duration": self.auto_archive_duration,
                        "archive_timestamp": iso(self.archive_timestamp or self.created_at),
                        "locked": self.locked,
                        "invitable": self.invitable,
                        "create_timestamp": iso(self.created_at),
                    },
                    "applied_tags": [],
                }
            )
            return payload
        payload.update(
            {
                "position": self.position,
                "permission_overwrites": [o.to_payload() for o in self.overwrites],
                "nsfw": self.nsfw,
                "topic": self.topic,
                "default_auto_archive_duration": 1440,
            }
        )
        if self.type == ChannelType.GUILD_FORUM:
            payload.update(
                {
                    "available_tags": [],
                    "default_reaction_emoji": None,
                    "default_sort_order": None,
                    "default_forum_layout": 0,
                }
            )
        if self.type in (ChannelType.GUILD_VOICE, ChannelType.GUILD_STAGE_VOICE):
            payload.update({"bitrate": 64000, "user_limit": 0, "rtc_region": None})
        return payload


@dataclass(slots=True, eq=False)
class Attachment:
    """A file uploaded with a message; its bytes are kept and served back at ``url`` (see
    ``sandbox.attachments``)."""

    id: int
    filename: str
    content_type: str | None
    data: bytes
    url: str
    description: str | None = None
    #: The random key in ``url`` (``?hm=``) without which the file is not served.
    key: str = ""

    def to_payload(self) -> JSON:
        payload: JSON = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type:
            payload["content_type"] = self.content_type
        if self.description is not None:
            payload["description"] = self.description
        return payload


#: How many different emoji one message may carry.
MAX_REACTION_EMOJI = 20


def reaction_emoji(raw: str) -> tuple[str, JSON] | None:
    """The key and partial emoji of an emoji as written in a reaction route: a Unicode emoji
    (``🔥``) or a custom one as ``name:id``. None for what Discord answers 10014 Unknown Emoji
    (empty, or plain letters and digits). Custom emoji are not checked against any guild's."""
    parts = raw.split(":")
    if len(parts) == 2 and parts[0] and parts[1].isdigit():
        return f"{parts[0]}:{parts[1]}", {"id": parts[1], "name": parts[0], "animated": False}
    if not raw or ":" in raw or raw.isascii():
        return None
    return raw, {"id": None, "name": raw}


@dataclass(slots=True, eq=False)
class Reaction:
    """One emoji's reactions on a message: who reacted, in the order they did."""

    emoji: JSON
    user_ids: list[int] = field(default_factory=list)
    #: Whether the bot is among them (``me`` in Discord's payload).
    me: bool = False

    def to_payload(self) -> JSON:
        """Discord's reaction object (super reactions are not emulated: their counts are 0)."""
        count = len(self.user_ids)
        return {
            "emoji": dict(self.emoji),
            "count": count,
            "count_details": {"burst": 0, "normal": count},
            "burst_colors": [],
            "me_burst": False,
            "burst_me": False,
            "me": self.me,
            "burst_count": 0,
        }


@dataclass(slots=True, eq=False)
class Message:
    """A message, including interaction responses and follow-ups."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    created_at: datetime.datetime = field(default_factory=utcnow)
    edited_at: datetime.datetime | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: JSON | None = None
    message_reference: JSON | None = None
    poll: JSON | None = None
    allowed_mentions: JSON | None = None
    #: For ephemeral messages, the only user who can see it.
    ephemeral_for: int | None = None
    #: An ephemeral message its member dismissed: gone from their view, and still the
    #: interaction's to edit, as on Discord.
    dismissed: bool = False
    deleted: bool = False
    #: Set when a thread was started from this message.
    thread_id: int | None = None
    #: Whether the author is a guild member (controls the ``member`` field in events).
    member: Member | None = None
    #: Who this message pinged, after ``allowed_mentions`` (see ``rest.common.resolve_pings``).
    pinged_users: list[User] = field(default_factory=list)
    pinged_role_ids: list[int] = field(default_factory=list)
    pinged_everyone: bool = False
    #: Reactions by emoji key (``🔥`` or ``name:id``), in the order each emoji was first used.
    reactions: dict[str, Reaction] = field(default_factory=dict)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def pings_anyone(self) -> bool:
        """Whether anyone was notified by a mention in this message."""
        return bool(self.pinged_users or self.pinged_role_ids or self.pinged_everyone)

    @property
    def loading(self) -> bool:
        return bool(self.flags & MessageFlag.LOADING)

    def custom_ids(self) -> list[str]:
        """Every component custom_id on the message, depth first."""
        found: list[str] = []

        def walk(items: Iterable[JSON]) -> None:
            for item in items:
                if "custom_id" in item:
                    found.append(str(item["custom_id"]))
                walk(item.get("components", []))
                accessory = item.get("accessory")
                if isinstance(accessory, dict):
                    walk([accessory])

        walk(self.components)
        return found

    def add_reaction(self, key: str, emoji: JSON, user_id: int, *, by_bot: bool) -> bool:
        """Record ``user_id`` reacting with this emoji; False if they already had."""
        reaction = self.reactions.setdefault(key, Reaction(emoji))
        if user_id in reaction.user_ids:
            return False
        reaction.user_ids.append(user_id)
        reaction.me = reaction.me or by_bot
        return True

    def remove_reaction(self, key: str, user_id: int, *, by_bot: bool) -> bool:
        """Take ``user_id``'s reaction with this emoji away; False if there was none. An emoji
        nobody reacts with any more leaves the list."""
        reaction = self.reactions.get(key)
        if reaction is None or user_id not in reaction.user_ids:
            return False
        reaction.user_ids.remove(user_id)
        reaction.me = reaction.me and not by_bot
        if not reaction.user_ids:
            del self.reactions[key]
        return True

    def reaction_event(
        self, emoji: JSON, user_id: int, member: Member | None, *, added: bool
    ) -> JSON:
        """The MESSAGE_REACTION_ADD (``added``) or MESSAGE_REACTION_REMOVE payload."""
        payload: JSON = {
            "user_id": str(user_id),
            "channel_id": str(self.channel_id),
            "message_id": str(self.id),
            "emoji": dict(emoji),
            "burst": False,
            "type": 0,
        }
        if self.guild_id is not None:
            payload["guild_id"] = str(self.guild_id)
        if added:
            payload["message_author_id"] = str(self.author.id)
            payload["burst_colors"] = []
            if member is not None:
                payload["member"] = member.to_payload()
        return payload

    def find_component(self, custom_id: str) -> JSON | None:
        """The component dict with this custom_id, if the message has one."""

        def walk(items: Iterable[JSON]) -> JSON | None:
            for item in items:
                if item.get("custom_id") == custom_id:
                    return item
                found = walk(item.get("components", []))
                if found is not None:
                    return found
                accessory = item.get("accessory")
                if isinstance(accessory, dict) and accessory.get("custom_id") == custom_id:
                    return accessory
            return None

        return walk(self.components)

    def to_payload(self, *, include_content: bool = True) -> JSON:
        payload: JSON = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.to_payload(),
            "content": self.content if include_content else "",
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": False,
            "mention_everyone": self.pinged_everyone,
            "mentions": [u.to_payload() for u in self.pinged_users],
            "mention_roles": [str(r) for r in self.pinged_role_ids],
            "attachments": [a.to_payload() for a in self.attachments] if include_content else [],
            "embeds": list(self.embeds) if include_content else [],
            "components": list(self.components) if include_content else [],
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            payload["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            payload["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            payload["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            payload["interaction_metadata"] = self.interaction_metadata
        if self.message_reference is not None:
            payload["message_reference"] = self.message_reference
        if self.poll is not None and include_content:
            payload["poll"] = self.poll
        if self.reactions:
            payload["reactions"] = [r.to_payload() for r in self.reactions.values()]
        return payload


@dataclass(slots=True, eq=False)
class ScheduledEvent:
    """A guild scheduled event. ``user_ids`` are the members interested in it."""

    id: int
    guild_id: int
    creator: User
    name: str
    scheduled_start_time: datetime.datetime
    entity_type: int
    scheduled_end_time: datetime.datetime | None = None
    description: str | None = None
    channel_id: int | None = None
    location: str | None = None
    status: int = EventStatus.SCHEDULED
    privacy_level: int = 2
    user_ids: set[int] = field(default_factory=set)
    deleted: bool = False
    image: str | None = None

    @property
    def uncompleted(self) -> bool:
        """Scheduled or active: what Discord's limit of 100 a guild counts."""
        return not self.deleted and self.status in (EventStatus.SCHEDULED, EventStatus.ACTIVE)

    def next_transition(self) -> tuple[datetime.datetime, EventStatus] | None:
        """When Discord changes this event's status by itself, and to what.

        Only external events change by themselves: SCHEDULED becomes ACTIVE at
        ``scheduled_start_time`` and ACTIVE becomes COMPLETED at ``scheduled_end_time``. (Voice
        and stage events end a few minutes after the last member leaves the channel, and an event
        that never started is cancelled a few hours after its start; neither is emulated.)
        """
        if self.deleted or self.entity_type != EventEntityType.EXTERNAL:
            return None
        if self.status == EventStatus.SCHEDULED:
            return self.scheduled_start_time, EventStatus.ACTIVE
        if self.status == EventStatus.ACTIVE and self.scheduled_end_time is not None:
            return self.scheduled_end_time, EventStatus.COMPLETED
        return None

    def to_payload(self, *, with_user_count: bool = False) -> JSON:
        """The event as Discord sends it; ``user_count`` only when asked for (the REST routes'
        ``with_user_count``), never in gateway events."""
        payload: JSON = {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "channel_id": _opt_id(self.channel_id),
            "creator_id": str(self.creator.id),
            "creator": self.creator.to_payload(),
            "name": self.name,
            "description": self.description,
            "scheduled_start_time": iso(self.scheduled_start_time),
            "scheduled_end_time": iso(self.scheduled_end_time) if self.scheduled_end_time else None,
            "privacy_level": self.privacy_level,
            "status": int(self.status),
            "entity_type": int(self.entity_type),
            "entity_id": None,
            "entity_metadata": {"location": self.location} if self.location is not None else None,
            "image": self.image,
            "recurrence_rule": None,
        }
        if with_user_count:
            payload["user_count"] = len(self.user_ids)
        return payload


@dataclass(slots=True, eq=False)
class ApplicationCommand:
    """A registered application command (global when ``guild_id`` is None)."""

    id: int
    application_id: int
    guild_id: int | None
    name: str
    type: int
    description: str
    options: list[JSON]
    default_member_permissions: Permission | None
    contexts: list[int] | None
    integration_types: list[int]
    nsfw: bool
    version: int
    name_localizations: JSON | None = None
    description_localizations: JSON | None = None

    def to_payload(self) -> JSON:
        payload: JSON = {
            "id": str(self.id),
            "application_id": str(self.application_id),
            "version": str(self.version),
            "type": self.type,
            "name": self.name,
            "name_localizations": self.name_localizations,
            "description": self.description,
            "description_localizations": self.description_localizations,
            "options": self.options,
            "default_member_permissions": (
                None
                if self.default_member_permissions is None
                else str(int(self.default_member_permissions))
            ),
            "dm_permission": self.contexts is None or 1 in self.contexts,
            "contexts": self.contexts,
            "integration_types": self.integration_types,
            "nsfw": self.nsfw,
        }
        if self.guild_id is not None:
            payload["guild_id"] = str(self.guild_id)
        if not self.options:
            del payload["options"]
        return payload


@dataclass(slots=True, eq=False)
class Interaction:
    """One interaction created by the driver, and everything the bot did with it."""

    id: int
    token: str
    type: InteractionType
    application_id: int
    user: User
    guild_id: int | None
    channel_id: int
    data: JSON
    #: Emulator-clock time at creation (see ``Emulator.clock``).
    created_at: float
    #: The message a component was used on.
    message: Message | None = None
    #: The callback type the bot answered with, once it answered.
    callback_type: int | None = None
    callback_data: JSON | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    #: Every message this interaction touched, by ID (original, follow-ups, an updated message).
    command: ApplicationCommand | None = None


@dataclass(slots=True, eq=False)
class Guild:
    """A guild with its roles, members, channels, events and guild commands."""

    world: World
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    scheduled_events: dict[int, ScheduledEvent] = field(default_factory=dict)
    commands: dict[int, ApplicationCommand] = field(default_factory=dict)
    system_channel_id: int | None = None
    created_at: datetime.datetime = field(default_factory=utcnow)

    # -- building -----------------------------------------------------------------------------

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def add_role(
        self,
        name: str,
        permissions: Permission = NO_PERMISSIONS,
        *,
        color: int = 0,
        hoist: bool = False,
        managed: bool = False,
        bot_id: int | None = None,
    ) -> Role:
        """Create a role above the existing ones."""
        role = Role(
            id=self.world.new_id(),
            guild_id=self.id,
            name=name,
            permissions=permissions,
            position=len(self.roles),
            color=color,
            hoist=hoist,
            managed=managed,
            bot_id=bot_id,
        )
        self.roles[role.id] = role
        self.world.announce(
            "GUILD_ROLE_CREATE", {"guild_id": str(self.id), "role": role.to_payload()}, self.id
        )
        return role

    def add_member(
        self, user: User | str, *, roles: Iterable[Role] = (), nick: str | None = None
    ) -> Member:
        """Add a user (or a new user with this name) to the guild."""
        if isinstance(user, str):
            user = self.world.add_user(user)
        member = Member(
            user=user,
            guild_id=self.id,
            role_ids=[r.id for r in roles],
            nick=nick,
            joined_at=self.world.now(),
        )
        self.members[user.id] = member
        if user.id != self.world.bot_user.id:
            payload = member.to_payload()
            payload["guild_id"] = str(self.id)
            self.world.announce("GUILD_MEMBER_ADD", payload, self.id)
        return member

    def add_channel(
        self,
        name: str,
        type: ChannelType = ChannelType.GUILD_TEXT,
        *,
        topic: str | None = None,
        parent: Channel | None = None,
        overwrites: Iterable[Overwrite] = (),
    ) -> Channel:
        """Create a guild channel."""
        channel = Channel(
            id=self.world.new_id(),
            type=type,
            name=name,
            guild_id=self.id,
            position=len([c for c in self.channels.values() if not c.is_thread]),
            topic=topic,
            parent_id=parent.id if parent else None,
            overwrites=list(overwrites),
            created_at=self.world.now(),
        )
        self.channels[channel.id] = channel
        self.world.channels[channel.id] = channel
        self.world.announce("CHANNEL_CREATE", channel.to_payload(), self.id)
        return channel

    def add_text_channel(
        self, name: str, *, topic: str | None = None, overwrites: Iterable[Overwrite] = ()
    ) -> Channel:
        """Create a text channel."""
        return self.add_channel(name, ChannelType.GUILD_TEXT, topic=topic, overwrites=overwrites)

    def add_moderator_role(self, *, color: int = 0) -> Role:
        """A hoisted "Moderator" role: Manage Server, Events, Messages and Threads."""
        return self.add_role(
            "Moderator",
            Permission.MANAGE_GUILD
            | Permission.MANAGE_EVENTS
            | Permission.MANAGE_MESSAGES
            | Permission.MANAGE_THREADS,
            hoist=True,
            color=color,
        )

    def only_for(self, role: Role) -> list[Overwrite]:
        """Overwrites that hide a channel from everyone but ``role`` and the bot."""
        return [
            Overwrite(self.id, OverwriteType.ROLE, deny=Permission.VIEW_CHANNEL),
            Overwrite(role.id, OverwriteType.ROLE, allow=Permission.VIEW_CHANNEL),
            Overwrite(self.world.bot_user.id, OverwriteType.MEMBER, allow=Permission.VIEW_CHANNEL),
        ]

    # -- lookup -------------------------------------------------------------------------------

    def member(self, name_or_id: str | int) -> Member:
        """A member by user ID, username or nickname."""
        for member in self.members.values():
            if name_or_id in (member.id, member.user.username, member.nick):
                return member
        raise KeyError(f"no member {name_or_id!r} in guild {self.name!r}")

    def role(self, name_or_id: str | int) -> Role:
        """A role by ID or name."""
        for role in self.roles.values():
            if name_or_id in (role.id, role.name):
                return role
        raise KeyError(f"no role {name_or_id!r} in guild {self.name!r}")

    def channel(self, name_or_id: str | int) -> Channel:
        """A channel or thread by ID or name."""
        for channel in self.channels.values():
            if name_or_id in (channel.id, channel.name):
                return channel
        raise KeyError(f"no channel {name_or_id!r} in guild {self.name!r}")

    def threads(self, parent: Channel | None = None) -> list[Channel]:
        """Threads in the guild, optionally only those under ``parent``."""
        return [
            c
            for c in self.channels.values()
            if c.is_thread and (parent is None or c.parent_id == parent.id)
        ]

    # -- permissions --------------------------------------------------------------------------

    def base_permissions(self, member: Member) -> Permission:
        """A member's guild-wide permissions."""
        return base_permissions(
            is_owner=member.id == self.owner_id,
            everyone=self.everyone.permissions,
            roles=(self.roles[r].permissions for r in member.role_ids if r in self.roles),
        )

    def permissions_in(self, member: Member, channel: Channel) -> Permission:
        """A member's permissions in a channel (threads use their parent's overwrites)."""
        if channel.is_thread and channel.parent_id is not None:
            parent = self.channels[channel.parent_id]
            perms = self.permissions_in(member, parent)
            if (
                channel.type == ChannelType.PRIVATE_THREAD
                and member.id not in channel.member_ids
                and not perms & Permission.MANAGE_THREADS
            ):
                return NO_PERMISSIONS
            return perms
        overwrites = list(channel.overwrites)
        if channel.parent_id is not None and not overwrites and channel.parent_id in self.channels:
            overwrites = list(self.channels[channel.parent_id].overwrites)
        return apply_overwrites(
            self.base_permissions(member),
            guild_id=self.id,
            member_id=member.id,
            role_ids=member.role_ids,
            overwrites=overwrites,
        )

    # -- payloads -----------------------------------------------------------------------------

    def to_payload(self) -> JSON:
        """The guild object (without the GUILD_CREATE extras)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": [r.to_payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": ["COMMUNITY"],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": _opt_id(self.system_channel_id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "max_members": 500000,
            "max_video_channel_users": 25,
        }

    def to_create_payload(self, *, include_members: bool, bot_user_id: int) -> JSON:
        """The GUILD_CREATE payload: the guild plus members, channels, threads and events."""
        payload = self.to_payload()
        members = list(self.members.values())
        if not include_members:
            members = [m for m in members if m.id == bot_user_id]
        me = self.members.get(bot_user_id)
        payload.update(
            {
                "joined_at": iso(me.joined_at if me else self.created_at),
                "large": len(self.members) > 250,
                "unavailable": False,
                "member_count": len(self.members),
                "voice_states": [],
                "members": [m.to_payload() for m in members],
                "channels": [c.to_payload() for c in self.channels.values() if not c.is_thread],
                "threads": [
                    c.to_payload() for c in self.channels.values() if c.is_thread and not c.archived
                ],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": [
                    e.to_payload() for e in self.scheduled_events.values() if not e.deleted
                ],
                "soundboard_sounds": [],
            }
        )
        return payload


@dataclass(slots=True, eq=False)
class World:
    """Everything the emulated Discord knows about."""

    bot_user: User
    token: str
    #: Permissions of the bot's managed role in each guild created by ``add_guild``.
    bot_permissions: Permission
    users: dict[int, User] = field(default_factory=dict)
    guilds: dict[int, Guild] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    dm_channels: dict[int, Channel] = field(default_factory=dict)
    global_commands: dict[int, ApplicationCommand] = field(default_factory=dict)
    interactions: dict[int, Interaction] = field(default_factory=dict)
    app_name: str = "Sandbox Bot"
    dispatch: DispatchHook | None = None
    #: The world's time (see ``sandbox.clock``); ``now()`` and ``new_id()`` read it.
    clock: WorldClock = field(default_factory=WorldClock)
    #: Where the world's snowflakes come from (see ``sandbox.ids.Snowflakes``).
    ids: Snowflakes = field(default_factory=Snowflakes.new_source)

    @classmethod
    def create(
        cls,
        *,
        bot_name: str = "Undercurrent",
        bot_permissions: Permission | None = None,
        token: str | None = None,
    ) -> World:
        """An empty world with a bot user and its token."""
        clock, ids = WorldClock(), Snowflakes.new_source()
        bot_user = User(
            id=ids.next(clock.time()), username=bot_name.lower(), global_name=bot_name, bot=True
        )
        if token is None:
            encoded_id = base64.urlsafe_b64encode(str(bot_user.id).encode()).decode().rstrip("=")
            token = f"{encoded_id}.{secrets.token_urlsafe(5)}.{secrets.token_urlsafe(27)}"
        if bot_permissions is None:
            bot_permissions = (
                Permission.VIEW_CHANNEL
                | Permission.SEND_MESSAGES
                | Permission.SEND_MESSAGES_IN_THREADS
                | Permission.EMBED_LINKS
                | Permission.ATTACH_FILES
                | Permission.READ_MESSAGE_HISTORY
                | Permission.ADD_REACTIONS
                | Permission.USE_EXTERNAL_EMOJIS
                | Permission.MANAGE_MESSAGES
                | Permission.MANAGE_THREADS
                | Permission.CREATE_PUBLIC_THREADS
                | Permission.CREATE_PRIVATE_THREADS
                | Permission.MANAGE_EVENTS
                | Permission.CREATE_EVENTS
            )
        world = cls(
            bot_user=bot_user,
            token=token,
            bot_permissions=bot_permissions,
            app_name=bot_name,
            clock=clock,
            ids=ids,
        )
        world.users[bot_user.id] = bot_user
        return world

    @classmethod
    def default(cls, *, shard: tuple[int, int] | None = None, **kwargs: Any) -> World:
        """A world with one guild, "Sandbox": the owner, a moderator, two members, and channels
        #general (everyone), #mod-log (moderators only) and #party-voice (voice).

        Names: members ``owner``, ``mod``, ``alice``, ``bob``; role ``Moderator``
        (MANAGE_GUILD, MANAGE_EVENTS, MANAGE_MESSAGES, MANAGE_THREADS). ``shard`` as for
        ``add_guild``.
        """
        world = cls.create(**kwargs)
        guild = world.add_guild("Sandbox", owner="owner", shard=shard)
        moderator = guild.add_moderator_role()
        general = guild.add_text_channel("general", topic="Talk about music")
        guild.system_channel_id = general.id
        guild.add_text_channel("mod-log", overwrites=guild.only_for(moderator))
        guild.add_channel("party-voice", ChannelType.GUILD_VOICE)
        guild.add_member("mod", roles=[moderator])
        guild.add_member("alice")
        guild.add_member("bob")
        return world

    @classmethod
    def sharded(cls, shard_count: int, **kwargs: Any) -> World:
        """The default world with "Sandbox" on shard 0 of ``shard_count``, and for each further
        shard n a guild "Shard n" on it: owner ``owner``, members ``alice`` and ``bob``, and
        #general (its system channel)."""
        world = cls.default(shard=(0, shard_count), **kwargs)
        for shard_id in range(1, shard_count):
            guild = world.add_guild(f"Shard {shard_id}", shard=(shard_id, shard_count))
            guild.system_channel_id = guild.add_text_channel("general").id
            for name in ("alice", "bob"):
                guild.add_member(world.user_named(name))
        return world

    # -- building -----------------------------------------------------------------------------

    def announce(self, event: str, payload: JSON, guild_id: int | None) -> None:
        """Tell connected bots about a change."""
        if self.dispatch is not None:
            self.dispatch(event, payload, guild_id)

    def now(self) -> datetime.datetime:
        """The world's current time (real time plus however far tests moved it)."""
        return self.clock.now()

    def new_id(self, *, shard: tuple[int, int] | None = None) -> int:
        """A snowflake for something created now in this world (see ``Snowflakes.next``)."""
        return self.ids.next(self.clock.time(), shard=shard)

    def add_user(self, username: str, *, global_name: str | None = None, bot: bool = False) -> User:
        """Create a user account."""
        user = User(
            id=self.new_id(),
            username=username,
            global_name=global_name or username.title(),
            bot=bot,
        )
        self.users[user.id] = user
        return user

    def add_guild(
        self, name: str, *, owner: User | str = "owner", shard: tuple[int, int] | None = None
    ) -> Guild:
        """Create a guild with an @everyone role, an owner, and the bot as a member with its
        managed role. ``shard=(shard_id, shard_count)`` picks an ID Discord routes to that shard."""
        if isinstance(owner, str):
            owner = self.user_named(owner) if self.has_user(owner) else self.add_user(owner)
        guild_id = self.new_id(shard=shard)
        guild = Guild(world=self, id=guild_id, name=name, owner_id=owner.id, created_at=self.now())
        guild.roles[guild_id] = Role(
            id=guild_id, guild_id=guild_id, name="@everyone", permissions=DEFAULT_EVERYONE
        )
        bot_role = guild.add_role(
            self.app_name, self.bot_permissions, managed=True, bot_id=self.bot_user.id
        )
        self.guilds[guild_id] = guild
        guild.add_member(owner)
        guild.add_member(self.bot_user, roles=[bot_role])
        return guild

    # -- lookup -------------------------------------------------------------------------------

    @property
    def application_id(self) -> int:
        """The application ID, equal to the bot user's ID as for every modern Discord app."""
        return self.bot_user.id

    @property
    def guild(self) -> Guild:
        """The first guild (most tests have just one)."""
        return next(iter(self.guilds.values()))

    def has_user(self, username: str) -> bool:
        return any(u.username == username for u in self.users.values())

    def user_named(self, username: str) -> User:
        """A user by username."""
        for user in self.users.values():
            if user.username == username:
                return user
        raise KeyError(f"no user {username!r}")

    def dm_channel_for(self, user: User) -> Channel:
        """The bot's DM channel with ``user``, created on first use."""
        channel = self.dm_channels.get(user.id)
        if channel is None:
            channel = Channel(
                id=self.new_id(),
                type=ChannelType.DM,
                name=None,
                recipients=[user],
                created_at=self.now(),
            )
            self.dm_channels[user.id] = channel
            self.channels[channel.id] = channel
        return channel

    def shares_a_guild(self, user: User) -> bool:
        """Whether ``user`` is a member of a guild the bot is in (Discord's condition for DMs)."""
        return any(
            user.id in g.members and self.bot_user.id in g.members for g in self.guilds.values()
        )

    def guild_of(self, channel: Channel) -> Guild | None:
        """The guild a channel belongs to (None for DMs)."""
        return self.guilds.get(channel.guild_id) if channel.guild_id is not None else None

    def bot_permissions_in(self, channel: Channel) -> Permission:
        """What the bot may do in a channel; everything in DMs."""
        guild = self.guild_of(channel)
        if guild is None:
            return (
                Permission.VIEW_CHANNEL
                | Permission.SEND_MESSAGES
                | Permission.EMBED_LINKS
                | Permission.ATTACH_FILES
            )
        return guild.permissions_in(guild.members[self.bot_user.id], channel)

    def commands_for(self, guild: Guild | None) -> list[ApplicationCommand]:
        """Commands usable in ``guild`` (guild commands shadow nothing: both lists show in Discord)."""
        commands = list(self.global_commands.values())
        if guild is not None:
            commands.extend(guild.commands.values())
        return commands


def _opt_id(value: int | None) -> str | None:
    return None if value is None else str(value)
