"""Swap rounds' buttons and forms. The buttons are restart-proof (``SafeDynamicItem``: their
``custom_id`` carries only ids); the forms offer **Fix it** after a mistake."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.picks import PickFields
from bot.domain.swaps import FAVOURITE_MAX, THOUGHTS_MAX, SwapEntry, SwapRound
from bot.domain.text import clip_at_word
from bot.errors import UserError
from bot.interactions import require_guild
from bot.pick_forms import DETAILS, WORDS, add_inputs, typed_value
from bot.posted import edit_posted
from bot.replies import NO_MENTIONS, md
from bot.services import swaps as swaps_service
from bot.services.swaps import RoundView, join_custom_id
from bot.views import FixItView, SafeDynamicItem, SafeModal
from cogs.swap.embeds import card_embed, history_embed, mention, pick_embed

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)


DETAIL_NAMES = frozenset(field.name for field in DETAILS)


def entry_fields(entry: SwapEntry | None) -> dict[str, str]:
    """A member's entry as the pick form shows it."""
    if entry is None:
        return {}
    return {
        "artist": entry.artist, "title": entry.title, "link": entry.link_url or "",
        "subgenres": ", ".join(entry.subgenres), "note": entry.note or "",
        "label": entry.label or "", "year": str(entry.year or ""),
        "country": entry.country or "", "city": entry.city or "", "format": entry.format or "",
    }  # fmt: skip


class JoinForm(SafeModal):
    """One page of the pick a member brings: the words (page 1) or the details (page 2). The
    other page's fields are kept as they were; a mistake saves nothing and offers **Fix it**."""

    def __init__(
        self,
        round_: SwapRound,
        current: Mapping[str, str],
        *,
        details: bool,
        typed: Mapping[str, str] | None = None,
    ) -> None:
        page = "details" if details else "your pick"
        super().__init__(title=f"Swap #{round_.id}: {page}"[:45], timeout=900)
        self.round = round_
        self.current = dict(current)
        self.details = details
        self.inputs = add_inputs(self, DETAILS if details else WORDS, typed or current)

    def typed(self) -> dict[str, str]:
        return {name: item.value for name, item in self.inputs.items()}

    async def submitted(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        bot = interaction.client
        typed = self.typed()
        current = self.current
        same_record = all(
            typed.get(name, current.get(name, "")).strip().casefold()
            == current.get(name, "").strip().casefold()
            for name in ("artist", "title")
        )
        if not same_record:  # a new record: the old one's details don't describe it
            current = {k: v for k, v in current.items() if k not in DETAIL_NAMES}
        merged = current | typed
        try:
            given = PickFields(
                **{
                    name: typed_value(name, merged.get(name, ""))
                    for name in PickFields.__dataclass_fields__
                }
            )
            joined = await swaps_service.join(
                bot.db, guild_id=require_guild(interaction), round_id=self.round.id,
                user_id=interaction.user.id, given=given, now=bot.clock.now(),
            )  # fmt: skip
        except UserError as error:
            round_, current, details = self.round, self.current, self.details
            await interaction.response.send_message(
                f"{error.message}\nNothing was saved. **Fix it** opens the form again with what "
                "you typed.",
                view=FixItView(
                    interaction.user.id,
                    lambda: JoinForm(round_, current, details=details, typed=typed),
                ),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        entry = joined.entry
        lines = [
            ("You're in with" if joined.first_time else "You now bring")
            + f" **{md(entry.heading)}**."
        ]
        if joined.existing is not None:
            sharer = (
                f"<@{joined.existing.shared_by}>"
                if joined.existing.shared_by
                else "a former member"
            )
            lines.append(
                f"It's already in the archive as #{joined.existing.id}, shared first by {sharer}; "
                "its details count where you gave none."
            )
        if not self.details:
            lines.append(
                "Label, year, place and format help pairing across scenes: add them on the "
                "second page. Until the pairing you can change your pick (**Join** again) or leave."
            )
        view = discord.ui.View(timeout=None)
        if not self.details:
            view.add_item(DetailsButton(self.round.id))
        view.add_item(LeaveButton(self.round.id))
        await interaction.response.send_message(
            "\n".join(lines), view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await refresh_card(bot, await swaps_service.round_view(bot.db, self.round.id))


class JoinButton(
    SafeDynamicItem[discord.ui.Button[Any]], template=r"uc:swap:join:(?P<round_id>\d+)"
):
    """**Join** (or change your pick) on the round card."""

    def __init__(self, round_id: int, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Join" if not disabled else "Joining closed",
                emoji="🎁",
                style=discord.ButtonStyle.success,
                custom_id=join_custom_id(round_id),
                disabled=disabled,
            )
        )
        self.round_id = round_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> JoinButton:
        return cls(int(match["round_id"]))

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        bot = interaction.client
        found = await _joinable(interaction, self.round_id)
        entry = await swaps_service.my_entry(bot.db, found.id, interaction.user.id)
        await interaction.response.send_modal(JoinForm(found, entry_fields(entry), details=False))


async def _joinable(interaction: discord.Interaction[UndercurrentBot], round_id: int) -> SwapRound:
    bot = interaction.client
    found = await swaps_service.get_round(bot.db, round_id, require_guild(interaction))
    if found.status != "open" or bot.clock.now() >= found.join_until:
        raise UserError(
            "Joining this round has closed."
            if found.status != "cancelled"
            else "This round was cancelled."
        )
    return found


class DetailsButton(
    SafeDynamicItem[discord.ui.Button[Any]], template=r"uc:swap:details:(?P<round_id>\d+)"
):
    def __init__(self, round_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Add label, year, place and format",
                style=discord.ButtonStyle.primary,
                custom_id=f"uc:swap:details:{round_id}",
            )
        )
        self.round_id = round_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> DetailsButton:
        return cls(int(match["round_id"]))

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        bot = interaction.client
        found = await _joinable(interaction, self.round_id)
        entry = await swaps_service.my_entry(bot.db, found.id, interaction.user.id)
        if entry is None:
            raise UserError("Join the round first (the **Join** button on its card).")
        await interaction.response.send_modal(JoinForm(found, entry_fields(entry), details=True))


class LeaveButton(
    SafeDynamicItem[discord.ui.Button[Any]], template=r"uc:swap:leave:(?P<round_id>\d+)"
):
    def __init__(self, round_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Leave",
                style=discord.ButtonStyle.secondary,
                custom_id=f"uc:swap:leave:{round_id}",
            )
        )
        self.round_id = round_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> LeaveButton:
        return cls(int(match["round_id"]))

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        bot = interaction.client
        await swaps_service.leave(
            bot.db, guild_id=require_guild(interaction), round_id=self.round_id,
            user_id=interaction.user.id, now=bot.clock.now(),
        )  # fmt: skip
        await interaction.response.send_message(
            "You've left the round; your pick is withdrawn. **Join** brings you back.",
            ephemeral=True,
        )
        await refresh_card(bot, await swaps_service.round_view(bot.db, self.round_id))


