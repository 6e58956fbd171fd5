"""Your data: a copy of everything stored about you, or forgetting it."""

from __future__ import annotations

import asyncio
import io
import json
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.pick_cards import mark_card_removed, refresh_card
from bot.services import picks as picks_service
from bot.services import privacy as privacy_service
from bot.views import OwnedView

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


class ForgetChoice(OwnedView):
    """Delete or anonymise your picks, or cancel. Only for the member who asked."""

    def __init__(self, bot: UndercurrentBot, owner_id: int) -> None:
        super().__init__(owner_id, timeout=120)
        self.bot = bot

    async def _forget(
        self, interaction: discord.Interaction[UndercurrentBot], delete_picks: bool
    ) -> None:
        # Answer first: forgetting may take longer than Discord's 3 s for a first answer.
        await interaction.response.edit_message(content="Forgetting you…", view=None)
        self.stop()
        result = await privacy_service.forget_user(
            self.bot.db, self.owner_id, delete_picks=delete_picks
        )
        # The cards are updated whatever becomes of the reply below: once the data is gone, no
        # later /privacy forget could find them again.
        if result.cards:
            task = asyncio.create_task(self._update_cards(result), name="privacy-forget-cards")
            self.bot.background_tasks.add(task)
            task.add_done_callback(self.bot.background_tasks.discard)
        what = "deleted" if delete_picks else "kept without your name"
        await interaction.edit_original_response(
            content=(
                f"Done. Removed {result.votes} vote(s), {result.party_rows} party RSVP(s) and "
                f"reminder choice(s), and your settings; {result.picks} pick(s) and "
                f"{result.seconds} second(s) {what}. "
                + (f"Updating {len(result.cards)} posted card(s)." if result.cards else "")
            )
        )

    async def _update_cards(self, result: privacy_service.ForgetResult) -> None:
        """Cards still show the member: mark them removed, or re-render them without the name."""
        for card in result.cards:
            if result.deleted_picks:
                await mark_card_removed(
                    self.bot, card, "The member who shared it asked to be forgotten."
                )
                continue
            try:
                pick = await picks_service.get_live_pick(self.bot.db, card.guild_id, card.pick_id)
            except UserError:
                continue  # removed meanwhile: its card already says so
            await refresh_card(self.bot, pick)

    @discord.ui.button(label="Delete my picks too", style=discord.ButtonStyle.danger)
    async def delete(
        self, interaction: discord.Interaction[UndercurrentBot], button: discord.ui.Button[Any]
    ) -> None:
        await self._forget(interaction, delete_picks=True)

    @discord.ui.button(label="Keep my picks, without my name", style=discord.ButtonStyle.primary)
    async def anonymise(
        self, interaction: discord.Interaction[UndercurrentBot], button: discord.ui.Button[Any]
    ) -> None:
        await self._forget(interaction, delete_picks=False)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[UndercurrentBot], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(
            content="Cancelled; nothing was changed.", view=None
        )


class PrivacyCog(
    commands.GroupCog, group_name="privacy", group_description="What the bot stores about you"
):
    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(
        name="export", description="Everything the bot stores about you, as a JSON file"
    )
    async def export(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await privacy_service.export_user_data(
            self.bot.db, interaction.user.id, self.bot.clock.now()
        )
        payload = json.dumps(data, ensure_ascii=False, indent=2).encode()
        await interaction.followup.send(
            "Here is everything Undercurrent stores about you, from every server.",
            file=discord.File(
                io.BytesIO(payload), filename=f"undercurrent-{interaction.user.id}.json"
            ),
            ephemeral=True,
        )

    @app_commands.command(
        name="forget", description="Delete your votes and settings; delete or anonymise your picks"
    )
    async def forget(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        await interaction.response.send_message(
            "This deletes your Heard/Loved marks, your party RSVPs and reminder choices, and your "
            "settings, in every server. Parties you hosted and swap rounds you opened stay, "
            "without your name; picks you brought to swap rounds not yet revealed are withdrawn. "
            "Your picks, seconds and swap reviews can be **deleted**, or **kept without your name** so the "
            "archive keeps its history. This cannot be undone.",
            view=ForgetChoice(self.bot, interaction.user.id),
            ephemeral=True,
        )
