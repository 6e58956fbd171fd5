"""``/digest``: each server's weekly digest. Moderators (Manage Server) set it up, post an extra
one, choose its sections and what a quiet week does; anyone can preview it and see its status."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.digest import WEEKDAYS
from bot.domain.timeutil import to_epoch
from bot.errors import UserError
from bot.interactions import require_guild, server_managers_only
from bot.outbox import PostRefused
from bot.replies import NO_MENTIONS
from bot.services import digests as digests_service
from bot.services.digests import DigestStatus, last_seven_days
from bot.zone_options import autocomplete_zone
from cogs.digest.jobs import DigestJobs, channel_problem
from cogs.digest.views import DYNAMIC_ITEMS, SectionsView, sections_text, week_marker

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)

WEEKDAY_CHOICES = [
    app_commands.Choice(name=name.title(), value=number) for number, name in enumerate(WEEKDAYS)
]
QUIET_CHOICES = [
    app_commands.Choice(name="post: a one-line quiet week", value="post"),
    app_commands.Choice(name="skip: post nothing", value="skip"),
]
#: An extra digest at most this often per server (only one that was posted counts).
EXTRA_EVERY = timedelta(minutes=5)
STATUS_WORDS = {
    "posted": "posted",
    "quiet": "a quiet week, skipped as set",
    "skipped": "skipped: more than 3 days late after downtime",
    "failed": "not posted: it gave up after 4 tries",
}


def stamp(epoch: int) -> str:
    return f"<t:{epoch}:F> (<t:{epoch}:R>)"


class DigestCog(commands.GroupCog, group_name="digest", group_description="The weekly digest"):
    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot
        self.jobs = DigestJobs(bot)
        #: When each server's last extra digest went out (one per EXTRA_EVERY; in memory).
        self._extras: dict[int, datetime] = {}
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.jobs.register()
        # A digest that is on always has its next week planned, whatever happened to its job
        # (the bot was removed from the server and invited back, say).
        planned = await digests_service.plan_missing(
            self.bot.db, self.bot.scheduler, self.bot.clock.now()
        )
        if planned:
            log.info("Planned the next week of %d digest(s) that had none", planned)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await digests_service.plan_missing(
            self.bot.db, self.bot.scheduler, self.bot.clock.now(), guild.id
        )

    async def cog_unload(self) -> None:
        self.jobs.unregister()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    @app_commands.command(
        name="setup", description="Post a digest of the week in a channel (Manage Server)"
    )
    @app_commands.describe(
        channel="Where the digest goes",
        weekday="The day it comes (default: Monday)",
        at="The time it comes, HH:MM on a 24-hour clock (default: 10:00)",
        timezone="The zone of that time (default: the server's time zone)",
    )
    @app_commands.choices(weekday=WEEKDAY_CHOICES)
    @app_commands.autocomplete(timezone=autocomplete_zone)
    @server_managers_only
    async def setup(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        channel: discord.TextChannel,
        weekday: int | None = None,
        at: app_commands.Range[str, 1, 10] | None = None,
        timezone: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        missing = [name for name in channel_problem(channel) if name != "Attach Files"]
        if missing:
            raise UserError(
                f"I can't post the digest in {channel.mention}: give me "
                + ", ".join(f"**{name}**" for name in missing)
                + " there first. Nothing was changed."
            )
        planned = await digests_service.setup(
            self.bot.db, self.bot.scheduler, guild_id=guild_id, user_id=interaction.user.id,
            channel_id=channel.id, weekday=weekday, at=at, zone=timezone,
            now=self.bot.clock.now(),
        )  # fmt: skip
        settings = planned.settings
        lines = [
            f"The digest goes to {channel.mention} every **{WEEKDAYS[settings.weekday].title()}** "
            f"at **{settings.at:%H:%M}** ({planned.zone}, {planned.zone_source}).",
        ]
        if planned.retrying:
            lines.append("The digest that could not be posted is tried again now.")
        elif planned.next_run is not None:
            lines.append(f"Next: {stamp(to_epoch(planned.next_run))}.")
        if "Attach Files" in channel_problem(channel):
            lines.append(
                "-# I can't attach files there: the digest comes without its chart until I "
                "have **Attach Files**."
            )
        lines.append("-# `/digest preview` shows it as it would look now.")
        await interaction.response.send_message(
            "\n".join(lines), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(
        name="preview", description="This week's digest as it would be posted now (only you see it)"
    )
    async def preview(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        guild_id = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings = await digests_service.get_settings(self.bot.db, guild_id)
        now = self.bot.clock.now()
        start, end = last_seven_days(now)
        content = await digests_service.preview(self.bot.db, guild_id, start, end, now)
        note = "-# Preview of the last 7 days: only you can see this."
        if settings is None:
            note += " Start the weekly digest with `/digest setup`."
        message = await self.jobs.message(content, week=None, attach=True, note=note)
        await interaction.followup.send(
            content=message.content or discord.utils.MISSING,
            embeds=list(message.embeds),
            files=message.discord_files(),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(
        name="now",
        description="Post the digest of the last 7 days now, as an extra (Manage Server)",
    )
    @server_managers_only
    async def now(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        guild_id = require_guild(interaction)
        settings = await digests_service.get_settings(self.bot.db, guild_id)
        if settings is None:
            raise UserError("Set the digest up first with `/digest setup`: it needs a channel.")
        last = self._extras.get(guild_id)
        if last is not None and self.bot.clock.now() - last < EXTRA_EVERY:
            ready = to_epoch(last + EXTRA_EVERY)
            raise UserError(
                f"An extra digest was posted <t:{to_epoch(last)}:R>: the next can go <t:{ready}:R>."
            )
        guild = interaction.guild
        channel = guild.get_channel(settings.channel_id) if guild else None
        missing = channel_problem(channel)
        blocking = [name for name in missing if name != "Attach Files"]
        if channel is None or blocking:
            raise UserError(
                f"I can't post in the digest channel <#{settings.channel_id}>"
                + (
                    f": give me {', '.join(f'**{name}**' for name in blocking)} there."
                    if channel is not None
                    else ": it is gone. Pick another with `/digest setup`."
                )
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.bot.clock.now()
        start, end = last_seven_days(now)
        content = await digests_service.preview(self.bot.db, guild_id, start, end, now)
        if content.quiet and settings.quiet == "skip":
            await interaction.followup.send(
                "Nothing was shared, swapped or played in the last 7 days, and quiet weeks are "
                "set to post nothing (`/digest quiet`): I posted nothing.",
                ephemeral=True,
            )
            return
        still = " The weekly one still comes at its time." if settings.enabled else ""
        message = await self.jobs.message(
            content, week=None, attach="Attach Files" not in missing,
            note=f"-# An extra digest of the last 7 days, asked for by "
            f"{interaction.user.mention}.{still}",
        )  # fmt: skip
        key = f"digest:{guild_id}:extra:{interaction.id}"
        await self.bot.outbox.reserve_alone(
            key, marker=week_marker(to_epoch(start), to_epoch(end)),
            channel_id=settings.channel_id, guild_id=guild_id,
        )  # fmt: skip
        try:
            message_id = await self.bot.outbox.post(key, message)
        except PostRefused as exc:
            raise UserError(
                f"Discord refused the post in <#{settings.channel_id}> ({exc.reason}). Check "
                "my permissions there."
            ) from exc
        assert message_id is not None
        self._extras[guild_id] = now
        await digests_service.record_extra(
            self.bot.db, guild_id=guild_id, tag=str(interaction.id),
            channel_id=settings.channel_id, message_id=message_id,
            user_id=interaction.user.id, now=now,
        )  # fmt: skip
        url = f"https://discord.com/channels/{guild_id}/{settings.channel_id}/{message_id}"
        await interaction.followup.send(f"Posted: {url}", ephemeral=True)

    @app_commands.command(
        name="sections", description="Choose the digest's sections (Manage Server)"
    )
    @server_managers_only
    async def sections(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        guild_id = require_guild(interaction)
        settings = await digests_service.get_settings(self.bot.db, guild_id)
        if settings is None:
            raise UserError("This server has no digest yet: start one with `/digest setup`.")
        await interaction.response.send_message(
            sections_text(settings),
            view=SectionsView(self.bot, interaction.user.id, settings),
            ephemeral=True,
        )

    @app_commands.command(
        name="quiet", description="What a week with nothing in it does (Manage Server)"
    )
    @app_commands.describe(mode="post a one-line quiet week, or skip it")
    @app_commands.choices(mode=QUIET_CHOICES)
    @server_managers_only
    async def quiet(self, interaction: discord.Interaction[UndercurrentBot], mode: str) -> None:
        guild_id = require_guild(interaction)
        await digests_service.set_quiet(
            self.bot.db, guild_id, interaction.user.id, mode, self.bot.clock.now()
        )
        await interaction.response.send_message(
            "A quiet week now gets a one-line digest."
            if mode == "post"
            else "A quiet week now gets no digest at all.",
            ephemeral=True,
        )

    @app_commands.command(
        name="status", description="The digest's next run, the last one posted, the last problem"
    )
    async def status(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        guild_id = require_guild(interaction)
        found = await digests_service.status(self.bot.db, guild_id)
        await interaction.response.send_message(
            self.status_text(interaction, found), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    def status_text(
        self, interaction: discord.Interaction[UndercurrentBot], found: DigestStatus
    ) -> str:
        settings = found.settings
        when = (
            f"<#{settings.channel_id}>, {WEEKDAYS[settings.weekday].title()}s at "
            f"{settings.at:%H:%M} ({found.zone}, {found.zone_source})"
        )
        lines = [
            f"**On**: {when}."
            if settings.enabled
            else f"**Off** (was {when}). `/digest setup` starts it again."
        ]
        if found.next_run is not None:
            lines.append(f"Next: {stamp(to_epoch(found.next_run))}.")
        last = found.last_posted
        if last is not None:
            url = f"https://discord.com/channels/{settings.guild_id}/{last['channel_id']}/{last['message_id']}"
            kind = "an extra" if str(last["week"]).startswith("extra:") else str(last["week"])
            late = f", {last['late_by_s'] // 60} min late" if last["late_by_s"] >= 60 else ""
            lines.append(f"Last posted: {url} ({kind}{late}) {stamp(last['done_at'])}.")
        else:
            lines.append("No digest posted yet.")
        weekly = found.last_weekly
        if weekly is not None and weekly["status"] != "posted":
            lines.append(f"Week {weekly['week']}: {STATUS_WORDS[weekly['status']]}.")
        off = sorted(settings.sections_off)
        lines.append(
            "Quiet weeks: "
            + ("a one-line digest." if settings.quiet == "post" else "nothing posted.")
            + (f" Sections off: {', '.join(off)}." if off else "")
        )
        if settings.problem and settings.problem_at is not None:
            since = (
                " A digest went out since."
                if last is not None and last["done_at"] >= to_epoch(settings.problem_at)
                else ""
            )
            lines.append(
                f"Last problem, {stamp(to_epoch(settings.problem_at))}: {settings.problem}{since}"
            )
        guild = interaction.guild
        channel = guild.get_channel(settings.channel_id) if guild else None
        missing = channel_problem(channel)
        if settings.enabled and missing:
            lines.append(
                "**Right now** the digest channel is gone: pick another with `/digest setup`."
                if channel is None
                else f"**Right now** I lack {', '.join(f'**{m}**' for m in missing)} in <#{settings.channel_id}>."
            )
        return "\n".join(lines)

    @app_commands.command(
        name="off", description="Stop the weekly digest; settings are kept (Manage Server)"
    )
    @server_managers_only
    async def off(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        guild_id = require_guild(interaction)
        was_on = await digests_service.turn_off(
            self.bot.db, self.bot.scheduler, guild_id, interaction.user.id, self.bot.clock.now()
        )
        await interaction.response.send_message(
            "The weekly digest is off. Its settings are kept: `/digest setup` starts it again."
            if was_on
            else "The weekly digest is not on here.",
            ephemeral=True,
        )
