"""``/about``: version, uptime and where to read more."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.about.cog import AboutCog

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


async def setup(bot: UndercurrentBot) -> None:
    await bot.add_cog(AboutCog(bot))
