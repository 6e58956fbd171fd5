"""Slash commands for settings. Parsing and storage live in ``bot.services.settings``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiosqlite
import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.interactions import NOT_IN_A_SERVER, require_guild, server_managers_only
from bot.moderators import missing_to_post
from bot.services import digests as digests_service
from bot.services import settings as settings_service
from bot.zone_options import autocomplete_zone
from cogs.settings.embeds import settings_overview_embed

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


class TextChannelOption(app_commands.Transformer):
    """A channel option whose picker lists text (and announcement) channels only. The channel
    arrives as given, so a command can refuse anything else in words rather than the tree's
    generic "not a valid value" (a client can send a channel the picker would not offer)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(
        self, interaction: discord.Interaction[Any], value: app_commands.AppCommandChannel
    ) -> app_commands.AppCommandChannel:
        return value


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
        self,
        interaction: discord.Interaction[UndercurrentBot],
        zone: app_commands.Range[str, 1, 100],
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
    @server_managers_only
    async def set_server_timezone(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        zone: app_commands.Range[str, 1, 100],
    ) -> None:
        guild_id = require_guild(interaction)
        now = self.bot.clock.now()

        async def move_the_digest(conn: aiosqlite.Connection) -> None:
            await digests_service.follow_server_zone(conn, self.bot.scheduler, guild_id, now)

        stored = await settings_service.set_server_timezone(
            self.bot.db, guild_id, interaction.user.id, zone, now, also=move_the_digest
        )
        await interaction.response.send_message(
            f"This server's default time zone is now **{stored}**. Members who set their own "
            "with `/settings timezone` keep theirs.",
            ephemeral=True,
        )

    @app_commands.command(
        name="mod-log", description="Moderators: where I tell you about failures to act on"
    )
    @app_commands.describe(
        channel="A text channel moderators read; leave it out to clear the setting"
    )
    @server_managers_only
    async def set_mod_log(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        channel: app_commands.Transform[app_commands.AppCommandChannel, TextChannelOption]
        | None = None,
    ) -> None:
        guild = interaction.guild
        if guild is None:
            raise UserError(NOT_IN_A_SERVER)
        target = None if channel is None else guild.get_channel(channel.id)
        if channel is not None and not isinstance(target, discord.TextChannel):
            raise UserError(
                f"{channel.mention} is not a text channel. Pick a text channel for the mod log, "
                "or run `/settings mod-log` without a channel to clear it."
            )
        had = await settings_service.set_mod_log_channel(
            self.bot.db,
            guild.id,
            interaction.user.id,
            None if channel is None else channel.id,
            self.bot.clock.now(),
        )
        if not isinstance(target, discord.TextChannel):
            reply = (
                "The mod-log channel is cleared. " if had else "No mod-log channel was set. "
            ) + (
                "Failures you must act on go to the server's system channel if I may post "
                "there; otherwise they are only logged."
            )
        else:
            reply = (
                f"Failures you must act on (a scheduled job that gave up, a permission I lost) "
                f"now go to {target.mention}."
            )
            missing = missing_to_post(target)
            if missing:
                reply += (
                    f" I can't post there yet: give me **{', '.join(missing)}** in that channel."
                )
        await interaction.response.send_message(reply, ephemeral=True)

    @app_commands.command(name="show", description="Show your time zone and the server's settings")
    async def show(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        overview = await settings_service.get_settings_overview(
            self.bot.db, interaction.guild_id, interaction.user.id
        )
        embed = settings_overview_embed(overview, self.bot.clock.now())
        await interaction.response.send_message(embed=embed, ephemeral=True)