class MineButton(
    SafeDynamicItem[discord.ui.Button[Any]], template=r"uc:swap:mine:(?P<round_id>\d+)"
):
    """**Show my assignment** on the card: for members whose DMs are closed (or who lost it)."""

    def __init__(self, round_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Show my assignment",
                emoji="📬",
                style=discord.ButtonStyle.primary,
                custom_id=f"uc:swap:mine:{round_id}",
            )
        )
        self.round_id = round_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> MineButton:
        return cls(int(match["round_id"]))

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        bot = interaction.client
        given = await swaps_service.assignment(bot.db, self.round_id, interaction.user.id)
        if given is None:
            raise UserError("You weren't given a pick in this round.")
        giver = None if given.round.anonymous else mention(given.entry.user_id)
        embed = pick_embed(given.entry, giver=giver, title=f"Your swap: {given.round.theme}")
        view = discord.ui.View(timeout=None)
        view.add_item(ReviewButton(self.round_id, "card"))
        done = (
            f"You rated it {given.review.rating}/5; **Review** changes it."
            if given.review
            else "Review it before the deadline with **Review**."
        )
        await interaction.response.send_message(
            done, embed=embed, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


class ReviewButton(
    SafeDynamicItem[discord.ui.Button[Any]],
    template=r"uc:swap:review:(?P<round_id>\d+):(?P<tag>[a-z]{1,10})",
):
    """**Review**: on the assignment DM, the reminder, and the private assignment."""

    def __init__(self, round_id: int, tag: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Review",
                emoji="✍️",
                style=discord.ButtonStyle.success,
                custom_id=review_custom_id(round_id, tag),
            )
        )
        self.round_id = round_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> ReviewButton:
        return cls(int(match["round_id"]), match["tag"])

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        given = await swaps_service.assignment(
            interaction.client.db, self.round_id, interaction.user.id
        )
        if given is None:
            raise UserError("You weren't given a pick in this round.")
        await interaction.response.send_modal(ReviewForm(given.round, given.review))


def review_custom_id(round_id: int, tag: str) -> str:
    return f"uc:swap:review:{round_id}:{tag}"


