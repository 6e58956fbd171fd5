"""Embeds of the archive: an entry in full, its lineage, and a page of search results.

The card itself (and its pieces: heading, provenance, tags) is ``bot.pick_cards``."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.domain.parties import Party
from bot.domain.picks import LineageEdge, Pick, country_name, resolve_country
from bot.domain.search import SearchFilters, describe_total
from bot.domain.timeutil import from_epoch
from bot.pick_cards import (
    CARD_COLOUR,
    heading,
    member_mention,
    place,
    provenance,
    quoted,
    tag_line,
)
from bot.replies import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_VALUE_LIMIT,
    EMBED_FOOTER_LIMIT,
    EMBED_TITLE_LIMIT,
    clip,
    md,
)
from bot.services.archive_search import SearchPage
from bot.services.picks import PickDetails


def details_embed(details: PickDetails) -> discord.Embed:
    """Everything ``/archive show`` knows about an entry."""
    pick = details.pick
    embed = discord.Embed(title=heading(pick), url=pick.link_url, colour=CARD_COLOUR)
    embed.add_field(name="Label", value=clip(md(pick.label or "—"), EMBED_FIELD_VALUE_LIMIT))
    embed.add_field(name="Year", value=str(pick.year) if pick.year else "—")
    embed.add_field(name="Format", value=pick.format or "—")
    embed.add_field(name="Place", value=clip(place(pick) or "—", EMBED_FIELD_VALUE_LIMIT))
    embed.add_field(name="Subgenres", value=clip(tag_line(pick) or "—", EMBED_FIELD_VALUE_LIMIT))
    embed.add_field(name="Heard · Loved", value=f"{pick.heard} · {pick.loved}")
    shared = f"{member_mention(pick.shared_by)} {discord.utils.format_dt(from_epoch(pick.created_at), 'R')}"
    if pick.edited_at is not None:
        shared += f"\nedited {discord.utils.format_dt(from_epoch(pick.edited_at), 'R')}"
    embed.add_field(name="Shared by", value=shared)
    if pick.link_url:
        embed.add_field(name="Link", value=clip(pick.link_url, EMBED_FIELD_VALUE_LIMIT))
    jump = pick.jump_url()
    if jump:
        embed.add_field(name="Card", value=f"[Jump to the card]({jump})")
    if pick.note:
        embed.add_field(
            name="Note", value=clip(quoted(pick.note), EMBED_FIELD_VALUE_LIMIT), inline=False
        )
    if details.seconds:
        voices = []
        for second in details.seconds:
            who = member_mention(second.user_id)
            voices.append(f"{who}: {second.note}" if second.note else who)
        embed.add_field(
            name=f"Seconded by {len(details.seconds)}",
            value=clip("\n".join(voices), EMBED_FIELD_VALUE_LIMIT),
            inline=False,
        )
    if details.grew_from or details.grew_into:
        embed.add_field(
            name="Lineage",
            value=clip(lineage_text(pick, details, limit=6), EMBED_FIELD_VALUE_LIMIT),
            inline=False,
        )
    if details.parties:
        embed.add_field(
            name=f"Listening parties ({len(details.parties)})",
            value=clip("\n".join(party_line(p) for p in details.parties), EMBED_FIELD_VALUE_LIMIT),
            inline=False,
        )
    if details.reviews:
        lines = []
        for reviewer, rating, favourite, thoughts, theme in details.reviews:
            who = member_mention(reviewer)
            line = f"{'★' * rating}{'☆' * (5 - rating)} {who} in *{md(theme)}*"
            if favourite:
                line += f" · favourite: {md(favourite)}"
            if thoughts:
                line += f"\n> {clip(md(thoughts), 200)}"
            lines.append(line)
        embed.add_field(
            name=f"Swap reviews ({len(details.reviews)})",
            value=clip("\n".join(lines), EMBED_FIELD_VALUE_LIMIT),
            inline=False,
        )
    embed.set_footer(text=f"#{pick.id}")
    return embed


PARTY_STATES = {
    "scheduled": "coming up",
    "running": "live now",
    "ended": "held",
    "missed": "missed",
}


def party_line(party: Party) -> str:
    """``#3 · 5 Dec 2026 · held · thread``: one party of an entry."""
    line = (
        f"#{party.id} · {discord.utils.format_dt(party.starts_at, 'D')} · "
        f"{PARTY_STATES.get(party.status, party.status)}"
    )
    link = party.thread_url() if party.status in ("running", "ended") else party.card_url()
    return f"{line} · [{'thread' if party.thread_id else 'card'}]({link})" if link else line


