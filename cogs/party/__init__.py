"""Listening parties: ``/party schedule`` and the rest; the run in a thread, the recap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.party.cog import PartyCog

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


async def setup(bot: UndercurrentBot) -> None:
    await bot.add_cog(PartyCog(bot))
