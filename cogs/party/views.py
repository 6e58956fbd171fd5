"""Parties' buttons and forms. The buttons are restart-proof (``SafeDynamicItem``: their
``custom_id`` carries only ids, everything else is read from the database when clicked)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.parties import RSVP_CHOICES, Party, RsvpChoice
from bot.domain.tracklist import MAX_TRACKS, format_length, parse_tracklist
from bot.errors import UserError
from bot.posted import edit_posted
from bot.replies import NO_MENTIONS, md
from bot.services import parties as parties_service
from bot.services.parties import PartyView, card_marker, rsvp_custom_id
from bot.views import FixItView, OwnedView, SafeDynamicItem, SafeModal
from cogs.party.embeds import card_embed, now_answer, replay_pages

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)

RSVP_LABELS: dict[RsvpChoice, tuple[str, str, discord.ButtonStyle]] = {
    "going": ("Going", "✅", discord.ButtonStyle.success),
    "maybe": ("Maybe", "🤔", discord.ButtonStyle.secondary),
    "cant": ("Can't", "❌", discord.ButtonStyle.secondary),
}
RSVP_ANSWERS: dict[RsvpChoice, str] = {
    "going": "You're going to **{what}**.",
    "maybe": "You're a maybe for **{what}**.",
    "cant": "You can't make **{what}**: no reminders for it.",
}


class RsvpButton(
    SafeDynamicItem[discord.ui.Button[Any]],
    template=r"uc:party:rsvp:(?P<choice>going|maybe|cant):(?P<party_id>\d+)",
):
    """Going / Maybe / Can't on the card (and Can't on a reminder DM)."""

    def __init__(self, choice: RsvpChoice, party_id: int, count: int | None = None) -> None:
        label, emoji, style = RSVP_LABELS[choice]
        if count is not None:
            label = f"{label} · {count}"
        super().__init__(
            discord.ui.Button(
                label=label, emoji=emoji, style=style, custom_id=rsvp_custom_id(choice, party_id)
            )
        )
        self.choice: RsvpChoice = choice
        self.party_id = party_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> RsvpButton:
        choice = match["choice"]
        assert choice in RSVP_CHOICES
        return cls(choice, int(match["party_id"]))

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        bot = interaction.client
        view, _ = await parties_service.rsvp(
            bot.db,
            party_id=self.party_id,
            user_id=interaction.user.id,
            choice=self.choice,
            now=bot.clock.now(),
        )
        party = view.party
        on_card = (
            interaction.message is not None and interaction.message.id == party.card_message_id
        )
        answer = RSVP_ANSWERS[self.choice].format(what=md(party.what))
        if self.choice != "cant":
            reminders_on = await parties_service.reminders_on(
                bot.db, party.guild_id, interaction.user.id
            )
            settings = await parties_service.get_settings(bot.db, party.guild_id)
            now = bot.clock.now()
            ahead = [o for o in settings.reminders if party.starts_at - o > now]
            if not reminders_on:
                answer += " Your reminders are off (`/party reminders on` turns them back on)."
            elif ahead:
                answer += (
                    " I'll DM you a reminder "
                    + parties_service.describe_reminders(ahead)
                    + " before it starts."
                )
            elif party.starts_at > now:
                answer += " It starts too soon for a reminder: see you there."
        if on_card:
            await interaction.response.edit_message(embed=card_embed(view), view=card_view(view))
            await interaction.followup.send(answer, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                answer, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            await refresh_card(bot, view)


class NowButton(
    SafeDynamicItem[discord.ui.Button[Any]],
    template=r"uc:party:now:(?P<party_id>\d+):(?P<tag>[a-z0-9-]{1,20})",
):
    """**What's playing?** under the run's messages: the late joiner's private answer."""

    def __init__(self, party_id: int, tag: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="What's playing?",
                emoji="🎧",
                style=discord.ButtonStyle.secondary,
                custom_id=now_custom_id(party_id, tag),
            )
        )
        self.party_id = party_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> NowButton:
        return cls(int(match["party_id"]), match["tag"])

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        bot = interaction.client
        state = await parties_service.run_state(bot.db, self.party_id)
        content, embed = now_answer(state.party, state.tracklist, state.plan, bot.clock.now())
        await interaction.response.send_message(
            content,
            embed=embed or discord.utils.MISSING,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


def now_custom_id(party_id: int, tag: str) -> str:
    return f"uc:party:now:{party_id}:{tag}"


class QuietButton(
    SafeDynamicItem[discord.ui.Button[Any]],
    template=r"uc:party:quiet:(?P<party_id>\d+):(?P<tag>[a-z0-9-]{1,30})",
):
    """**Stop party reminders** on a notice: turns the clicking member's reminders off in the
    party's server."""

    def __init__(self, party_id: int, tag: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Stop party reminders",
                emoji="🔕",
                style=discord.ButtonStyle.secondary,
                custom_id=quiet_custom_id(party_id, tag),
            )
        )
        self.party_id = party_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> QuietButton:
        return cls(int(match["party_id"]), match["tag"])

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        bot = interaction.client
        party = await parties_service.get_party(bot.db, self.party_id)
        await parties_service.set_reminders(
            bot.db, party.guild_id, interaction.user.id, on=False, now=bot.clock.now()
        )
        await interaction.response.send_message(
            "Party reminders are off for you in that server. `/party reminders on` there turns "
            "them back on.",
            ephemeral=True,
        )


