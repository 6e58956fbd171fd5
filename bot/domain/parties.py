"""Listening parties' own rules: how long a party lasts, when its reminders go out, what its
Discord event says, and what its run posts when (the beats).

Reminder offsets are what a server's moderators type into ``/party settings reminders``:
``24h,15m`` (the default), at most three, each from 5 minutes to 7 days before the start; one
may have several units (``1h 30m``), as ``format_offset`` shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.domain.markers import Control, marker_schedule
from bot.domain.text import clip_at_word
from bot.domain.tracklist import Tracklist, format_length
from bot.domain.when import NotASpan, parse_span, wall_clock_repeat
from bot.errors import UserError

DEFAULT_DURATION = timedelta(minutes=60)
MAX_DURATION = timedelta(hours=12)
DEFAULT_REMINDERS = (timedelta(hours=24), timedelta(minutes=15))
MAX_REMINDERS = 3
EARLIEST_REMINDER = timedelta(days=7)
LATEST_REMINDER = timedelta(minutes=5)


def party_duration(minutes: int | None, tracklist: Tracklist | None) -> timedelta:
    """What the host gave, else the tracklist's length, else an hour; 12 hours at most."""
    if minutes is not None:
        if minutes < 1:
            raise UserError("**duration** is in minutes, at least 1.")
        duration = timedelta(minutes=minutes)
    elif tracklist is not None and tracklist.tracks:
        duration = timedelta(seconds=tracklist.seconds)
    else:
        duration = DEFAULT_DURATION
    if duration > MAX_DURATION:
        raise UserError(
            f"A party lasts at most {MAX_DURATION.seconds // 3600} hours; this one would take "
            f"{format_offset(duration)}."
        )
    return duration


def parse_reminder_offsets(text: str) -> tuple[timedelta, ...]:
    """``24h, 15m`` → (24 hours, 15 minutes), longest first, each once; a ``UserError`` naming
    the piece that is not an offset, or out of range."""
    offsets: set[timedelta] = set()
    for piece in (p.strip().casefold() for p in text.split(",")):
        if not piece:
            continue
        try:
            offset = parse_span(piece)
        except NotASpan:
            raise UserError(
                f"**reminders**: `{piece[:20]}` is not a time before the start; use minutes, "
                "hours or days, such as `24h, 15m` or `1h 30m`."
            ) from None
        if not LATEST_REMINDER <= offset <= EARLIEST_REMINDER:
            raise UserError(
                f"**reminders**: `{piece}` is out of range: each reminder goes from 5 minutes "
                "to 7 days before the start."
            )
        offsets.add(offset)
    if not offsets:
        raise UserError("**reminders**: give at least one, such as `24h, 15m`.")
    if len(offsets) > MAX_REMINDERS:
        raise UserError(f"**reminders**: at most {MAX_REMINDERS} per party.")
    return tuple(sorted(offsets, reverse=True))


def format_offset(offset: timedelta) -> str:
    """``1d 2h``, ``24h`` is ``1d``, ``90m`` is ``1h 30m``: how the settings show an offset."""
    minutes = int(offset.total_seconds()) // 60
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return " ".join(p for p in parts if p) or "0m"


def reminder_times(
    start: datetime, offsets: tuple[timedelta, ...], scheduled_at: datetime
) -> list[tuple[timedelta, datetime]]:
    """``(offset, when)`` of each reminder still ahead when the party is scheduled: a 24-hour
    reminder for a party two hours off is not sent late, it is not sent."""
    return [(o, start - o) for o in offsets if start - o > scheduled_at]


# -- a party as the rest of the system sees it ------------------------------------------------

PartyStatus = Literal["scheduled", "running", "ended", "cancelled", "missed"]
RsvpChoice = Literal["going", "maybe", "cant"]
RSVP_CHOICES: tuple[RsvpChoice, ...] = ("going", "maybe", "cant")
REPEATS = {"none": 0, "weekly": 1, "biweekly": 2}
DEFAULT_SIDE_BREAK = timedelta(seconds=30)
MAX_SIDE_BREAK = timedelta(minutes=10)
#: Discord's limit on a scheduled event's name, and on an EXTERNAL event's location.
EVENT_NAME_MAX = 100
EVENT_LOCATION_MAX = 100
EVENT_DESCRIPTION_MAX = 1000
#: Discord allows this many scheduled (or active) events per server.
EVENTS_PER_GUILD = 100
#: A late start gets a note when it is later than this.
LATE_AFTER = timedelta(minutes=1)
#: The start message's countdown: "press play in 10 s".
COUNTDOWN = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class Party:
    """One occurrence of a listening party (each occurrence of a series is its own party)."""

    id: int
    guild_id: int
    host_id: int | None  # None: the host asked to be forgotten
    series_id: int | None
    occurrence: int
    what: str
    pick_id: int | None
    starts_at: datetime
    duration: timedelta
    zone: str
    repeat_weeks: int
    channel_id: int
    voice_id: int | None
    voice_name: str | None
    link: str | None
    description: str | None
    side_break: timedelta
    status: PartyStatus
    event_id: int | None
    card_channel_id: int | None
    card_message_id: int | None
    thread_id: int | None
    playing_message_id: int | None
    beat: int
    started_at: datetime | None
    ended_at: datetime | None
    late_by: timedelta | None
    cancel_reason: str | None
    moves: int
    next_id: int | None
    writers: int | None

    @property
    def ends_at(self) -> datetime:
        """When the party is planned to end (its Discord event's end)."""
        return self.starts_at + self.duration

    @property
    def is_open(self) -> bool:
        """Scheduled or running: it can still be edited, cancelled, RSVPed."""
        return self.status in ("scheduled", "running")

    @property
    def host(self) -> str:
        """The host as a message shows them: a mention (which pings nobody: messages are sent
        with no mentions allowed), or "a former member"."""
        return "a former member" if self.host_id is None else f"<@{self.host_id}>"

    def card_url(self) -> str | None:
        if self.card_message_id is None or self.card_channel_id is None:
            return None
        return message_url(self.guild_id, self.card_channel_id, self.card_message_id)

    def thread_url(self) -> str | None:
        if self.thread_id is None:
            return None
        return f"https://discord.com/channels/{self.guild_id}/{self.thread_id}"

    def event_url(self) -> str | None:
        if self.event_id is None:
            return None
        return f"https://discord.com/events/{self.guild_id}/{self.event_id}"


