"""Any week's content makes a digest message Discord accepts: at most 25 fields of at most
1,024 characters (names 256), 6,000 characters across the embed, every line whole and every
member's text escaped (property test over picks, notes, swaps and parties with any text)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.digest import FirstOnMap, count_week, more_line
from bot.domain.parties import Party
from bot.domain.picks import LIMITS, Pick
from bot.domain.swaps import RevealSummary, SwapEntry, SwapRound
from bot.services.digests import DigestContent, PartyRecap, SwapResult, map_fact
from cogs.digest.embeds import digest_embed, sections

START = datetime(2026, 11, 23, 9, tzinfo=UTC)
#: A markdown link as Discord's parser reads one: a label (which may hold balanced brackets)
#: and an address.
LINK = re.compile(r"\[((?:\[[^\]]*\]|[^\[\]])*)\]\((\S+?)\)")
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1)
MARKUP = st.sampled_from(
    [
        "*",
        "_",
        "~",
        "`",
        "|",
        ">",
        "[",
        "]",
        "(",
        ")",
        "#",
        "-",
        "\\",
        " ",
        "\n",
        "<@1>",
        "[click](https://evil.example/)",
        "](https://evil.example/) [",
        "https://x.y/",
    ]
)
MEMBER_TEXT = st.lists(st.one_of(TEXT, MARKUP), min_size=1, max_size=25).map("".join)
SNOWFLAKE = st.integers(10**17, 2**63 - 1)


def clipped(limit: int) -> st.SearchStrategy[str]:
    return MEMBER_TEXT.map(lambda text: text[:limit].strip() or "x")


@st.composite
def picks(draw: st.DrawFn, pick_id: int) -> Pick:
    return Pick(
        id=pick_id, guild_id=1, artist=draw(clipped(LIMITS["artist"])),
        title=draw(clipped(LIMITS["title"])), link_url=None, link_platform=None,
        subgenres=tuple(draw(st.lists(st.sampled_from(["drone", "ebm", "tishoumaren"]), max_size=3, unique=True))),
        label=draw(st.none() | clipped(LIMITS["label"])), year=None,
        country=draw(st.none() | st.sampled_from(["ML", "NE", "FR", "XX"])),
        city=draw(st.none() | clipped(LIMITS["city"])), format=None,
        note=draw(st.none() | clipped(LIMITS["note"])),
        shared_by=draw(st.none() | SNOWFLAKE), created_at=int(START.timestamp()) + pick_id,
        channel_id=draw(st.none() | SNOWFLAKE), message_id=draw(SNOWFLAKE),
        heard=draw(st.integers(0, 500)), loved=draw(st.integers(0, 500)),
    )  # fmt: skip


def party(draw: st.DrawFn, party_id: int, starts: datetime, status: str) -> Party:
    return Party(
        id=party_id, guild_id=1, host_id=None, series_id=None, occurrence=0,
        what=draw(clipped(200)), pick_id=None, starts_at=starts, duration=timedelta(hours=1),
        zone="UTC", repeat_weeks=0, channel_id=draw(SNOWFLAKE), voice_id=None, voice_name=None,
        link=None, description=None, side_break=timedelta(seconds=30), status=status,  # type: ignore[arg-type]
        event_id=None, card_channel_id=draw(SNOWFLAKE), card_message_id=draw(st.none() | SNOWFLAKE),
        thread_id=draw(st.none() | SNOWFLAKE), playing_message_id=None, beat=0, started_at=None,
        ended_at=starts + timedelta(hours=1), late_by=None, cancel_reason=None, moves=0,
        next_id=None, writers=draw(st.none() | st.integers(0, 999)),
    )  # fmt: skip


@st.composite
def swap_results(draw: st.DrawFn, round_id: int) -> SwapResult:
    found = SwapRound(
        id=round_id, guild_id=1, channel_id=1, opener_id=None, theme=draw(clipped(100)),
        join_until=START, review_until=START, zone="UTC", mode="random", anonymous=True,
        status="revealed", card_message_id=None, thread_id=draw(st.none() | SNOWFLAKE), seed=1,
        paired_at=START, revealed_at=START, cancel_reason=None,
    )  # fmt: skip
    best = SwapEntry(
        id=1, round_id=round_id, user_id=None, artist=draw(clipped(200)), title=draw(clipped(200)),
        link_url=None, note=None, country=None, city=None, label=None, year=None, format=None,
        subgenres=(), existing_pick_id=None, pick_id=None, receiver_id=None,
    )  # fmt: skip
    summary = RevealSummary(
        pairs=draw(st.integers(2, 5000)), reviewed=3, average=4.333, best=best, best_rating=5,
        borders=draw(st.integers(0, 5000)), countries_met=(),
    )  # fmt: skip
    return SwapResult(found, summary)


@st.composite
def contents(draw: st.DrawFn) -> DigestContent:
    week = [draw(picks(n)) for n in range(draw(st.integers(0, 60)))]
    firsts = [
        FirstOnMap(
            draw(st.sampled_from(["country", "city", "label", "subgenre"])),
            draw(clipped(100)),
            p.id,
        )
        for p in week
        if draw(st.booleans())
    ]
    recaps = [
        PartyRecap(
            party(draw, n, START, "ended"),
            draw(st.integers(0, 9999)),
            draw(st.none() | st.tuples(clipped(200), st.integers(1, 999))),
        )
        for n in range(draw(st.integers(0, 12)))
    ]
    coming = [
        party(draw, 100 + n, START + timedelta(days=8), "scheduled")
        for n in range(draw(st.integers(0, 10)))
    ]
    return DigestContent(
        guild_id=1, start=START - timedelta(days=7), end=START, now=START,
        sections_off=frozenset(draw(st.lists(st.sampled_from(["loved", "new", "coming"]), max_size=2))),
        facts=[map_fact(p) for p in week], picks=week, firsts=firsts,
        swaps=[draw(swap_results(n)) for n in range(draw(st.integers(0, 6)))],
        parties=recaps, coming=coming,
        from_archive=draw(st.none() | picks(999)),
        counts=count_week([map_fact(p) for p in week]),
    )  # fmt: skip


@settings(max_examples=60, suppress_health_check=[HealthCheck.data_too_large])
@given(contents(), clipped(100))
def test_any_week_makes_a_message_discord_accepts(content: DigestContent, server: str) -> None:
    embed = digest_embed(content, server_name=server, week="2026-W48", with_chart=True)
    assert len(embed) <= 6000
    assert len(embed.title or "") <= 256 and len(embed.description or "") <= 4096
    assert len(embed.fields) <= 25
    built = sections(content)
    assert [field.name for field in embed.fields] == [section.title for section in built][
        : len(embed.fields)
    ]
    for field, section in zip(embed.fields, built, strict=False):
        value = field.value or ""
        assert 0 < len(field.name or "") <= 256 and 0 < len(value) <= 1024
        # Whole lines the builder made, best first, then how many were left out, if any.
        shown = next(
            n
            for n in range(len(section.lines), 0, -1)
            if value.startswith("\n".join(section.lines[:n]))
        )
        rest = len(section.lines) - shown + section.unlisted
        assert value == "\n".join([*section.lines[:shown], *([more_line(rest)] if rest else [])])
        # Every link is one of the bot's: its own label, a Discord address. Member text can't
        # open one (its brackets are escaped) nor sit inside one's label.
        for label, url in LINK.findall(value.replace("\\[", "").replace("\\]", "")):
            assert label in ("card", "thread", "reveal"), value
            assert url.startswith("https://discord.com/channels/"), value
