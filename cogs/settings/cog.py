"""Slash commands for settings. Parsing and storage live in ``bot.services.settings``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.timezones import match_zones
from bot.errors import UserError
from bot.services import settings as settings_service
from cogs.settings.embeds import settings_overview_embed

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


async def autocomplete_zone(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=name, value=name) for name in match_zones(current)]


@app_commands.guild_only()
class SettingsCog(
    commands.GroupCog, group_name="settings", group_description="Your settings and the server's"
):
    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(
        name="timezone", description="Set your own time zone (times are shown in it)"
    )
    @app_commands.describe(zone="An IANA time zone, e.g. Europe/Berlin — start typing a city")
    @app_commands.autocomplete(zone=autocomplete_zone)
    async def set_timezone(
        self, interaction: discord.Interaction, zone: app_commands.Range[str, 1, 100]
    ) -> None:
        stored = await settings_service.set_member_timezone(
            self.bot.db, interaction.user.id, zone, self.bot.clock.now()
        )
        await interaction.response.send_message(
            f"Your time zone is now **{stored}**.", ephemeral=True
        )

    @app_commands.command(
        name="server-timezone", description="Moderators: set the server's default time zone"
    )
    @app_commands.describe(zone="An IANA time zone, e.g. America/Mexico_City — start typing a city")
    @app_commands.autocomplete(zone=autocomplete_zone)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def set_server_timezone(
        self, interaction: discord.Interaction, zone: app_commands.Range[str, 1, 100]
    ) -> None:
        if interaction.guild_id is None:
            raise UserError("The server time zone can only be set inside a server.")
        stored = await settings_service.set_server_timezone(
            self.bot.db, interaction.guild_id, interaction.user.id, zone, self.bot.clock.now()
        )
        await interaction.response.send_message(
            f"This server's default time zone is now **{stored}**. Members who set their own "
            "with `/settings timezone` keep theirs.",
            ephemeral=True,
        )

    @app_commands.command(name="show", description="Show your time zone and the server's")
    async def show(self, interaction: discord.Interaction) -> None:
        overview = await settings_service.get_settings_overview(
            self.bot.db, interaction.guild_id, interaction.user.id
        )
        embed = settings_overview_embed(overview, self.bot.clock.now())
        await interaction.response.send_message(embed=embed, ephemeral=True)
