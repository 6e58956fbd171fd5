"""What a weekly digest looks like in Discord: one embed whose fields are its sections, each
line whole ("…and N more" when a section is long), and the week's chart as its image.

Members are named by mention: an embed never pings, and Discord shows each reader the member's
name in this server. Member text (artists, titles, notes, party and round names) is cut at a
word before its markdown is escaped, so no line ends mid-word or mid-markup; its square brackets
are escaped too, and it is never put inside a link's label (links say "card", "thread",
"reveal"), so no member can make a line link somewhere else.
"""

from __future__ import annotations

from datetime import datetime

import discord

from bot.domain.digest import (
    CURATORS_MAX,
    LINE_MAX,
    SECTIONS,
    Curator,
    FirstOnMap,
    Section,
    fit_sections,
)
from bot.domain.parties import Party
from bot.domain.picks import Pick, country_name
from bot.domain.text import clip_at_word
from bot.domain.timeutil import from_epoch, to_epoch
from bot.replies import clip, md
from bot.services.digests import DigestContent, PartyRecap, SwapResult

COLOUR = discord.Colour.from_rgb(46, 111, 115)
CHART_FILE = "week.png"
#: Member text is cut to these before escaping (which can at most double it), so a line stays
#: within LINE_MAX: a heading's artist and title, a quoted note, a party or round name.
NAME_MAX = 60
NOTE_MAX = 100
EVENT_MAX = 80
#: Lines a section could list at most; past this only "…and N more" would show anyway.
SECTION_LINES_MAX = 40
FIRST_WORDS = {
    "country": "First pick from",
    "city": "First from",
    "label": "First on",
    "subgenre": "First",
}


def text(value: str, limit: int) -> str:
    """Member text cut at a word and escaped: markdown, and ``[`` / ``]`` (which Discord's
    escaping leaves alone when they do not look like a link yet)."""
    cut = clip_at_word(value, limit).replace("[", "\x00").replace("]", "\x01")
    return md(cut).replace("\x00", "\\[").replace("\x01", "\\]")


def link(label: str, url: str | None) -> str:
    """`` · [label](url)`` for one of the bot's own labels, or nothing without a url."""
    return f" · [{label}]({url})" if url else ""


def member(user_id: int | None) -> str:
    return f"<@{user_id}>" if user_id else "a former member"


def quote(note: str, limit: int = NOTE_MAX) -> str:
    """A member's note as one quoted line, cut at a word, escaped (a line starting with ``#``
    or ``-`` would otherwise become a heading or a list inside the quote)."""
    escaped = text(" ".join(note.split()), limit)
    if escaped[:1] in ("#", "-"):
        escaped = "\\" + escaped
    return f"> {escaped}"


def heading(pick: Pick) -> str:
    """``**Artist — Title** · [card](…)``: the pick, in bold, and a link to its card."""
    return f"**{text(pick.artist, NAME_MAX)} — {text(pick.title, NAME_MAX)}**" + link(
        "card", pick.jump_url()
    )


def _line(text: str) -> str:
    if len(text) > LINE_MAX:  # only a bug in the budgets above can get here
        raise ValueError(f"digest line over {LINE_MAX}: {text[:40]!r}")
    return text


def loved_lines(content: DigestContent) -> list[str]:
    """The week's picks, most loved first; only as many as a section could list are written
    (a busy server's week has hundreds)."""
    lines = []
    for pick_id in content.counts.ranked[:SECTION_LINES_MAX]:
        pick = content.pick(pick_id)
        if pick is None:  # removed between the two reads
            continue
        counts = " · ".join(
            part
            for part in (
                f"♥ {pick.loved}" if pick.loved else "",
                f"heard {pick.heard}" if pick.heard else "",
            )
            if part
        )
        line = f"{heading(pick)} · {member(pick.shared_by)}" + (f" · {counts}" if counts else "")
        if pick.note:
            line += "\n" + quote(pick.note)
        lines.append(_line(line))
    return lines


def first_line(first: FirstOnMap, pick: Pick) -> str:
    value = country_name(first.value) if first.kind == "country" else first.value
    return _line(f"{FIRST_WORDS[first.kind]} **{text(value, NAME_MAX)}**: {heading(pick)}")


def swap_line(result: SwapResult) -> str:
    found, summary = result.round, result.summary
    parts = [f"**{text(found.theme, EVENT_MAX)}**", f"{summary.pairs} pairs"]
    if summary.average is not None:
        parts.append(f"average {summary.average:.1f}★ from {summary.reviewed} reviews")
    if summary.best is not None and summary.best_rating is not None:
        best = summary.best
        parts.append(
            f"highest rated: {text(best.artist, NAME_MAX)} — "
            f"{text(best.title, NAME_MAX)} ({summary.best_rating}★)"
        )
    if summary.borders:
        parts.append(f"{summary.borders} borders crossed")
    url = (
        f"https://discord.com/channels/{found.guild_id}/{found.thread_id}"
        if found.thread_id
        else None
    )
    return _line(" · ".join(parts) + link("reveal", url))


