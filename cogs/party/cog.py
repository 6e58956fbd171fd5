"""``/party``: listening parties, scheduled, in Discord's Events list, reminded, run track by
track in a thread, and remembered."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.calendar import CalendarEvent, calendar_file, party_uid
from bot.domain.markers import ControlKind
from bot.domain.parties import EVENTS_PER_GUILD, Party, reminder_times
from bot.domain.search import SearchFilters
from bot.errors import UserError
from bot.interactions import manages_events, require_guild
from bot.moderators import missing_to_post
from bot.pick_options import CHOICE_LIMIT, MAX_CHOICES, EntryOption
from bot.replies import NO_MENTIONS, clip, md
from bot.services import archive_search
from bot.services import parties as parties_service
from bot.services.parties import PartyChange, PartyInput
from cogs.party.embeds import history_embed, list_embed, now_answer, when
from cogs.party.jobs import PartyJobs, can_manage_events
from cogs.party.views import DYNAMIC_ITEMS, PagerView, TracklistModal, send_replay

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)

REPEAT_CHOICES = [
    app_commands.Choice(name="none", value="none"),
    app_commands.Choice(name="weekly", value="weekly"),
    app_commands.Choice(name="every two weeks", value="biweekly"),
]
WhatOption = app_commands.Range[str, 1, parties_service.MAX_WHAT]
WhenOption = app_commands.Range[str, 1, 60]
DurationOption = app_commands.Range[int, 1, 100_000]
LinkOption = app_commands.Range[str, 1, 500]
DescriptionOption = app_commands.Range[str, 1, parties_service.MAX_DESCRIPTION]
ReasonOption = app_commands.Range[str, 1, parties_service.MAX_REASON]
PartyOption = app_commands.Range[int, 1]
HISTORY_PAGE = 10
HISTORY_PAGES = 10
#: What the bot needs in a party channel, by discord.py's names.


class PartyCog(commands.GroupCog, group_name="party", group_description="Listening parties"):
    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot
        self.jobs = PartyJobs(bot)
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.jobs.register()

    async def cog_unload(self) -> None:
        self.jobs.unregister()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    # -- autocompletes ------------------------------------------------------------------------

    async def _party_choices(
        self, interaction: discord.Interaction[UndercurrentBot], current: str, *, open_only: bool
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        parties = await parties_service.search(
            self.bot.db, interaction.guild_id, current, open_only=open_only
        )
        zone, _ = await parties_service.zone_for(
            self.bot.db, interaction.guild_id, interaction.user.id
        )
        tz = ZoneInfo(zone)
        choices = []
        for party in parties[:MAX_CHOICES]:
            local = party.starts_at.astimezone(tz)
            stamp = f"{local:%a %d %b %H:%M}"
            name = f"#{party.id} · {stamp} · {party.what}"
            choices.append(app_commands.Choice(name=clip(name, CHOICE_LIMIT), value=party.id))
        return choices

    async def open_parties(
        self, interaction: discord.Interaction[UndercurrentBot], current: str
    ) -> list[app_commands.Choice[int]]:
        return await self._party_choices(interaction, current, open_only=True)

    async def any_party(
        self, interaction: discord.Interaction[UndercurrentBot], current: str
    ) -> list[app_commands.Choice[int]]:
        return await self._party_choices(interaction, current, open_only=False)

    async def archive_entries(
        self, interaction: discord.Interaction[UndercurrentBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Archive entries matching what is typed (the party is then linked to the entry);
        what is typed itself comes first, as free text."""
        choices: list[app_commands.Choice[str]] = []
        typed = current.strip()
        if typed:
            choices.append(app_commands.Choice(name=clip(typed, CHOICE_LIMIT), value=typed[:100]))
        if interaction.guild_id is None or len(typed) < 2:
            return choices
        page = await archive_search.search_archive(
            self.bot.db, interaction.guild_id, SearchFilters(query=typed), 1, self.bot.clock.now()
        )
        for pick in page.results:
            name = f"#{pick.id} {pick.artist} — {pick.title}"
            if pick.year:
                name += f" ({pick.year})"
            choices.append(app_commands.Choice(name=clip(name, CHOICE_LIMIT), value=f"#{pick.id}"))
        return choices[:MAX_CHOICES]

    # -- scheduling -----------------------------------------------------------------------------

    @app_commands.command(name="schedule", description="Schedule a listening party")
    @app_commands.checks.has_permissions(manage_events=True)
    @app_commands.describe(
        what="Artist — Title, or pick an archive entry",
        when="fri 21:00 · 2026-12-05 21:00 · tomorrow 20:30 · in 2 hours (in your time zone)",
        channel="Text channel for the card and the thread (default: the party channel, else here)",
        voice="A voice or stage channel where people gather (named on the card and the event)",
        link="Where to listen (Bandcamp, YouTube …)",
        duration="Minutes (default: the tracklist's length, else 60)",
        repeat="Repeat every week or every two weeks",
        description="A few words for the card and the event",
    )
    @app_commands.choices(repeat=REPEAT_CHOICES)
    @app_commands.autocomplete(what=archive_entries)
    async def schedule(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        what: WhatOption,
        when: WhenOption,
        channel: discord.TextChannel
        | discord.VoiceChannel
        | discord.StageChannel
        | discord.Thread
        | None = None,
        voice: discord.VoiceChannel | discord.StageChannel | None = None,
        link: LinkOption | None = None,
        duration: DurationOption | None = None,
        repeat: str = "none",
        description: DescriptionOption | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        guild = interaction.guild
        assert guild is not None
        target = await self._party_channel(interaction, channel)
        await interaction.response.defer(ephemeral=True, thinking=True)
        can_event = can_manage_events(guild)
        if can_event:
            await self._check_event_room(guild)
        given = PartyInput(
            what=what, when=when, channel_id=target.id,
            voice_id=voice.id if voice else None, voice_name=voice.name if voice else None,
            link=link, duration_minutes=duration, repeat=repeat, description=description,
        )  # fmt: skip
        now = self.bot.clock.now()
        scheduled = await parties_service.schedule_party(
            self.bot.db, self.bot.scheduler, guild_id=guild_id, host_id=interaction.user.id,
            given=given, now=now,
        )  # fmt: skip
        party = await self._put_up(scheduled.party)
        lines = [
            f"Scheduled **#{party.id} {md(party.what)}** for {when_line(party)}",
            f"-# Read as {scheduled.moment.local:%a %d %b %Y %H:%M} in "
            f"{scheduled.moment.zone}: {scheduled.zone_source}.",
        ]
        if scheduled.moment.ambiguous:
            lines.append(
                "That time happens twice that night (the clocks go back): I took the first one."
            )
        card = party.card_url()
        lines.append(f"Card: {card}" if card else "The card is on its way to " + f"<#{target.id}>.")
        if not can_event:
            lines.append(
                "It isn't in the server's Events list: I need the **Create Events** (or Manage "
                "Events) permission for that. Everything else works."
            )
        elif party.event_id is None:
            lines.append("The Discord event is on its way.")
        ahead = [o for o, _ in reminder_times(party.starts_at, scheduled.reminders, now)]
        if ahead:
            lines.append(
                f"Reminders go to Going and Maybe {parties_service.describe_reminders(ahead)} "
                "before."
            )
        else:
            lines.append("It is too soon for a reminder: none will be sent.")
        lines.append("Add a tracklist with `/party tracklist` for track markers.")
        if party.repeat_weeks:
            lines.append(
                "It repeats at the same local time; each occurrence gets its own card and event "
                "when the one before starts."
            )
        await interaction.followup.send(
            "\n".join(lines), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def _party_channel(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        channel: discord.abc.GuildChannel | discord.Thread | None,
    ) -> discord.TextChannel:
        """The text channel a party's card and thread go to: the one given, else the server's
        party channel, else this one; refused with the reason when it can't be one."""
        guild = interaction.guild
        assert guild is not None
        if channel is None:
            settings = await parties_service.get_settings(self.bot.db, guild.id)
            if settings.channel_id is not None:
                channel = guild.get_channel(settings.channel_id)
            if channel is None:
                here = interaction.channel
                channel = (
                    here if isinstance(here, discord.abc.GuildChannel | discord.Thread) else None
                )
        if isinstance(channel, discord.VoiceChannel | discord.StageChannel):
            raise UserError(
                f"{channel.mention} is a voice channel: Discord can't start a party thread in "
                "one. Give a text channel as **channel** and the voice channel as **voice**."
            )
        if isinstance(channel, discord.Thread):
            raise UserError(
                "A party can't be held in a thread (it starts its own). Give a text channel."
            )
        if not isinstance(channel, discord.TextChannel):
            raise UserError("Give a text channel for the party's card and thread.")
        missing = missing_permissions(channel)
        if missing:
            raise UserError(
                f"I can't run a party in {channel.mention}: I need "
                + ", ".join(f"**{name}**" for name in missing)
                + " there."
            )
        return channel

    async def _check_event_room(self, guild: discord.Guild) -> None:
        try:
            events = await guild.fetch_scheduled_events(with_counts=False)
        except discord.HTTPException:
            return
        live = [
            e
            for e in events
            if e.status in (discord.EventStatus.scheduled, discord.EventStatus.active)
        ]
        if len(live) >= EVENTS_PER_GUILD:
            raise UserError(
                f"This server has {len(live)} scheduled events, Discord's limit is "
                f"{EVENTS_PER_GUILD}. Cancel or delete one first, then schedule this party."
            )

    async def _read_interested(self, guild_id: int, party_id: int) -> None:
        """Bring the RSVPs up to date with the event's Interested, so what the reply says about
        who will be told is true."""
        found = await parties_service.find_party(self.bot.db, party_id, guild_id)
        if found is not None and found.is_open:
            await self.jobs.read_interested(found)

    async def _put_up(self, party: Party) -> Party:
        """The card and event, now (the sync job retries whatever fails here)."""
        try:
            await self.jobs.sync_event(party)
        except Exception:
            log.warning("Party %s: the event waits for the sync job", party.id, exc_info=True)
        party = await parties_service.get_party(self.bot.db, party.id)
        try:
            await self.jobs.sync_card(party)
        except Exception:
            log.warning("Party %s: the card waits for the sync job", party.id, exc_info=True)
        party = await parties_service.get_party(self.bot.db, party.id)
        if party.event_id is not None:
            try:
                await self.jobs.sync_event(party)  # the event links to the card now
            except Exception:
                log.info("Party %s: event description not updated", party.id, exc_info=True)
        return party

    @app_commands.command(
        name="tracklist", description="Set a party's tracklist (host or Manage Events)"
    )
    @app_commands.describe(party="The party")
    @app_commands.autocomplete(party=open_parties)
    async def tracklist(
        self, interaction: discord.Interaction[UndercurrentBot], party: PartyOption
    ) -> None:
        guild_id = require_guild(interaction)
        found = await parties_service.get_party(self.bot.db, party, guild_id)
        if not parties_service.may_manage(found, interaction.user.id, manages_events(interaction)):
            raise UserError(
                f"Only the host ({found.host}) or a member with Manage Events can set this "
                "party's tracklist."
            )
        if found.status != "scheduled":
            raise UserError(
                f"Party #{party} is {found.status}: the tracklist is set before it starts."
            )
        parts = await parties_service.tracklist_text(self.bot.db, guild_id, party)
        await interaction.response.send_modal(TracklistModal(found, parts))

    @app_commands.command(name="edit", description="Change a party that has not started")
    @app_commands.describe(
        party="The party",
        what="Artist — Title, or an archive entry",
        when="The new time (fri 21:00, tomorrow 20:30 …)",
        channel="Move the card and thread to this text channel",
        duration="Minutes",
        description="A few words for the card and the event",
    )
    @app_commands.autocomplete(party=open_parties)
    @app_commands.autocomplete(what=archive_entries)
    async def edit(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        party: PartyOption,
        what: WhatOption | None = None,
        when: WhenOption | None = None,
        channel: discord.TextChannel
        | discord.VoiceChannel
        | discord.StageChannel
        | discord.Thread
        | None = None,
        duration: DurationOption | None = None,
        description: DescriptionOption | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        target = None if channel is None else await self._party_channel(interaction, channel)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._read_interested(guild_id, party)
        edited = await parties_service.edit_party(
            self.bot.db, self.bot.scheduler, guild_id=guild_id, party_id=party,
            user_id=interaction.user.id, manages_events=manages_events(interaction),
            change=PartyChange(
                what=what, when=when, channel_id=target.id if target else None,
                duration_minutes=duration, description=description,
            ),
            now=self.bot.clock.now(),
        )  # fmt: skip
        updated = await self._put_up(edited.party)
        lines = [f"Updated **#{updated.id} {md(updated.what)}**: {when_line(updated)}"]
        if edited.moment is not None:
            lines.append(
                f"-# Read as {edited.moment.local:%a %d %b %Y %H:%M} in {edited.moment.zone}: "
                f"{edited.zone_source}."
            )
        if edited.moved and edited.told:
            lines.append(
                f"The {edited.told} member(s) Going or Maybe get one DM saying the time changed."
            )
        await interaction.followup.send(
            "\n".join(lines), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="cancel", description="Cancel a party (host or Manage Events)")
    @app_commands.describe(
        party="The party",
        reason="Shown on the card and told to those who RSVPed",
        series="Also end a repeating party's future occurrences",
    )
    @app_commands.autocomplete(party=open_parties)
    async def cancel(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        party: PartyOption,
        reason: ReasonOption | None = None,
        series: bool = False,
    ) -> None:
        guild_id = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._read_interested(guild_id, party)
        cancelled = await parties_service.cancel_party(
            self.bot.db, self.bot.scheduler, guild_id=guild_id, party_id=party,
            user_id=interaction.user.id, manages_events=manages_events(interaction),
            reason=reason, series=series, now=self.bot.clock.now(),
        )  # fmt: skip
        done = cancelled.party
        if done.status == "cancelled":
            try:
                await self.jobs.sync_event(done)
                await self.jobs.sync_card(done)
            except Exception:
                log.warning("Party %s: cancel waits for the sync job", done.id, exc_info=True)
            text = f"Cancelled **#{done.id} {md(done.what)}**."
            if cancelled.told:
                text += f" The {cancelled.told} member(s) Going or Maybe get one DM saying so."
        else:
            text = f"**#{done.id} {md(done.what)}** goes on, but it won't repeat."
        if cancelled.series_ended:
            text += " The series ends: no more occurrences."
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    # -- looking ------------------------------------------------------------------------------

    @app_commands.command(name="list", description="Upcoming listening parties")
    async def list_(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        guild_id = require_guild(interaction)
        views = await parties_service.upcoming(self.bot.db, guild_id, self.bot.clock.now())
        await interaction.response.send_message(
            embed=list_embed(views), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="now", description="What's playing at the party, and what's next")
    @app_commands.describe(party="The party (default: the one running now)")
    @app_commands.autocomplete(party=open_parties)
    async def now(
        self, interaction: discord.Interaction[UndercurrentBot], party: PartyOption | None = None
    ) -> None:
        guild_id = require_guild(interaction)
        party_id = party or await self._current(guild_id, running_only=False)
        state = await parties_service.run_state(self.bot.db, party_id, guild_id)
        content, embed = now_answer(state.party, state.tracklist, state.plan, self.bot.clock.now())
        await interaction.response.send_message(
            content,
            embed=embed or discord.utils.MISSING,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    async def _current(self, guild_id: int, *, running_only: bool) -> int:
        views = await parties_service.upcoming(self.bot.db, guild_id, self.bot.clock.now(), 5)
        running = [v.party for v in views if v.party.status == "running"]
        if running:
            return running[0].id
        if views and not running_only:
            return views[0].party.id
        raise UserError(
            "No party is running now." if running_only else "No party is running or coming up."
        )

    # -- the host's controls --------------------------------------------------------------------

    async def _control(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        party: int | None,
        kind: ControlKind,
    ) -> None:
        guild_id = require_guild(interaction)
        party_id = party or await self._current(guild_id, running_only=True)
        found, _ = await parties_service.control(
            self.bot.db, self.bot.scheduler, guild_id=guild_id, party_id=party_id,
            user_id=interaction.user.id, manages_events=manages_events(interaction),
            kind=kind, now=self.bot.clock.now(),
        )  # fmt: skip
        said = {
            "pause": "Paused: the next markers wait for `/party resume`.",
            "resume": "Resumed: the next markers moved on by the time paused.",
            "skip": "Skipped to the next track: its marker is posted now.",
        }[kind]
        await interaction.response.send_message(said, ephemeral=True)
        state = await parties_service.run_state(self.bot.db, party_id)
        if state.tracklist is not None and state.plan is not None:
            await self.jobs.edit_playing(state.party, state.tracklist, state.plan)
        thread = found.thread_id or found.channel_id
        channel = self.bot.get_partial_messageable(thread, guild_id=guild_id)
        if kind != "skip":
            try:
                await channel.send(
                    "⏸ Paused by the host." if kind == "pause" else "▶ Resumed.",
                    allowed_mentions=NO_MENTIONS,
                )
            except discord.HTTPException:
                log.info("Party %s: could not say %s in the thread", party_id, kind)

    @app_commands.command(name="pause", description="Pause the running party's track markers")
    @app_commands.autocomplete(party=open_parties)
    async def pause(
        self, interaction: discord.Interaction[UndercurrentBot], party: PartyOption | None = None
    ) -> None:
        await self._control(interaction, party, "pause")

    @app_commands.command(name="resume", description="Resume a paused party")
    @app_commands.autocomplete(party=open_parties)
    async def resume(
        self, interaction: discord.Interaction[UndercurrentBot], party: PartyOption | None = None
    ) -> None:
        await self._control(interaction, party, "resume")

    @app_commands.command(name="skip", description="Skip to the next track")
    @app_commands.autocomplete(party=open_parties)
    async def skip(
        self, interaction: discord.Interaction[UndercurrentBot], party: PartyOption | None = None
    ) -> None:
        await self._control(interaction, party, "skip")

    def _channel_name(self, channel_id: int) -> str | None:
        channel = self.bot.get_channel(channel_id)
        name = getattr(channel, "name", None)
        return f"#{name}" if name else None

    # -- calendars, settings, reminders ---------------------------------------------------------

    @app_commands.command(name="calendar", description="The upcoming parties as a calendar file")
    @app_commands.describe(mine="Only the parties I said Going or Maybe to")
    async def calendar(
        self, interaction: discord.Interaction[UndercurrentBot], mine: bool = False
    ) -> None:
        guild_id = require_guild(interaction)
        now = self.bot.clock.now()
        views = await parties_service.for_calendar(self.bot.db, guild_id, now)
        if mine:
            chosen = await parties_service.my_rsvps(
                self.bot.db, [v.party.id for v in views], interaction.user.id
            )
            views = [v for v in views if chosen.get(v.party.id) in ("going", "maybe")]
        events = [calendar_event(v, self._channel_name(v.party.channel_id)) for v in views]
        guild = interaction.guild
        name = f"{guild.name if guild else 'Undercurrent'} listening parties"
        data = calendar_file(events, name=name, stamp=now)
        count = sum(1 for event in events if not event.cancelled)
        text = (
            f"{count} upcoming part{'ies' if count != 1 else 'y'}"
            + (" you said Going or Maybe to" if mine else "")
            + ". Import the file into your calendar; importing it again updates it (new times, "
            "cancellations) and never doubles anything."
        )
        await interaction.response.send_message(
            text,
            file=discord.File(io.BytesIO(data), filename="parties.ics"),
            ephemeral=True,
        )

    @app_commands.command(
        name="settings", description="Party channel, reminders, pause between sides"
    )
    @app_commands.checks.has_permissions(manage_events=True)
    @app_commands.describe(
        channel="Where party cards and threads go by default",
        reminders="Times before the start, up to 3, e.g. 24h, 15m",
        side_break="Seconds between sides (vinyl, cassette), 0 to 600",
    )
    async def settings(
        self,
        interaction: discord.Interaction[UndercurrentBot],
        channel: discord.TextChannel | discord.VoiceChannel | discord.StageChannel | None = None,
        reminders: app_commands.Range[str, 1, 60] | None = None,
        side_break: app_commands.Range[int, 0, 600] | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        target = None if channel is None else await self._party_channel(interaction, channel)
        settings = await parties_service.update_settings(
            self.bot.db, guild_id, interaction.user.id, self.bot.clock.now(),
            channel_id=target.id if target else None, reminders=reminders,
            side_break_seconds=side_break,
        )  # fmt: skip
        changed = channel is not None or reminders is not None or side_break is not None
        lines = ["Party settings saved:" if changed else "Party settings:"]
        lines.append(
            "• Channel: "
            + (
                f"<#{settings.channel_id}>"
                if settings.channel_id
                else "not set (the channel the command is used in)"
            )
        )
        lines.append(
            f"• Reminders: {parties_service.describe_reminders(settings.reminders)} before the start "
            "(for parties scheduled from now on)"
        )
        lines.append(f"• Pause between sides: {int(settings.side_break.total_seconds())} s")
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @app_commands.command(name="reminders", description="Turn your party reminder DMs on or off")
    @app_commands.describe(state="on or off")
    @app_commands.choices(
        state=[
            app_commands.Choice(name="on", value="on"),
            app_commands.Choice(name="off", value="off"),
        ]
    )
    async def reminders(
        self, interaction: discord.Interaction[UndercurrentBot], state: str
    ) -> None:
        guild_id = require_guild(interaction)
        on = state == "on"
        changed = await parties_service.set_reminders(
            self.bot.db, guild_id, interaction.user.id, on=on, now=self.bot.clock.now()
        )
        if on:
            text = "Party reminders are on: I DM you before parties you're Going or Maybe to."
        else:
            text = "Party reminders are off: no reminder DMs from this server's parties."
        if not changed:
            text = "Already so. " + text
        await interaction.response.send_message(text, ephemeral=True)

    # -- the past -------------------------------------------------------------------------------

    @app_commands.command(name="history", description="Past listening parties, newest first")
    @app_commands.describe(entry="Only the parties of this archive entry")
    async def history(
        self, interaction: discord.Interaction[UndercurrentBot], entry: EntryOption | None = None
    ) -> None:
        guild_id = require_guild(interaction)
        pages: list[discord.Embed] = []
        parties, total = await parties_service.history(
            self.bot.db, guild_id, entry, limit=HISTORY_PAGE * HISTORY_PAGES, offset=0
        )
        count = max(1, -(-min(total, HISTORY_PAGE * HISTORY_PAGES) // HISTORY_PAGE))
        for page in range(count):
            chunk = parties[page * HISTORY_PAGE : (page + 1) * HISTORY_PAGE]
            pages.append(history_embed(chunk, total, page + 1, count))
        if entry is not None:
            pages[0].title = f"Parties of archive entry #{entry}"
        view = PagerView(interaction.user.id, pages) if len(pages) > 1 else discord.utils.MISSING
        await interaction.response.send_message(
            embed=pages[0], view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(
        name="replay", description="Replay a past party: tracks, notes, reactions"
    )
    @app_commands.describe(party="The party")
    @app_commands.autocomplete(party=any_party)
    async def replay(
        self, interaction: discord.Interaction[UndercurrentBot], party: PartyOption
    ) -> None:
        await send_replay(interaction, require_guild(interaction), party)


def when_line(party: Party) -> str:
    return when(party.starts_at)


#: Beyond what any post needs (``missing_to_post``): what a party's run needs in its channel.
RUN_PERMISSIONS = {
    "read_message_history": "Read Message History",
    "send_messages_in_threads": "Send Messages in Threads",
}


def missing_permissions(channel: discord.TextChannel) -> list[str]:
    """What the bot lacks to post a party's card and run it in a thread in ``channel``."""
    granted = channel.permissions_for(channel.guild.me)
    extra = [label for flag, label in RUN_PERMISSIONS.items() if not getattr(granted, flag)]
    return missing_to_post(channel) + extra


def calendar_event(view: parties_service.PartyView, channel_name: str | None) -> CalendarEvent:
    party = view.party
    lines = []
    if party.description:
        lines.append(party.description)
    if view.tracklist is not None:
        lines.append("Tracklist:")
        lines += [f"{t.number}. {t.title} ({t.length})" for t in view.tracklist.tracks]
    if party.link:
        lines.append(f"Listen: {party.link}")
    return CalendarEvent(
        uid=party_uid(party.id),
        summary=party.what,
        start=party.starts_at,
        end=party.ends_at,
        description="\n".join(lines) or None,
        location=party.voice_name or channel_name,
        url=party.card_url(),
        sequence=party.moves + (1 if party.status == "cancelled" else 0),
        cancelled=party.status == "cancelled",
    )
