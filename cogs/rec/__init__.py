"""Sharing picks: ``/rec share`` posts a card in the channel and files the pick in the archive."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.rec.cog import RecCog

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


async def setup(bot: UndercurrentBot) -> None:
    await bot.add_cog(RecCog(bot))
