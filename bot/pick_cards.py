"""A pick as Discord shows it: the card (embed and buttons) and keeping posted cards current.

Shared Discord presentation, not a cog: sharing posts cards, the archive shows and updates
them, ``/privacy forget`` re-renders them, and digests and swap reveals will link to them. The
card's **Heard it** / **Loved it** buttons are restart-proof: their ``custom_id`` carries only
the pick id and the state comes from the database. ``cogs.rec``, which posts cards, registers
``VoteButton``; ``/archive random`` shows cards too and relies on that (both load by default,
and tests/cogs/test_extensions.py loads them together).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.cards import CardPlace, vote_custom_id
from bot.domain.links import site_name
from bot.domain.picks import FORMER_MEMBER, Pick, country_name
from bot.domain.timeutil import from_epoch
from bot.interactions import require_guild
from bot.posted import edit_posted
from bot.replies import EMBED_DESCRIPTION_LIMIT, EMBED_TITLE_LIMIT, clip, md
from bot.services import picks as picks_service
from bot.views import SafeDynamicItem

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)

CARD_COLOUR = discord.Colour(0x2E6F73)
VOTE_LABELS = {"heard": ("Heard it", "🎧"), "loved": ("Loved it", "❤️")}
CARD_NOTE_LIMIT = 1000


HEADING_IN_TEXT = 300  # how much of "Artist — Title" a sentence in a reply quotes


def heading(pick: Pick) -> str:
    """``Artist — Title``, escaped, as a title."""
    return clip(md(f"{pick.artist} — {pick.title}"), EMBED_TITLE_LIMIT)


def heading_in_text(pick: Pick) -> str:
    """``Artist — Title``, escaped, short enough to quote in a sentence."""
    return clip(heading(pick), HEADING_IN_TEXT)


def place(pick: Pick) -> str:
    """``Manchester, United Kingdom``"""
    city = md(pick.city) if pick.city else None
    return ", ".join(p for p in (city, country_name(pick.country) if pick.country else None) if p)


def provenance(pick: Pick) -> str | None:
    """``Factory · 1979 · Manchester, United Kingdom · vinyl``"""
    parts = [md(pick.label) if pick.label else None, str(pick.year) if pick.year else None,
             place(pick) or None, pick.format]  # fmt: skip
    found = [p for p in parts if p]
    return " · ".join(found) if found else None


def tag_line(pick: Pick) -> str | None:
    return " ".join(f"`{tag}`" for tag in pick.subgenres) or None


def quoted(note: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in note.splitlines())


def member_mention(user_id: int | None) -> str:
    """A member as a mention (which never pings: see ``NO_MENTIONS``), or who they became."""
    return f"<@{user_id}>" if user_id is not None else FORMER_MEMBER


def card_embed(pick: Pick) -> discord.Embed:
    """The pick card posted in the channel by ``/rec share``."""
    lines = [line for line in (provenance(pick), tag_line(pick)) if line]
    if pick.note:
        lines.append(
            quoted(clip(pick.note, CARD_NOTE_LIMIT)) + f"\n— {member_mention(pick.shared_by)}"
        )
    else:
        lines.append(f"Shared by {member_mention(pick.shared_by)}")
    embed = discord.Embed(
        title=heading(pick),
        url=pick.link_url,
        description=clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT),
        colour=CARD_COLOUR,
        timestamp=from_epoch(pick.created_at),
    )
    embed.set_footer(text=f"#{pick.id} in the archive · /archive show id:{pick.id}")
    return embed


class VoteButton(
    SafeDynamicItem[discord.ui.Button[Any]],
    template=r"uc:pick:(?P<kind>heard|loved):(?P<pick_id>\d+)",
):
    """Toggle the member's heard/loved mark and update the counts on the card."""

    def __init__(self, kind: str, pick_id: int, count: int = 0) -> None:
        label, emoji = VOTE_LABELS[kind]
        super().__init__(
            discord.ui.Button(
                label=f"{label} · {count}",
                emoji=emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=vote_custom_id(kind, pick_id),
            )
        )
        self.kind = kind
        self.pick_id = pick_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> VoteButton:
        return cls(match["kind"], int(match["pick_id"]))

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        bot = interaction.client
        pick, is_set = await picks_service.toggle_vote(
            bot.db,
            require_guild(interaction),
            self.pick_id,
            self.kind,
            interaction.user.id,
            bot.clock.now(),
        )
        await interaction.response.edit_message(embed=card_embed(pick), view=card_view(pick))
        if interaction.message is None or interaction.message.id != pick.message_id:
            await refresh_card(bot, pick)  # clicked on a copy (/archive random): the card too
        label = VOTE_LABELS[self.kind][0].lower()
        note = f"Marked: {label}. Click again to undo." if is_set else f"Unmarked: {label}."
        await interaction.followup.send(note, ephemeral=True)


def card_view(pick: Pick) -> discord.ui.View:
    """The buttons under a pick card: heard, loved, and a link to listen."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton("heard", pick.id, pick.heard))
    view.add_item(VoteButton("loved", pick.id, pick.loved))
    if pick.link_url:
        label = f"Listen on {site_name(pick.link_url)}"
        view.add_item(discord.ui.Button(label=label[:80], url=pick.link_url))
    return view


async def refresh_card(bot: UndercurrentBot, pick: Pick, *, removed: bool = False) -> None:
    """Bring the card in the channel up to date (best effort: it may have been deleted)."""
    if pick.channel_id is None or pick.message_id is None:
        return
    place = CardPlace(pick.id, pick.guild_id, pick.channel_id, pick.message_id)
    if removed:
        until = discord.utils.format_dt(bot.clock.now() + picks_service.RESTORE_WINDOW, "D")
        explanation = f"Moderators can restore it with `/archive restore` until {until}."
        await mark_card_removed(bot, place, explanation)
        return
    await _edit_card(bot, place, card_embed(pick), card_view(pick))


async def mark_card_removed(bot: UndercurrentBot, place: CardPlace, explanation: str) -> None:
    embed = discord.Embed(
        title="Removed from the archive",
        description=f"#{place.pick_id} was removed. {explanation}",
        colour=discord.Colour.dark_grey(),
    )
    await _edit_card(bot, place, embed, None)


async def _edit_card(
    bot: UndercurrentBot, place: CardPlace, embed: discord.Embed, view: discord.ui.View | None
) -> None:
    """Best effort (``edit_posted``): a card deleted by hand stays deleted."""
    await edit_posted(
        bot, guild_id=place.guild_id, channel_id=place.channel_id, message_id=place.message_id,
        doing=f"update the card of archive entry #{place.pick_id}", embed=embed, view=view,
    )  # fmt: skip
