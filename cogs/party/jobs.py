"""The party's jobs, where they touch Discord: the card and event (sync), the notices (reminders,
"the time changed", "cancelled"), and the run in the thread (start, steps, end).

Every post goes through the outbox under a key of the party's, so a job run twice (the process
was killed before it was marked done) posts nothing twice; edits (the card, the "now playing"
message) are idempotent by nature.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from bot.direct_messages import dm_once, fan_out
from bot.domain.jobs import Job, JobSpec
from bot.domain.parties import (
    EVENT_LOCATION_MAX,
    Party,
    RunPlan,
    event_description,
    event_marker,
    event_name,
)
from bot.domain.text import clip_at_word
from bot.domain.tracklist import Tracklist
from bot.moderators import tell_moderators
from bot.outbox import OutboxMessage
from bot.posted import edit_posted
from bot.replies import md
from bot.services import parties as parties_service
from bot.services.parties import (
    END,
    NOTIFY,
    REMIND,
    START,
    STEP,
    SYNC,
    PartyEnd,
    PartyNotice,
    PartyRef,
    PartyStep,
    card_key,
    event_key,
)
from bot.threads import thread_on
from cogs.party.embeds import (
    card_embed,
    end_text_without_tracklist,
    marker_text,
    mention_text,
    moved_card_embed,
    notice_text,
    playing_embed,
    recap_embed,
    side_break_text,
    start_text,
)
from cogs.party.views import (
    NowButton,
    QuietButton,
    ReplayButton,
    RsvpButton,
    card_view,
    notice_tag,
    now_custom_id,
    quiet_custom_id,
    refresh_card,
    replay_custom_id,
)

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)

THREAD_HISTORY_LIMIT = 5000
EVENT_USERS_PAGE = 100  # Discord's most per request


class PartyJobs:
    """Handlers for ``bot.services.parties``' job kinds, registered by the cog."""

    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot

    def register(self) -> None:
        scheduler = self.bot.scheduler
        scheduler.register(SYNC, self.sync)
        scheduler.register(REMIND, self.notify)
        scheduler.register(NOTIFY, self.notify)
        scheduler.register(START, self.start, on_give_up=self._gave_up)
        scheduler.register(STEP, self.step, on_give_up=self._gave_up)
        scheduler.register(END, self.end, on_give_up=self._gave_up)

    def unregister(self) -> None:
        for kind in (SYNC, REMIND, NOTIFY, START, STEP, END):
            self.bot.scheduler.unregister(kind)

    @property
    def now(self) -> datetime:
        return self.bot.clock.now()

    # -- the card and the event ----------------------------------------------------------------

    async def sync(self, job: Job[PartyRef]) -> None:
        """Put up (or bring in line) the party's Discord event and its card."""
        party = await parties_service.find_party(self.bot.db, job.payload.party_id)
        if party is None:
            return
        await self.sync_event(party)
        party = await parties_service.get_party(self.bot.db, party.id)
        await self.sync_card(party)

    async def sync_event(self, party: Party) -> None:
        guild = self.bot.get_guild(party.guild_id)
        if guild is None:
            return
        if party.event_id is None:
            if party.status != "scheduled" or party.starts_at <= self.now:
                return
            if not can_manage_events(guild):
                log.info("Party %s: no Create Events permission, so no Discord event", party.id)
                return
            event_id = await self.bot.outbox.create_event_once(
                event_key(party.id), lambda marker: self._create_event(guild, party, marker)
            )
            if event_id is not None:
                await parties_service.record_id(
                    self.bot.db, party.id, "event_id", event_id, self.now
                )
            return
        try:
            event = await guild.fetch_scheduled_event(party.event_id)
        except discord.NotFound:
            return  # a moderator deleted it: the party goes on without
        if party.status == "cancelled":
            if event.status is discord.EventStatus.scheduled:
                await event.cancel()
            elif event.status is discord.EventStatus.active:
                await event.end()
            return
        if party.status != "scheduled" or event.status is not discord.EventStatus.scheduled:
            return
        await event.edit(
            name=event_name(party.what),
            description=event_description(
                party.description, party.card_url(), event_marker(party.id)
            ),
            start_time=party.starts_at,
            end_time=party.ends_at,
            location=event_location(self.bot, party),
        )

    async def _create_event(
        self, guild: discord.Guild, party: Party, marker: str
    ) -> discord.ScheduledEvent:
        return await guild.create_scheduled_event(
            name=event_name(party.what),
            start_time=party.starts_at,
            end_time=party.ends_at,
            entity_type=discord.EntityType.external,
            privacy_level=discord.PrivacyLevel.guild_only,
            location=event_location(self.bot, party),
            description=event_description(party.description, party.card_url(), marker),
        )

    async def sync_card(self, party: Party) -> None:
        """Post the card where the party is (once), retire a card left in a channel it moved
        from, and bring the card up to date."""
        key = card_key(party.id, party.channel_id)
        if party.card_message_id is None and not party.is_open:
            # Cancelled (or missed) before its card ever went up: nothing to announce now.
            if await self.bot.outbox.get(key) is not None:
                await self.bot.outbox.drop(key, f"party {party.status} before its card was posted")
            return
        entry = await self.bot.outbox.get(key)
        if entry is None:
            await self.bot.outbox.reserve_alone(
                key,
                marker=parties_service.card_marker(party.id),
                channel_id=party.channel_id,
                guild_id=party.guild_id,
            )
        view = await parties_service.party_view(self.bot.db, party.id)
        message_id = await self.bot.outbox.post(
            key, OutboxMessage(embeds=[card_embed(view)], view=card_view(view))
        )
        if message_id is None:
            return
        old = (party.card_channel_id, party.card_message_id)
        if old[0] is not None and old[1] is not None and old[1] != message_id:
            await self._retire_card(party, old[0], old[1])
        await parties_service.card_posted(
            self.bot.db, party.id, party.channel_id, message_id, self.now
        )
        await refresh_card(self.bot, await parties_service.party_view(self.bot.db, party.id))

    async def _retire_card(self, party: Party, channel_id: int, message_id: int) -> None:
        """The card left behind in the channel a party moved from: "moved to #…", no buttons."""
        await edit_posted(
            self.bot, guild_id=party.guild_id, channel_id=channel_id, message_id=message_id,
            doing=f"retire the old card of party #{party.id}", embed=moved_card_embed(party),
            view=None,
        )  # fmt: skip

    # -- notices -------------------------------------------------------------------------------

    async def notify(self, job: Job[PartyNotice]) -> None:
        """A reminder, or "the time changed" / "cancelled", to everyone Going or Maybe: once
        each, by DM, or mentioned in the party channel when their DMs are closed."""
        notice = job.payload.notice
        party = await parties_service.find_party(self.bot.db, job.payload.party_id)
        if party is None:
            return
        if notice.startswith("remind:") and (
            party.status != "scheduled" or party.starts_at <= self.now
        ):
            log.info("Party %s: reminder %s no longer due", party.id, notice)
            return
        await self.read_interested(party)
        work = await parties_service.notice_recipients(self.bot.db, party.id, notice)
        guild = self.bot.get_guild(party.guild_id)
        text = notice_text(party, notice, guild.name if guild else None)
        try:
            await fan_out(
                work.to_dm,
                lambda user_id: self._dm_notice(party, notice, user_id, text),
                what="notices",
            )
        finally:
            await self._mention_closed(party, notice)

    async def _dm_notice(self, party: Party, notice: str, user_id: int, text: str) -> None:
        tag = notice_tag(notice)
        view = discord.ui.View(timeout=None)
        if party.is_open and notice.startswith("remind:"):
            view.add_item(RsvpButton("cant", party.id))
        view.add_item(QuietButton(party.id, tag))
        if party.card_url() and party.is_open:
            view.add_item(discord.ui.Button(label="Open the card", url=party.card_url()))
        outcome = await dm_once(
            self.bot,
            f"party:{party.id}:{notice}:dm:{user_id}",
            user_id,
            quiet_custom_id(party.id, tag),
            OutboxMessage(content=text, view=view),
        )
        if outcome == "sent":
            await parties_service.notice_sent(self.bot.db, party.id, notice, user_id)
        else:  # mentioned in the party channel instead
            await parties_service.dm_closed(self.bot.db, party.id, notice, user_id)

    async def _mention_closed(self, party: Party, notice: str) -> None:
        batches = await parties_service.mention_batches(self.bot.db, party.id, notice)
        for batch, user_ids in sorted(batches.items()):
            key = f"party:{party.id}:{notice}:mention:{batch}"
            tag = notice_tag(notice, batch)
            await self.bot.outbox.reserve_alone(
                key, marker=quiet_custom_id(party.id, tag), channel_id=party.channel_id,
                guild_id=party.guild_id,
            )  # fmt: skip
            view = discord.ui.View(timeout=None)
            view.add_item(QuietButton(party.id, tag))
            await self.bot.outbox.post(
                key,
                OutboxMessage(
                    content=mention_text(party, notice, user_ids),
                    view=view,
                    allowed_mentions=discord.AllowedMentions(
                        everyone=False, roles=False, users=[discord.Object(u) for u in user_ids]
                    ),
                ),
            )

    async def read_interested(self, party: Party) -> None:
        """Discord's Interested users of the event, read through REST (discord.py drops the
        gateway's user-add events for members it has not cached), merged into the RSVPs; the
        card's counts follow."""
        if party.event_id is None:
            return
        try:
            user_ids = await self._interested(party.guild_id, party.event_id)
        except discord.NotFound:
            return
        except discord.HTTPException:
            log.warning("Party %s: could not read the event's Interested", party.id, exc_info=True)
            return
        await parties_service.sync_interested(self.bot.db, party.id, user_ids, self.now)
        await refresh_card(self.bot, await parties_service.party_view(self.bot.db, party.id))

    async def _interested(self, guild_id: int, event_id: int) -> list[int]:
        """Every Interested user of an event, 100 a page in ascending id order, as Discord
        answers. (discord.py 2.7's ``ScheduledEvent.users()`` pages as if the answer were newest
        first: past 100 users it repeats a page and never reaches the rest.)"""
        found: list[int] = []
        after: int | None = None
        while True:
            page = await self.bot.http.get_scheduled_event_users(
                guild_id, event_id, limit=EVENT_USERS_PAGE, with_member=False, after=after
            )
            ids = [int(entry["user"]["id"]) for entry in page]
            found += ids
            if len(ids) < EVENT_USERS_PAGE:
                return found
            after = max(ids)

    # -- the run --------------------------------------------------------------------------------

    async def _gave_up(self, job: Job[Any], error: str) -> None:
        """A run job that gave up for good (its card deleted, no access to its thread) must not
        leave the party running for ever: it ends where it is (or, if it never started, counts
        as missed). The moderators hear of the failure from the scheduler's own notice."""
        party_id = getattr(job.payload, "party_id", None)
        if not isinstance(party_id, int):
            return
        party = await parties_service.find_party(self.bot.db, party_id)
        if party is None:
            return
        if party.status == "running":
            await parties_service.mark_ended(
                self.bot.db, party, reactions={}, writers=None, now=self.now
            )
        elif party.status == "scheduled" and job.kind == START.name:
            await parties_service.mark_missed(self.bot.db, self.bot.scheduler, party, self.now)
        else:
            return
        log.warning("Party %s: its run stopped after %s gave up: %s", party.id, job.kind, error)
        await refresh_card(self.bot, await parties_service.party_view(self.bot.db, party.id))

    async def start(self, job: Job[PartyRef]) -> list[JobSpec]:
        party = await parties_service.find_party(self.bot.db, job.payload.party_id)
        if party is None or party.status in ("cancelled", "ended", "missed"):
            return []
        now = self.now
        if party.status == "scheduled":
            if now >= party.ends_at:
                await self._missed(party)
                return []
            await self.read_interested(party)
        if party.card_message_id is None:
            await self.sync_card(party)
        party, _plan, follow_ups = await parties_service.mark_started(
            self.bot.db, self.bot.scheduler, party, now
        )
        thread_id = await self._open_thread(party)
        state = await parties_service.run_state(self.bot.db, party.id)
        party, tracklist, plan = state.party, state.tracklist, state.plan
        await self._post(
            party, f"party:{party.id}:start", thread_id, now_custom_id(party.id, "start"),
            OutboxMessage(
                content=start_text(party, tracklist, plan), view=_now_view(party.id, "start")
            ),
        )  # fmt: skip
        if tracklist is not None and plan is not None:
            playing = await self._post(
                party, f"party:{party.id}:playing", thread_id, now_custom_id(party.id, "playing"),
                OutboxMessage(
                    embeds=[playing_embed(party, tracklist, plan, now)],
                    view=_now_view(party.id, "playing"),
                ),
            )  # fmt: skip
            if playing is not None:
                await parties_service.record_id(
                    self.bot.db, party.id, "playing_message_id", playing, now
                )
        await refresh_card(self.bot, await parties_service.party_view(self.bot.db, party.id))
        if party.next_id is not None:
            log.info("Party %s: the series' next occurrence is #%s", party.id, party.next_id)
        return follow_ups

    async def _missed(self, party: Party) -> None:
        party = await parties_service.mark_missed(self.bot.db, self.bot.scheduler, party, self.now)
        await refresh_card(self.bot, await parties_service.party_view(self.bot.db, party.id))
        series = " The series goes on with its next occurrence." if party.repeat_weeks else ""
        await tell_moderators(
            self.bot,
            party.guild_id,
            f"The listening party **{md(party.what)}** (#{party.id}, planned for "
            f"{discord.utils.format_dt(party.starts_at, 'F')}) was missed: I was offline for "
            f"its whole time. Its card says so.{series}",
            notice=f"party:{party.id}:missed",
        )

    async def _open_thread(self, party: Party) -> int:
        """The party's thread on its card (made once: Discord refuses a second thread on a
        message, and the thread's id is the message's). Without the permission to make one, the
        party runs in the channel and the moderators are told."""
        if party.thread_id is not None:
            return party.thread_id
        assert party.card_message_id is not None and party.card_channel_id is not None
        thread_id = await thread_on(
            self.bot, guild_id=party.guild_id, channel_id=party.card_channel_id,
            message_id=party.card_message_id, name=party.what, archive_after_minutes=1440,
            what=f"the listening party **{md(party.what)}**", notice=f"party:{party.id}:no-thread",
        )  # fmt: skip
        await parties_service.record_id(self.bot.db, party.id, "thread_id", thread_id, self.now)
        return thread_id

    async def step(self, job: Job[PartyStep]) -> list[JobSpec]:
        """One beat: a track's marker (and the "now playing" message moves on), or a side
        break. The next beat is the follow-up."""
        state = await parties_service.run_state(self.bot.db, job.payload.party_id)
        party, tracklist, plan = state.party, state.tracklist, state.plan
        if job.payload.gen != state.gen:
            return []  # planned before a pause, resume or skip: that control planned anew
        if party.status != "running" or tracklist is None or plan is None or plan.paused:
            return []
        index = job.payload.step
        if index >= len(plan.beats):
            return [parties_service.next_run_job(party, plan, len(plan.beats), state.gen)]
        beat = plan.beats[index]
        thread_id = party.thread_id or party.channel_id
        tracks = tracklist.tracks
        if beat.kind == "track":
            content = marker_text(tracks[beat.track], len(tracks))
            tag = f"t{tracks[beat.track].number}"
        else:
            content = side_break_text(tracks, beat, plan.beats[index + 1].at)
            tag = f"s{tracks[beat.track].number}"
        posted = await self._post(
            party, f"party:{party.id}:step:{index}", thread_id, now_custom_id(party.id, tag),
            OutboxMessage(content=content, view=_now_view(party.id, tag)),
        )  # fmt: skip
        if posted is not None:
            number = tracks[beat.track].number if beat.kind == "track" else None
            await parties_service.beat_posted(self.bot.db, party, index, number, posted, self.now)
        await self.edit_playing(party, tracklist, plan)
        return [parties_service.next_run_job(party, plan, index + 1, state.gen)]

    async def edit_playing(self, party: Party, tracklist: Tracklist, plan: RunPlan) -> None:
        if party.playing_message_id is None:
            return
        await edit_posted(
            self.bot, guild_id=party.guild_id, channel_id=party.thread_id or party.channel_id,
            message_id=party.playing_message_id,
            doing=f"update the now-playing message of party #{party.id}",
            embed=playing_embed(party, tracklist, plan, self.now),
        )  # fmt: skip

    async def end(self, job: Job[PartyEnd]) -> None:
        """The recap, kept in the thread; the thread archived; the card shows the party ended."""
        state = await parties_service.run_state(self.bot.db, job.payload.party_id)
        party, tracklist, plan = state.party, state.tracklist, state.plan
        if party.status not in ("running", "ended") or (
            party.status == "running" and job.payload.gen != state.gen
        ):
            return
        thread_id = party.thread_id or party.channel_id
        if party.status == "running":
            reactions = await self._reactions(party, thread_id)
            writers = await self._writers(party, thread_id)
            party = await parties_service.mark_ended(
                self.bot.db, party, reactions=reactions, writers=writers, now=self.now
            )
        if tracklist is not None and plan is not None:
            await self.edit_playing(party, tracklist, plan)
        else:
            await self._post(
                party, f"party:{party.id}:over", thread_id, now_custom_id(party.id, "over"),
                OutboxMessage(content=end_text_without_tracklist(party), view=_now_view(party.id, "over")),
            )  # fmt: skip
        replay = await parties_service.replay(self.bot.db, party.guild_id, party.id)
        view = discord.ui.View(timeout=None)
        view.add_item(ReplayButton(party.id))
        await self._post(
            party, f"party:{party.id}:recap", thread_id, replay_custom_id(party.id),
            OutboxMessage(embeds=[recap_embed(replay)], view=view),
        )  # fmt: skip
        if thread_id != party.channel_id:
            await self._archive(thread_id)
        await refresh_card(self.bot, await parties_service.party_view(self.bot.db, party.id))

    async def _reactions(self, party: Party, thread_id: int) -> dict[int, int]:
        """Each marker's reactions, read from the markers themselves (discord.py keeps no
        message cache to count them from)."""
        counts: dict[int, int] = {}
        replay = await parties_service.replay(self.bot.db, party.guild_id, party.id)
        channel = self.bot.get_partial_messageable(thread_id, guild_id=party.guild_id)
        for row in replay.tracks:
            if row["message_id"] is None:
                continue
            try:
                message = await channel.fetch_message(row["message_id"])
            except discord.HTTPException:
                continue
            counts[row["number"]] = sum(reaction.count for reaction in message.reactions)
        return counts

    async def _writers(self, party: Party, thread_id: int) -> int | None:
        """How many members wrote in the thread (the bot's own messages don't count)."""
        if thread_id == party.channel_id:
            return None
        channel = self.bot.get_partial_messageable(thread_id, guild_id=party.guild_id)
        me = self.bot.user
        authors: set[int] = set()
        try:
            async for message in channel.history(limit=THREAD_HISTORY_LIMIT):
                if me is None or message.author.id != me.id:
                    authors.add(message.author.id)
        except discord.HTTPException:
            return None
        return len(authors)

    async def _archive(self, thread_id: int) -> None:
        try:
            thread = await self.bot.fetch_channel(thread_id)
            if isinstance(thread, discord.Thread) and not thread.archived:
                await thread.edit(archived=True)
        except discord.HTTPException:
            log.info("Could not archive thread %s", thread_id, exc_info=True)

    async def _post(
        self, party: Party, key: str, channel_id: int, marker: str, message: OutboxMessage
    ) -> int | None:
        await self.bot.outbox.reserve_alone(
            key, marker=marker, channel_id=channel_id, guild_id=party.guild_id
        )
        return await self.bot.outbox.post(key, message)


def _now_view(party_id: int, tag: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(NowButton(party_id, tag))
    return view


def can_manage_events(guild: discord.Guild) -> bool:
    perms = guild.me.guild_permissions
    return bool(perms.manage_events or perms.create_events)


def event_location(bot: UndercurrentBot, party: Party) -> str:
    """The event's location: the voice channel's name, else the text channel's."""
    if party.voice_name:
        return clip_at_word(f"🔊 {party.voice_name}", EVENT_LOCATION_MAX)
    channel = bot.get_channel(party.channel_id)
    name = getattr(channel, "name", None)
    return clip_at_word(f"#{name}" if name else "the party channel", EVENT_LOCATION_MAX)
