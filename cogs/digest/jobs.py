"""The weekly digest's job, where it touches Discord: build the week, check the channel, post
once through the outbox, and hand the scheduler next week's job.

A week is one job (``digest:{guild}:{week}``) and one outbox entry per channel
(``digest:{guild}:{week}:{channel}``), and ``digest_posts`` records how it ended, so restarts,
reconnects and retries post it once. A digest that cannot be posted (the channel is gone, or
the bot may not see, post or embed there) is retried hourly three times; the moderators are told
at the first failure and ``/digest status`` keeps the reason. Without Attach Files the digest
still goes out, without its chart, and the moderators are told.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot.charts import render_bar_chart
from bot.domain.digest import LATE_AFTER
from bot.domain.jobs import Job, JobSpec
from bot.domain.timeutil import from_epoch, to_epoch
from bot.moderators import missing_to_post, tell_moderators
from bot.outbox import OutboxMessage, PostRefused
from bot.services import digests as digests_service
from bot.services.digests import DIGEST, DigestContent, DigestRun, WeekOf, post_key
from cogs.digest.embeds import CHART_FILE, chart, digest_embed, quiet_text
from cogs.digest.views import week_marker, week_view

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)


class DigestBlocked(Exception):
    """The digest can't be posted now (a moderator can fix it): the job retries in an hour."""


