"""The Bot subclass, its command tree with the one error handler, and command sync.

Resources (database, clock) are created in ``__main__`` and handed in; ``setup_hook`` registers
what the bot itself owns (notices' buttons, the outbox's hourly sweep), loads the feature cogs,
starts the scheduler and the outbox's start-up reconciliation once, and syncs application commands
only when they changed (Discord allows 200 command creates a day; syncing on every start would
burn them).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import Database
from bot.db import backup as backups
from bot.db.repos import meta as meta_repo
from bot.domain.jobs import Job, JobSpec, NoPayload
from bot.domain.outbox import OutboxEntry
from bot.domain.sharding import IdentifyPlan
from bot.instance import HEARTBEAT_EVERY, heartbeat_document, write_heartbeat
from bot.interactions import answer_if_expired, report_error, unusable_option
from bot.moderators import (
    NOTICE_KEY_PREFIX,
    MarkHandledButton,
    job_failure_notice,
    report_lost_access,
    tell_moderators,
)
from bot.outbox import OUTBOX_SWEEP, SWEEP_EVERY, SWEEP_IDLE, Outbox, sweep_job
from bot.replies import NO_MENTIONS, reply_privately
from bot.scheduler import Scheduler

log = logging.getLogger(__name__)

DEFAULT_EXTENSIONS: tuple[str, ...] = (
    "cogs.settings",
    "cogs.about",
    "cogs.rec",
    "cogs.archive",
    "cogs.party",
    "cogs.swap",
    "cogs.digest",
    "cogs.privacy",
)

# What the invite link asks for: only what the features that exist use (README → "Creating the
# Discord application and inviting the bot"; tests/unit/test_readme.py keeps the two equal).
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    create_public_threads=True,
    create_events=True,
)


def next_on_the_hour(last: datetime, now: datetime) -> datetime:
    """The next sweep after ``last``, on its hourly grid, and after ``now``: after downtime (or
    a clock jump) the sweeps missed are not run one after another, one is enough."""
    following = last + SWEEP_EVERY
    if following <= now:
        following += SWEEP_EVERY * (int((now - following) / SWEEP_EVERY) + 1)
    return following


# Restart-proof buttons the bot itself owns (features register theirs when they load).
CLIENT_DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (MarkHandledButton,)


class UndercurrentTree(app_commands.CommandTree["UndercurrentBot"]):
    """The command tree: every command error ends here, exactly once."""

    async def interaction_check(self, interaction: discord.Interaction[UndercurrentBot]) -> bool:
        """Refuse, privately, option values Discord itself never sends (numbers past its limit,
        broken text) before any command or autocomplete sees them."""
        data: dict[str, Any] = dict(interaction.data or {})
        problem = unusable_option(data.get("options", ()))
        if problem is None:
            return True
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])
        else:
            await reply_privately(interaction, problem)
        return False

    async def on_error(
        self, interaction: discord.Interaction[UndercurrentBot], error: app_commands.AppCommandError
    ) -> None:
        name = interaction.command.qualified_name if interaction.command else "?"
        await report_error(interaction, error, f"Command /{name}")


class UndercurrentBot(commands.AutoShardedBot):
    """Undercurrent's client. Construct with an open ``Database``; ``close()`` leaves it open.

    One process runs every shard, as many as Discord recommends (``GET /gateway/bot``) unless
    ``shard_count`` pins it. Discord sends a guild's events to shard ``(guild_id >> 22) %
    shard_count`` and DMs to shard 0 only.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        clock: Clock | None = None,
        extensions: Sequence[str] = DEFAULT_EXTENSIONS,
        run_background_work: bool = True,
        shard_count: int | None = None,
        heartbeat: Path | None = None,
    ) -> None:
        # Undercurrent never joins voice: don't warn at every start that voice libraries are absent.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = True  # channel/thread/role cache; nothing privileged
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            tree_cls=UndercurrentTree,
            allowed_mentions=NO_MENTIONS,
            max_messages=None,
            shard_count=shard_count,
        )
        self.settings = settings
        self.db = db
        self.clock: Clock = clock or SystemClock()
        #: When this process started, on the bot's clock: work due before it was missed while
        #: the bot was down (a digest posted then says it is late).
        self.started_at = self.clock.now()
        self.scheduler = Scheduler(db, self.clock, gate=self.wait_until_ready)
        self.scheduler.on_failure(self.job_gave_up)
        # Every post made exactly once goes through here; features register renderers in cog_load.
        self.outbox = Outbox(db, self, self.clock)
        self.outbox.on_refused = self.post_refused
        self.version = __version__
        self._extensions = tuple(extensions)
        self._run_background_work = run_background_work
        self._started_monotonic = time.monotonic()
        self.ready_count = 0
        self._identify_plan: IdentifyPlan | None = None
        # Fire-and-forget work (card updates after /privacy forget …), kept referenced until done.
        self.background_tasks: set[asyncio.Task[None]] = set()
        #: Set once setup_hook begins: from then on a failed first login is not retried.
        self.setup_started = False
        #: Where ``python -m bot check --live`` reads how the gateway is (bot/instance.py).
        self.heartbeat_file = heartbeat
        self._heartbeat_failed = False
        self._beating = False

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self._started_monotonic

    async def setup_hook(self) -> None:
        self.setup_started = True
        self.add_dynamic_items(*CLIENT_DYNAMIC_ITEMS)
        # A notice an earlier process never recorded is found by its button, or left unsaid:
        # its words were not stored, and an old failure is not worth a second notice.
        self.outbox.register(NOTICE_KEY_PREFIX, _notice_not_rebuilt)
        for extension in self._extensions:
            await self.load_extension(extension)
        self.scheduler.register(OUTBOX_SWEEP, self._sweep_outbox)
        # Registered whatever the settings, so a backup scheduled before BACKUP_DIR was unset
        # runs once, finds nothing to do, and ends the series.
        self.scheduler.register(backups.DAILY_BACKUP, self._daily_backup)
        starting = [sweep_job(self.clock.now() + SWEEP_EVERY)]
        if self.settings.backup_dir is not None:
            starting.append(backups.daily_backup_job(self.clock.now()))
        await self.scheduler.schedule_all(starting)
        if self._run_background_work:
            # Before connecting, so nothing above it is this process's own work.
            earlier = await self.outbox.last_id()
            await self.scheduler.start()
            # After the cogs, so their outbox renderers are registered; REST only, so it need
            # not wait for the gateway.
            self._keep(
                asyncio.create_task(self._reconcile_outbox(earlier), name="outbox-reconcile")
            )
            self.start_heartbeat()
        await self.sync_commands()

    def _keep(self, task: asyncio.Task[None]) -> None:
        self.background_tasks.add(task)
        task.add_done_callback(self.background_tasks.discard)

    # -- health ---------------------------------------------------------------------------

    def start_heartbeat(self) -> None:
        """Begin writing the heartbeat file (once; before the first login, so a bot waiting for
        the network is seen running but not connected). Nothing without a heartbeat file."""
        if self.heartbeat_file is None or self._beating:
            return
        self._beating = True
        self._keep(asyncio.create_task(self._beat(), name="heartbeat"))

    async def _beat(self) -> None:
        """Rewrite the heartbeat file every ``HEARTBEAT_EVERY`` seconds of real time (shard
        changes rewrite it at once, below)."""
        while True:
            self.write_heartbeat()
            await asyncio.sleep(HEARTBEAT_EVERY)

    def write_heartbeat(self) -> None:
        if self.heartbeat_file is None:
            return
        try:
            write_heartbeat(self.heartbeat_file, heartbeat_document(self, version=self.version))
        except OSError as exc:
            if not self._heartbeat_failed:  # once, not every 20 s
                log.warning("Cannot write the heartbeat %s (%s)", self.heartbeat_file, exc)
            self._heartbeat_failed = True
        else:
            self._heartbeat_failed = False

    async def on_shard_connect(self, shard_id: int) -> None:
        self.write_heartbeat()

    async def on_shard_disconnect(self, shard_id: int) -> None:
        log.info("Shard %d lost its gateway connection; discord.py reconnects it", shard_id)
        self.write_heartbeat()

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.write_heartbeat()

    # -- scheduled backups ----------------------------------------------------------------

    async def _daily_backup(self, job: Job[NoPayload]) -> list[JobSpec]:
        """A checked copy of the database into ``BACKUP_DIR``, the oldest pruned, then
        tomorrow's. A failure is logged and told to each server's moderators, and tomorrow's
        backup is still scheduled."""
        folder = self.settings.backup_dir
        if folder is None:
            log.info("BACKUP_DIR is no longer set: scheduled backups stop")
            return []
        moment = self.clock.now()
        try:
            line = await asyncio.to_thread(
                backups.take_scheduled_backup,
                self.db.path,
                folder,
                self.settings.backup_keep,
                moment,
            )
        except (backups.BackupRefused, OSError) as exc:
            log.error("The daily backup into %s failed: %s", folder, exc)
            await self.wait_until_ready()
            for guild in self.guilds:
                await tell_moderators(
                    self,
                    guild.id,
                    backups.failure_notice(folder, exc),
                    notice=f"backup:{moment:%Y-%m-%d}",
                )
        else:
            log.info("%s", line)
        return [backups.daily_backup_job(moment)]

    async def _reconcile_outbox(self, up_to: int) -> None:
        try:
            await self.outbox.reconcile(up_to=up_to)
        except Exception:
            log.exception("Outbox reconciliation failed; the hourly sweep tries again")

    async def _sweep_outbox(self, job: Job[NoPayload]) -> list[JobSpec]:
        """Hourly: posts nobody is making any more (a transient failure, access since given
        back) are found, made once, or dropped; then the next hour's sweep."""
        await self.outbox.reconcile(idle_for=SWEEP_IDLE)
        return [sweep_job(next_on_the_hour(job.run_at, self.clock.now()))]

    async def on_ready(self) -> None:
        # Fires once every shard is ready, and again if they all re-identify: it only logs.
        # Everything that starts, starts in setup_hook, which discord.py runs once per process.
        self.ready_count += 1
        self.write_heartbeat()
        user = self.user
        log.info(
            "Ready as %s (id %s) in %d server(s) over %d shard(s)%s",
            user,
            user.id if user else "?",
            len(self.guilds),
            self.shard_count or 1,
            "" if self.ready_count == 1 else f" — reconnect #{self.ready_count - 1}",
        )

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Start shards as fast as Discord allows (``max_concurrency`` per 5 s, by bucket),
        where discord.py would wait 5 s before each one but the first."""
        if self._identify_plan is None:
            try:
                limits = await self.fetch_session_start_limits()
                concurrency = max(1, limits.max_concurrency)
            except discord.HTTPException:
                concurrency = 1  # the safe assumption: one at a time
            self._identify_plan = IdentifyPlan(concurrency)
        wait = self._identify_plan.book(shard_id or 0, asyncio.get_running_loop().time())
        if wait > 0:
            log.info("Shard %s waits %.1f s to identify (Discord's rate limit)", shard_id, wait)
            await asyncio.sleep(wait)

    async def on_shard_ready(self, shard_id: int) -> None:
        self.write_heartbeat()
        served = sum(1 for guild in self.guilds if guild.shard_id == shard_id)
        log.info("Shard %d/%d ready with %d server(s)", shard_id, self.shard_count or 1, served)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        # Removed (kicked, banned, or the server deleted): nothing scheduled there can happen.
        cancelled = await self.scheduler.cancel_guild_jobs(guild.id)
        log.info("Removed from server %s; cancelled %d pending job(s)", guild.id, cancelled)

    async def post_refused(self, entry: OutboxEntry, reason: str) -> None:
        """The outbox found Discord refusing a post for good: tell that server's moderators what
        could not be posted where, and what to grant (never about a notice itself)."""
        if entry.guild_id is None or entry.channel_id is None:
            return
        if entry.key.startswith(NOTICE_KEY_PREFIX):
            return
        what = self.outbox.describe(entry) or "a message"
        await self.wait_until_ready()  # reconciliation starts before the server cache is filled
        await report_lost_access(
            self, entry.guild_id, entry.channel_id, f"post {what}", reason, retried=True
        )

    async def job_gave_up(self, job: Job[Any], error: str) -> None:
        """The scheduler's failure hook: a server's job gave up, so tell its moderators."""
        if job.guild_id is not None:
            notice = job_failure_notice(self.scheduler.kind(job.kind), job, error)
            await tell_moderators(self, job.guild_id, notice, notice=f"job:{job.id}")

    async def on_interaction(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        await answer_if_expired(interaction)

    async def close(self) -> None:
        await self.scheduler.stop()
        for task in list(self.background_tasks):
            task.cancel()
        await asyncio.gather(*self.background_tasks, return_exceptions=True)
        await super().close()
        if self.heartbeat_file is not None:  # stopped: check --live says "not running"
            with contextlib.suppress(OSError):
                self.heartbeat_file.unlink(missing_ok=True)

    # -- command sync -------------------------------------------------------------------

    def command_fingerprint(self, guild: discord.abc.Snowflake | None = None) -> str:
        """A hash of exactly what ``tree.sync(guild=guild)`` would send."""
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()

    async def sync_commands(self) -> bool:
        """Sync to ``DEV_GUILD_ID`` if set (instant, every start); otherwise sync global commands
        only if they differ from the last successful sync. Returns whether a sync was sent."""
        if self.settings.dev_guild_id is not None:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            return await self._sync(guild, force=True)
        return await self._sync(None, force=False)

    async def _sync(self, guild: discord.Object | None, *, force: bool) -> bool:
        scope = "global" if guild is None else f"guild:{guild.id}"
        key = f"command_sync:{self.application_id}:{scope}"
        fingerprint = self.command_fingerprint(guild)
        async with self.db.read() as conn:
            previous = await meta_repo.get_meta(conn, key)
        if previous == fingerprint and not force:
            log.info("Application commands unchanged (%s); not syncing", scope)
            return False
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.Forbidden:
            log.error(
                "Discord refused the command sync to %s: re-invite the bot with the "
                "applications.commands scope (see README → Inviting the bot)",
                scope,
            )
            return False
        except discord.HTTPException as exc:
            log.error("Command sync to %s failed (%s); keeping the previous commands", scope, exc)
            return False
        async with self.db.transaction() as conn:
            await meta_repo.set_meta(conn, key, fingerprint)
        log.info("Synced %d application command(s) to %s", len(synced), scope)
        return True


async def _notice_not_rebuilt(entry: OutboxEntry) -> None:
    return None
