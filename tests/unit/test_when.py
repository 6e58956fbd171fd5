"""Moments as people type them, in their zone; weekly repeats that keep to the wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.when import parse_when, wall_clock_repeat
from bot.errors import UserError

BERLIN = "Europe/Berlin"
# Wednesday 2 December 2026, 18:00 in Berlin.
NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


def local(text: str, zone: str = BERLIN, now: datetime = NOW) -> str:
    return f"{parse_when(text, zone, now).local:%a %Y-%m-%d %H:%M}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fri 21:00", "Fri 2026-12-04 21:00"),
        ("Friday 9pm", "Fri 2026-12-04 21:00"),
        ("wed 19:30", "Wed 2026-12-02 19:30"),  # today, still ahead
        ("wed 17:00", "Wed 2026-12-09 17:00"),  # today's has passed: next week's
        ("2026-12-05 21:00", "Sat 2026-12-05 21:00"),
        ("2026-12-05 9:30pm", "Sat 2026-12-05 21:30"),
        ("tomorrow 20:30", "Thu 2026-12-03 20:30"),
        ("today 23:59", "Wed 2026-12-02 23:59"),
        ("21:00", "Wed 2026-12-02 21:00"),
        ("07:15", "Thu 2026-12-03 07:15"),  # a time alone: the next one
        ("12am", "Thu 2026-12-03 00:00"),
        ("in 2 hours", "Wed 2026-12-02 20:00"),
        ("in 90 minutes", "Wed 2026-12-02 19:30"),
        ("in 1h 30m", "Wed 2026-12-02 19:30"),
        ("IN  3 DAYS", "Sat 2026-12-05 18:00"),
    ],
)
def test_what_people_type(text: str, expected: str) -> None:
    assert local(text) == expected


def test_the_same_words_in_another_zone_are_another_moment() -> None:
    berlin = parse_when("fri 21:00", BERLIN, NOW)
    new_york = parse_when("fri 21:00", "America/New_York", NOW)
    assert new_york.at - berlin.at == timedelta(hours=6)
    assert berlin.at.tzinfo is UTC and berlin.local.tzinfo == ZoneInfo(BERLIN)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("whenever", "I can't read `whenever`"),
        ("fri", "I can't read `fri`"),
        ("fri 21", "needs minutes or am/pm, such as `21:00`"),
        ("fri 25:00", "`25:00` is not a time of day"),
        ("fri 13pm", "12-hour clocks go 1 to 12"),
        ("2026-02-30 21:00", "`2026-02-30` is not a date on the calendar"),
        ("2026-12-05", "needs a time too, such as `2026-12-05 21:00`"),
        ("in 2 fortnights", "`fortnights` is not a unit I know"),
        ("in soon", "I can't read `in soon`"),
        ("today 09:00", "2026-12-02 09:00 (Europe/Berlin) has already passed"),
        ("2026-11-30 21:00", "has already passed"),
        ("2028-01-01 21:00", "is more than a year ahead"),
        ("in 400 days", "is more than a year ahead"),
    ],
)
def test_what_cannot_be_a_party_time_says_why(text: str, reason: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_when(text, BERLIN, NOW)
    assert reason in refused.value.message


def test_a_time_the_clocks_skip_is_refused() -> None:
    with pytest.raises(UserError) as refused:
        parse_when("2027-03-28 02:30", BERLIN, NOW)
    assert refused.value.message == (
        "**when**: 02:30 on 2027-03-28 does not exist in Europe/Berlin: the clocks jump forward "
        "an hour over it that night. Pick a time outside the jump."
    )
    with pytest.raises(UserError, match="does not exist in Australia/Lord_Howe"):
        parse_when("2027-10-03 02:15", "Australia/Lord_Howe", NOW)  # a half-hour jump


def test_a_time_the_clocks_repeat_takes_the_first_and_says_so() -> None:
    first = parse_when("2027-10-31 02:30", BERLIN, NOW)
    assert first.ambiguous
    assert first.at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # still summer time, +02:00
    assert not parse_when("2027-10-31 04:30", BERLIN, NOW).ambiguous


def test_a_weekly_party_stays_at_its_wall_time_across_the_clock_change() -> None:
    first = parse_when("2027-03-19 21:00", BERLIN, NOW).at  # Friday, winter time
    after = [wall_clock_repeat(first, BERLIN, 1, n) for n in (1, 2)]
    assert [f"{at.astimezone(ZoneInfo(BERLIN)):%Y-%m-%d %H:%M %z}" for at in after] == [
        "2027-03-26 21:00 +0100",
        "2027-04-02 21:00 +0200",  # summer time now: still 21:00 in Berlin, an hour earlier in UTC
    ]
    assert wall_clock_repeat(first, BERLIN, 2, 1) == after[1]  # every other week


def test_a_repeat_the_clocks_skip_moves_on_by_the_jump() -> None:
    first = parse_when("2027-03-21 02:30", BERLIN, NOW).at  # a Sunday
    skipped = wall_clock_repeat(first, BERLIN, 1, 1)  # 28 March: 02:00-03:00 does not exist
    assert f"{skipped.astimezone(ZoneInfo(BERLIN)):%Y-%m-%d %H:%M}" == "2027-03-28 03:30"


@given(
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney"]),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    # Clock changes in these zones happen between 01:00 and 04:00: party hours are elsewhere.
    hour=st.integers(min_value=4, max_value=23),
    minute=st.integers(min_value=0, max_value=59),
    weeks=st.sampled_from([1, 2]),
    count=st.integers(min_value=1, max_value=60),
)
def test_every_repeat_is_at_the_wall_time_asked_for(
    zone: str, day: date, hour: int, minute: int, weeks: int, count: int
) -> None:
    tz = ZoneInfo(zone)
    first = datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)
    repeat = wall_clock_repeat(first, zone, weeks, count).astimezone(tz)
    assert (repeat.hour, repeat.minute) == (hour, minute)
    assert repeat.date() == day + timedelta(weeks=weeks * count)


@given(
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"]),
    minutes=st.integers(min_value=1, max_value=60 * 24 * 365),
)
def test_a_span_from_now_is_exactly_that_long(zone: str, minutes: int) -> None:
    assert parse_when(f"in {minutes} minutes", zone, NOW).at - NOW == timedelta(minutes=minutes)
