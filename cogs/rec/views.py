"""The private prompt offered when a member shares something the archive already has."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.domain.picks import Pick
from bot.interactions import require_guild
from bot.pick_cards import heading
from bot.services import picks as picks_service
from bot.views import OwnedView

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


class SecondPrompt(OwnedView):
    """Add your voice (and note) to the entry that is already there."""

    def __init__(self, owner_id: int, pick: Pick, note: str | None) -> None:
        super().__init__(owner_id, timeout=600)
        self.pick = pick
        self.note = note
        self.second.label = "Add my note as a second" if note else "Second it"

    @discord.ui.button(label="Second it", style=discord.ButtonStyle.primary)
    async def second(
        self, interaction: discord.Interaction[UndercurrentBot], button: discord.ui.Button[Any]
    ) -> None:
        bot = interaction.client
        await picks_service.second_pick(
            bot.db,
            require_guild(interaction),
            self.pick.id,
            interaction.user.id,
            self.note,
            bot.clock.now(),
        )
        button.disabled = True
        await interaction.response.edit_message(
            content=f"You seconded **#{self.pick.id} {heading(self.pick)}**. "
            "It shows on the entry with `/archive show`.",
            view=self,
        )
        self.stop()