class ReviewForm(SafeModal):
    def __init__(
        self, round_: SwapRound, review: Any, typed: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(title=clip_at_word(f"Review: {round_.theme}", 45), timeout=1800)
        self.round = round_
        shown = typed or {
            "rating": str(review.rating) if review else "",
            "favourite_track": (review.favourite_track or "") if review else "",
            "thoughts": (review.thoughts or "") if review else "",
        }
        self.rating: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="rating",
            label="Rating, 1 to 5",
            max_length=1,
            default=shown["rating"] or None,
            placeholder="4",
        )
        self.favourite: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="favourite_track", label="Favourite track (optional)", required=False, max_length=FAVOURITE_MAX,
            default=shown["favourite_track"] or None,
        )  # fmt: skip
        self.thoughts: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="thoughts", label="What you heard (optional)", style=discord.TextStyle.paragraph,
            required=False, max_length=THOUGHTS_MAX, default=shown["thoughts"] or None,
        )  # fmt: skip
        for item in (self.rating, self.favourite, self.thoughts):
            self.add_item(item)

    async def submitted(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        bot = interaction.client
        typed = {
            "rating": self.rating.value, "favourite_track": self.favourite.value,
            "thoughts": self.thoughts.value,
        }  # fmt: skip
        try:
            if not typed["rating"].strip().isdecimal():
                raise UserError("**rating** is a number from 1 to 5.")
            found, entry, first = await swaps_service.review(
                bot.db, guild_id=interaction.guild_id, round_id=self.round.id,
                user_id=interaction.user.id, rating=int(typed["rating"]),
                favourite_track=typed["favourite_track"] or None,
                thoughts=typed["thoughts"] or None, now=bot.clock.now(),
            )  # fmt: skip
        except UserError as error:
            round_ = self.round
            await interaction.response.send_message(
                f"{error.message}\nNothing was saved. **Fix it** opens the form again with what "
                "you typed.",
                view=FixItView(interaction.user.id, lambda: ReviewForm(round_, None, typed)),
                ephemeral=True,
            )
            return
        await interaction.response.send_message(
            f"{'Saved' if first else 'Changed'} your review of **{md(entry.heading)}**: "
            f"{'★' * int(typed['rating'])}. You can change it until the reveal.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await refresh_card(bot, await swaps_service.round_view(bot.db, found.id))


class HistoryButton(
    SafeDynamicItem[discord.ui.Button[Any]], template=r"uc:swap:history:(?P<round_id>\d+)"
):
    """Under a reveal's summary: the server's past rounds, privately."""

    def __init__(self, round_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Past rounds",
                style=discord.ButtonStyle.secondary,
                custom_id=f"uc:swap:history:{round_id}",
            )
        )

    @classmethod
    def from_match(cls, match: re.Match[str]) -> HistoryButton:
        return cls(int(match["round_id"]))

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        past = await swaps_service.history(interaction.client.db, require_guild(interaction), None)
        await interaction.response.send_message(
            embed=history_embed(past, None), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


class PairButton(
    SafeDynamicItem[discord.ui.Button[Any]],
    template=r"uc:swap:pair:(?P<round_id>\d+):(?P<entry_id>\d+)",
):
    """Under each pair of a reveal (what the outbox finds it by): the pick's details, privately."""

    def __init__(self, round_id: int, entry_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="The record",
                style=discord.ButtonStyle.secondary,
                custom_id=f"uc:swap:pair:{round_id}:{entry_id}",
            )
        )
        self.round_id = round_id
        self.entry_id = entry_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> PairButton:
        return cls(int(match["round_id"]), int(match["entry_id"]))

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        data = await swaps_service.reveal_data(interaction.client.db, self.round_id)
        entry = next((e for e in data.entries if e.id == self.entry_id), None)
        if entry is None:
            raise UserError("That pick is no longer in the round.")
        embed = pick_embed(entry, giver=mention(entry.user_id), title=data.round.theme)
        if entry.pick_id:
            embed.set_footer(text=f"Archive entry #{entry.pick_id} · /archive show {entry.pick_id}")
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


def card_view(view: RoundView) -> discord.ui.View:
    found = view.round
    buttons = discord.ui.View(timeout=None)
    buttons.add_item(JoinButton(found.id, disabled=found.status != "open"))
    if found.status == "open":
        buttons.add_item(LeaveButton(found.id))
    if found.status == "reviewing":
        buttons.add_item(MineButton(found.id))
        buttons.add_item(ReviewButton(found.id, "card"))
    return buttons


async def refresh_card(bot: UndercurrentBot, view: RoundView) -> None:
    found = view.round
    if found.card_message_id is None:
        return
    await edit_posted(
        bot, guild_id=found.guild_id, channel_id=found.channel_id,
        message_id=found.card_message_id, doing=f"update the card of swap round #{found.id}",
        embed=card_embed(view), view=card_view(view),
    )  # fmt: skip


DYNAMIC_ITEMS: tuple[type[SafeDynamicItem[Any]], ...] = (
    JoinButton, DetailsButton, LeaveButton, MineButton, ReviewButton, HistoryButton, PairButton,
)  # fmt: skip
