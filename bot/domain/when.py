"""Moments as people type them, read in a person's time zone; and weekly repeats that keep to
the wall clock.

``parse_when("fri 21:00", "Europe/Berlin", now)`` understands:

* a date and time: ``2026-12-05 21:00`` (also ``2026-12-05 9pm``);
* a day and time: ``today 20:30``, ``tomorrow 20:30``, ``fri 21:00``, ``friday 9:30pm`` (the next
  such day whose time is still ahead: a Friday at 20:00, ``fri 21:00`` is tonight);
* a time alone: ``21:00`` (today if still ahead, else tomorrow);
* a span from now: ``in 2 hours``, ``in 90 minutes``, ``in 1h 30m``, ``in 3 days``.

Local times are checked against the zone's clock changes: a time skipped when clocks go forward
does not exist, and is refused with the gap named; a time that happens twice when clocks go back
takes the first, and says so (``ParsedMoment.ambiguous``). A moment in the past, or more than a
year ahead, is refused. Everything is pure: ``now`` is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UserError

HORIZON = timedelta(days=366)
EXAMPLES = "`fri 21:00`, `2026-12-05 21:00`, `tomorrow 20:30`, `in 2 hours` or `in 90 minutes`"

_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5,
    "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip
_UNITS = {
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_SPAN = re.compile(r"(\d{1,7})\s*([a-z]+)")
_TIME = re.compile(r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<half>am|pm)?")
_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")


@dataclass(frozen=True, slots=True)
class ParsedMoment:
    """A moment someone typed: ``at`` in UTC, ``local`` on their wall clock in ``zone``."""

    at: datetime
    local: datetime
    zone: str
    ambiguous: bool = False  # the wall time happens twice (clocks go back): the first was taken


def parse_when(text: str, zone: str, now: datetime, *, option: str = "when") -> ParsedMoment:
    """What ``text`` means in ``zone`` (an IANA name), seen at ``now`` (aware); a ``UserError``
    saying why when it means nothing, has passed, does not exist there, or is over a year off,
    naming ``option`` (the command option it was typed into)."""
    try:
        return _parse_when(text, zone, now)
    except UserError as error:
        if option == "when":
            raise
        raise UserError(error.message.replace("**when**", f"**{option}**", 1)) from None


def _parse_when(text: str, zone: str, now: datetime) -> ParsedMoment:
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    tz = ZoneInfo(zone)
    words = " ".join(text.strip().casefold().split())
    if words.startswith("in "):
        at = _span_from(now, words[3:])
        return _checked(ParsedMoment(at.astimezone(UTC), at.astimezone(tz), zone), now, text)
    local_now = now.astimezone(tz)
    day, clock = _split_day(words, text)
    wall_time = _parse_time(clock, text)
    if isinstance(day, date):
        return _checked(_resolve(datetime.combine(day, wall_time), tz, zone), now, text)
    if isinstance(day, timedelta):  # today, tomorrow: that day, ahead or not
        wall = datetime.combine(local_now.date() + day, wall_time)
        return _checked(_resolve(wall, tz, zone), now, text)
    for ahead in range(8):  # the first such day (any day, or that weekday) still ahead
        candidate = local_now.date() + timedelta(days=ahead)
        if day is not None and candidate.weekday() != day:
            continue
        moment = _resolve(datetime.combine(candidate, wall_time), tz, zone)
        if moment.at > now:
            return _checked(moment, now, text)
    raise AssertionError("a week always holds the next such day")  # pragma: no cover


def wall_clock_repeat(first: datetime, zone: str, weeks: int, count: int) -> datetime:
    """The ``count``-th repeat (``count`` ≥ 1) of ``first`` every ``weeks`` weeks, at the same
    wall time in ``zone`` whatever the clocks did meanwhile (a 21:00 Berlin party stays 21:00 in
    Berlin across DST). A wall time that does not exist that day (clocks jumped over it) moves
    forward by the jump, as the clocks did. Returned in UTC."""
    if weeks < 1 or count < 1:
        raise ValueError("repeats are every 1 or more weeks, from the first one on")
    tz = ZoneInfo(zone)
    wall = first.astimezone(tz).replace(tzinfo=None) + timedelta(weeks=weeks * count)
    return wall.replace(tzinfo=tz).astimezone(UTC)


def _split_day(words: str, text: str) -> tuple[date | timedelta | int | None, str]:
    """``(day, time text)``: a date; days from today (today, tomorrow); a weekday (0 is
    Monday); or None for "the next time it is …"."""
    first, _, rest = words.partition(" ")
    if match := _DATE.fullmatch(first):
        try:
            day = date(int(match["year"]), int(match["month"]), int(match["day"]))
        except ValueError:
            raise UserError(f"**when**: `{first}` is not a date on the calendar.") from None
        if not rest:
            raise UserError(
                f"**when**: `{text.strip()}` needs a time too, such as `{first} 21:00`."
            )
        return day, rest
    if first in ("today", "tonight"):
        return timedelta(0), rest
    if first == "tomorrow":
        return timedelta(days=1), rest
    if first in _WEEKDAYS:
        return _WEEKDAYS[first], rest
    return None, words


def _parse_time(clock: str, text: str) -> time:
    match = _TIME.fullmatch(clock.replace(" ", ""))
    if not clock or match is None:
        raise UserError(f"**when**: I can't read `{text.strip()[:60]}`. Try {EXAMPLES}.")
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            raise UserError(f"**when**: `{clock}` is not a time (12-hour clocks go 1 to 12).")
        hour = hour % 12 + (12 if match["half"] == "pm" else 0)
    elif match["minute"] is None:
        raise UserError(f"**when**: `{clock}` needs minutes or am/pm, such as `{hour}:00`.")
    if hour > 23 or minute > 59:
        raise UserError(f"**when**: `{clock}` is not a time of day.")
    return time(hour, minute)


class NotASpan(ValueError):
    """Text that is not a span of time; ``unit`` is the word that is not a unit, if that is why."""

    def __init__(self, unit: str | None = None) -> None:
        super().__init__(unit)
        self.unit = unit


def parse_span(text: str) -> timedelta:
    """``2 hours``, ``90 minutes``, ``1h 30m``, ``3 days and 2 hours`` → the span (case and
    spaces don't matter); ``NotASpan`` otherwise. Shared by ``in …`` times and reminder offsets."""
    words = text.casefold()
    spans = _SPAN.findall(words)
    if not spans or _SPAN.sub("", words).replace("and", "").strip(" ,"):
        raise NotASpan()
    seconds = 0
    for amount, unit in spans:
        if unit not in _UNITS:
            raise NotASpan(unit)
        seconds += int(amount) * _UNITS[unit]
    return timedelta(seconds=seconds)


def _span_from(now: datetime, words: str) -> datetime:
    try:
        return now + parse_span(words)
    except NotASpan as not_a_span:
        if not_a_span.unit is not None:
            raise UserError(
                f"**when**: `{not_a_span.unit}` is not a unit I know; use minutes, hours or days."
            ) from None
        raise UserError(
            f"**when**: I can't read `in {words[:50]}`. Try `in 2 hours` or `in 90 minutes`."
        ) from None


def _resolve(wall: datetime, tz: ZoneInfo, zone: str) -> ParsedMoment:
    """A naive wall time in ``tz``: refused if the clocks skip it, the first if they repeat it."""
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        jump = (second.utcoffset() or timedelta()) - (first.utcoffset() or timedelta())
        raise UserError(
            f"**when**: {wall:%H:%M} on {wall:%Y-%m-%d} does not exist in {zone}: the clocks "
            f"jump forward {_duration(jump)} over it that night. Pick a time outside the jump."
        )
    ambiguous = first.utcoffset() != second.utcoffset()
    return ParsedMoment(first.astimezone(UTC), first, zone, ambiguous)


def _duration(span: timedelta) -> str:
    minutes = int(abs(span).total_seconds()) // 60
    if minutes % 60 == 0:
        return "an hour" if minutes == 60 else f"{minutes // 60} hours"
    return f"{minutes} minutes"


def _checked(moment: ParsedMoment, now: datetime, text: str) -> ParsedMoment:
    if moment.at <= now:
        raise UserError(
            f"**when**: {moment.local:%Y-%m-%d %H:%M} ({moment.zone}) has already passed."
        )
    if moment.at - now > HORIZON:
        raise UserError(f"**when**: `{text.strip()[:60]}` is more than a year ahead.")
    return moment