class DigestJobs:
    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot

    def register(self) -> None:
        self.bot.scheduler.register(DIGEST, self.post_week, on_give_up=self.gave_up)

    def unregister(self) -> None:
        self.bot.scheduler.unregister(DIGEST)

    @property
    def now(self) -> datetime:
        return self.bot.clock.now()

    async def post_week(self, job: Job[DigestRun]) -> list[JobSpec]:
        guild_id = job.guild_id
        assert guild_id is not None
        run = job.payload
        due, now = from_epoch(run.due), self.now
        plan = await digests_service.plan_week(self.bot.db, guild_id, run.week, due, now)
        settings = plan.settings
        of = WeekOf(guild_id, run.week, due)
        record = digests_service.record_week
        if plan.action == "done" or settings is None:
            return await self._next(guild_id)
        if plan.action == "skip":
            spec = await record(self.bot.db, self.bot.scheduler, of, status="skipped", now=now)
            next_at = f" The next one comes <t:{to_epoch(spec.run_at)}:F>." if spec else ""
            await tell_moderators(
                self.bot, guild_id,
                f"The weekly digest due <t:{run.due}:F> was not posted: I was offline then, and "
                f"it is more than 3 days late now, so I skipped it.{next_at}",
                notice=f"digest:{guild_id}:{run.week}:skipped",
            )  # fmt: skip
            return [spec] if spec else []
        content = plan.content
        assert content is not None
        earlier = await digests_service.posted_elsewhere(self.bot.db, guild_id, run.week)
        if earlier is not None:  # posted, then a crash before it was recorded
            spec = await record(
                self.bot.db, self.bot.scheduler, of, status="posted", now=now,
                channel_id=earlier[0], message_id=earlier[1],
            )  # fmt: skip
            return [spec] if spec else []
        if content.quiet and settings.quiet == "skip":
            spec = await record(self.bot.db, self.bot.scheduler, of, status="quiet", now=now)
            return [spec] if spec else []
        channel_id = settings.channel_id
        attach = await self._check_channel(guild_id, channel_id, run.week, job.attempts)
        message = await self.message(
            content, week=run.week, late_by=now - due, attach=attach, note=None
        )
        key = post_key(guild_id, run.week, channel_id)
        await self.bot.outbox.reserve_alone(
            key, marker=week_marker(to_epoch(content.start), to_epoch(content.end)),
            channel_id=channel_id, guild_id=guild_id,
        )  # fmt: skip
        try:
            message_id = await self.bot.outbox.post(key, message)
        except PostRefused as exc:
            await self._blocked(
                guild_id, run.week, job.attempts,
                f"Discord refused the post in <#{channel_id}> ({exc.reason}). Check that the "
                "channel still exists and that I may post there, or pick another with "
                "`/digest setup`.",
            )  # fmt: skip
            raise DigestBlocked(exc.reason) from exc
        spec = await record(
            self.bot.db, self.bot.scheduler, of, status="posted", now=now,
            channel_id=channel_id, message_id=message_id,
        )  # fmt: skip
        log.info("Digest %s of server %s posted (due %s, now %s)", run.week, guild_id, due, now)
        return [spec] if spec else []

    async def _next(self, guild_id: int) -> list[JobSpec]:
        spec = await digests_service.next_job(self.bot.db, guild_id, self.now)
        return [spec] if spec else []

    async def gave_up(self, job: Job[DigestRun], error: str) -> None:
        """Three hourly retries did not help: the week is recorded as failed and next week's
        job is planned (the failure hooks every kind shares tell the moderators)."""
        guild_id = job.guild_id
        assert guild_id is not None
        run = job.payload
        settings = await digests_service.get_settings(self.bot.db, guild_id)
        if settings is not None:
            await self.bot.outbox.drop(
                post_key(guild_id, run.week, settings.channel_id), "the digest gave up"
            )
        await digests_service.record_week(
            self.bot.db, self.bot.scheduler, WeekOf(guild_id, run.week, from_epoch(run.due)),
            status="failed", now=self.now,
            problem=f"The digest of {run.week} was not posted after 4 tries: {error[:300]}",
            schedule_next=True,
        )  # fmt: skip

    async def _check_channel(self, guild_id: int, channel_id: int, week: str, attempt: int) -> bool:
        """Raise ``DigestBlocked`` if the digest can't be posted in its channel; return whether
        the chart can be attached."""
        guild = self.bot.get_guild(guild_id)
        channel = guild.get_channel_or_thread(channel_id) if guild else None
        if guild is None or channel is None:
            problem = (
                f"The digest channel (<#{channel_id}>) is gone, or I can no longer see it. "
                "Pick another with `/digest setup`."
            )
            await self._blocked(guild_id, week, attempt, problem)
            raise DigestBlocked(problem)
        missing = missing_to_post(channel)
        if missing:
            problem = (
                f"I can't post the digest in {channel.mention}: give me "
                + ", ".join(f"**{name}**" for name in missing)
                + " there (in the channel's settings or its category's)."
            )
            await self._blocked(guild_id, week, attempt, problem)
            raise DigestBlocked(problem)
        if not channel.permissions_for(guild.me).attach_files:
            problem = (
                f"I posted the digest in {channel.mention} without its chart: give me "
                "**Attach Files** there for the chart."
            )
            await digests_service.note_problem(self.bot.db, guild_id, problem, self.now)
            await tell_moderators(
                self.bot, guild_id, problem, notice=f"digest:{guild_id}:{week}:chart"
            )
            return False
        return True

    async def _blocked(self, guild_id: int, week: str, attempt: int, problem: str) -> None:
        await digests_service.note_problem(self.bot.db, guild_id, problem, self.now)
        if attempt == 1:
            await tell_moderators(
                self.bot, guild_id,
                f"The weekly digest could not be posted. {problem} I try again every hour, "
                "three times.",
                notice=f"digest:{guild_id}:{week}:blocked",
            )  # fmt: skip

    async def message(
        self,
        content: DigestContent,
        *,
        week: str | None,
        late_by: timedelta | None = None,
        attach: bool,
        note: str | None,
    ) -> OutboxMessage:
        """The digest as a message: the embed with its chart, or the quiet week's line."""
        guild = self.bot.get_guild(content.guild_id)
        name = guild.name if guild else "this server"
        start, end = to_epoch(content.start), to_epoch(content.end)
        lines = [note] if note else []
        if late_by is not None and late_by >= LATE_AFTER:
            lines.append(f"-# Posted late: this digest was due <t:{to_epoch(content.end)}:F>.")
        if content.quiet:
            return OutboxMessage(
                content="\n".join([*lines, quiet_text(name)]),
                view=week_view(start, end, quiet=True),
            )
        title, bars = chart(content) if attach else ("", [])
        files: list[tuple[str, bytes]] = []
        if bars:
            png = await asyncio.to_thread(render_bar_chart, f"{title} this week", bars)
            files.append((CHART_FILE, png))
        embed = digest_embed(content, server_name=name, week=week, with_chart=bool(files))
        return OutboxMessage(
            content="\n".join(lines) or None, embeds=[embed], view=week_view(start, end),
            files=files,
        )  # fmt: skip


def channel_problem(channel: discord.abc.GuildChannel | discord.Thread | None) -> list[str]:
    """What the bot lacks to post a digest with its chart in ``channel``."""
    if channel is None:
        return ["the channel"]
    missing = missing_to_post(channel)
    if not channel.permissions_for(channel.guild.me).attach_files:
        missing.append("Attach Files")
    return missing
