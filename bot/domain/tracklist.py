"""A listening party's tracklist, as a host types it into the form, and where each track falls.

The form has up to five inputs (one per side or part: one input holds only 4,000 characters).
Each line is a track, ``Title 4:12``, optionally followed by ``| a note for this track``; a line
``--- side B`` starts a side (the first input starts side A unless it names one). Blank lines
are skipped. Every problem is named with its input and line number, and nothing is taken until
all are right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import UserError

MAX_TRACKS = 60
MAX_TITLE = 200
MAX_NOTE = 300
MAX_TRACK_SECONDS = 3 * 3600  # a side-long piece, not a typo for hours of silence
MAX_PROBLEMS_SHOWN = 10

_SIDE = re.compile(r"-{3,}\s*(?:side\s+)?(?P<name>.{1,40})", re.IGNORECASE)
_TRACK = re.compile(
    r"(?P<title>.+?)\s+(?P<length>(?:\d{1,2}:)?\d{1,3}:\d{2})\s*(?:\|\s*(?P<note>.*))?"
)


@dataclass(frozen=True, slots=True)
class Track:
    number: int  # 1-based, across sides
    title: str
    seconds: int
    note: str | None
    side: str | None  # None when the tracklist has no sides

    @property
    def length(self) -> str:
        """``4:12``, or ``1:02:03`` past an hour."""
        return format_length(self.seconds)


@dataclass(frozen=True, slots=True)
class Tracklist:
    tracks: tuple[Track, ...]

    @property
    def seconds(self) -> int:
        return sum(track.seconds for track in self.tracks)

    @property
    def sides(self) -> tuple[str, ...]:
        """The side names in order; empty when the host named none."""
        return tuple(dict.fromkeys(t.side for t in self.tracks if t.side is not None))


def format_length(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def parse_length(text: str) -> int | None:
    """``4:12`` → 252, ``1:02:03`` → 3723; None if seconds or minutes are not 0-59."""
    parts = [int(p) for p in text.split(":")]
    if any(p > 59 for p in parts[1:]):
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def parse_tracklist(inputs: Sequence[str]) -> Tracklist:
    """The tracks typed into the form's inputs (``inputs[0]`` is the first); a ``UserError``
    listing every problem, by input and line, when anything is wrong."""
    problems: list[str] = []
    tracks: list[Track] = []
    named_sides = any(
        _SIDE.fullmatch(line.strip()) for text in inputs for line in text.splitlines()
    )
    for part, text in enumerate(inputs, start=1):
        side: str | None = _default_side(part) if named_sides else None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            where = f"part {part}, line {number}"
            if heading := _SIDE.fullmatch(line):
                side = heading["name"].strip()
                continue
            track = _TRACK.fullmatch(line)
            if track is None:
                problems.append(
                    f"{where}: `{line[:50]}` needs a length at the end, like `Title 4:12`"
                )
                continue
            seconds = parse_length(track["length"])
            title = " ".join(track["title"].split())
            note = " ".join((track["note"] or "").split()) or None
            if seconds is None or seconds == 0 or seconds > MAX_TRACK_SECONDS:
                problems.append(f"{where}: `{track['length']}` is not a track length")
            elif len(title) > MAX_TITLE:
                problems.append(f"{where}: the title is over {MAX_TITLE} characters")
            elif note is not None and len(note) > MAX_NOTE:
                problems.append(f"{where}: the note is over {MAX_NOTE} characters")
            else:
                tracks.append(Track(len(tracks) + 1, title, seconds, note, side))
    if not problems and not tracks:
        problems.append("there are no tracks: one line per track, like `Title 4:12`")
    if len(tracks) > MAX_TRACKS:
        problems.append(f"{len(tracks)} tracks: a party holds at most {MAX_TRACKS}")
    if problems:
        shown = "\n".join(f"• {p}" for p in problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        raise UserError(
            "Nothing was saved:\n" + shown + (f"\n… and {more} more" if more > 0 else "")
        )
    return Tracklist(tuple(tracks))


def _default_side(part: int) -> str:
    """Side A, B, … for the form's parts, until a ``--- side`` line names one."""
    return chr(ord("A") + part - 1)


FORM_PARTS = 5
PART_CHARACTERS = 4000  # Discord's most for one text input


def form_parts(tracklist: Tracklist) -> list[str]:
    """The tracklist as the form's inputs hold it, to edit it: lines packed into at most five
    parts of at most 4,000 characters, a new part at a new side when there is room; a part that
    continues a side starts with that side's line again, so it reads back the same. A
    ``ValueError`` if it cannot fit (it was typed into the same five parts, so only a
    pathological one fails)."""
    named = bool(tracklist.sides)
    parts: list[list[str]] = []
    side: str | None = None
    for track in tracklist.tracks:
        line = f"{track.title} {track.length}" + (f" | {track.note}" if track.note else "")
        new_side = named and track.side != side
        side = track.side
        header = f"--- side {side}" if named else None
        if not parts or (new_side and len(parts) < FORM_PARTS) or _too_long(parts[-1], line):
            parts.append([header] if header else [])
        elif new_side and header:
            parts[-1].append(header)
        parts[-1].append(line)
    if len(parts) > FORM_PARTS or any(len("\n".join(p)) > PART_CHARACTERS for p in parts):
        raise ValueError("the tracklist does not fit the form")
    return ["\n".join(part) for part in parts]


def _too_long(part: list[str], line: str) -> bool:
    return len("\n".join([*part, line])) > PART_CHARACTERS
