"""Embeds for picks: the card in the channel, the full archive entry, search pages, lineage."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.domain.picks import LineageEdge, Pick, country_name
from bot.domain.search import describe_total
from bot.domain.timeutil import discord_timestamp, from_epoch
from bot.replies import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_VALUE_LIMIT,
    EMBED_FOOTER_LIMIT,
    EMBED_TITLE_LIMIT,
    clip,
)
from bot.services.picks import PickDetails, SearchPage

CARD_COLOUR = discord.Colour(0x2E6F73)


def md(text: str) -> str:
    """Member text shown as written: ``M*A*S*H`` keeps its stars, and ``[x](https://…)`` in a
    name can't become a disguised link in the bot's message. Not for footers or code spans,
    which Discord does not format."""
    return discord.utils.escape_markdown(text)


def heading(pick: Pick) -> str:
    return clip(md(f"{pick.artist} — {pick.title}"), EMBED_TITLE_LIMIT)


def provenance(pick: Pick) -> str | None:
    """``Factory · 1979 · Manchester, United Kingdom · vinyl``"""
    parts = [md(pick.label) if pick.label else None, str(pick.year) if pick.year else None,
             place(pick) or None, pick.format]  # fmt: skip
    found = [p for p in parts if p]
    return " · ".join(found) if found else None


def place(pick: Pick) -> str:
    """``Manchester, United Kingdom``"""
    city = md(pick.city) if pick.city else None
    return ", ".join(p for p in (city, country_name(pick.country) if pick.country else None) if p)


def tag_line(pick: Pick) -> str | None:
    return " ".join(f"`{tag}`" for tag in pick.subgenres) or None


def quoted(note: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in note.splitlines())


def sharer(pick: Pick) -> str:
    return f"<@{pick.shared_by}>" if pick.shared_by is not None else "a former member"


def card_embed(pick: Pick) -> discord.Embed:
    """The pick card posted in the channel by ``/rec share``."""
    lines = [line for line in (provenance(pick), tag_line(pick)) if line]
    if pick.note:
        lines.append(quoted(clip(pick.note, 1000)) + f"\n— {sharer(pick)}")
    else:
        lines.append(f"Shared by {sharer(pick)}")
    embed = discord.Embed(
        title=heading(pick),
        url=pick.link_url,
        description=clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT),
        colour=CARD_COLOUR,
        timestamp=from_epoch(pick.created_at),
    )
    embed.set_footer(text=f"#{pick.id} in the archive · /archive show id:{pick.id}")
    return embed


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
    shared = f"{sharer(pick)} {discord_timestamp(from_epoch(pick.created_at), 'R')}"
    if pick.edited_at is not None:
        shared += f"\nedited {discord_timestamp(from_epoch(pick.edited_at), 'R')}"
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
            who = f"<@{second.user_id}>" if second.user_id is not None else "a former member"
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
    embed.set_footer(text=f"#{pick.id}")
    return embed


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