def message_url(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


@dataclass(frozen=True, slots=True)
class RsvpCounts:
    going: int = 0
    maybe: int = 0
    cant: int = 0


def event_name(what: str) -> str:
    """The Discord event's name: the party's what, cut to Discord's 100 characters."""
    return clip_at_word(what, EVENT_NAME_MAX)


def event_marker(party_id: int) -> str:
    """The line in the event's description that finds it again after an interrupted create
    (closed by a parenthesis, so party 1's marker is not inside party 12's)."""
    return f"(Undercurrent party {party_id})"


def event_description(description: str | None, card_url: str | None, marker: str) -> str:
    """The event's description: the host's, a link to the card, and the marker last (kept
    whole however long the rest is)."""
    tail = ("\n" + card_url if card_url else "") + "\n" + marker
    head = clip_at_word(description or "", EVENT_DESCRIPTION_MAX - len(tail))
    return (head + tail).strip()


def next_occurrence(first_start: datetime, zone: str, weeks: int, occurrence: int) -> datetime:
    """The start of occurrence number ``occurrence`` (0 is the first) of a series."""
    if occurrence == 0:
        return first_start
    return wall_clock_repeat(first_start, zone, weeks, occurrence)


# -- the run: beats -----------------------------------------------------------------------------

BeatKind = Literal["track", "side"]


@dataclass(frozen=True, slots=True)
class Beat:
    """One thing the run posts at its moment: a track's marker, or a side break before it."""

    kind: BeatKind
    track: int  # index into the tracklist
    at: datetime


@dataclass(frozen=True, slots=True)
class RunPlan:
    """The beats of a party run in order, and when it ends. Paused (``paused_since``): the beats
    not yet posted wait, and what is shown as playing is what played when the pause began."""

    beats: tuple[Beat, ...]
    ends: datetime
    paused_since: datetime | None = None

    @property
    def paused(self) -> bool:
        return self.paused_since is not None

    def shown_at(self, now: datetime) -> datetime:
        """The moment a "now playing" view shows: ``now``, or when the pause began (the track
        playing then stays playing, and its progress stops)."""
        return self.paused_since if self.paused_since is not None else now


def run_plan(
    start: datetime,
    duration: timedelta,
    tracklist: Tracklist | None,
    side_break: timedelta,
    controls: Sequence[Control] = (),
) -> RunPlan:
    """What a party started at ``start`` posts and when it ends. Without a tracklist: no
    beats, and it ends after ``duration``; with one, when its last track ends."""
    if tracklist is None or not tracklist.tracks:
        return RunPlan((), start + duration)
    schedule = marker_schedule(start, tracklist, side_break, controls)
    beats: list[Beat] = []
    tracks = tracklist.tracks
    for index, at in enumerate(schedule.starts):
        if index and tracks[index].side != tracks[index - 1].side:
            beats.append(Beat("side", index, max(at - side_break, schedule.starts[index - 1])))
        beats.append(Beat("track", index, at))
    return RunPlan(tuple(beats), schedule.ends, schedule.paused_since)


def first_beat_at_or_after(plan: RunPlan, now: datetime) -> int:
    """Where a late start picks up: the beat playing at ``now`` (the last one already due), so
    the tracks that passed while the bot was away are not posted in a burst."""
    due = [i for i, beat in enumerate(plan.beats) if beat.at <= now]
    return due[-1] if due else 0


def progress_bar(elapsed: timedelta, total: timedelta, width: int = 14) -> str:
    """``▰▰▰▱▱▱▱ 1:02 / 4:12``: how far into a track."""
    total_s = max(1, int(total.total_seconds()))
    done_s = min(total_s, max(0, int(elapsed.total_seconds())))
    filled = round(width * done_s / total_s)
    return (
        f"{'▰' * filled}{'▱' * (width - filled)} {format_length(done_s)} / {format_length(total_s)}"
    )
