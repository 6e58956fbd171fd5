"""The scene archive: ``/archive search``, ``show``, ``lineage``, ``random``, ``edit``,
``remove``, ``restore``, ``link``, ``export``, ``import`` and ``stats``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.archive.cog import ArchiveCog

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


async def setup(bot: UndercurrentBot) -> None:
    await bot.add_cog(ArchiveCog(bot))
