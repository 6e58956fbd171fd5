"""Embeds for ``/settings``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import discord

from bot.services.settings import DEFAULT_TIMEZONE, SettingsOverview

ACCENT = discord.Colour(0x5B7DB1)


def describe_zone_now(zone: str, now: datetime) -> str:
    """``Sat 21 Nov, 15:04 (UTC+01:00)``: the wall-clock time in ``zone`` at ``now``."""
    local = now.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%a %d %b, %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def settings_overview_embed(overview: SettingsOverview, now: datetime) -> discord.Embed:
    embed = discord.Embed(title="Your settings", colour=ACCENT)
    if overview.user_timezone:
        mine = f"**{overview.user_timezone}** — {describe_zone_now(overview.user_timezone, now)}"
    else:
        mine = "Not set — times use the server default. Set yours with `/settings timezone`."
    embed.add_field(name="Your time zone", value=mine, inline=False)
    if overview.server_timezone:
        server = (
            f"**{overview.server_timezone}** — {describe_zone_now(overview.server_timezone, now)}"
        )
    else:
        server = (
            f"Not set — **{DEFAULT_TIMEZONE}** is used. Moderators: `/settings server-timezone`."
        )
    embed.add_field(name="Server default", value=server, inline=False)
    if overview.mod_log_channel_id is not None:
        mod_log = f"<#{overview.mod_log_channel_id}>"
    else:
        mod_log = (
            "Not set — failures moderators must act on go to the server's system channel, if "
            "I may post there. Moderators: `/settings mod-log`."
        )
    embed.add_field(name="Mod-log channel", value=mod_log, inline=False)
    embed.add_field(
        name="Now",
        value=(
            f"{discord.utils.format_dt(now, 'F')} — this is how Discord shows the current moment on your "
            f"device; times the bot posts are shown the same way."
        ),
        inline=False,
    )
    embed.set_footer(
        text=f"Times in bot messages use {overview.effective_timezone} when written out."
    )
    return embed
