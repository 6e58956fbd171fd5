"""Recommendation swap rounds: ``/swap open`` and the rest; pairing, reviews, the reveal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.swap.cog import SwapCog

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


async def setup(bot: UndercurrentBot) -> None:
    await bot.add_cog(SwapCog(bot))
