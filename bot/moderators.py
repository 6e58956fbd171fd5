"""Telling a server's moderators about failures they must act on.

A scheduled job that gave up, or a permission the bot lost, is posted to the server's mod-log
channel (``/settings mod-log``); without one — or if the bot may not post there — to the server's
system channel if the bot may post there; otherwise it is only logged. Nothing here raises: a
notice that cannot be delivered must not break the work that tried to send it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.jobs import Job, JobKind
from bot.replies import EMBED_DESCRIPTION_LIMIT, NO_MENTIONS, clip
from bot.services import settings as settings_service

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)

NOTICE_TITLE = "Undercurrent needs a moderator"
NOTICE_COLOUR = discord.Colour(0xC0504D)
ERROR_SHOWN = 300
DEFAULT_WHAT_TO_DO = (
    "Check that I can still see and post in the channels this feature uses; the bot's operator "
    "can find the full error in the logs."
)
# What the bot needs in a channel to post a notice there, as Discord's UI names it.
NOTICE_PERMISSIONS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
}


def missing_to_post(channel: discord.TextChannel) -> list[str]:
    """The permissions the bot lacks to post a notice in ``channel`` (Discord's names)."""
    granted = channel.permissions_for(channel.guild.me)
    return [label for flag, label in NOTICE_PERMISSIONS.items() if not getattr(granted, flag)]


async def tell_moderators(bot: UndercurrentBot, guild_id: int, text: str) -> bool:
    """Post ``text`` where the server's moderators will see it; False if it could only be logged."""
    try:
        return await _tell(bot, guild_id, text)
    except Exception:
        log.exception("Could not tell the moderators of server %s: %s", guild_id, text)
        return False


async def report_missing_permission(
    bot: UndercurrentBot, guild_id: int, channel_id: int, permission: str, doing: str
) -> bool:
    """For a feature that Discord answered 403: say what the bot could not do, where, and which
    permission to grant. ``doing`` completes "I could not …" ("post the weekly digest").
    Like ``tell_moderators``, call it outside a database transaction (it reads the settings)."""
    text = (
        f"I could not {doing} in <#{channel_id}>: I am missing the **{permission}** permission "
        "there. Give my role that permission in the channel's settings (or its category's), "
        "and I will use it from then on."
    )
    return await tell_moderators(bot, guild_id, text)


def job_failure_notice(kind: JobKind[Any] | None, job: Job[Any], error: str) -> str:
    """What failed and what to do, for a job that gave up."""
    what = (kind.summary if kind and kind.summary else f"A scheduled task ({job.kind})").strip()
    attempts = "once" if job.attempts == 1 else f"{job.attempts} times"
    to_do = kind.what_to_do if kind and kind.what_to_do else DEFAULT_WHAT_TO_DO
    shown = clip(error.replace("`", "'"), ERROR_SHOWN)
    return (
        f"**{what[0].upper()}{what[1:]}** did not happen: I tried {attempts} and gave up.\n"
        f"Error: `{shown}`\n"
        f"**What to do:** {to_do}"
    )


async def _tell(bot: UndercurrentBot, guild_id: int, text: str) -> bool:
    guild = bot.get_guild(guild_id)
    if guild is None:
        log.warning("Notice for server %s, which I am not in: %s", guild_id, text)
        return False
    problems: list[str] = []
    mod_log_id = await settings_service.get_mod_log_channel(bot.db, guild_id)
    targets: list[discord.TextChannel] = []
    if mod_log_id is not None:
        mod_log = guild.get_channel(mod_log_id)
        if not isinstance(mod_log, discord.TextChannel):
            problems.append(
                f"The mod-log channel set with `/settings mod-log` (<#{mod_log_id}>) no longer "
                "exists; set another."
            )
        elif missing := missing_to_post(mod_log):
            problems.append(
                f"I may not post in the mod-log channel {mod_log.mention} (missing "
                f"{', '.join(missing)}); grant that, or set another with `/settings mod-log`."
            )
        else:
            targets.append(mod_log)
    system = guild.system_channel
    if system is not None and system not in targets and not missing_to_post(system):
        targets.append(system)
    for channel in targets:
        body = text if channel.id == mod_log_id else "\n\n".join([text, *problems])
        embed = discord.Embed(
            title=NOTICE_TITLE,
            description=clip(body, EMBED_DESCRIPTION_LIMIT),
            colour=NOTICE_COLOUR,
        )
        try:
            await channel.send(embed=embed, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("Could not post a notice in channel %s: %s", channel.id, exc)
            continue
        return True
    log.warning(
        "Nowhere to tell the moderators of server %s (no usable mod-log or system channel): %s",
        guild_id,
        " ".join([text, *problems]),
    )
    return False
