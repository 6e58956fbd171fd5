"""Editing a message the bot posted earlier (a card, a "now playing" message), by ids alone.

Best effort: a message deleted by hand stays deleted, and the feature goes on. Lost access is
told to the moderators (once a day per channel: see ``report_lost_access``), who can give it
back; the next change edits the message again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.moderators import report_lost_access

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)


async def edit_posted(
    bot: UndercurrentBot,
    *,
    guild_id: int | None,
    channel_id: int,
    message_id: int,
    doing: str,
    **fields: Any,
) -> bool:
    """Edit the message with ``fields`` (``embed=``, ``view=`` …); whether it was edited.
    ``doing`` says what for, in a moderator's words ("update the card of party #3")."""
    # By ids alone: a message in a thread archived since is not in the cache.
    channel = bot.get_partial_messageable(channel_id, guild_id=guild_id)
    try:
        await channel.get_partial_message(message_id).edit(**fields)
    except discord.Forbidden as exc:
        log.info("No access to %s: %s", doing, exc)
        if guild_id is not None:
            await report_lost_access(bot, guild_id, channel_id, doing, str(exc), retried=False)
        return False
    except discord.HTTPException as exc:
        log.info("Could not %s: %s", doing, exc)
        return False
    return True