def party_line(recap: PartyRecap) -> str:
    party = recap.party
    name = text(party.what, EVENT_MAX)
    where = link("thread", party.thread_url()) or link("card", party.card_url())
    parts = [f"**{name}**{where}", f"{recap.came} came"]
    if party.writers:
        parts.append(f"{party.writers} wrote along")
    if recap.top_track is not None:
        title, reactions = recap.top_track
        parts.append(f"most loved track: {text(title, NAME_MAX)} ({reactions} reactions)")
    return _line(" · ".join(parts))


def coming_line(party: Party) -> str:
    name = text(party.what, EVENT_MAX)
    when = f"<t:{to_epoch(party.starts_at)}:F> (<t:{to_epoch(party.starts_at)}:R>)"
    return _line(f"{when} · **{name}**" + link("card", party.card_url()))


def curator_lines(curators: tuple[Curator, ...]) -> list[str]:
    return [
        _line(f"{member(c.user_id)} · ♥ {c.loved} on {c.picks} pick{'s' if c.picks != 1 else ''}")
        for c in curators[:CURATORS_MAX]
    ]


def archive_line(pick: Pick) -> str:
    year = from_epoch(pick.created_at).year
    line = f"Shared this week in {year}: {heading(pick)} · {member(pick.shared_by)}"
    if pick.note:
        line += "\n" + quote(pick.note)
    return _line(line)


def sections(content: DigestContent) -> list[Section]:
    """The digest's sections that have something and are on, in order."""
    off = content.sections_off
    built: dict[str, list[str]] = {}
    counts = content.counts
    total = {"loved": counts.picks}
    if "loved" not in off:
        built["loved"] = loved_lines(content)
    if "new" not in off:
        built["new"] = [
            first_line(first, pick)
            for first in content.firsts
            if (pick := content.pick(first.pick_id)) is not None
        ]
    if "swaps" not in off:
        built["swaps"] = [swap_line(result) for result in content.swaps]
    if "parties" not in off:
        built["parties"] = [party_line(recap) for recap in content.parties]
    if "coming" not in off:
        built["coming"] = [coming_line(party) for party in content.coming]
    if "curators" not in off:
        built["curators"] = curator_lines(counts.curators)
    if "archive" not in off and content.from_archive is not None:
        built["archive"] = [archive_line(content.from_archive)]
    return [
        Section(
            SECTIONS[name],
            tuple(lines[:SECTION_LINES_MAX]),
            unlisted=max(0, total.get(name, len(lines)) - min(len(lines), SECTION_LINES_MAX)),
        )
        for name, lines in built.items()
        if lines
    ]


def chart(content: DigestContent) -> tuple[str, list[tuple[str, int]]]:
    """The chart's title and bars, or ``("", [])`` when there is none to draw."""
    if "chart" in content.sections_off:
        return "", []
    counts = content.counts
    if counts.chart_title == "Countries":
        return counts.chart_title, [(country_name(code), n) for code, n in counts.chart]
    return counts.chart_title, list(counts.chart)


def digest_embed(
    content: DigestContent,
    *,
    server_name: str,
    week: str | None,
    with_chart: bool,
) -> discord.Embed:
    """The digest as one embed Discord accepts: at most 25 fields of at most 1,024 characters,
    6,000 in all."""
    start, end = to_epoch(content.start), to_epoch(content.end)
    counts = content.counts
    embed = discord.Embed(
        title=clip(f"The week in {server_name}", 256),
        colour=COLOUR,
        description=(
            f"<t:{start}:D> to <t:{end}:D> · {counts.picks} "
            f"pick{'s' if counts.picks != 1 else ''} shared by {counts.sharers} "
            f"member{'s' if counts.sharers != 1 else ''}"
        ),
    )
    for fitted in fit_sections(sections(content)):
        embed.add_field(name=fitted.title, value=fitted.body, inline=False)
    if with_chart:
        embed.set_image(url=f"attachment://{CHART_FILE}")
    embed.set_footer(text=f"Undercurrent weekly digest · {week}" if week else "Undercurrent digest")
    return embed


def quiet_text(server_name: str) -> str:
    return (
        f"A quiet week in {text(server_name, 100)}: nothing was shared, swapped or played. "
        "Share a record with `/rec share`."
    )


def week_picks_embed(picks: list[Pick], start: datetime, end: datetime) -> discord.Embed:
    """The whole week's picks, for the digest's **All picks of the week** button."""
    embed = discord.Embed(
        title=f"Picks shared <t:{to_epoch(start)}:D> to <t:{to_epoch(end)}:D>"[:256],
        colour=COLOUR,
    )
    lines: list[str] = []
    size = 0
    for pick in picks:
        line = f"• {heading(pick)} · {member(pick.shared_by)}"
        if size + len(line) + 1 > 3900:
            lines.append(f"…and {len(picks) - len(lines)} more: `/archive search` finds them all.")
            break
        lines.append(line)
        size += len(line) + 1
    embed.description = "\n".join(lines) or "No picks that week (or they were removed since)."
    return embed
