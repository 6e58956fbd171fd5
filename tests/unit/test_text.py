"""Characters no member text may carry: text-direction controls (dropped from what a member
types, refused in links) and lone surrogates (refused everywhere)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.archive_format import parse_import
from bot.domain.picks import PickFields, build_draft, clean_text
from bot.domain.text import BIDI_CONTROLS, has_lone_surrogate, strip_bidi_controls
from bot.errors import UserError

RLO, PDF = "\u202e", "\u202c"


def test_the_controls_are_the_embeddings_overrides_and_isolates() -> None:
    codes = {ord(ch) for ch in BIDI_CONTROLS}
    assert codes == {*range(0x202A, 0x202F), *range(0x2066, 0x206A)}


@given(st.text())
def test_stripping_leaves_no_control_and_everything_else(text: str) -> None:
    stripped = strip_bidi_controls(text)
    assert not set(stripped) & BIDI_CONTROLS
    assert stripped == "".join(ch for ch in text if ch not in BIDI_CONTROLS)


def test_marks_that_only_set_a_direction_are_kept() -> None:
    # LRM/RLM (U+200E/U+200F) reorder nothing around them; mixed-script names use them.
    assert (
        strip_bidi_controls("\u05e9\u05dc\u05d5\u05dd\u200e 2")
        == "\u05e9\u05dc\u05d5\u05dd\u200e 2"
    )


@pytest.mark.parametrize(
    "text,broken",
    [
        ("\ud800", True),
        ("a\udfffb", True),
        ("\U0001f600", False),  # one emoji: the pair is a single character in Python
        ("Sigur Rós", False),
    ],
)
def test_lone_surrogates_are_found(text: str, broken: bool) -> None:
    assert has_lone_surrogate(text) is broken


@pytest.mark.parametrize("name", ["artist", "title", "label", "city", "note"])
def test_member_text_loses_direction_controls(name: str) -> None:
    assert clean_text(f"{RLO}3pat kcalB{PDF} tapes", name) == "3pat kcalB tapes"


@pytest.mark.parametrize("name", ["artist", "title", "label", "city", "note", "country"])
def test_member_text_with_a_lone_surrogate_is_refused_clearly(name: str) -> None:
    with pytest.raises(UserError, match=rf"\*\*{name}\*\* contains a broken character"):
        clean_text("Kas \ud83d Product", name)


def test_a_draft_carries_no_direction_controls() -> None:
    draft = build_draft(
        PickFields(
            artist=f"Kas {RLO}Product",
            title="\u2066Try Out\u2069",
            subgenres=f"minimal {RLO}synth",
            note=f"cold{RLO} and spatial",
        ),
        current_year=2026,
    )
    texts = [draft.artist, draft.title, draft.note, *draft.subgenres]
    assert texts == ["Kas Product", "Try Out", "cold and spatial", "minimal-synth"]
    assert (
        draft.match_key
        == build_draft(
            PickFields(artist="Kas Product", title="Try Out"), current_year=2026
        ).match_key
    )


def imported(record: dict[str, object]) -> tuple[list[str], list[object]]:
    data = json.dumps([{"id": 1, "artist": "Kas Product", "title": "Try Out", **record}])
    report = parse_import(data.encode(), datetime(2026, 1, 1, tzinfo=UTC))
    return report.errors, [entry.seconds for entry in report.entries]


def test_an_imported_second_is_cleaned_like_one_added_by_command() -> None:
    errors, seconds = imported({"seconds": [{"user_id": 5, "note": f"  so {RLO}cold  "}]})
    assert (errors, seconds) == ([], [[(5, "so cold", None)]])


def test_an_imported_second_with_a_broken_character_is_a_problem_in_the_report() -> None:
    errors, _ = imported({"seconds": [{"user_id": 5, "note": "\ud800"}]})
    assert errors == [
        "entry 1: **note** contains a broken character (half of an emoji, perhaps): "
        "please type it again."
    ]


def test_a_lineage_id_in_superscript_digits_is_a_problem_in_the_report() -> None:
    errors, _ = imported({"lineage": "influenced-by:\u00b2"})
    assert len(errors) == 1 and "must look like `influenced-by:12`" in errors[0]
