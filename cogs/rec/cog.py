"""``/rec share``: a pick gets a card in the channel and a place in the archive."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.cards import CARD_KEY_PREFIX, card_key, pick_of_card_key
from bot.domain.outbox import OutboxEntry
from bot.domain.picks import Pick, PickFields
from bot.domain.timeutil import from_epoch
from bot.interactions import require_guild
from bot.outbox import OutboxMessage
from bot.pick_cards import VoteButton, card_embed, card_view, heading_in_text, member_mention
from bot.pick_options import (
    FORMAT_CHOICES,
    ArtistOption,
    CityOption,
    CountryOption,
    LabelOption,
    LinkOption,
    NoteOption,
    SubgenresOption,
    TitleOption,
    YearOption,
    autocomplete_country,
    autocomplete_subgenres,
)
from bot.services import picks as picks_service
from cogs.rec.views import SecondPrompt

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)

ALREADY_ACKNOWLEDGED = 40060  # Discord's "Interaction has already been acknowledged"


def answer_went_out(error: discord.HTTPException) -> bool:
    """Whether an interaction answer that raised may have been posted all the same: a server
    error or rate limit (Discord may have posted it before failing), or "already acknowledged"
    (discord.py retried an answer whose reply was lost). Any other refusal posted nothing."""
    if error.status >= 500 or error.status == 429:
        return True
    return error.code == ALREADY_ACKNOWLEDGED


def describe_card(entry: OutboxEntry) -> str:
    return f"the card of archive entry #{pick_of_card_key(entry.key)}"


class RecCog(commands.GroupCog, group_name="rec", group_description="Share music with the server"):
    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(VoteButton)
        self.bot.outbox.register(
            CARD_KEY_PREFIX,
            self._card_to_post,
            on_posted=picks_service.attach_card_in,
            describe=describe_card,
        )

    async def cog_unload(self) -> None:
        self.bot.outbox.unregister(CARD_KEY_PREFIX)
        self.bot.remove_dynamic_items(VoteButton)

    async def _card_to_post(self, entry: OutboxEntry) -> OutboxMessage | None:
        """A card the share's own answer never recorded (the process stopped first), rebuilt
        from the database for the outbox to find or post; None if the pick is gone."""
        pick_id = pick_of_card_key(entry.key)
        if pick_id is None or entry.guild_id is None:
            return None
        pick = await picks_service.pick_for_card(self.bot.db, entry.guild_id, pick_id)
        if pick is None:
            return None
        return OutboxMessage(embeds=[card_embed(pick)], view=card_view(pick))

    @app_commands.command(
        name="share", description="Share a pick: it gets a card here and a place in the archive"
    )
    @app_commands.describe(
        artist="Who made it",
        title="The release or track",
        link="Bandcamp, Spotify, YouTube, SoundCloud, Apple Music, Tidal, Deezer, Discogs…",
        subgenres="Comma-separated, at most 8 (e.g. minimal synth, cold wave)",
        label="The label that released it",
        year="Year of release",
        country="Where it comes from (name or ISO code)",
        city="The city or town of its scene",
        format="What you heard it on",
        note="Why it matters to you (shown as your words)",
    )
    @app_commands.choices(format=FORMAT_CHOICES)
    @app_commands.autocomplete(subgenres=autocomplete_subgenres, country=autocomplete_country)
    async def share(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        artist: ArtistOption,
        title: TitleOption,
        link: LinkOption | None = None,
        subgenres: SubgenresOption | None = None,
        label: LabelOption | None = None,
        year: YearOption | None = None,
        country: CountryOption | None = None,
        city: CityOption | None = None,
        format: str | None = None,
        note: NoteOption | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        assert interaction.channel_id is not None  # a slash command in a server has a channel
        given = PickFields(
            artist=artist, title=title, link=link, subgenres=subgenres, label=label, year=year,
            country=country, city=city, format=format, note=note,
        )  # fmt: skip
        result = await picks_service.share_pick(
            self.bot.db,
            guild_id=guild_id,
            user_id=interaction.user.id,
            channel_id=interaction.channel_id,
            now=self.bot.clock.now(),
            given=given,
        )
        if result.duplicate is not None:
            await self._already_shared(interaction, result.duplicate, note)
            return
        pick = result.pick
        assert pick is not None
        try:
            sent = await interaction.response.send_message(
                embed=card_embed(pick), view=card_view(pick)
            )
        except discord.HTTPException as error:
            if not answer_went_out(error):
                # No card, no entry: otherwise sharing it again would only say "already shared".
                await picks_service.discard_unposted(
                    self.bot.db, guild_id, pick.id, self.bot.clock.now(), f"answer refused: {error}"
                )
                raise
            await self._card_after_an_unclear_answer(pick.id)
            return
        except Exception:
            # A timeout or a dropped connection: Discord may have posted the card all the same.
            await self._card_after_an_unclear_answer(pick.id)
            raise
        if sent.message_id is not None:
            await self.bot.outbox.record(card_key(pick.id), sent.message_id)

    async def _card_after_an_unclear_answer(self, pick_id: int) -> None:
        """The answer may or may not have posted the card: the outbox looks for it in the
        channel and links it, or posts it once (if that fails too, the next start does)."""
        try:
            await self.bot.outbox.post(card_key(pick_id))
        except Exception:
            log.warning("The card of pick %s waits for the next start", pick_id, exc_info=True)

    async def _already_shared(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        existing: Pick,
        note: str | None,
    ) -> None:
        when = discord.utils.format_dt(from_epoch(existing.created_at), "R")
        text = (
            f"**{heading_in_text(existing)}** is already in the archive as "
            f"#{existing.id}, shared by {member_mention(existing.shared_by)} {when}."
        )
        jump = existing.jump_url()
        if jump:
            text += f" [See the card]({jump})."
        if existing.shared_by == interaction.user.id:
            await interaction.response.send_message(text, ephemeral=True)
            return
        text += "\nYou can add your voice to it as a second" + (" with your note." if note else ".")
        view = SecondPrompt(interaction.user.id, existing, note)
        await interaction.response.send_message(text, view=view, ephemeral=True)
