"""A feature's thread on one of its own messages (a party's run, a swap round's reveal), made
once: Discord refuses a second thread on a message, and the thread's id is the message's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord

from bot.domain.text import clip_at_word
from bot.moderators import tell_moderators

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

THREAD_EXISTS = 160004  # Discord: "A thread has already been created for this message"
THREAD_NAME_MAX = 100
#: Minutes of quiet after which Discord archives a thread: the values it accepts.
ArchiveAfter = Literal[60, 1440, 4320, 10080]


async def thread_on(
    bot: UndercurrentBot,
    *,
    guild_id: int,
    channel_id: int,
    message_id: int,
    name: str,
    archive_after_minutes: ArchiveAfter,
    what: str,
    notice: str,
) -> int:
    """The id of the thread on ``message_id``, started now if it has none. Without the
    permission to start one, the channel's own id: the feature posts in the channel, and the
    moderators are told (``what`` names it: "the listening party **…**"; ``notice`` keys the
    notice so it is posted once)."""
    channel = bot.get_partial_messageable(channel_id, guild_id=guild_id)
    try:
        thread = await channel.get_partial_message(message_id).create_thread(
            name=clip_at_word(name, THREAD_NAME_MAX), auto_archive_duration=archive_after_minutes
        )
    except discord.HTTPException as exc:
        if exc.code == THREAD_EXISTS:
            return message_id
        if isinstance(exc, discord.NotFound):
            return channel_id  # the message was deleted: the feature goes on in its channel
        if not isinstance(exc, discord.Forbidden):
            raise
        await tell_moderators(
            bot,
            guild_id,
            f"I couldn't start a thread for {what} in <#{channel_id}> (I need **Create Public "
            "Threads** there), so it goes on in the channel itself.",
            notice=notice,
        )
        return channel_id
    return thread.id
