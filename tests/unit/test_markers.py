"""The marker schedule of a running party: sides, pauses, resumes and skips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.markers import Control, marker_schedule
from bot.domain.tracklist import parse_tracklist

START = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
SIDES = parse_tracklist(["--- side A\nOne 4:00\nTwo 3:00", "--- side B\nThree 5:00"])
BREAK = timedelta(minutes=1)


def minutes(schedule_times: tuple[datetime, ...] | list[datetime]) -> list[float]:
    return [(t - START).total_seconds() / 60 for t in schedule_times]


def at(minute: float) -> datetime:
    return START + timedelta(minutes=minute)


def test_tracks_follow_each_other_with_a_break_between_sides() -> None:
    schedule = marker_schedule(START, SIDES, BREAK)
    assert minutes(schedule.starts) == [0, 4, 8]  # 4 + 3, then a minute to turn the record
    assert schedule.ends == at(13)
    assert [schedule.playing(at(m)) for m in (-1, 0, 3.9, 4, 8.5, 13)] == [None, 0, 0, 1, 2, None]


def test_a_pause_holds_what_has_not_started_until_the_resume() -> None:
    controls = [Control("pause", at(5)), Control("resume", at(7))]  # in track two
    schedule = marker_schedule(START, SIDES, BREAK, controls)
    assert minutes(schedule.starts) == [0, 4, 10]
    assert schedule.ends == at(15) and schedule.paused_since is None


def test_while_paused_the_schedule_says_so_and_keeps_the_plan() -> None:
    schedule = marker_schedule(START, SIDES, BREAK, [Control("pause", at(5))])
    assert schedule.paused_since == at(5)
    assert minutes(schedule.starts) == [0, 4, 8]


def test_a_skip_starts_the_next_track_now() -> None:
    schedule = marker_schedule(START, SIDES, BREAK, [Control("skip", at(1))])
    assert minutes(schedule.starts) == [0, 1, 5]
    assert schedule.ends == at(10)


def test_a_skip_while_paused_resumes_into_the_next_track() -> None:
    controls = [Control("skip", at(6)), Control("pause", at(5))]  # given in any order
    schedule = marker_schedule(START, SIDES, BREAK, controls)
    assert minutes(schedule.starts) == [0, 4, 6]
    assert schedule.paused_since is None and schedule.ends == at(11)


def test_skipping_the_last_track_ends_the_party() -> None:
    schedule = marker_schedule(START, SIDES, BREAK, [Control("skip", at(9))])
    assert schedule.ends == at(9)


@given(
    st.lists(st.tuples(st.sampled_from(["pause", "resume", "skip"]), st.floats(0, 30)), max_size=8)
)
def test_markers_stay_in_order_and_before_the_end(raw: list[tuple[str, float]]) -> None:
    controls = [Control(kind, at(minute)) for kind, minute in raw]  # type: ignore[arg-type]
    schedule = marker_schedule(START, SIDES, BREAK, controls)
    assert list(schedule.starts) == sorted(schedule.starts)
    assert schedule.starts[0] == START
    assert schedule.starts[-1] <= schedule.ends