def quiet_custom_id(party_id: int, tag: str) -> str:
    return f"uc:party:quiet:{party_id}:{tag}"


def notice_tag(notice: str, batch: int | None = None) -> str:
    """``remind:86400`` → ``remind-86400`` (``-b2`` for a mention message)."""
    tag = notice.replace(":", "-")
    return tag if batch is None else f"{tag}-b{batch}"


class ReplayButton(
    SafeDynamicItem[discord.ui.Button[Any]],
    template=r"uc:party:replay:(?P<party_id>\d+)",
):
    """**Replay** under the recap: the private, paged replay."""

    def __init__(self, party_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Replay",
                emoji="📼",
                style=discord.ButtonStyle.secondary,
                custom_id=replay_custom_id(party_id),
            )
        )
        self.party_id = party_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> ReplayButton:
        return cls(int(match["party_id"]))

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        party = await parties_service.get_party(interaction.client.db, self.party_id)
        await send_replay(interaction, party.guild_id, self.party_id)


def replay_custom_id(party_id: int) -> str:
    return f"uc:party:replay:{party_id}"


async def send_replay(
    interaction: discord.Interaction[UndercurrentBot], guild_id: int, party_id: int
) -> None:
    replay = await parties_service.replay(interaction.client.db, guild_id, party_id)
    if replay.view.party.status not in ("ended", "missed"):
        raise UserError(
            f"Party #{party_id} has not been held yet: its replay is there once it ends."
        )
    pages = replay_pages(replay)
    view = PagerView(interaction.user.id, pages) if len(pages) > 1 else discord.utils.MISSING
    await interaction.response.send_message(
        embed=pages[0], view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
    )


