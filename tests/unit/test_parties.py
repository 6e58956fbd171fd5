"""Listening parties' own rules: durations, reminder offsets, the event's texts, the run's
beats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.markers import Control
from bot.domain.parties import (
    DEFAULT_REMINDERS,
    EVENT_DESCRIPTION_MAX,
    event_description,
    event_marker,
    event_name,
    first_beat_at_or_after,
    format_offset,
    parse_reminder_offsets,
    party_duration,
    progress_bar,
    reminder_times,
    run_plan,
)
from bot.domain.text import clip_at_word
from bot.domain.tracklist import parse_tracklist
from bot.errors import UserError


def test_a_duration_is_the_hosts_else_the_tracklists_else_an_hour() -> None:
    tracklist = parse_tracklist(["One 40:00\nTwo 35:30"])
    assert party_duration(90, tracklist) == timedelta(minutes=90)
    assert party_duration(None, tracklist) == timedelta(minutes=75, seconds=30)
    assert party_duration(None, None) == timedelta(hours=1)
    with pytest.raises(UserError, match="A party lasts at most 12 hours; this one would take 13h"):
        party_duration(13 * 60, None)
    with pytest.raises(UserError, match="at least 1"):
        party_duration(0, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h,15m", DEFAULT_REMINDERS),
        ("15m, 24h", DEFAULT_REMINDERS),  # longest first
        ("2 days, 1h, 30 minutes", (timedelta(days=2), timedelta(hours=1), timedelta(minutes=30))),
        ("1h, 60m", (timedelta(hours=1),)),  # the same reminder once
        ("7d", (timedelta(days=7),)),
        ("1h 30m, 1d", (timedelta(days=1), timedelta(minutes=90))),
    ],
)
def test_reminder_offsets_as_moderators_type_them(
    text: str, expected: tuple[timedelta, ...]
) -> None:
    assert parse_reminder_offsets(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("soon", "`soon` is not a time before the start"),
        ("4m", "`4m` is out of range"),
        ("8d", "`8d` is out of range"),
        ("1d, 2h, 3h, 4h", "at most 3 per party"),
        (" , ", "give at least one"),
    ],
)
def test_bad_reminder_offsets_say_why(text: str, reason: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_reminder_offsets(text)
    assert reason in refused.value.message


@given(st.integers(min_value=5, max_value=7 * 1440))
def test_an_offset_reads_back_as_the_settings_show_it(minutes: int) -> None:
    offset = timedelta(minutes=minutes)
    assert parse_reminder_offsets(format_offset(offset)) == (offset,)


def test_reminders_already_past_when_scheduled_are_not_sent() -> None:
    start = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
    soon = start - timedelta(hours=2)
    assert reminder_times(start, DEFAULT_REMINDERS, soon) == [
        (timedelta(minutes=15), start - timedelta(minutes=15))
    ]


START = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)


def test_beats_are_each_track_and_a_side_break_before_each_new_side() -> None:
    tracklist = parse_tracklist(["--- side A\nOne 4:00\nTwo 3:00\n--- side B\nThree 5:00"])
    plan = run_plan(START, timedelta(hours=1), tracklist, timedelta(seconds=30))
    assert [(b.kind, b.track, b.at - START) for b in plan.beats] == [
        ("track", 0, timedelta(0)),
        ("track", 1, timedelta(minutes=4)),
        ("side", 2, timedelta(minutes=7)),
        ("track", 2, timedelta(minutes=7, seconds=30)),
    ]
    assert plan.ends == START + timedelta(minutes=12, seconds=30) and not plan.paused


def test_without_a_tracklist_there_are_no_beats_and_it_ends_after_its_duration() -> None:
    plan = run_plan(START, timedelta(minutes=45), None, timedelta(seconds=30))
    assert plan.beats == () and plan.ends == START + timedelta(minutes=45)


def test_a_paused_plan_says_so_and_resuming_moves_the_rest() -> None:
    tracklist = parse_tracklist(["One 4:00\nTwo 4:00"])
    paused = run_plan(
        START,
        timedelta(0),
        tracklist,
        timedelta(0),
        [Control("pause", START + timedelta(minutes=1))],
    )
    assert paused.paused
    resumed = run_plan(
        START, timedelta(0), tracklist, timedelta(0),
        [Control("pause", START + timedelta(minutes=1)), Control("resume", START + timedelta(minutes=3))],
    )  # fmt: skip
    assert not resumed.paused and resumed.beats[1].at == START + timedelta(minutes=6)


def test_a_late_start_picks_up_at_the_track_playing_now() -> None:
    tracklist = parse_tracklist(["One 4:00\nTwo 4:00\nThree 4:00"])
    plan = run_plan(START, timedelta(0), tracklist, timedelta(0))
    assert first_beat_at_or_after(plan, START - timedelta(minutes=1)) == 0
    assert first_beat_at_or_after(plan, START + timedelta(minutes=5)) == 1
    assert first_beat_at_or_after(plan, START + timedelta(minutes=11)) == 2


@given(st.integers(min_value=1, max_value=10**6))
def test_one_partys_event_marker_is_never_inside_anothers(party_id: int) -> None:
    assert event_marker(party_id) not in event_marker(party_id * 10 + 3)
    assert event_marker(party_id) not in event_marker(party_id + 1)


@given(st.text(max_size=3000))
def test_the_event_description_keeps_its_marker_whole_within_discords_limit(text: str) -> None:
    marker = event_marker(42)
    described = event_description(text, "https://discord.com/channels/1/2/3", marker)
    assert described.endswith(marker) and len(described) <= EVENT_DESCRIPTION_MAX


def test_event_names_are_cut_at_a_word_to_discords_100() -> None:
    name = event_name("Godspeed You! Black Emperor — " + "Lift Your Skinny Fists " * 6)
    assert len(name) <= 100 and name.endswith("…") and not name.endswith(" …")
    assert clip_at_word("short", 100) == "short"


def test_the_progress_bar_shows_how_far_in() -> None:
    assert progress_bar(timedelta(seconds=126), timedelta(seconds=252), width=10) == (
        "▰▰▰▰▰▱▱▱▱▱ 2:06 / 4:12"
    )
    assert progress_bar(timedelta(seconds=-5), timedelta(seconds=60), width=4) == "▱▱▱▱ 0:00 / 1:00"


def test_while_paused_the_track_playing_when_it_paused_is_shown() -> None:
    tracklist = parse_tracklist(["One 4:00\nTwo 4:00"])
    paused_at = START + timedelta(minutes=1)
    plan = run_plan(START, timedelta(0), tracklist, timedelta(0), [Control("pause", paused_at)])
    assert plan.shown_at(START + timedelta(minutes=9)) == paused_at
    running = run_plan(START, timedelta(0), tracklist, timedelta(0))
    assert running.shown_at(START + timedelta(minutes=9)) == START + timedelta(minutes=9)
