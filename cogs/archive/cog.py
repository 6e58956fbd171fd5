"""``/archive …``: one command group made of three mixins (browse, curate, files), plus what
the archive runs by itself: the restart-proof edit button and the daily purge."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord.ext import commands

from bot.domain.jobs import Job, JobSpec, NoPayload
from bot.domain.picks import RESTORE_DAYS
from bot.services import archive_upkeep
from cogs.archive.browse import BrowseCommands
from cogs.archive.curate import CurateCommands
from cogs.archive.files import FilesCommands
from cogs.archive.views import EditDetailsButton

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)


class ArchiveCog(
    FilesCommands,
    CurateCommands,
    BrowseCommands,
    commands.GroupCog,
    group_name="archive",
    group_description="The server's scene archive",
):
    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(EditDetailsButton)
        self.bot.scheduler.register(archive_upkeep.PURGE, self._purge_removed)
        await self.bot.scheduler.schedule_all(archive_upkeep.first_purges(self.bot.clock.now()))

    async def cog_unload(self) -> None:
        self.bot.scheduler.unregister(archive_upkeep.PURGE)
        self.bot.remove_dynamic_items(EditDetailsButton)

    async def _purge_removed(self, job: Job[NoPayload]) -> list[JobSpec]:
        purged, tomorrow = await archive_upkeep.run_purge(
            self.bot.db, job.run_at, self.bot.clock.now()
        )
        if purged:
            log.info("Purged %d pick(s) removed over %d days ago", purged, RESTORE_DAYS)
        return [tomorrow]
