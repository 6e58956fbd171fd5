"""Weekly digests' rules: the next run at a local weekday and time across DST, week keys, what a
late digest does, and fitting a digest into one message Discord accepts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.digest import (
    FIELD_MAX,
    FIELDS_MAX,
    TOTAL_MAX,
    DigestSchedule,
    Section,
    fit_sections,
    lateness,
    more_line,
    next_run,
    parse_at,
    week_key,
)
from bot.errors import UserError

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]


@given(
    zone=st.sampled_from(ZONES),
    weekday=st.integers(0, 6),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    after=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
)
def test_the_next_run_is_the_asked_local_weekday_and_time_within_a_week(
    zone: str, weekday: int, hour: int, minute: int, after: datetime
) -> None:
    schedule = DigestSchedule(weekday, time(hour, minute), zone)
    run = next_run(schedule, after)
    local = run.astimezone(ZoneInfo(zone))
    assert after < run <= after + timedelta(days=7, hours=1)
    assert local.weekday() == weekday
    if (local.hour, local.minute) != (hour, minute):
        # only on the night the clocks skip the asked time: then it is moved forward by the jump
        wall = datetime.combine(local.date(), time(hour, minute))
        shifted = wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).astimezone(ZoneInfo(zone))
        assert shifted.replace(tzinfo=None) != wall and local == shifted


def test_monday_ten_oclock_in_berlin_stays_ten_oclock_across_the_change_to_summer_time() -> None:
    schedule = DigestSchedule(0, time(10), "Europe/Berlin")
    before = next_run(schedule, datetime(2027, 3, 20, tzinfo=UTC))  # Monday 22 March, winter
    after = next_run(schedule, before)  # Monday 29 March, summer time since the 28th
    assert before == datetime(2027, 3, 22, 9, tzinfo=UTC)
    assert after == datetime(2027, 3, 29, 8, tzinfo=UTC)


def test_a_time_the_clocks_skip_runs_when_they_reach_it() -> None:
    schedule = DigestSchedule(6, time(2, 30), "Europe/Berlin")  # Sunday 02:30
    run = next_run(schedule, datetime(2027, 3, 27, tzinfo=UTC))  # the night of 28 March 2027
    assert run.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M %Z") == "03:30 CEST"


def test_a_time_that_happens_twice_runs_the_first_time() -> None:
    schedule = DigestSchedule(6, time(2, 30), "Europe/Berlin")  # Sunday 31 October 2027
    run = next_run(schedule, datetime(2027, 10, 30, tzinfo=UTC))
    assert run == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST, not 02:30 CET


def test_weeks_are_iso_weeks_in_the_digests_zone() -> None:
    sunday_night_utc = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # Monday morning in Sydney
    assert week_key(sunday_night_utc, "UTC") == "2026-W49"
    assert week_key(sunday_night_utc, "Australia/Sydney") == "2026-W50"
    assert week_key(datetime(2027, 1, 1, 12, tzinfo=UTC), "UTC") == "2026-W53"


def test_a_digest_is_late_after_a_minute_and_skipped_after_three_days() -> None:
    due = datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert lateness(due, due + timedelta(seconds=30)) == "on_time"
    assert lateness(due, due + timedelta(hours=30)) == "late"
    assert lateness(due, due + timedelta(days=3)) == "skip"


@pytest.mark.parametrize("text,message", [("10", "not a time"), ("24:00", "00:00 to 23:59"),
                                          ("9:7", "not a time")])  # fmt: skip
def test_at_is_hh_mm(text: str, message: str) -> None:
    assert parse_at(" 9:05 ") == time(9, 5)
    with pytest.raises(UserError, match=message):
        parse_at(text)


LINE = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=400)


@given(
    st.lists(
        st.builds(
            Section,
            title=st.text(min_size=1, max_size=300),
            lines=st.lists(LINE, max_size=120).map(tuple),
        ),
        max_size=30,
    )
)
def test_any_digest_fits_a_message_discord_accepts_and_keeps_its_lines_whole(
    sections: list[Section],
) -> None:
    fitted = fit_sections(sections)
    assert len(fitted) <= FIELDS_MAX
    assert sum(len(f.title) + len(f.body) for f in fitted) <= TOTAL_MAX
    with_lines = [s for s in sections if s.lines]
    for part, source in zip(fitted, with_lines, strict=False):  # in order; the last may go
        assert len(part.body) <= FIELD_MAX and len(part.title) <= 256 and part.shown >= 1
        assert part.title == source.title[:256] and part.shown + part.more == len(source.lines)
        assert part.body.startswith("\n".join(source.lines[: part.shown]))
        if part.more:
            assert part.body.endswith(more_line(part.more))


def test_a_long_section_is_cut_at_whole_lines_with_how_many_are_left() -> None:
    lines = tuple(f"**Track {n}** by someone, shared with a note" for n in range(100))
    [fitted] = fit_sections([Section("Most loved this week", lines)])
    assert fitted.body.endswith(f"…and {fitted.more} more") and fitted.shown + fitted.more == 100
    assert all(line in lines for line in fitted.body.split("\n")[:-1])
