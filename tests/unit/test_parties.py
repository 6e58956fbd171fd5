"""Listening parties' own rules: durations and reminder offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.parties import (
    DEFAULT_REMINDERS,
    format_offset,
    parse_reminder_offsets,
    party_duration,
    reminder_times,
)
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
