"""Embeds for ``/about``."""

from __future__ import annotations

from datetime import datetime, timedelta

import discord

from bot import DESCRIPTION

ACCENT = discord.Colour(0x5B7DB1)


def format_duration(seconds: float) -> str:
    """``3d 4h 5m``; under a minute, ``42s``."""
    total = int(seconds)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    if days or hours or minutes:
        parts.append(f"{minutes}m")
    return " ".join(parts) if parts else f"{secs}s"


def about_embed(
    *, version: str, uptime_seconds: float, now: datetime, docs_url: str
) -> discord.Embed:
    started = now - timedelta(seconds=uptime_seconds)
    embed = discord.Embed(
        title="Undercurrent", description=DESCRIPTION, colour=ACCENT, url=docs_url
    )
    embed.add_field(name="Version", value=version)
    embed.add_field(
        name="Uptime",
        value=f"{format_duration(uptime_seconds)} (since {discord.utils.format_dt(started, 'R')})",
    )
    embed.add_field(name="Commands", value=f"[Command reference]({docs_url})", inline=False)
    return embed
