"""Weekly digests' rules of time: when a server's digest runs, which week it is of, and what to do
with one whose time passed while the bot was down.

A digest runs at a local weekday and time in a zone (``/digest setup``): Monday 10:00 in
Europe/Berlin stays 10:00 in Berlin across DST. A time the clocks skip that day (02:30 on the
night clocks jump from 02:00 to 03:00) runs when the clocks reach it, moved forward by the jump;
a time that happens twice runs the first time. Each digest is keyed by the ISO week it is of, in
its zone, so one week never gets two.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.errors import UserError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_WEEKDAY = 0  # Monday
DEFAULT_AT = time(10, 0)
#: A digest later than this when the bot comes back is posted, marked late; one later still is
#: skipped (and the moderators told).
LATE_AFTER = timedelta(minutes=1)
SKIP_AFTER = timedelta(days=3)
_AT = re.compile(r"(?P<hour>\d{1,2}):(?P<minute>\d{2})")


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    weekday: int  # 0 is Monday
    at: time
    zone: str  # IANA name

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday is 0 (Monday) to 6 (Sunday)")
        ZoneInfo(self.zone)  # a zone that does not exist fails here, not at the first run

    def describe(self) -> str:
        return f"{WEEKDAYS[self.weekday].title()}s at {self.at:%H:%M} ({self.zone})"


def parse_at(text: str) -> time:
    """``HH:MM`` on a 24-hour clock; a ``UserError`` naming the option otherwise."""
    match = _AT.fullmatch(text.strip())
    if match is None:
        raise UserError(
            f"**at**: `{text.strip()[:20]}` is not a time: use `HH:MM`, such as `10:00`."
        )
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        raise UserError(f"**at**: `{text.strip()}` is not a time of day (00:00 to 23:59).")
    return time(hour, minute)


def local_run(day: datetime, schedule: DigestSchedule) -> datetime:
    """The digest's moment on ``day``'s local date (``day`` is only read for its date), in UTC:
    the wall time, moved forward by the jump when the clocks skip it, the first when it
    happens twice."""
    wall = datetime.combine(day.date(), schedule.at)
    # fold=0 reads the wall time with the offset in force before any change that night: a
    # skipped time lands as far past the jump as it is past its start (02:30 → 03:30), and a
    # repeated time is its first occurrence.
    return wall.replace(tzinfo=ZoneInfo(schedule.zone), fold=0).astimezone(UTC)


def next_run(schedule: DigestSchedule, after: datetime) -> datetime:
    """The first run strictly after ``after`` (aware), in UTC."""
    if after.tzinfo is None:
        raise ValueError("after must be aware")
    tz = ZoneInfo(schedule.zone)
    local = after.astimezone(tz)
    for ahead in range(8):
        day = local + timedelta(days=ahead)
        if day.weekday() != schedule.weekday:
            continue
        run = local_run(day.replace(tzinfo=None), schedule)
        if run > after:
            return run
    raise AssertionError("a week and a day always holds the next such weekday")  # pragma: no cover


def week_key(moment: datetime, zone: str) -> str:
    """``2026-W49``: the ISO week ``moment`` falls in, in ``zone``."""
    year, week, _ = moment.astimezone(ZoneInfo(zone)).isocalendar()
    return f"{year}-W{week:02d}"


Lateness = Literal["on_time", "late", "skip"]


def lateness(due: datetime, now: datetime) -> Lateness:
    """What to do with a digest due at ``due`` when the bot gets to it at ``now``."""
    behind = now - due
    if behind < LATE_AFTER:
        return "on_time"
    if behind < SKIP_AFTER:
        return "late"
    return "skip"


# -- fitting a digest into one message ---------------------------------------------------------

#: Discord's limits: a field's value, a field's name, all embeds of a message together, fields
#: per embed. The total is kept under Discord's 6,000 with room for titles and footers.
FIELD_MAX = 1024
FIELD_NAME_MAX = 256
TOTAL_MAX = 5600
FIELDS_MAX = 25
#: The longest one line of a section may be: builders cut member text (a quoted note) before
#: wrapping it in markup, so a line is never cut here, and never mid-word or mid-markup.
LINE_MAX = 700


@dataclass(frozen=True, slots=True)
class Section:
    """One part of a digest ("Most loved this week"): a title and its lines, best first."""

    title: str
    lines: tuple[str, ...]
    unlisted: int = 0  # lines the builder left out already (counted in "…and N more")


@dataclass(frozen=True, slots=True)
class FittedSection:
    title: str
    body: str
    shown: int
    more: int  # lines left out ("…and N more")


def more_line(count: int) -> str:
    return f"…and {count} more"


def fit_sections(sections: list[Section], total_max: int = TOTAL_MAX) -> list[FittedSection]:
    """The sections as a message Discord accepts: each within a field's 1,024 characters, all
    within ``total_max``, at most 25. Whole lines are left out from the end of a section ("…and
    N more"), the longest section first, and a section is dropped whole only when even one line
    of each does not fit. A line over ``LINE_MAX`` is the builder's mistake (``ValueError``)."""
    for section in sections:
        for line in section.lines:
            if len(line) > LINE_MAX:
                raise ValueError(f"a digest line over {LINE_MAX} characters: {line[:40]!r}…")
    kept = [s for s in sections if s.lines][:FIELDS_MAX]
    shown = [_most_that_fit(s, FIELD_MAX) for s in kept]

    def size() -> int:
        return sum(
            len(s.title[:FIELD_NAME_MAX]) + len(_body(s, n))
            for s, n in zip(kept, shown, strict=True)
        )

    while size() > total_max:
        longest = max(range(len(kept)), key=lambda i: (len(_body(kept[i], shown[i])), -i))
        if shown[longest] > 1:
            shown[longest] -= 1
            continue
        kept.pop()  # one line each is still too much: the last sections go
        shown.pop()
        if not kept:
            break
    return [
        FittedSection(s.title[:FIELD_NAME_MAX], _body(s, n), n, len(s.lines) - n + s.unlisted)
        for s, n in zip(kept, shown, strict=True)
    ]


def _body(section: Section, shown: int) -> str:
    rest = len(section.lines) - shown + section.unlisted
    return "\n".join([*section.lines[:shown], *([more_line(rest)] if rest else [])])


def _most_that_fit(section: Section, limit: int) -> int:
    shown = len(section.lines)
    while shown > 1 and len(_body(section, shown)) > limit:
        shown -= 1
    return shown


# -- what a digest is made of ------------------------------------------------------------------

#: The sections, in the order a digest shows them: name (``/digest sections``) → title.
SECTIONS: dict[str, str] = {
    "loved": "Most loved this week",
    "new": "New on the map",
    "swaps": "Swap results",
    "parties": "Party recaps",
    "coming": "Coming up",
    "curators": "Curators of the week",
    "archive": "From the archive",
    "chart": "Chart of the week",
}
QUIET_CHOICES = ("post", "skip")
#: Parties shown under "Coming up": those starting within this of the digest.
COMING_WITHIN = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DigestSettings:
    """A server's digest as ``/digest setup`` and the rest left it. ``zone`` None follows the
    server's zone."""

    guild_id: int
    channel_id: int
    weekday: int
    at: time
    zone: str | None
    sections_off: frozenset[str]
    quiet: str  # post | skip
    enabled: bool
    problem: str | None = None
    problem_at: datetime | None = None

    def schedule(self, server_zone: str | None) -> DigestSchedule:
        return DigestSchedule(self.weekday, self.at, self.zone or server_zone or "UTC")

    def shows(self, section: str) -> bool:
        return section not in self.sections_off


def previous_run(schedule: DigestSchedule, due: datetime) -> datetime:
    """The run a week before ``due`` (the same local weekday and time, DST-correct): where the
    week a digest covers starts."""
    local = due.astimezone(ZoneInfo(schedule.zone))
    return local_run((local - timedelta(days=7)).replace(tzinfo=None), schedule)


def same_week_in_past_years(
    start: datetime, zone: str, since: datetime
) -> list[tuple[datetime, datetime]]:
    """For "From the archive": the same ISO week (Monday to Monday, in ``zone``) in each earlier
    year back to ``since``'s, newest first, in UTC. A week 53 that an earlier year lacks is
    left out."""
    tz = ZoneInfo(zone)
    year, week, _ = start.astimezone(tz).isocalendar()
    ranges = []
    for earlier in range(year - 1, since.astimezone(tz).year - 1, -1):
        try:
            monday = date.fromisocalendar(earlier, week, 1)
        except ValueError:
            continue
        begin = datetime.combine(monday, time(), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(monday + timedelta(days=7), time(), tzinfo=tz).astimezone(UTC)
        ranges.append((begin, end))
    return ranges


MapKind = Literal["country", "city", "label", "subgenre"]
MAP_KINDS: tuple[MapKind, ...] = ("country", "city", "label", "subgenre")


@dataclass(slots=True, unsafe_hash=True)
class MapFact:
    """What a digest needs of every pick of its week: its place on the scene's map (country,
    city, label, subgenres), who shared it and its marks (for ranking, curators and the chart).
    The few picks a digest shows are read in full separately.

    Not frozen: a week makes up to a hundred, and a frozen dataclass's ``__init__`` costs several
    times as much. Treat it as immutable."""

    pick_id: int
    created_at: int
    country: str | None
    city: str | None
    label: str | None
    subgenres: tuple[str, ...]
    shared_by: int | None = None
    loved: int = 0
    heard: int = 0

    @property
    def rank(self) -> tuple[int, int, int, int]:
        """Most loved first, then most heard, then the first shared."""
        return (-self.loved, -self.heard, self.created_at, self.pick_id)

    def values(self, kind: MapKind) -> tuple[str, ...]:
        if kind == "subgenre":
            return self.subgenres
        value = getattr(self, kind)
        return (value,) if value else ()


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def map_key(kind: MapKind, value: str) -> str:
    """How two spellings of one place or label are told apart: cities and labels ignore the
    case of ASCII letters (as SQLite's NOCASE does, which the database compares with);
    countries and subgenres are stored normalised."""
    if kind != "city" and kind != "label":
        return value
    # str.lower of an all-ASCII string lowers exactly its ASCII letters, and is much cheaper
    # than translate; anything else keeps its other letters as they are, as NOCASE does.
    return value.lower() if value.isascii() else value.translate(_ASCII_LOWER)


@dataclass(frozen=True, slots=True)
class FirstOnMap:
    """The week's first pick with a country (city, label, subgenre) the server had never had."""

    kind: MapKind
    value: str
    pick_id: int


def firsts_on_map(
    week: list[MapFact], first_seen_since: Mapping[MapKind, Set[str]]
) -> list[FirstOnMap]:
    """For each country, city, label and subgenre of the week's picks (``week``, in any order)
    that no earlier pick of the server had, the first pick of the week that has it, in the
    order they were shared, countries first. ``first_seen_since`` holds, keyed by ``map_key``,
    the values the server's picks first had since the week began (those of the week among them
    are its new ones)."""
    found: list[FirstOnMap] = []
    if not any(first_seen_since.values()):  # most weeks: nothing new on the server's map
        return found
    ordered = sorted(week, key=lambda fact: (fact.created_at, fact.pick_id))
    for kind in MAP_KINDS:
        new = set(first_seen_since.get(kind, ()))
        for fact in ordered:
            if not new:
                break
            for value in fact.values(kind):
                if (key := map_key(kind, value)) in new:
                    new.discard(key)
                    found.append(FirstOnMap(kind, value, fact.pick_id))
    return found


#: "Most loved" ranks at most this many picks (a section lists at most 40 lines); "Curators of
#: the week" names at most this many members.
RANKED_MAX = 40
CURATORS_MAX = 10


@dataclass(frozen=True, slots=True)
class Curator:
    """A member whose picks of the week were loved: Loved marks on them, and on how many."""

    user_id: int
    loved: int
    picks: int


@dataclass(frozen=True, slots=True)
class WeekCounts:
    """What a digest counts over all of its week's picks: how many, shared by how many members,
    the most loved, the curators and the chart. ``count_week`` counts them from the picks'
    facts; a busy week's are counted in SQL (``bot.db.repos.digests.read_week_counts``), to the
    same values, so only these few rows are read instead of every pick."""

    picks: int
    sharers: int  # members who shared them; picks whose sharer was forgotten count as one
    ranked: tuple[int, ...]  # pick ids, most loved first (``MapFact.rank``), at most RANKED_MAX
    curators: tuple[Curator, ...]  # most loved first, at most CURATORS_MAX
    chart_title: str  # "Subgenres", "Countries", or "" when there is no chart
    chart: tuple[tuple[str, int], ...]  # (value, picks), most first, then by value


def count_week(facts: list[MapFact]) -> WeekCounts:
    """The week's counts from every pick's facts."""
    ranked = sorted(facts, key=lambda fact: fact.rank)[:RANKED_MAX]
    loved: dict[int, tuple[int, int]] = {}
    for fact in facts:
        if fact.shared_by is not None and fact.loved:
            total, count = loved.get(fact.shared_by, (0, 0))
            loved[fact.shared_by] = (total + fact.loved, count + 1)
    curators = sorted(loved.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    title, bars = chart_counts(facts)
    return WeekCounts(
        picks=len(facts),
        sharers=len({fact.shared_by for fact in facts}),
        ranked=tuple(fact.pick_id for fact in ranked),
        curators=tuple(Curator(user, total, count) for user, (total, count) in curators)[
            :CURATORS_MAX
        ],
        chart_title=title,
        chart=tuple(bars),
    )


def chart_counts(facts: list[MapFact]) -> tuple[str, list[tuple[str, int]]]:
    """The week's chart: its picks by subgenre (most first, then by name), or by country when
    fewer than two subgenres were named; ``("", [])`` when neither has two values."""
    return chart_of(_counted(facts, "subgenre"), lambda: _counted(facts, "country"))


def _counted(facts: list[MapFact], kind: MapKind) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for fact in facts:
        for value in fact.values(kind):
            counts[value] = counts.get(value, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def chart_of(
    subgenres: list[tuple[str, int]], countries: Callable[[], list[tuple[str, int]]]
) -> tuple[str, list[tuple[str, int]]]:
    """Which chart a week has, from its picks counted by subgenre and (asked only when needed)
    by country, each most first: subgenres when two or more were named, else countries when
    two or more, else none (``("", [])``)."""
    if len(subgenres) >= 2:
        return "Subgenres", subgenres
    by_country = countries()
    if len(by_country) >= 2:
        return "Countries", by_country
    return "", []
