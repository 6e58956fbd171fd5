"""Community picks (``/rec share``) and the scene archive (``/archive …``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.picks.cog import ArchiveCog, RecCog

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


async def setup(bot: UndercurrentBot) -> None:
    await bot.add_cog(RecCog(bot))
    await bot.add_cog(ArchiveCog(bot))
