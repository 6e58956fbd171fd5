"""The ``/about`` command."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.about.embeds import about_embed

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


class AboutCog(commands.Cog):
    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="What this bot is, its version and uptime")
    async def about(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        embed = about_embed(
            version=self.bot.version,
            uptime_seconds=self.bot.uptime_seconds,
            now=self.bot.clock.now(),
            docs_url=self.bot.settings.docs_url,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)
