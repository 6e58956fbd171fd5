"""Listening parties' own rules: how long a party lasts, and when its reminders go out.

Reminder offsets are what a server's moderators type into ``/party settings reminders``:
``24h,15m`` (the default), at most three, each from 5 minutes to 7 days before the start; one
may have several units (``1h 30m``), as ``format_offset`` shows them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.tracklist import Tracklist
from bot.domain.when import NotASpan, parse_span
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
