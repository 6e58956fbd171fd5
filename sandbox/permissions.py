"""Discord permission bits and the permission computation Discord performs.

The algorithm follows Discord's documentation ("Permission Overwrites"): guild base permissions
are @everyone's plus every role's; the owner and administrators get everything; in a channel the
@everyone overwrite applies first, then all role overwrites together (denies before allows), then
the member's own overwrite. Losing VIEW_CHANNEL loses everything, and losing SEND_MESSAGES
implicitly loses the permissions that only make sense while sending.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Permission(enum.IntFlag):
    """Permission bits, named as in Discord's documentation."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    VIEW_GUILD_INSIGHTS = 1 << 19
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    DEAFEN_MEMBERS = 1 << 23
    MOVE_MEMBERS = 1 << 24
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_GUILD_EXPRESSIONS = 1 << 30
    USE_APPLICATION_COMMANDS = 1 << 31
    REQUEST_TO_SPEAK = 1 << 32
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EMBEDDED_ACTIVITIES = 1 << 39
    MODERATE_MEMBERS = 1 << 40
    VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41
    USE_SOUNDBOARD = 1 << 42
    CREATE_GUILD_EXPRESSIONS = 1 << 43
    CREATE_EVENTS = 1 << 44
    USE_EXTERNAL_SOUNDS = 1 << 45
    SEND_VOICE_MESSAGES = 1 << 46
    SEND_POLLS = 1 << 49
    USE_EXTERNAL_APPS = 1 << 50
    PIN_MESSAGES = 1 << 51
    BYPASS_SLOWMODE = 1 << 52


ALL_PERMISSIONS = Permission(sum(p.value for p in Permission))
NO_PERMISSIONS = Permission(0)

#: What @everyone gets in a freshly created server.
DEFAULT_EVERYONE = (
    Permission.CREATE_INSTANT_INVITE
    | Permission.ADD_REACTIONS
    | Permission.STREAM
    | Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.USE_EXTERNAL_EMOJIS
    | Permission.CONNECT
    | Permission.SPEAK
    | Permission.USE_VAD
    | Permission.CHANGE_NICKNAME
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.REQUEST_TO_SPEAK
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.CREATE_PRIVATE_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.SEND_POLLS
    | Permission.CREATE_EVENTS
)

#: Permissions that are meaningless, and removed, once SEND_MESSAGES is denied in a channel.
_NEEDS_SEND = (
    Permission.SEND_TTS_MESSAGES
    | Permission.MENTION_EVERYONE
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.SEND_POLLS
)


class OverwriteType(enum.IntEnum):
    """Whom a permission overwrite targets."""

    ROLE = 0
    MEMBER = 1


@dataclass(slots=True)
class Overwrite:
    """A channel permission overwrite."""

    id: int
    type: OverwriteType
    allow: Permission = NO_PERMISSIONS
    deny: Permission = NO_PERMISSIONS

    def to_payload(self) -> dict[str, object]:
        """The overwrite as Discord serialises it (bit sets as strings)."""
        return {
            "id": str(self.id),
            "type": int(self.type),
            "allow": str(int(self.allow)),
            "deny": str(int(self.deny)),
        }


def base_permissions(
    *, is_owner: bool, everyone: Permission, roles: Iterable[Permission]
) -> Permission:
    """A member's guild-wide permissions."""
    if is_owner:
        return ALL_PERMISSIONS
    total = Permission(everyone)
    for role in roles:
        total |= role
    if total & Permission.ADMINISTRATOR:
        return ALL_PERMISSIONS
    return total


def apply_overwrites(
    base: Permission,
    *,
    guild_id: int,
    member_id: int,
    role_ids: Iterable[int],
    overwrites: Iterable[Overwrite],
) -> Permission:
    """A member's permissions in one channel, given their guild-wide ``base`` permissions.

    ``guild_id`` is also the ID of the @everyone role, as in Discord.
    """
    if base & Permission.ADMINISTRATOR:
        return ALL_PERMISSIONS
    by_id = {(ow.type, ow.id): ow for ow in overwrites}
    total = Permission(base)
    everyone = by_id.get((OverwriteType.ROLE, guild_id))
    if everyone is not None:
        total = (total & ~everyone.deny) | everyone.allow
    allow = NO_PERMISSIONS
    deny = NO_PERMISSIONS
    for role_id in role_ids:
        overwrite = by_id.get((OverwriteType.ROLE, role_id))
        if overwrite is not None and role_id != guild_id:
            allow |= overwrite.allow
            deny |= overwrite.deny
    total = (total & ~deny) | allow
    own = by_id.get((OverwriteType.MEMBER, member_id))
    if own is not None:
        total = (total & ~own.deny) | own.allow
    if not total & Permission.VIEW_CHANNEL:
        return NO_PERMISSIONS
    if not total & Permission.SEND_MESSAGES:
        total &= ~_NEEDS_SEND
    return total


def parse_permissions(value: object) -> Permission | None:
    """Read a permission bit set sent as a string (documented) or an int (what discord.py sends)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("permissions must be a bit set, not a boolean")
    if isinstance(value, int):
        return Permission(value)
    if isinstance(value, str) and value.isdigit():
        return Permission(int(value))
    raise ValueError(f"not a permission bit set: {value!r}")
