"""``bot.replies.md`` skips discord.py's escape_markdown for text it would leave alone: the
answer is always exactly escape_markdown's."""

from __future__ import annotations

import discord
from hypothesis import given
from hypothesis import strategies as st

from bot.replies import md

MARKUP = "_\\~|*`>#[]()-: /\n <>httpsteam.x"


@given(st.text() | st.text(alphabet=MARKUP) | st.text(alphabet=MARKUP + "abcAB1é "))
def test_md_is_escape_markdown(text: str) -> None:
    assert md(text) == discord.utils.escape_markdown(text)


def test_md_escapes_what_discord_would_format() -> None:
    assert md("M*A*S*H") == "M\\*A\\*S\\*H"
    assert md("[x](https://example.com)") != "[x](https://example.com)"
    assert md("Sunn O))) — Monoliths") == "Sunn O))) — Monoliths"
