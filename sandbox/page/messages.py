"""Messages as the page draws them: author, time, content, embeds, components, attachments,
reactions, and the marks Discord shows around them (ephemeral, thinking, "used /command", the
thread started from it). Content and embed text are passed on raw; the page renders markdown and
mentions into DOM text nodes, never HTML."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.attachments import served_type, shown_inline
from sandbox.model import Attachment, Message, Reaction, User

if TYPE_CHECKING:
    from sandbox.server import Emulator

JSON = dict[str, Any]

#: Messages of a channel the page shows (the latest).
MESSAGES_SHOWN = 100


def display_name(user: User, nick: str | None = None) -> str:
    """The name Discord shows for a user: nickname, then display name, then username."""
    return nick or user.global_name or user.username


def message_view(emulator: Emulator, message: Message, viewer_id: int) -> JSON:
    """One message for the page, as ``viewer_id`` sees it."""
    channel = emulator.world.channels.get(message.channel_id)
    thread = None if message.thread_id is None else emulator.world.channels.get(message.thread_id)
    nick = message.member.nick if message.member is not None else None
    return {
        "id": str(message.id),
        "type": message.type,
        "author": {
            "id": str(message.author.id),
            "name": display_name(message.author, nick),
            "bot": message.author.bot,
        },
        "at": message.created_at.timestamp(),
        "edited": message.edited_at is not None,
        "content": message.content,
        "embeds": message.embeds,
        "components": message.components,
        "attachments": [_attachment_view(emulator, a) for a in message.attachments],
        "reactions": [_reaction_view(key, r, viewer_id) for key, r in message.reactions.items()],
        "ephemeral": message.ephemeral_for is not None,
        "loading": message.loading,
        "used": _used_command(emulator, message),
        "thread": None if thread is None else {"id": str(thread.id), "name": thread.name},
        "in_dm": channel is not None and channel.guild_id is None,
    }


def _attachment_view(emulator: Emulator, attachment: Attachment) -> JSON:
    return {
        "id": str(attachment.id),
        "filename": attachment.filename,
        # Same-origin path, so the page works whichever loopback name it was opened on.
        "url": attachment.url.removeprefix(emulator.base_url),
        "content_type": served_type(attachment),
        "size": len(attachment.data),
        "image": shown_inline(attachment),
    }


def _reaction_view(key: str, reaction: Reaction, viewer_id: int) -> JSON:
    emoji = reaction.emoji
    shown = emoji.get("name") or key if emoji.get("id") is None else f":{emoji.get('name')}:"
    return {
        "key": key,
        "emoji": shown,
        "count": len(reaction.user_ids),
        "mine": viewer_id in reaction.user_ids,
    }


def _used_command(emulator: Emulator, message: Message) -> JSON | None:
    """Who ran which slash command (with its subcommands), for the line Discord shows above a
    command's response."""
    meta = message.interaction_metadata
    if not meta or meta.get("type") != 2 or "original_response_message_id" in meta:
        return None
    user = meta.get("user") or {}
    words = [str(meta.get("name") or "")]
    interaction = emulator.world.interactions.get(int(meta.get("id") or 0))
    if interaction is not None:
        words.extend(_subcommand_path(interaction.data.get("options") or []))
    return {
        "user": user.get("global_name") or user.get("username") or "someone",
        "command": " ".join(words),
    }


def _subcommand_path(options: list[JSON]) -> list[str]:
    for option in options:
        if option.get("type") in (1, 2):
            return [str(option["name"]), *_subcommand_path(option.get("options") or [])]
    return []
