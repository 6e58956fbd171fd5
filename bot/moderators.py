"""Telling a server's moderators about failures they must act on.

A scheduled job that gave up, or a permission the bot lost, is posted to the server's mod-log
channel (``/settings mod-log``); without one — or if the bot may not post there — to the server's
system channel if the bot may post there; otherwise it is only logged. Nothing here raises: a
notice that cannot be delivered must not break the work that tried to send it.

Notices are posted through the outbox, each under a key naming what it is about (``job:42``, a
lost permission in one channel on one day), so the same notice is never posted twice. Each
carries a **Mark handled** button (its ``custom_id`` is how the outbox finds the notice again),
with which a moderator greys it out and signs it.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.jobs import Job, JobKind
from bot.errors import UserError
from bot.outbox import OutboxMessage, PostRefused
from bot.replies import EMBED_DESCRIPTION_LIMIT, clip
from bot.services import settings as settings_service
from bot.views import SafeDynamicItem

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)

NOTICE_TITLE = "Undercurrent needs a moderator"
NOTICE_COLOUR = discord.Colour(0xC0504D)
HANDLED_COLOUR = discord.Colour.dark_grey()
NOTICE_KEY_PREFIX = "notice:"
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


def missing_to_post(channel: discord.abc.GuildChannel | discord.Thread) -> list[str]:
    """The permissions the bot lacks to post a notice or a card in ``channel`` (Discord's
    names). Without Send Messages Discord also takes Embed Links away, so both are named:
    granting both is what makes a post work."""
    granted = channel.permissions_for(channel.guild.me)
    return [label for flag, label in NOTICE_PERMISSIONS.items() if not getattr(granted, flag)]


NOTICE_NAME = re.compile(r"[\w:.-]{1,80}", re.ASCII)


class MarkHandledButton(
    SafeDynamicItem[discord.ui.Button[Any]],
    template=rf"uc:notice:handled:(?P<notice>{NOTICE_NAME.pattern})",
):
    """A moderator (Manage Server) marks a notice handled: greyed out, signed, button gone."""

    def __init__(self, notice: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Mark handled",
                style=discord.ButtonStyle.secondary,
                custom_id=notice_marker(notice),
            )
        )
        self.notice = notice

    @classmethod
    def from_match(cls, match: re.Match[str]) -> MarkHandledButton:
        return cls(match["notice"])

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        if not interaction.permissions.manage_guild:
            raise UserError("Only members with the **Manage Server** permission can do that.")
        shown = interaction.message.embeds if interaction.message else []
        embed = shown[0].copy() if shown else discord.Embed(title=NOTICE_TITLE)
        embed.colour = HANDLED_COLOUR
        embed.set_footer(text=f"Handled by {interaction.user.display_name}")
        await interaction.response.edit_message(embed=embed, view=None)


def notice_marker(notice: str) -> str:
    """The custom_id of a notice's button: how the outbox finds the notice in its channel."""
    return f"uc:notice:handled:{notice}"


async def tell_moderators(bot: UndercurrentBot, guild_id: int, text: str, *, notice: str) -> bool:
    """Post ``text`` where the server's moderators will see it, once per ``notice`` (what it is
    about, ``job:42``, at most 80 characters of letters, digits and ``:.-_``); False if it could
    only be logged."""
    if not NOTICE_NAME.fullmatch(notice):
        raise ValueError(f"a notice is named by 1-80 of [A-Za-z0-9_:.-], not {notice!r}")
    try:
        return await _tell(bot, guild_id, text, notice)
    except Exception:
        # The notice's words may quote members (a party's name), so they are DEBUG only.
        log.exception("Could not tell the moderators of server %s notice %s", guild_id, notice)
        log.debug("Notice %s said: %s", notice, text)
        return False


async def report_lost_access(
    bot: UndercurrentBot,
    guild_id: int,
    channel_id: int,
    doing: str,
    reason: str,
    *,
    retried: bool,
) -> bool:
    """Discord refused (403) to let the bot ``doing`` ("post the card of archive entry #12") in
    a channel: say so, with the permissions to grant when the bot can tell which, and whether it
    tries again by itself (``retried``). Once a day per channel, however often it happens. Like
    ``tell_moderators``, call it outside a database transaction (it reads the settings)."""
    guild = bot.get_guild(guild_id)
    channel = guild.get_channel_or_thread(channel_id) if guild else None
    if channel is None:
        fix = "The channel seems to be gone, or I can no longer see it."
    elif missing := missing_to_post(channel):
        fix = (
            f"I am missing **{', '.join(missing)}** there. Give my role those permissions in "
            "the channel's settings (or its category's)"
        ) + (": I try again every hour." if retried else ".")
    else:
        fix = f"Discord said: {clip(reason, ERROR_SHOWN)}. Check my permissions there."
    text = f"I could not {doing} in <#{channel_id}>. {fix}"
    notice = f"access:{channel_id}:{bot.clock.now():%Y-%m-%d}"
    return await tell_moderators(bot, guild_id, text, notice=notice)


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


async def _tell(bot: UndercurrentBot, guild_id: int, text: str, notice: str) -> bool:
    guild = bot.get_guild(guild_id)
    if guild is None:
        log.warning("Notice %s for server %s, which I am not in", notice, guild_id)
        log.debug("Notice %s said: %s", notice, text)
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
        if await _post_notice(bot, guild_id, channel.id, notice, embed):
            return True
    log.warning(
        "Nowhere to tell the moderators of server %s notice %s (no usable mod-log or system "
        "channel): %s",
        guild_id,
        notice,
        " ".join(problems),
    )
    log.debug("Notice %s said: %s", notice, text)
    return False


async def _post_notice(
    bot: UndercurrentBot, guild_id: int, channel_id: int, notice: str, embed: discord.Embed
) -> bool:
    """Post the notice in one channel through the outbox (once, however often asked)."""
    key = f"{NOTICE_KEY_PREFIX}{notice}:{channel_id}"
    view = discord.ui.View(timeout=None)
    view.add_item(MarkHandledButton(notice))
    async with bot.db.transaction() as conn:
        await bot.outbox.reserve(
            conn, key, marker=notice_marker(notice), channel_id=channel_id, guild_id=guild_id
        )
    try:
        posted = await bot.outbox.post(key, OutboxMessage(embeds=[embed], view=view))
    except (PostRefused, discord.HTTPException) as exc:
        log.warning("Could not post a notice in channel %s: %s", channel_id, exc)
        return False
    return posted is not None
