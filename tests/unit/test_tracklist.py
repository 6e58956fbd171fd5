"""The tracklist form: one line per track, sides, notes, and every mistake named by place."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.tracklist import (
    MAX_NOTE,
    MAX_TITLE,
    MAX_TRACKS,
    Track,
    Tracklist,
    form_parts,
    format_length,
    parse_length,
    parse_tracklist,
)
from bot.errors import UserError


def test_tracks_sides_and_notes() -> None:
    parsed = parse_tracklist(
        [
            "--- side A\nFrozen Beauty 4:12 | the one that started it\n\nNever Lose Hope 3:05",
            "--- side B\nHuman Remains 12:40\n",
        ]
    )
    assert [(t.number, t.title, t.length, t.note, t.side) for t in parsed.tracks] == [
        (1, "Frozen Beauty", "4:12", "the one that started it", "A"),
        (2, "Never Lose Hope", "3:05", None, "A"),
        (3, "Human Remains", "12:40", None, "B"),
    ]
    assert parsed.sides == ("A", "B")
    assert parsed.seconds == 252 + 185 + 760


def test_without_side_lines_there_are_no_sides() -> None:
    parsed = parse_tracklist(["Intro 1:00\nSong 2 (live, 1979) 1:02:03", "Coda 0:45"])
    assert parsed.sides == ()
    assert [(t.title, t.seconds) for t in parsed.tracks] == [
        ("Intro", 60),
        ("Song 2 (live, 1979)", 3723),
        ("Coda", 45),
    ]


def test_every_mistake_is_named_by_input_and_line_and_nothing_is_taken() -> None:
    with pytest.raises(UserError) as refused:
        parse_tracklist(["Good 3:00\nNo length here\nBad 3:75", "", "Zero 0:00"])
    assert refused.value.message == (
        "Nothing was saved:\n"
        "• part 1, line 2: `No length here` needs a length at the end, like `Title 4:12`\n"
        "• part 1, line 3: `3:75` is not a track length\n"
        "• part 3, line 1: `0:00` is not a track length"
    )


def test_more_than_sixty_tracks_is_refused() -> None:
    lines = "\n".join(f"Track {n} 2:00" for n in range(MAX_TRACKS + 1))
    with pytest.raises(UserError, match=f"{MAX_TRACKS + 1} tracks: a party holds at most 60"):
        parse_tracklist([lines])
    assert len(parse_tracklist([lines.rsplit("\n", 1)[0]]).tracks) == MAX_TRACKS


def test_an_empty_form_says_what_a_line_looks_like() -> None:
    with pytest.raises(UserError, match="there are no tracks"):
        parse_tracklist(["", "  \n "])


@given(st.integers(min_value=1, max_value=3 * 3600))
def test_a_length_reads_back_as_it_is_written(seconds: int) -> None:
    assert parse_length(format_length(seconds)) == seconds


@st.composite
def tracklists(draw: st.DrawFn) -> Tracklist:
    """Up to 60 tracks, with sides (up to 8 of them, named by letter) or without."""
    count = draw(st.integers(min_value=1, max_value=MAX_TRACKS))
    sided = draw(st.booleans())
    sides = sorted(draw(st.lists(st.integers(0, count - 1), max_size=7, unique=True)))
    tracks = []
    side_index = 0
    for number in range(1, count + 1):
        if number - 1 in sides:
            side_index += 1
        title = draw(st.text("abcdef ghij", min_size=1, max_size=MAX_TITLE).filter(str.strip))
        note = draw(
            st.none() | st.text("klmno pq", min_size=1, max_size=MAX_NOTE).filter(str.strip)
        )
        tracks.append(
            Track(
                number,
                " ".join(title.split()),
                draw(st.integers(1, 3600)),
                None if note is None else " ".join(note.split()),
                chr(ord("A") + side_index) if sided else None,
            )
        )
    return Tracklist(tuple(tracks))


@given(tracklists())
def test_a_tracklist_reopened_in_the_form_reads_back_the_same(tracklist: Tracklist) -> None:
    try:
        parts = form_parts(tracklist)
    except ValueError:
        # only a tracklist that could not have been typed into five boxes fails
        assert sum(len(t.title) + len(t.note or "") + 12 for t in tracklist.tracks) > 5 * 3000
        return
    assert 1 <= len(parts) <= 5 and all(len(part) <= 4000 for part in parts)
    assert parse_tracklist(parts) == tracklist
