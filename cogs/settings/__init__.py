"""``/settings``: a member's own time zone, the server default, and an overview."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.settings.cog import SettingsCog

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


async def setup(bot: UndercurrentBot) -> None:
    await bot.add_cog(SettingsCog(bot))