class PagerView(OwnedView):
    """Previous / Next through pages of embeds, for the member who asked."""

    def __init__(self, owner_id: int, pages: list[discord.Embed]) -> None:
        super().__init__(owner_id, timeout=600)
        self.pages = pages
        self.page = 0
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= len(self.pages) - 1

    async def _show(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        self._sync()
        await interaction.response.edit_message(embed=self.pages[self.page], view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction[UndercurrentBot], button: discord.ui.Button[Any]
    ) -> None:
        self.page = max(0, self.page - 1)
        await self._show(interaction)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(
        self, interaction: discord.Interaction[UndercurrentBot], button: discord.ui.Button[Any]
    ) -> None:
        self.page = min(len(self.pages) - 1, self.page + 1)
        await self._show(interaction)


# -- the card's view ------------------------------------------------------------------------------


def card_view(view: PartyView) -> discord.ui.View:
    """Going / Maybe / Can't with their counts while the party is open; links to the event,
    the thread and the music."""
    party = view.party
    buttons = discord.ui.View(timeout=None)
    if party.is_open:
        counts = {"going": view.counts.going, "maybe": view.counts.maybe, "cant": view.counts.cant}
        for choice in RSVP_CHOICES:
            buttons.add_item(RsvpButton(choice, party.id, counts[choice]))
    else:
        # The marker stays on a closed card (the outbox finds a card by it), disabled.
        marker = discord.ui.Button[Any](
            label="RSVPs closed",
            style=discord.ButtonStyle.secondary,
            custom_id=card_marker(party.id),
            disabled=True,
        )
        buttons.add_item(marker)
    if party.event_id is not None and party.status == "scheduled":
        buttons.add_item(discord.ui.Button(label="Event", emoji="📅", url=party.event_url()))
    thread = party.thread_url()
    if thread is not None and party.thread_id != party.channel_id:
        buttons.add_item(discord.ui.Button(label="Thread", emoji="🧵", url=thread))
    if party.link:
        buttons.add_item(discord.ui.Button(label="Listen", emoji="🎵", url=party.link))
    return buttons


async def refresh_card(bot: UndercurrentBot, view: PartyView) -> None:
    """Edit the card to show ``view`` (when it has been posted); best effort: the next change
    tries again."""
    party = view.party
    if party.card_message_id is None or party.card_channel_id is None:
        return
    await edit_posted(
        bot, guild_id=party.guild_id, channel_id=party.card_channel_id,
        message_id=party.card_message_id, doing=f"update the card of party #{party.id}",
        embed=card_embed(view), view=card_view(view),
    )  # fmt: skip


# -- the tracklist form -----------------------------------------------------------------------


PARTS = 5
PART_LIMIT = 4000


class TracklistModal(SafeModal):
    """Up to five parts (one per side: a text input holds only 4,000 characters). Every bad line
    is named with its part and line number and nothing is saved until all are right; the error
    has **Fix it**, which opens the form again with what was typed."""

    def __init__(self, party: Party, parts: list[str]) -> None:
        super().__init__(title=f"Tracklist of party #{party.id}"[:45], timeout=1800)
        self.party = party
        self.inputs: list[discord.ui.TextInput[Any]] = []
        for index in range(PARTS):
            item: discord.ui.TextInput[Any] = discord.ui.TextInput(
                custom_id=f"part{index + 1}",
                label=f"Part {index + 1}" + (" (side A, or everything)" if index == 0 else ""),
                style=discord.TextStyle.paragraph,
                required=index == 0,
                max_length=PART_LIMIT,
                default=parts[index] if index < len(parts) and parts[index] else None,
                placeholder=(
                    "--- side A\nDagger 4:12 | the one that started it all\nCatch the Breeze 4:10"
                    if index == 0
                    else "--- side B (optional)"
                ),
            )
            self.inputs.append(item)
            self.add_item(item)

    async def submitted(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        typed = [item.value or "" for item in self.inputs]
        bot = interaction.client
        try:
            tracklist = parse_tracklist(typed)
            party = await parties_service.set_tracklist(
                bot.db,
                guild_id=self.party.guild_id,
                party_id=self.party.id,
                user_id=interaction.user.id,
                manages_events=bool(interaction.permissions.manage_events),
                tracklist=tracklist,
                now=bot.clock.now(),
                scheduler=bot.scheduler,
            )
        except UserError as error:
            # Nothing was saved; what was typed is one click away (a form can't answer a form).
            shown = self.party
            await interaction.response.send_message(
                error.message,
                view=FixItView(interaction.user.id, lambda: TracklistModal(shown, typed)),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        count = len(tracklist.tracks)
        await interaction.response.send_message(
            f"Saved the tracklist of **#{party.id} {md(party.what)}**: {count} "
            f"track{'s' if count != 1 else ''}, {format_length(tracklist.seconds)} "
            f"(up to {MAX_TRACKS}). The card shows it now.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await refresh_card(bot, await parties_service.party_view(bot.db, party.id))


DYNAMIC_ITEMS: tuple[type[SafeDynamicItem[Any]], ...] = (
    RsvpButton,
    NowButton,
    QuietButton,
    ReplayButton,
)
