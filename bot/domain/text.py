"""Member text: the characters it may not carry, and cutting it cleanly.

Characters no member text may carry into the archive, whatever the field.

Bidirectional embedding, override and isolate controls (U+202A to U+202E, U+2066 to U+2069) are
invisible and reorder the text around them: in a name they can make a line read differently
from what it is, in a link they can disguise where it goes. Names lose them; links are refused.
A lone surrogate is half of a character (a broken emoji): it cannot be stored as UTF-8 at all.
"""

from __future__ import annotations

import re

from bot.errors import UserError

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BIDI_CONTROL = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def strip_bidi_controls(text: str) -> str:
    return _BIDI_CONTROL.sub("", text)


def has_bidi_control(text: str) -> bool:
    return _BIDI_CONTROL.search(text) is not None


def has_lone_surrogate(text: str) -> bool:
    """Python joins a valid surrogate pair into one character, so any left is a broken one."""
    return _LONE_SURROGATE.search(text) is not None


def broken_text_message(name: str) -> str:
    """What a member is told when ``name`` holds a lone surrogate."""
    return (
        f"**{name}** contains a broken character (half of an emoji, perhaps): please type it again."
    )


def clip_at_word(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a space when one falls in the second
    half, with an ellipsis when cut (an event name, a thread name)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"


def member_text(text: str | None, limit: int, name: str, *, one_line: bool) -> str | None:
    """What a member typed into option or form field ``name``, cleaned: direction controls
    removed, spaces trimmed (and, for ``one_line``, every run of spaces and line breaks made
    one space); None when nothing is left. A ``UserError`` for a broken character or more than
    ``limit`` characters."""
    if text is None:
        return None
    if has_lone_surrogate(text):
        raise UserError(broken_text_message(name))
    text = strip_bidi_controls(text)
    text = " ".join(text.split()) if one_line else text.strip()
    if len(text) > limit:
        raise UserError(f"**{name}** is at most {limit:,} characters ({len(text):,} given).")
    return text or None
