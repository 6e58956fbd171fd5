"""``/swap``: recommendation swap rounds. Members join with one pick, are paired, review what
they were given, and the round ends with a reveal."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.swaps import FAVOURITE_MAX, REASON_MAX, THEME_MAX, THOUGHTS_MAX
from bot.errors import UserError
from bot.interactions import manages_events, require_guild
from bot.moderators import missing_to_post
from bot.pick_options import CHOICE_LIMIT, MAX_CHOICES
from bot.replies import NO_MENTIONS, clip, md
from bot.services import swaps as swaps_service
from cogs.swap.embeds import history_embed, stamp
from cogs.swap.jobs import SwapJobs
from cogs.swap.views import DYNAMIC_ITEMS, refresh_card

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)

MODE_CHOICES = [
    app_commands.Choice(name="random", value="random"),
    app_commands.Choice(name="cross-scene", value="cross-scene"),
]
RoundOption = app_commands.Range[int, 1]


class SwapCog(commands.GroupCog, group_name="swap", group_description="Recommendation swap rounds"):
    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot
        self.jobs = SwapJobs(bot)
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.jobs.register()

    async def cog_unload(self) -> None:
        self.jobs.unregister()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    async def live_rounds(
        self, interaction: discord.Interaction[UndercurrentBot], current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        rounds = await swaps_service.live_rounds(self.bot.db, interaction.guild_id)
        typed = current.casefold().strip()
        return [
            app_commands.Choice(
                name=clip(f"#{r.id} · {r.theme} ({r.status})", CHOICE_LIMIT), value=r.id
            )
            for r in rounds
            if typed in r.theme.casefold() or typed == str(r.id)
        ][:MAX_CHOICES]

    async def my_assignments(
        self, interaction: discord.Interaction[UndercurrentBot], current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        rounds = await swaps_service.open_assignments(
            self.bot.db, interaction.guild_id, interaction.user.id
        )
        return [
            app_commands.Choice(name=clip(f"#{r.id} · {r.theme}", CHOICE_LIMIT), value=r.id)
            for r in rounds
        ][:MAX_CHOICES]

    @app_commands.command(
        name="open", description="Open a swap round in this channel (Manage Events)"
    )
    @app_commands.checks.has_permissions(manage_events=True)
    @app_commands.describe(
        theme="What to bring, e.g. 'a record from a city you've never been to'",
        join_until="When joining closes and pairs are made: fri 21:00, in 3 days …",
        review_until="When reviews close and the reveal comes (at least a day later)",
        mode="random (default), or cross-scene: pair picks from different countries and scenes",
        anonymous="Hide who gave what until the reveal (default: yes)",
        channel="Where the round's card and reveal go (default: here)",
    )
    @app_commands.choices(mode=MODE_CHOICES)
    async def open(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        theme: app_commands.Range[str, 1, THEME_MAX],
        join_until: app_commands.Range[str, 1, 60],
        review_until: app_commands.Range[str, 1, 60],
        mode: str = "random",
        anonymous: bool = True,
        channel: discord.TextChannel | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel):
            raise UserError("A swap round needs a text channel for its card and reveal thread.")
        missing = missing_to_post(target)
        if missing:
            raise UserError(
                f"I can't run a round in {target.mention}: I need "
                + ", ".join(f"**{name}**" for name in missing)
                + " there."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        opened = await swaps_service.open_round(
            self.bot.db, self.bot.scheduler, guild_id=guild_id, channel_id=target.id,
            opener_id=interaction.user.id, theme=theme, join_until=join_until,
            review_until=review_until, mode=mode, anonymous=anonymous, now=self.bot.clock.now(),
        )  # fmt: skip
        found = opened.round
        try:
            await self.jobs.sync_card(found.id)
        except Exception:
            log.warning("Swap round %s: the card waits for the sync job", found.id, exc_info=True)
        found = await swaps_service.get_round(self.bot.db, found.id)
        card = found.card_url()
        await interaction.followup.send(
            f"Opened swap round **#{found.id} {md(found.theme)}**.\n"
            f"Joining closes {stamp(found.join_until)}; reviews close {stamp(found.review_until)}.\n"
            f"-# Times read in {found.zone}: {opened.zone_source}.\n"
            + (f"Card: {card}" if card else "The card is on its way."),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="status", description="A swap round's state, and yours in it")
    @app_commands.autocomplete(round=live_rounds)
    async def status(
        self, interaction: discord.Interaction[UndercurrentBot], round: RoundOption | None = None
    ) -> None:
        guild_id = require_guild(interaction)
        found = await swaps_service.resolve_round(
            self.bot.db, guild_id, interaction.channel_id, round
        )
        view = await swaps_service.round_view(self.bot.db, found.id)
        lines = [
            f"**#{found.id} {md(found.theme)}** — {found.status}",
            f"Joining closes {stamp(found.join_until)}; reviews close {stamp(found.review_until)}.",
            f"{view.joined} joined"
            + (f", {view.reviewed} reviewed." if found.status != "open" else "."),
        ]
        mine = await swaps_service.my_entry(self.bot.db, found.id, interaction.user.id)
        lines.append(
            f"You bring **{md(mine.heading)}**." if mine else "You haven't joined this round."
        )
        given = await swaps_service.assignment(self.bot.db, found.id, interaction.user.id)
        if given is not None:
            lines.append(f"You were given **{md(given.entry.heading)}**.")
            lines.append(
                f"You reviewed it: {given.review.rating}/5."
                if given.review
                else "You haven't reviewed it yet."
            )
        await interaction.response.send_message(
            "\n".join(lines), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="review", description="Review the pick you were given")
    @app_commands.describe(
        rating="1 to 5",
        favourite_track="Your favourite track on it",
        thoughts="What you heard",
        round="The round (needed only if you have assignments in several)",
    )
    @app_commands.autocomplete(round=my_assignments)
    async def review(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        rating: app_commands.Range[int, 1, 5],
        favourite_track: app_commands.Range[str, 1, FAVOURITE_MAX] | None = None,
        thoughts: app_commands.Range[str, 1, THOUGHTS_MAX] | None = None,
        round: RoundOption | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        found, entry, first = await swaps_service.review(
            self.bot.db, guild_id=guild_id, round_id=round, user_id=interaction.user.id,
            rating=rating, favourite_track=favourite_track, thoughts=thoughts,
            now=self.bot.clock.now(),
        )  # fmt: skip
        await interaction.response.send_message(
            f"{'Saved' if first else 'Changed'} your review of **{md(entry.heading)}**: "
            f"{'★' * rating}. You can change it until the reveal.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await refresh_card(self.bot, await swaps_service.round_view(self.bot.db, found.id))

    @app_commands.command(
        name="cancel", description="Cancel a swap round (its opener or Manage Events)"
    )
    @app_commands.describe(round="The round", reason="Told to its members")
    @app_commands.autocomplete(round=live_rounds)
    async def cancel(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        round: RoundOption | None = None,
        reason: app_commands.Range[str, 1, REASON_MAX] | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        found = await swaps_service.resolve_round(
            self.bot.db, guild_id, interaction.channel_id, round
        )
        cancelled, members = await swaps_service.cancel(
            self.bot.db, self.bot.scheduler, guild_id=guild_id, round_id=found.id,
            user_id=interaction.user.id, manages_events=manages_events(interaction),
            reason=reason, now=self.bot.clock.now(),
        )  # fmt: skip
        told = f" Its {members} member(s) get one DM saying so." if members else ""
        await interaction.response.send_message(
            f"Cancelled swap round **#{cancelled.id} {md(cancelled.theme)}**.{told}",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await refresh_card(self.bot, await swaps_service.round_view(self.bot.db, cancelled.id))

    @app_commands.command(name="history", description="Past swap rounds: pairs and ratings")
    @app_commands.describe(member="Only the swaps this member gave or received")
    async def history(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        member: discord.Member | discord.User | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        past = await swaps_service.history(self.bot.db, guild_id, member.id if member else None)
        embed = history_embed(past, member.id if member else None)
        if member is not None:
            embed.title = f"Swaps of {member.display_name}"[:256]
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
