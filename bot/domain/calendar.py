"""Calendar files (RFC 5545 iCalendar) of listening parties, for ``/party calendar``.

Written by hand, since it is little: the calendar, one VEVENT per party occurrence with a UID
that stays the same however often the file is made (importing it twice adds nothing twice), times
in UTC, text escaped, lines folded at 75 octets and ended with CRLF, as the RFC asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

PRODID = "-//Undercurrent//Listening parties//EN"
LINE_OCTETS = 75


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    uid: str  # stable per occurrence, e.g. "party-12@undercurrent"
    summary: str
    start: datetime  # aware
    end: datetime
    description: str | None = None
    location: str | None = None
    url: str | None = None
    #: Bumped on every change (a new time, a cancellation): calendar apps apply a changed event
    #: only when its SEQUENCE grows.
    sequence: int = 0
    cancelled: bool = False


def party_uid(party_id: int) -> str:
    """The UID of one party occurrence (each occurrence of a series is its own party)."""
    return f"party-{party_id}@undercurrent"


def calendar_file(events: Iterable[CalendarEvent], *, name: str, stamp: datetime) -> bytes:
    """The ``.ics`` file: UTF-8, CRLF line ends. ``stamp`` is when it was made (DTSTAMP)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape(event.uid)}",
            f"DTSTAMP:{utc(stamp)}",
            f"DTSTART:{utc(event.start)}",
            f"DTEND:{utc(event.end)}",
            f"SUMMARY:{escape(event.summary)}",
            f"SEQUENCE:{event.sequence}",
            f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape(event.description)}")
        if event.location:
            lines.append(f"LOCATION:{escape(event.location)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines).encode()


def utc(moment: datetime) -> str:
    """``20261204T200000Z``"""
    if moment.tzinfo is None:
        raise ValueError("calendar times must be aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape(text: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, line breaks as ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return escaped.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF and a space, never
    inside a character's UTF-8 bytes."""
    pieces: list[str] = []
    current, size, limit = "", 0, LINE_OCTETS
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            pieces.append(current)
            current, size, limit = "", 0, LINE_OCTETS - 1  # the leading space counts
        current += char
        size += octets
    pieces.append(current)
    return "\r\n ".join(pieces)
