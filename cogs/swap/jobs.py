"""Swap rounds' jobs, where they touch Discord: the card, the pairing (who is still a member),
the DMs (assignments, the reminder, "cancelled") and the reveal thread. Every post goes through
the outbox under a key of the round's, so a job run twice posts nothing twice."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.direct_messages import dm_once, fan_out
from bot.domain.jobs import Job
from bot.domain.swaps import SwapRound, reveal_summary
from bot.outbox import OutboxMessage
from bot.replies import md
from bot.services import swaps as swaps_service
from bot.services.swaps import (
    NOTIFY,
    PAIR,
    REVEAL,
    SYNC,
    RoundNotice,
    RoundRef,
    card_key,
)
from bot.threads import thread_on
from cogs.swap.embeds import (
    assignment_text,
    cancelled_text,
    card_embed,
    mention,
    pick_embed,
    reminder_text,
    reveal_pair_text,
    summary_embed,
)
from cogs.swap.views import HistoryButton, PairButton, ReviewButton, card_view, refresh_card

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)


class SwapJobs:
    """Handlers for ``bot.services.swaps``' job kinds, registered by the cog."""

    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot

    def register(self) -> None:
        scheduler = self.bot.scheduler
        scheduler.register(SYNC, self.sync)
        scheduler.register(PAIR, self.pair)
        scheduler.register(NOTIFY, self.notify)
        scheduler.register(REVEAL, self.reveal)

    def unregister(self) -> None:
        for kind in (SYNC, PAIR, NOTIFY, REVEAL):
            self.bot.scheduler.unregister(kind)

    @property
    def now(self) -> datetime:
        return self.bot.clock.now()

    # -- the card ------------------------------------------------------------------------------

    async def sync(self, job: Job[RoundRef]) -> None:
        await self.sync_card(job.payload.round_id)

    async def sync_card(self, round_id: int) -> None:
        """Post the round card once, and bring it up to date."""
        view = await swaps_service.round_view(self.bot.db, round_id)
        posted = await self.bot.outbox.post(
            card_key(round_id), OutboxMessage(embeds=[card_embed(view)], view=card_view(view))
        )
        if posted is not None and view.round.card_message_id != posted:
            await swaps_service.card_posted(self.bot.db, round_id, posted, self.now)
        await refresh_card(self.bot, await swaps_service.round_view(self.bot.db, round_id))

    # -- pairing -------------------------------------------------------------------------------

    async def pair(self, job: Job[RoundRef]) -> None:
        found = await swaps_service.get_round(self.bot.db, job.payload.round_id)
        if found.status != "open":
            return
        gone = await self._gone(found, await swaps_service.members_of(self.bot.db, found.id))
        paired = await swaps_service.pair(
            self.bot.db, self.bot.scheduler, found.id, gone=gone, now=self.now
        )
        if paired.pairing is not None:
            log.info(
                "Swap round %s paired (seed %s): %s pairs, %s knew theirs, %s repeats, %s borders",
                found.id, paired.round.seed, len(paired.pairing.receiver_of),
                paired.pairing.knows, paired.pairing.repeats, paired.pairing.countries_crossed,
            )  # fmt: skip
        await self.sync_card(found.id)

    async def _gone(self, found: SwapRound, members: list[int]) -> list[int]:
        """The members who have left the server (Discord answers 404 for them)."""
        gone: list[int] = []

        async def check(user_id: int) -> None:
            try:
                await self.bot.http.get_member(found.guild_id, user_id)
            except discord.NotFound:
                gone.append(user_id)

        await fan_out(members, check, what="membership checks")
        return sorted(gone)

    # -- DMs -----------------------------------------------------------------------------------

    async def notify(self, job: Job[RoundNotice]) -> None:
        notice = job.payload.notice
        work = await swaps_service.notice_recipients(self.bot.db, job.payload.round_id, notice)
        found = work.round
        if notice in ("assigned", "remind") and (
            found.status != "reviewing" or self.now >= found.review_until
        ):
            log.info("Swap round %s: %s no longer due", found.id, notice)
            return
        if notice == "cancelled" and found.status != "cancelled":
            return
        await fan_out(
            work.members, lambda user_id: self._dm(found, notice, user_id), what=f"{notice} DMs"
        )

    async def _dm(self, found: SwapRound, notice: str, user_id: int) -> None:
        current = await swaps_service.get_round(self.bot.db, found.id)
        if current.status != found.status:
            return  # cancelled (or revealed) while the list was going out
        view = discord.ui.View(timeout=None)
        embeds: list[discord.Embed] = []
        if notice == "cancelled":
            content = cancelled_text(found)
            marker = f"uc:swap:gone:{found.id}"
            view.add_item(
                discord.ui.Button(label="Round cancelled", custom_id=marker, disabled=True)
            )
        else:
            given = await swaps_service.assignment(self.bot.db, found.id, user_id)
            if given is None:
                return
            if notice == "remind" and given.review is not None:
                return  # reviewed since the list was made
            tag = "dm" if notice == "assigned" else "remind"
            view.add_item(ReviewButton(found.id, tag))
            marker = f"uc:swap:review:{found.id}:{tag}"
            content = assignment_text(found) if notice == "assigned" else reminder_text(found)
            if notice == "assigned":
                giver = None if found.anonymous else mention(given.entry.user_id)
                embeds.append(pick_embed(given.entry, giver=giver, title=found.theme))
        outcome = await dm_once(
            self.bot,
            f"swap:{found.id}:{notice}:dm:{user_id}",
            user_id,
            marker,
            OutboxMessage(content=content, embeds=embeds, view=view),
        )
        if outcome == "closed":
            log.info(
                "Swap round %s: %s's DMs are closed (the card has their button)", found.id, user_id
            )

    # -- the reveal ----------------------------------------------------------------------------

    async def reveal(self, job: Job[RoundRef]) -> None:
        found = await swaps_service.get_round(self.bot.db, job.payload.round_id)
        if found.status not in ("reviewing", "revealed"):
            return
        late = self.now - found.review_until
        data = await swaps_service.reveal(self.bot.db, found.id, self.now)
        if not data.revealed:
            return  # cancelled just before its reveal
        await self.sync_card(found.id)
        found = await swaps_service.get_round(self.bot.db, found.id)
        thread_id = await self._thread(found)
        by_entry = {review.entry_id: review for review in data.reviews}
        for entry in data.entries:
            if entry.receiver_id is None:
                continue
            view = discord.ui.View(timeout=None)
            view.add_item(PairButton(found.id, entry.id))
            await self._post(
                found, f"swap:{found.id}:reveal:{entry.id}", thread_id,
                f"uc:swap:pair:{found.id}:{entry.id}",
                OutboxMessage(content=reveal_pair_text(entry, by_entry.get(entry.id)), view=view),
            )  # fmt: skip
        own = {e.user_id: e for e in data.entries if e.user_id is not None}
        summary = reveal_summary(data.entries, data.reviews, own)
        view = discord.ui.View(timeout=None)
        view.add_item(HistoryButton(found.id))
        late_note = (
            "The reveal is late: the bot was offline at its time."
            if late.total_seconds() > 60
            else None
        )
        await self._post(
            found, f"swap:{found.id}:summary", thread_id, f"uc:swap:history:{found.id}",
            OutboxMessage(content=late_note, embeds=[summary_embed(found, summary)], view=view),
        )  # fmt: skip

    async def _thread(self, found: SwapRound) -> int:
        if found.thread_id is not None:
            return found.thread_id
        assert found.card_message_id is not None
        thread_id = await thread_on(
            self.bot, guild_id=found.guild_id, channel_id=found.channel_id,
            message_id=found.card_message_id, name=f"Swap reveal: {found.theme}",
            archive_after_minutes=10080,
            what=f"the reveal of the swap round **{md(found.theme)}**",
            notice=f"swap:{found.id}:no-thread",
        )  # fmt: skip
        await swaps_service.set_thread(self.bot.db, found.id, thread_id, self.now)
        return thread_id

    async def _post(
        self, found: SwapRound, key: str, channel_id: int, marker: str, message: OutboxMessage
    ) -> int | None:
        await self.bot.outbox.reserve_alone(
            key, marker=marker, channel_id=channel_id, guild_id=found.guild_id
        )
        return await self.bot.outbox.post(key, message)
