"""Calendar files of parties, read back by an independent RFC 5545 parser (icalendar)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.domain.calendar import CalendarEvent, calendar_file, fold, party_uid

START = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
STAMP = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def party(party_id: int, **fields: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": party_uid(party_id),
        "summary": "Kas Product — Try Out",
        "start": START,
        "end": START + timedelta(minutes=45),
    } | fields
    return CalendarEvent(**values)  # type: ignore[arg-type]


def test_a_calendar_reads_back_field_for_field() -> None:
    note = "Side A, then B; bring tea.\n1. Never Come Back 4:12\n2. Take Me Tonight 3:05"
    data = calendar_file(
        [
            party(12, description=note, location="#listening-room", url="https://discord.com/x"),
            party(13, summary="Grouper, live", start=START + timedelta(days=7),
                  end=START + timedelta(days=7, hours=1)),
        ],
        name="Minimal Synth Society — parties",
        stamp=STAMP,
    )  # fmt: skip
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == "Minimal Synth Society — parties"
    first, second = calendar.walk("VEVENT")
    assert str(first["UID"]) == "party-12@undercurrent"
    assert first.decoded("DTSTART") == START
    assert first.decoded("DTEND") == START + timedelta(minutes=45)
    assert str(first["SUMMARY"]) == "Kas Product — Try Out"
    assert str(first["DESCRIPTION"]) == note
    assert str(first["LOCATION"]) == "#listening-room"
    assert str(first["URL"]) == "https://discord.com/x"
    assert str(second["SUMMARY"]) == "Grouper, live" and "DESCRIPTION" not in second


def test_the_same_parties_make_the_same_file() -> None:
    """Importing the file again must update, not duplicate: the UIDs are the parties' own."""
    once = calendar_file([party(12)], name="x", stamp=STAMP)
    assert once == calendar_file([party(12)], name="x", stamp=STAMP)


@given(st.text(min_size=1, max_size=400))
def test_any_text_survives_escaping_and_folding(text: str) -> None:
    text = text.replace("\r", "")  # line breaks are kept as \n; a lone CR is not text
    assume(text)  # an empty description is left out of the file (nothing to read back)
    data = calendar_file([party(1, summary=text, description=text)], name=text, stamp=STAMP)
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(event["DESCRIPTION"]) == text


def test_folding_never_splits_a_character() -> None:
    line = "SUMMARY:" + "ø" * 100
    folded = fold(line)
    assert folded.replace("\r\n ", "") == line
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))


def test_a_moved_or_cancelled_party_carries_a_higher_sequence_and_its_status() -> None:
    data = calendar_file(
        [party(12, sequence=2), party(13, sequence=1, cancelled=True)], name="x", stamp=STAMP
    )
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert [(int(e["SEQUENCE"]), str(e["STATUS"])) for e in events] == [
        (2, "CONFIRMED"),
        (1, "CANCELLED"),
    ]
