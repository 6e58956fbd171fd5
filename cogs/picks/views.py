"""Buttons, views and modals for picks.

The card's **Heard it** / **Loved it** buttons and the "edit details" button are
``DynamicItem``s: their ``custom_id`` carries only the pick id, state comes from the database, so
they keep working after a restart. Short-lived views (search pages, confirmations, the
"second it" prompt) are ordinary views with a timeout.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.domain.links import platform_name
from bot.domain.picks import Pick
from bot.domain.search import SearchFilters
from bot.errors import UserError
from bot.interactions import SafeModal, SafeView, report_error
from bot.replies import NO_MENTIONS
from bot.services import picks as picks_service
from cogs.picks.embeds import card_embed, search_embed

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)

VOTE_LABELS = {"heard": ("Heard it", "🎧"), "loved": ("Loved it", "❤️")}


def bot_of(interaction: discord.Interaction[Any]) -> UndercurrentBot:
    return cast("UndercurrentBot", interaction.client)


def guild_of(interaction: discord.Interaction[Any]) -> int:
    if interaction.guild_id is None:
        raise UserError("The archive lives in servers; use this inside one.")
    return interaction.guild_id


def is_moderator(interaction: discord.Interaction[Any]) -> bool:
    return bool(interaction.permissions.manage_messages)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"uc:pick:(?P<kind>heard|loved):(?P<pick_id>\d+)",
):
    """Toggle the member's heard/loved mark and update the counts on the card."""

    def __init__(self, kind: str, pick_id: int, count: int = 0) -> None:
        label, emoji = VOTE_LABELS[kind]
        super().__init__(
            discord.ui.Button(
                label=f"{label} · {count}",
                emoji=emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=f"uc:pick:{kind}:{pick_id}",
            )
        )
        self.kind = kind
        self.pick_id = pick_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> VoteButton:
        return cls(match["kind"], int(match["pick_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            bot = bot_of(interaction)
            pick, is_set = await picks_service.toggle_vote(
                bot.db,
                guild_of(interaction),
                self.pick_id,
                self.kind,
                interaction.user.id,
                bot.clock.now(),
            )
            await interaction.response.edit_message(embed=card_embed(pick), view=card_view(pick))
            label = VOTE_LABELS[self.kind][0].lower()
            note = f"Marked: {label}. Click again to undo." if is_set else f"Unmarked: {label}."
            await interaction.followup.send(note, ephemeral=True)
        except Exception as exc:
            await report_error(interaction, exc, f"Button {self.custom_id}")


def card_view(pick: Pick) -> discord.ui.View:
    """The buttons under a pick card: heard, loved, and a link to listen."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton("heard", pick.id, pick.heard))
    view.add_item(VoteButton("loved", pick.id, pick.loved))
    if pick.link_url:
        label = f"Listen on {platform_name(pick.link_platform)}"
        view.add_item(discord.ui.Button(label=label[:80], url=pick.link_url))
    return view


RESTORABLE = "Moderators can restore it within 30 days."


async def refresh_card(bot: UndercurrentBot, pick: Pick, *, removed: bool = False) -> None:
    """Bring the card in the channel up to date (best effort: it may have been deleted)."""
    if pick.channel_id is None or pick.message_id is None:
        return
    if removed:
        await mark_card_removed(bot, pick.id, pick.channel_id, pick.message_id, RESTORABLE)
        return
    await _edit_card(
        bot, pick.id, pick.channel_id, pick.message_id, card_embed(pick), card_view(pick)
    )


async def mark_card_removed(
    bot: UndercurrentBot, pick_id: int, channel_id: int, message_id: int, explanation: str
) -> None:
    embed = discord.Embed(
        title="Removed from the archive",
        description=f"#{pick_id} was removed. {explanation}",
        colour=discord.Colour.dark_grey(),
    )
    await _edit_card(bot, pick_id, channel_id, message_id, embed, None)


async def _edit_card(
    bot: UndercurrentBot,
    pick_id: int,
    channel_id: int,
    message_id: int,
    embed: discord.Embed,
    view: discord.ui.View | None,
) -> None:
    channel = bot.get_channel(channel_id)
    if not isinstance(channel, discord.abc.Messageable):
        return
    message = channel.get_partial_message(message_id)
    try:
        await message.edit(embed=embed, view=view)
    except discord.HTTPException as exc:
        log.info("Could not update the card of pick %s: %s", pick_id, exc)


class SecondPrompt(SafeView):
    """Offered privately when a member shares something already in the archive."""

    def __init__(self, owner_id: int, pick: Pick, note: str | None) -> None:
        super().__init__(timeout=600)
        self.owner_id = owner_id
        self.pick = pick
        self.note = note
        self.second.label = "Add my note as a second" if note else "Second it"

    @discord.ui.button(label="Second it", style=discord.ButtonStyle.primary)
    async def second(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        bot = bot_of(interaction)
        assert interaction.guild_id is not None
        await picks_service.second_pick(
            bot.db,
            interaction.guild_id,
            self.pick.id,
            interaction.user.id,
            self.note,
            bot.clock.now(),
        )
        button.disabled = True
        await interaction.response.edit_message(
            content=f"You seconded **#{self.pick.id} {self.pick.artist} — {self.pick.title}**. "
            "It shows on the entry with `/archive show`.",
            view=self,
        )
        self.stop()


class ConfirmView(SafeView):
    """Yes/No, for the member who asked only.

    Confirming answers at once (the prompt becomes ``working``, without buttons), then runs
    ``on_confirm``, which reports through ``interaction.edit_original_response``: the work may
    take longer than Discord's 3 s for a first answer. A ``UserError`` (say, the entry was
    removed meanwhile) replaces the prompt."""

    def __init__(
        self,
        owner_id: int,
        on_confirm: Callable[[discord.Interaction[Any]], Awaitable[None]],
        confirm_label: str = "Confirm",
        *,
        working: str = "Working…",
    ) -> None:
        super().__init__(timeout=120)
        self.owner_id = owner_id
        self.on_confirm = on_confirm
        self.working = working
        self.confirm.label = confirm_label

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return interaction.user.id == self.owner_id

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.edit_message(content=self.working, embed=None, view=None)
        self.stop()
        try:
            await self.on_confirm(interaction)
        except UserError as error:
            await interaction.edit_original_response(content=error.message)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(
            content="Cancelled; nothing was changed.", embed=None, view=None
        )


class SearchPager(SafeView):
    """Previous/Next through a search, for the member who searched."""

    def __init__(
        self,
        owner_id: int,
        guild_id: int,
        filters: SearchFilters,
        summary: str,
        page: int,
        pages: int,
    ) -> None:
        super().__init__(timeout=900)
        self.owner_id = owner_id
        self.guild_id = guild_id
        self.filters = filters
        self.summary = summary
        self.page = page
        self.pages = pages
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page <= 1
        self.next.disabled = self.page >= self.pages

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "These pages belong to the member who searched; run `/archive search` yourself.",
                ephemeral=True,
            )
            return False
        return True

    async def _show(self, interaction: discord.Interaction[Any], page: int) -> None:
        bot = bot_of(interaction)
        found = await picks_service.search_archive(
            bot.db, self.guild_id, self.filters, page, bot.clock.now()
        )
        self.page, self.pages = found.page, found.pages
        self._sync_buttons()
        await interaction.response.edit_message(embed=search_embed(found, self.summary), view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await self._show(interaction, self.page - 1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await self._show(interaction, self.page + 1)


def _text_input(
    field: str, label: str, value: str | None, max_length: int, *, paragraph: bool = False
) -> discord.ui.TextInput[Any]:
    return discord.ui.TextInput(
        custom_id=field,
        label=label,
        default=value or None,
        required=False,
        max_length=max_length,
        style=discord.TextStyle.paragraph if paragraph else discord.TextStyle.short,
    )


async def save_edit(interaction: discord.Interaction[Any], pick: Pick, **changes: Any) -> Pick:
    """Apply the form's fields through the edit service (over the entry as it is now)."""
    bot = bot_of(interaction)
    assert interaction.guild_id is not None
    return await picks_service.edit_pick(
        bot.db,
        guild_id=interaction.guild_id,
        pick_id=pick.id,
        user_id=interaction.user.id,
        is_moderator=is_moderator(interaction),
        now=bot.clock.now(),
        changes=changes,
    )


class EditPickModal(SafeModal):
    """Page 1 of an edit: the words (artist, title, link, subgenres, note)."""

    def __init__(self, pick: Pick) -> None:
        super().__init__(title=f"Edit #{pick.id}"[:45], timeout=900)
        self.pick = pick
        self.artist = _text_input("artist", "Artist", pick.artist, 200)
        self.artist.required = True
        self.title_input = _text_input("title", "Title", pick.title, 200)
        self.title_input.required = True
        self.link = _text_input("link", "Link", pick.link_url, 512)
        self.subgenres = _text_input(
            "subgenres", "Subgenres (comma-separated, at most 8)", ", ".join(pick.subgenres), 300
        )
        self.note = _text_input("note", "Note", pick.note, 1000, paragraph=True)
        for item in (self.artist, self.title_input, self.link, self.subgenres, self.note):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        updated = await save_edit(
            interaction,
            self.pick,
            artist=self.artist.value,
            title=self.title_input.value,
            link=self.link.value or None,
            subgenres=self.subgenres.value or None,
            note=self.note.value or None,
        )
        view = discord.ui.View(timeout=None)
        view.add_item(EditDetailsButton(updated.id))
        await interaction.response.send_message(
            f"Saved **#{updated.id} {updated.artist} — {updated.title}**. "
            "Label, year, place and format are on the second page:",
            view=view,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await refresh_card(bot_of(interaction), updated)


class EditDetailsModal(SafeModal):
    """Page 2 of an edit: provenance (label, year, country, city, format)."""

    def __init__(self, pick: Pick) -> None:
        super().__init__(title=f"Edit #{pick.id}: details"[:45], timeout=900)
        self.pick = pick
        self.label = _text_input("label", "Label", pick.label, 100)
        self.year = _text_input("year", "Year", str(pick.year) if pick.year else None, 4)
        self.country = _text_input("country", "Country (name or ISO code)", pick.country, 60)
        self.city = _text_input("city", "City", pick.city, 100)
        self.format = _text_input("format", "Format", pick.format, 10)
        self.format.placeholder = "vinyl, cassette, CD, CD-R, minidisc, digital or other"
        for item in (self.label, self.year, self.country, self.city, self.format):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        raw_year = self.year.value.strip()
        if raw_year and not (raw_year.isascii() and raw_year.isdecimal()):
            raise UserError("**year** must be a number such as 1983.")
        updated = await save_edit(
            interaction,
            self.pick,
            label=self.label.value or None,
            year=int(raw_year) if raw_year else None,
            country=self.country.value or None,
            city=self.city.value or None,
            format=self.format.value or None,
        )
        await interaction.response.send_message(
            f"Saved the details of **#{updated.id} {updated.artist} — {updated.title}**.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await refresh_card(bot_of(interaction), updated)


class EditDetailsButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
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
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> EditDetailsButton:
        return cls(int(match["pick_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            bot = bot_of(interaction)
            pick = await picks_service.check_can_manage(
                bot.db,
                guild_of(interaction),
                self.pick_id,
                interaction.user.id,
                is_moderator(interaction),
            )
            await interaction.response.send_modal(EditDetailsModal(pick))
        except Exception as exc:
            await report_error(interaction, exc, f"Button {self.custom_id}")
