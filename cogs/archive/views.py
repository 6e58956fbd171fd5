"""The archive's buttons and forms: search pages, and the two-page edit form.

The "edit details" button is restart-proof (a ``SafeDynamicItem`` carrying the entry's id);
search pages and forms are short-lived. A mistake in a form saves nothing and loses nothing:
its private error offers **Fix it**, which reopens the form with what was typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import discord

from bot.domain.picks import Pick, PickFields
from bot.domain.search import SearchFilters
from bot.errors import UserError
from bot.interactions import is_moderator, require_guild
from bot.pick_cards import heading, refresh_card
from bot.pick_forms import DETAILS, WORDS, FormField, add_inputs, typed_value
from bot.replies import NO_MENTIONS
from bot.services import archive_search
from bot.services import picks as picks_service
from bot.views import FixItView, OwnedView, SafeDynamicItem, SafeModal
from cogs.archive.embeds import search_embed

if TYPE_CHECKING:
    from bot.client import UndercurrentBot


class SearchPager(OwnedView):
    """Previous/Next through a search, for the member who searched."""

    not_yours = "These pages belong to the member who searched; run `/archive search` yourself."

    def __init__(
        self,
        owner_id: int,
        guild_id: int,
        filters: SearchFilters,
        summary: str,
        page: int,
        pages: int,
    ) -> None:
        super().__init__(owner_id, timeout=900)
        self.guild_id = guild_id
        self.filters = filters
        self.summary = summary
        self.page = page
        self.pages = pages
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page <= 1
        self.next.disabled = self.page >= self.pages

    async def _show(self, interaction: discord.Interaction[UndercurrentBot], page: int) -> None:
        bot = interaction.client
        found = await archive_search.search_archive(
            bot.db, self.guild_id, self.filters, page, bot.clock.now()
        )
        self.page, self.pages = found.page, found.pages
        self._sync_buttons()
        await interaction.response.edit_message(embed=search_embed(found, self.summary), view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction[UndercurrentBot], button: discord.ui.Button[Any]
    ) -> None:
        await self._show(interaction, self.page - 1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(
        self, interaction: discord.Interaction[UndercurrentBot], button: discord.ui.Button[Any]
    ) -> None:
        await self._show(interaction, self.page + 1)


class EditForm(SafeModal):
    """One page of ``/archive edit``: text inputs filled with the entry (or with what the member
    typed before a mistake).

    Only the fields the member changed are saved, over the entry as it is then, so a form left
    open never undoes someone else's edit. A mistake (a bad link, nine subgenres, a clash with
    another entry) saves nothing and loses nothing: the reply has a **Fix it** button that opens
    the form again with what was typed."""

    FIELDS: ClassVar[tuple[FormField, ...]]
    page_title: ClassVar[str]
    what: ClassVar[str]  # "Saved {what} #1 …"

    def __init__(self, pick: Pick, typed: Mapping[str, str] | None = None) -> None:
        super().__init__(title=f"Edit #{pick.id}{self.page_title}"[:45], timeout=900)
        self.pick = pick
        shown = (
            typed
            if typed is not None
            else {field.name: PickFields.of(pick).as_typed(field.name) for field in self.FIELDS}
        )
        self.inputs = add_inputs(self, self.FIELDS, shown)

    def typed(self) -> dict[str, str]:
        return {name: item.value for name, item in self.inputs.items()}

    def changes(self) -> dict[str, Any]:
        """The fields that differ from the entry the form was opened on, as edit_pick takes
        them (an empty field clears it)."""
        return {
            name: self.convert(name, value.strip())
            for name, value in self.typed().items()
            if value.strip() != PickFields.of(self.pick).as_typed(name).strip()
        }

    def convert(self, name: str, value: str) -> Any:
        return value or None

    async def submitted(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        bot = interaction.client
        try:
            changes = self.changes()
            updated = None
            if changes:
                updated = await picks_service.edit_pick(
                    bot.db,
                    guild_id=require_guild(interaction),
                    pick_id=self.pick.id,
                    user_id=interaction.user.id,
                    is_moderator=is_moderator(interaction),
                    now=bot.clock.now(),
                    changes=changes,
                )
        except UserError as error:
            typed = self.typed()
            reopen = FixItView(interaction.user.id, lambda: type(self)(self.pick, typed))
            await interaction.response.send_message(
                f"{error.message}\nNothing was saved. **Fix it** opens the form again with what "
                "you typed.",
                view=reopen,
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        await self.saved(interaction, updated)
        if updated is not None:
            await refresh_card(bot, updated)

    async def saved(
        self, interaction: discord.Interaction[UndercurrentBot], updated: Pick | None
    ) -> None:
        pick = updated or self.pick
        done = "Saved" if updated else "Nothing changed in"
        await interaction.response.send_message(
            " ".join(filter(None, (done, self.what, f"**#{pick.id} {heading(pick)}**."))),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class EditPickModal(EditForm):
    """Page 1 of an edit: the words (artist, title, link, subgenres, note)."""

    page_title = ""
    what = ""
    FIELDS = (*WORDS,)

    async def saved(
        self, interaction: discord.Interaction[UndercurrentBot], updated: Pick | None
    ) -> None:
        pick = updated or self.pick
        view = discord.ui.View(timeout=None)
        view.add_item(EditDetailsButton(pick.id))
        done = "Saved" if updated else "Nothing changed on the first page of"
        await interaction.response.send_message(
            f"{done} **#{pick.id} {heading(pick)}**. "
            "Label, year, place and format are on the second page:",
            view=view,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class EditDetailsModal(EditForm):
    """Page 2 of an edit: provenance (label, year, country, city, format)."""

    page_title = ": details"
    what = "the details of"
    FIELDS = DETAILS

    def convert(self, name: str, value: str) -> Any:
        return typed_value(name, value)


class EditDetailsButton(
    SafeDynamicItem[discord.ui.Button[Any]],
    template=r"uc:pick:edit-details:(?P<pick_id>\d+)",
):
    def __init__(self, pick_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Edit label, year, place and format",
                style=discord.ButtonStyle.primary,
                custom_id=f"uc:pick:edit-details:{pick_id}",
            )
        )
        self.pick_id = pick_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> EditDetailsButton:
        return cls(int(match["pick_id"]))

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        bot = interaction.client
        pick = await picks_service.check_can_manage(
            bot.db,
            require_guild(interaction),
            self.pick_id,
            interaction.user.id,
            is_moderator(interaction),
        )
        await interaction.response.send_modal(EditDetailsModal(pick))
