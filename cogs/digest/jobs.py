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
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.charts import render_bar_chart
from bot.domain.digest import LATE_AFTER, DigestSettings
from bot.domain.jobs import Job, JobSpec
from bot.domain.timeutil import from_epoch, to_epoch
from bot.moderators import missing_to_post, tell_moderators
from bot.outbox import OutboxMessage, PostRefused
from bot.services import digests as digests_service
from bot.services.digests import (
    DIGEST,
    DIGEST_RETRY,
    DigestContent,
    DigestRun,
    WeekOf,
    post_key,
)
from cogs.digest.embeds import CHART_FILE, chart, digest_embed, quiet_text
from cogs.digest.views import week_marker, week_view

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)
CHART_TURN = asyncio.Semaphore(1)


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
        of = WeekOf(guild_id, run.week, due)
        plan = await digests_service.plan_week(self.bot.db, guild_id, run, now)
        settings, content = plan.settings, plan.content
        if plan.action == "done" or settings is None:
            return self._then(await digests_service.next_job(self.bot.db, of, now))
        if plan.action == "skip":
            spec = await self._record(of, "skipped")
            next_at = f" The next one comes <t:{to_epoch(spec.run_at)}:F>." if spec else ""
            await tell_moderators(
                self.bot, guild_id,
                f"The weekly digest due <t:{run.due}:F> was not posted: I was offline then, and "
                f"it is more than 3 days late now, so I skipped it.{next_at}",
                notice=f"digest:{guild_id}:{run.week}:skipped",
            )  # fmt: skip
            return self._then(spec)
        assert content is not None
        earlier = await self._earlier_post(guild_id, run.week, settings.channel_id)
        if earlier is not None:  # posted, then stopped before it was recorded
            where, posted = earlier
            return self._then(await self._record(of, "posted", channel_id=where, message_id=posted))
        if content.quiet and settings.quiet == "skip":
            return self._then(await self._record(of, "quiet"))
        channel_id = settings.channel_id
        key = post_key(guild_id, run.week, channel_id)
        try:
            attach = await self._check_channel(guild_id, channel_id, run.week, job.attempts)
            message = await self.message(
                content, week=run.week, late=self._late(job, due, settings), attach=attach,
                note=None,
            )  # fmt: skip
            await self.bot.outbox.reserve_alone(
                key, marker=week_marker(run.start, run.due), channel_id=channel_id,
                guild_id=guild_id,
            )  # fmt: skip
            message_id = await self._post(key, message, guild_id, run.week, job.attempts)
        except DigestBlocked as blocked:
            if job.attempts < DIGEST_RETRY.max_attempts:
                raise  # the scheduler tries again in an hour
            return self._then(await self._fail(of, key, str(blocked)))
        spec = await self._record(of, "posted", channel_id=channel_id, message_id=message_id)
        log.info("Digest %s of server %s posted (due %s, now %s)", run.week, guild_id, due, now)
        return self._then(spec)

    def _late(self, job: Job[DigestRun], due: datetime, settings: DigestSettings) -> bool:
        """Whether the digest goes out late because it could not go at its time: the bot was
        down then, or it is a retry (a lost channel). Queueing behind other servers' digests
        due the same minute is not lateness."""
        if self.now - due < LATE_AFTER:
            return False
        missed = due < self.bot.started_at or job.attempts > 1
        return missed or (settings.problem_at is not None and settings.problem_at >= due)

    @staticmethod
    def _then(spec: JobSpec | None) -> list[JobSpec]:
        """Next week's job, for the scheduler to insert as it marks this one done."""
        return [spec] if spec is not None else []

    async def _record(
        self,
        of: WeekOf,
        status: str,
        *,
        channel_id: int | None = None,
        message_id: int | None = None,
    ) -> JobSpec | None:
        return await digests_service.record_week(
            self.bot.db, of, status=status, now=self.now, channel_id=channel_id,
            message_id=message_id,
        )  # fmt: skip

    async def _post(
        self, key: str, message: OutboxMessage, guild_id: int, week: str, attempt: int
    ) -> int | None:
        try:
            return await self.bot.outbox.post(key, message)
        except PostRefused as exc:
            entry = await self.bot.outbox.get(key)
            where = f"<#{entry.channel_id}>" if entry and entry.channel_id else "the digest channel"
            problem = (
                f"Discord refused the post in {where} ({exc.reason}). Check that the channel "
                "still exists and that I may post there, or pick another with `/digest setup`."
            )
            await self._blocked(guild_id, week, attempt, problem)
            raise DigestBlocked(problem) from exc

    async def _earlier_post(
        self, guild_id: int, week: str, channel_id: int
    ) -> tuple[int, int] | None:
        """The week's digest, if an earlier attempt posted it: recorded by the outbox, or found
        in a channel the digest was posting to before a moderator picked another (a post whose
        id was never recorded). Entries for other channels that posted nothing are dropped."""
        for entry in await digests_service.week_posts(self.bot.db, guild_id, week):
            if entry.status == "posted" and entry.channel_id and entry.posted_id:
                return entry.channel_id, entry.posted_id
            if entry.status == "posted" or entry.channel_id == channel_id:
                continue
            if entry.status == "pending" and entry.channel_id is not None:
                found = await self.bot.outbox.find_existing(entry.key)
                if found is not None:
                    return entry.channel_id, found
            await self.bot.outbox.drop(entry.key, "the digest channel changed")
        return None

    async def _fail(self, of: WeekOf, key: str, problem: str) -> JobSpec | None:
        """The last retry failed too: the week is recorded as not posted and next week's is
        planned as this job completes; the moderators are told."""
        await self.bot.outbox.drop(key, "the digest could not be posted")
        spec = await digests_service.record_week(
            self.bot.db, of, status="failed", now=self.now,
            problem=f"The digest due <t:{to_epoch(of.due)}:F> was not posted after 4 tries. {problem}",
        )  # fmt: skip
        next_at = f" Next week's comes <t:{to_epoch(spec.run_at)}:F>." if spec else ""
        await tell_moderators(
            self.bot, of.guild_id,
            f"The weekly digest due <t:{to_epoch(of.due)}:F> was not posted: I tried four "
            f"times, an hour apart. {problem}{next_at}",
            notice=f"digest:{of.guild_id}:{of.week}:failed",
        )  # fmt: skip
        return spec

    async def gave_up(self, job: Job[DigestRun], error: str) -> None:
        """A week's job failed for good on an unexpected error (the digest's own failures are
        handled in ``post_week``): record the week and plan the next (the failure hooks every
        kind shares tell the moderators)."""
        guild_id = job.guild_id
        assert guild_id is not None
        run = job.payload
        await digests_service.give_up_week(
            self.bot.db, self.bot.scheduler, WeekOf(guild_id, run.week, from_epoch(run.due)),
            f"The digest due <t:{run.due}:F> was not posted: {error[:300]}", self.now,
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
        late: bool = False,
        attach: bool,
        note: str | None,
    ) -> OutboxMessage:
        """The digest as a message: the embed with its chart, or the quiet week's line."""
        guild = self.bot.get_guild(content.guild_id)
        name = guild.name if guild else "this server"
        start, end = to_epoch(content.start), to_epoch(content.end)
        lines = [note] if note else []
        if late:
            lines.append(f"-# Posted late: this digest was due <t:{to_epoch(content.end)}:F>.")
        if content.quiet:
            return OutboxMessage(
                content="\n".join([*lines, quiet_text(name)]),
                view=week_view(start, end, quiet=True),
            )
        title, bars = chart(content) if attach else ("", [])
        files: list[tuple[str, bytes]] = []
        if bars:
            # One chart at a time: drawing holds the GIL for ~0.1 s, and many at once (a burst
            # of servers due the same minute) would starve the gateway's heartbeat.
            async with CHART_TURN:
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
