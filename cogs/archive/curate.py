"""Looking after the archive: ``/archive edit``, ``remove``, ``restore`` and ``link``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.picks import RESTORE_DAYS
from bot.interactions import is_moderator, moderators_only, require_guild
from bot.pick_cards import heading, heading_in_text, refresh_card
from bot.pick_options import RELATION_CHOICES, EntryOption
from bot.replies import MESSAGE_CONTENT_LIMIT, clip
from bot.services import picks as picks_service
from bot.views import ConfirmView
from cogs.archive.views import EditPickModal

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


class CurateCommands(commands.Cog):
    """Mixed into ``ArchiveCog``: the commands that change entries."""

    bot: UndercurrentBot

    @app_commands.command(
        name="edit", description="Edit an entry (the member who shared it, or moderators)"
    )
    @app_commands.describe(id="The entry's number")
    async def edit(
        self, interaction: discord.Interaction[UndercurrentBot], id: EntryOption
    ) -> None:
        pick = await picks_service.check_can_manage(
            self.bot.db,
            require_guild(interaction),
            id,
            interaction.user.id,
            is_moderator(interaction),
        )
        await interaction.response.send_modal(EditPickModal(pick))

    @app_commands.command(
        name="remove",
        description=f"Remove an entry (moderators can restore it for {RESTORE_DAYS} days)",
    )
    @app_commands.describe(id="The entry's number")
    async def remove(
        self, interaction: discord.Interaction[UndercurrentBot], id: EntryOption
    ) -> None:
        guild_id = require_guild(interaction)
        pick = await picks_service.check_can_manage(
            self.bot.db, guild_id, id, interaction.user.id, is_moderator(interaction)
        )

        async def confirmed(confirm: discord.Interaction[UndercurrentBot]) -> None:
            removed = await picks_service.remove_pick(
                self.bot.db,
                guild_id,
                id,
                confirm.user.id,
                is_moderator(confirm),
                self.bot.clock.now(),
            )
            await refresh_card(self.bot, removed, removed=True)
            await confirm.edit_original_response(
                content=f"Removed **#{id} {heading_in_text(removed)}**. "
                f"Moderators can bring it back with `/archive restore` within {RESTORE_DAYS} days."
            )

        view = ConfirmView(interaction.user.id, confirmed, "Remove", working="Removing…")
        await interaction.response.send_message(
            f"Remove **#{id} {heading_in_text(pick)}** from the archive?",
            view=view,
            ephemeral=True,
        )

    @app_commands.command(
        name="restore", description=f"Moderators: undo a removal (within {RESTORE_DAYS} days)"
    )
    @app_commands.describe(id="The entry's number")
    @moderators_only
    async def restore(
        self, interaction: discord.Interaction[UndercurrentBot], id: EntryOption
    ) -> None:
        pick = await picks_service.restore_pick(
            self.bot.db, require_guild(interaction), id, self.bot.clock.now()
        )
        await interaction.response.send_message(
            f"Restored **#{id} {heading_in_text(pick)}**.", ephemeral=True
        )
        await refresh_card(self.bot, pick)

    @app_commands.command(
        name="link", description="Record lineage: how one entry relates to another"
    )
    @app_commands.describe(
        from_id="The entry that grew out of the other",
        to_id="The entry it grew out of",
        relation="How they are related",
    )
    @app_commands.choices(relation=RELATION_CHOICES)
    async def link(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        from_id: EntryOption,
        to_id: EntryOption,
        relation: str,
    ) -> None:
        source, target = await picks_service.link_picks(
            self.bot.db,
            require_guild(interaction),
            from_id,
            to_id,
            relation,
            interaction.user.id,
            self.bot.clock.now(),
        )
        await interaction.response.send_message(
            clip(
                f"Linked: **#{source.id} {heading(source)}** is *{relation}* **#{target.id} {heading(target)}**.",
                MESSAGE_CONTENT_LIMIT,
            ),
            ephemeral=True,
        )
