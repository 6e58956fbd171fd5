"""The time-zone option's autocomplete, shared by every command that takes a zone."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.domain.timezones import match_zones


async def autocomplete_zone(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """IANA zones matching what is typed (``berl`` → Europe/Berlin), best first."""
    return [app_commands.Choice(name=name, value=name) for name in match_zones(current)]
