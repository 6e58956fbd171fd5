"""Buttons, views and modals for picks.

The card's **Heard it** / **Loved it** buttons and the "edit details" button are
``DynamicItem``s: their ``custom_id`` carries only the pick id, state comes from the database, so
they keep working after a restart. Short-lived views (search pages, confirmations, the
"second it" prompt) are ordinary views with a timeout.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

import discord

from bot.domain.links import site_name
from bot.domain.picks import Pick
from bot.domain.search import SearchFilters
from bot.domain.timeutil import discord_timestamp
from bot.errors import UserError
from bot.interactions import OwnedView, SafeModal, report_error
from bot.replies import NO_MENTIONS
from bot.services import picks as picks_service
from bot.services.picks import current_fields
from cogs.picks.embeds import card_embed, heading, search_embed

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
            if interaction.message is None or interaction.message.id != pick.message_id:
                await refresh_card(bot, pick)  # clicked on a copy (/archive random): the card too
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
        label = f"Listen on {site_name(pick.link_url)}"
        view.add_item(discord.ui.Button(label=label[:80], url=pick.link_url))
    return view


async def refresh_card(bot: UndercurrentBot, pick: Pick, *, removed: bool = False) -> None:
    """Bring the card in the channel up to date (best effort: it may have been deleted)."""
    if pick.channel_id is None or pick.message_id is None:
        return
    if removed:
        until = discord_timestamp(bot.clock.now() + picks_service.RESTORE_WINDOW, "D")
        explanation = f"Moderators can restore it with `/archive restore` until {until}."
        await mark_card_removed(bot, pick.id, pick.channel_id, pick.message_id, explanation)
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
    # By ids alone: a card in a thread that was archived since is not in the cache.
    message = bot.get_partial_messageable(channel_id).get_partial_message(message_id)
    try:
        await message.edit(embed=embed, view=view)
    except discord.HTTPException as exc:
        log.info("Could not update the card of pick %s: %s", pick_id, exc)


class SecondPrompt(OwnedView):
    """Offered privately when a member shares something already in the archive."""

    def __init__(self, owner_id: int, pick: Pick, note: str | None) -> None:
        super().__init__(owner_id, timeout=600)
        self.pick = pick
        self.note = note
        self.second.label = "Add my note as a second" if note else "Second it"

    @discord.ui.button(label="Second it", style=discord.ButtonStyle.primary)
    async def second(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        bot = bot_of(interaction)
        await picks_service.second_pick(
            bot.db,
            guild_of(interaction),
            self.pick.id,
            interaction.user.id,
            self.note,
            bot.clock.now(),
        )
        button.disabled = True
        await interaction.response.edit_message(
            content=f"You seconded **#{self.pick.id} {heading(self.pick)}**. "
            "It shows on the entry with `/archive show`.",
            view=self,
        )
        self.stop()


class ConfirmView(OwnedView):
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
        super().__init__(owner_id, timeout=120)
        self.on_confirm = on_confirm
        self.working = working
        self.confirm.label = confirm_label

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


@dataclass(frozen=True, slots=True)
class FormField:
    name: str  # as edit_pick takes it, and the text input's custom_id
    label: str
    max_length: int
    required: bool = False
    paragraph: bool = False
    placeholder: str | None = None


def _form_text(pick: Pick, name: str) -> str:
    """The field as the form shows it."""
    value = current_fields(pick)[name]
    return "" if value is None else str(value)


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
        self.inputs: dict[str, discord.ui.TextInput[Any]] = {}
        for field in self.FIELDS:
            shown = typed[field.name] if typed is not None else _form_text(pick, field.name)
            item: discord.ui.TextInput[Any] = discord.ui.TextInput(
                custom_id=field.name,
                label=field.label,
                default=shown or None,
                required=field.required,
                max_length=field.max_length,
                placeholder=field.placeholder,
                style=discord.TextStyle.paragraph if field.paragraph else discord.TextStyle.short,
            )
            self.inputs[field.name] = item
            self.add_item(item)

    def typed(self) -> dict[str, str]:
        return {name: item.value for name, item in self.inputs.items()}

    def changes(self) -> dict[str, Any]:
        """The fields that differ from the entry the form was opened on, as edit_pick takes
        them (an empty field clears it)."""
        return {
            name: self.convert(name, value.strip())
            for name, value in self.typed().items()
            if value.strip() != _form_text(self.pick, name).strip()
        }

    def convert(self, name: str, value: str) -> Any:
        return value or None

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        try:
            changes = self.changes()
            updated = None
            if changes:
                updated = await picks_service.edit_pick(
                    bot.db,
                    guild_id=guild_of(interaction),
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

    async def saved(self, interaction: discord.Interaction[Any], updated: Pick | None) -> None:
        pick = updated or self.pick
        done = "Saved" if updated else "Nothing changed in"
        await interaction.response.send_message(
            " ".join(filter(None, (done, self.what, f"**#{pick.id} {heading(pick)}**."))),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class FixItView(OwnedView):
    """Reopens a form after a mistake, filled with what the member typed."""

    def __init__(self, owner_id: int, form: Callable[[], discord.ui.Modal]) -> None:
        super().__init__(owner_id, timeout=900)
        self.form = form

    @discord.ui.button(label="Fix it", style=discord.ButtonStyle.primary)
    async def fix(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.send_modal(self.form())


class EditPickModal(EditForm):
    """Page 1 of an edit: the words (artist, title, link, subgenres, note)."""

    page_title = ""
    what = ""
    FIELDS = (
        FormField("artist", "Artist", 200, required=True),
        FormField("title", "Title", 200, required=True),
        FormField("link", "Link", 512),
        FormField("subgenres", "Subgenres (comma-separated, at most 8)", 300),
        FormField("note", "Note", 1000, paragraph=True),
    )

    async def saved(self, interaction: discord.Interaction[Any], updated: Pick | None) -> None:
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
    FIELDS = (
        FormField("label", "Label", 100),
        FormField("year", "Year", 4),
        FormField("country", "Country (name or ISO code)", 60),
        FormField("city", "City", 100),
        FormField(
            "format", "Format", 10,
            placeholder="vinyl, cassette, CD, CD-R, minidisc, digital or other",
        ),
    )  # fmt: skip

    def convert(self, name: str, value: str) -> Any:
        if name != "year" or not value:
            return value or None
        if not (value.isascii() and value.isdecimal()):
            raise UserError("**year** must be a number such as 1983.")
        return int(value)


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
