"""Small helpers for answering interactions safely: private replies, clipping to Discord's limits,
member text escaped for Markdown.

Every message the bot sends goes out with ``allowed_mentions`` that ping nobody (set on the
client), and every piece of member-typed text that lands in an embed is clipped here first.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

log = logging.getLogger(__name__)

# Discord's documented limits.
MESSAGE_CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000

NO_MENTIONS = discord.AllowedMentions.none()


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


async def reply_privately(
    interaction: discord.Interaction[Any],
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
) -> None:
    """Answer ``interaction`` ephemerally, whether or not it was already responded to/deferred."""
    text = discord.utils.MISSING if content is None else clip(content, MESSAGE_CONTENT_LIMIT)
    card = discord.utils.MISSING if embed is None else embed
    try:
        if interaction.response.is_done():
            await interaction.followup.send(
                text, embed=card, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        else:
            await interaction.response.send_message(
                text, embed=card, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
    except discord.HTTPException:
        # The interaction expired or Discord refused: nothing more can reach this member now.
        log.warning(
            "Could not send a private reply to interaction %s", interaction.id, exc_info=True
        )


#: Every character discord.py's escape_markdown can act on (``_ \\ ~ | * ` `` escaped anywhere,
#: ``>`` ``#`` ``-`` at a line's start, ``[`` opening a link): text with none is left as it is.
_MARKDOWN_CHARS = re.compile(r"[_\\~|*`>#\[-]")


def md(text: str) -> str:
    """Member text shown as written: ``M*A*S*H`` keeps its stars, and ``[x](https://…)`` in a
    name can't become a disguised link in the bot's message. Not for footers or code spans,
    which Discord does not format."""
    if _MARKDOWN_CHARS.search(text) is None:  # most names: skip escape_markdown's big regex
        return text
    return discord.utils.escape_markdown(text)
