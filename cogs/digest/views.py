"""The digest's button (the whole week's picks, privately; restart-proof, and how the outbox
finds a posted digest again) and the ``/digest sections`` menu."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.digest import SECTIONS, DigestSettings
from bot.domain.timeutil import from_epoch
from bot.interactions import require_guild
from bot.replies import NO_MENTIONS
from bot.services import digests as digests_service
from bot.views import OwnedView, SafeDynamicItem
from cogs.digest.embeds import week_picks_embed

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


def week_marker(start: int, end: int) -> str:
    return f"uc:digest:week:{start}:{end}"


class WeekPicksButton(
    SafeDynamicItem[discord.ui.Button[Any]],
    template=r"uc:digest:week:(?P<start>\d{1,12}):(?P<end>\d{1,12})",
):
    """Under a digest: every pick of its week, privately (the digest shows the best of them)."""

    def __init__(self, start: int, end: int, *, quiet: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Quiet week" if quiet else "All picks of the week",
                style=discord.ButtonStyle.secondary,
                custom_id=week_marker(start, end),
                disabled=quiet,
            )
        )
        self.start = start
        self.end = end

    @classmethod
    def from_match(cls, match: re.Match[str]) -> WeekPicksButton:
        return cls(int(match["start"]), int(match["end"]))

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        start, end = from_epoch(self.start), from_epoch(self.end)
        picks = await digests_service.week_picks(
            interaction.client.db, require_guild(interaction), start, end
        )
        await interaction.response.send_message(
            embed=week_picks_embed(picks, start, end), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


def week_view(start: int, end: int, *, quiet: bool = False) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(WeekPicksButton(start, end, quiet=quiet))
    return view


class SectionsView(OwnedView):
    """``/digest sections``: tick the sections the digest shows; saved on choosing."""

    def __init__(self, bot: UndercurrentBot, owner_id: int, settings: DigestSettings) -> None:
        super().__init__(owner_id, timeout=600)
        self.bot = bot
        self.guild_id = settings.guild_id
        self.menu: discord.ui.Select[SectionsView] = discord.ui.Select(
            placeholder="Sections the digest shows",
            min_values=0,
            max_values=len(SECTIONS),
            options=[
                discord.SelectOption(label=title, value=name, default=settings.shows(name))
                for name, title in SECTIONS.items()
            ],
        )
        self.menu.callback = self.chosen  # type: ignore[assignment,method-assign]
        self.add_item(self.menu)

    async def chosen(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        if not interaction.permissions.manage_guild:
            raise_missing = "Only members with the **Manage Server** permission can change this."
            await interaction.response.send_message(raise_missing, ephemeral=True)
            return
        settings = await digests_service.set_sections(
            self.bot.db, self.guild_id, interaction.user.id, set(self.menu.values),
            self.bot.clock.now(),
        )  # fmt: skip
        for option in self.menu.options:
            option.default = settings.shows(option.value)
        await interaction.response.edit_message(content=sections_text(settings), view=self)


def sections_text(settings: DigestSettings) -> str:
    shown = [title for name, title in SECTIONS.items() if settings.shows(name)]
    if not shown:
        return "The digest shows **no sections**: only the week's numbers. Choose some below."
    return "The digest shows: " + ", ".join(f"**{title}**" for title in shown) + "."


DYNAMIC_ITEMS: tuple[type[SafeDynamicItem[Any]], ...] = (WeekPicksButton,)
