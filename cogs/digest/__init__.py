"""The weekly digest: ``/digest setup`` and the rest; the week's job that posts it once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.digest.cog import DigestCog

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


async def setup(bot: UndercurrentBot) -> None:
    await bot.add_cog(DigestCog(bot))