def _ref(pick_id: int, related: dict[int, Pick]) -> str:
    other = related.get(pick_id)
    return f"#{pick_id} {heading(other)}" if other else f"#{pick_id}"


def _edges_text(
    edges: Sequence[LineageEdge], related: dict[int, Pick], upward: bool, limit: int
) -> list[str]:
    lines = []
    for edge in sorted(edges, key=lambda e: (e.depth, e.from_id, e.to_id))[:limit]:
        indent = "  " * (edge.depth - 1) + ("└ " if edge.depth > 1 else "")
        if upward:
            lines.append(f"{indent}*{edge.relation}* **{_ref(edge.to_id, related)}**")
        else:
            lines.append(f"{indent}**{_ref(edge.from_id, related)}** is *{edge.relation}*")
    if len(edges) > limit:
        lines.append(f"… and {len(edges) - limit} more")
    return lines


def lineage_text(pick: Pick, details: PickDetails, limit: int = 15) -> str:
    up = _edges_text(details.grew_from, details.related, True, limit)
    down = _edges_text(details.grew_into, details.related, False, limit)
    parts = []
    if up:
        parts.append("**Grew from**\n" + "\n".join(up))
    if down:
        parts.append("**Grew into**\n" + "\n".join(down))
    return "\n\n".join(parts) or "No lineage recorded yet: add some with `/archive link`."


def lineage_embed(details: PickDetails) -> discord.Embed:
    embed = discord.Embed(
        title=clip(f"Lineage of {heading(details.pick)}", EMBED_TITLE_LIMIT),
        description=clip(lineage_text(details.pick, details), EMBED_DESCRIPTION_LIMIT),
        colour=CARD_COLOUR,
    )
    embed.set_footer(text=f"#{details.pick.id} · two steps each way")
    return embed


def search_embed(page: SearchPage, summary: str) -> discord.Embed:
    embed = discord.Embed(title="Archive search", colour=CARD_COLOUR)
    if not page.results:
        text = f"Nothing in the archive matches {md(summary)}."
        if page.suggestions:
            text += "\nClosest existing: " + ", ".join(page.suggestions) + "."
        embed.description = clip(text, EMBED_DESCRIPTION_LIMIT)
        return embed
    lines = []
    for pick in page.results:
        line = f"**#{pick.id}** {heading(pick)}"
        extra = provenance(pick)
        if extra:
            line += f"\n-# {extra}"
        lines.append(clip(line, 400))
    embed.description = clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT)
    embed.set_footer(
        text=clip(
            f"{describe_total(page.total, page.capped)} {'result' if page.total == 1 else 'results'}"
            f" for {summary} · page {page.page} of {page.pages}",
            EMBED_FOOTER_LIMIT,
        )
    )
    return embed


def describe_filters(filters: SearchFilters, shared_by: discord.abc.User | None) -> str:
    """What a search looked for, in words: its summary line and footer."""
    parts = []
    if filters.query:
        parts.append(f"“{clip(filters.query, 60)}”")
    for name, value in (
        ("subgenre", filters.subgenre), ("label", filters.label), ("city", filters.city),
        ("format", filters.format),
    ):  # fmt: skip
        if value:
            parts.append(f"{name} {clip(value, 40)}")
    if filters.country:
        code = resolve_country(filters.country)  # valid: the search has already run with it
        parts.append(f"country {country_name(code) if code else filters.country}")
    if filters.year_from or filters.year_to:
        parts.append(f"years {filters.year_from or '…'} to {filters.year_to or '…'}")
    if shared_by is not None:
        parts.append(f"shared by {clip(shared_by.display_name, 40)}")
    return ", ".join(parts) if parts else "everything"
