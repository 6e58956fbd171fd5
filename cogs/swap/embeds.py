"""What swap rounds look like in Discord: the round card, an assignment, a reveal, history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import discord

from bot.domain.swaps import RevealSummary, Review, SwapEntry, SwapRound
from bot.replies import clip, md
from bot.services.swaps import PastRound, RoundView

COLOURS = {
    "open": discord.Colour.from_rgb(235, 69, 158),
    "reviewing": discord.Colour.from_rgb(88, 101, 242),
    "revealed": discord.Colour.from_rgb(59, 165, 93),
    "cancelled": discord.Colour.from_rgb(128, 132, 142),
}
#: Characters an embed may hold in all is 6,000; what the history fills stays under this.
EMBED_BUDGET = 5500
MODE_WORDS = {
    "random": "random pairs",
    "cross-scene": "across scenes: picks from different countries meet, else different cities, "
    "labels or subgenres",
}


def mention(user_id: int | None) -> str:
    """A member as a mention (messages allow no pings), or who they became."""
    return f"<@{user_id}>" if user_id else "a former member"


def stamp(moment: datetime) -> str:
    return f"{discord.utils.format_dt(moment, 'F')} ({discord.utils.format_dt(moment, 'R')})"


def card_embed(view: RoundView) -> discord.Embed:
    found = view.round
    embed = discord.Embed(
        title=clip(f"🔁 Swap round: {found.theme}", 256), colour=COLOURS[found.status]
    )
    status = {
        "open": "Bring one record with **Join**. At the deadline everyone is given someone "
        "else's to live with, and reviews it.",
        "reviewing": "Paired. Everyone has a record to review: the assignment came by DM "
        "(or press **Show my assignment**).",
        "revealed": "Revealed: every pair is in the thread.",
        "cancelled": "Cancelled" + (f": {md(found.cancel_reason)}" if found.cancel_reason else "."),
    }[found.status]
    embed.description = status
    embed.add_field(name="Join until", value=stamp(found.join_until), inline=False)
    embed.add_field(name="Review until", value=stamp(found.review_until), inline=False)
    embed.add_field(name="Joined", value=str(view.joined), inline=True)
    if found.status in ("reviewing", "revealed"):
        embed.add_field(name="Reviewed", value=f"{view.reviewed} of {view.joined}", inline=True)
    embed.add_field(name="Pairing", value=MODE_WORDS[found.mode], inline=False)
    anonymous = "givers stay hidden until the reveal" if found.anonymous else "givers are named"
    embed.set_footer(text=f"Round #{found.id} · {anonymous}")
    return embed


def pick_embed(entry: SwapEntry, *, giver: str | None, title: str) -> discord.Embed:
    """A pick as a member is given it: artist, title, link, provenance, the giver's words."""
    embed = discord.Embed(title=clip(title, 256), colour=COLOURS["reviewing"])
    lines = [f"**{md(entry.heading)}**"]
    provenance = " · ".join(
        str(part)
        for part in (
            entry.label,
            entry.year,
            ", ".join(p for p in (entry.city, entry.country) if p),
            entry.format,
        )
        if part
    )
    if provenance:
        lines.append(md(provenance))
    if entry.subgenres:
        lines.append(" ".join(f"`{tag}`" for tag in entry.subgenres))
    if entry.link_url:
        lines.append(entry.link_url)
    if entry.note:
        lines.append(
            "> " + md(entry.note).replace("\n", "\n> ") + (f"\n— {giver}" if giver else "")
        )
    elif giver:
        lines.append(f"From {giver}")
    embed.description = clip("\n".join(lines), 4096)
    return embed


LATE_AFTER = timedelta(minutes=1)


def assignment_text(found: SwapRound) -> str:
    text = (
        f"🔁 Your record for the swap round **{md(found.theme)}**. Live with it, then review it "
        f"by {stamp(found.review_until)}: press **Review**, or `/swap review` in the server."
    )
    if found.paired_at is not None and found.paired_at - found.join_until > LATE_AFTER:
        text += "\n-# Paired late: the bot was offline when joining closed."
    return text


def reminder_text(found: SwapRound) -> str:
    return (
        f"⏰ The swap round **{md(found.theme)}** reveals {stamp(found.review_until)}, and your "
        "review isn't in yet. Press **Review** to write it (a rating is enough)."
    )


def cancelled_text(found: SwapRound) -> str:
    reason = f": {md(found.cancel_reason)}" if found.cancel_reason else "."
    return f"✖ The swap round **{md(found.theme)}** was cancelled{reason}"


def reveal_pair_text(entry: SwapEntry, review: Review | None) -> str:
    giver, receiver = mention(entry.user_id), mention(entry.receiver_id)
    lines = [f"{giver} → {receiver}: **{md(entry.heading)}**"]
    if review is None:
        lines.append("No review.")
    else:
        lines.append("★" * review.rating + "☆" * (5 - review.rating))
        if review.favourite_track:
            lines.append(f"Favourite track: {md(review.favourite_track)}")
        if review.thoughts:
            lines.append("> " + clip(md(review.thoughts), 1500).replace("\n", "\n> "))
    return clip("\n".join(lines), 2000)


def summary_embed(found: SwapRound, summary: RevealSummary) -> discord.Embed:
    embed = discord.Embed(
        title=clip(f"Swap round revealed: {found.theme}", 256), colour=COLOURS["revealed"]
    )
    embed.add_field(name="Reviewed", value=f"{summary.reviewed} of {summary.pairs}", inline=True)
    if summary.average is not None:
        embed.add_field(name="Average rating", value=f"{summary.average:.1f} / 5", inline=True)
    if summary.best is not None:
        embed.add_field(
            name="Highest rated",
            value=f"{md(summary.best.heading)} ({summary.best_rating}/5)",
            inline=False,
        )
    borders = f"{summary.borders} of {summary.pairs} pairs crossed a border"
    if summary.countries_met:
        met = ", ".join(f"{a} & {b}" for a, b in summary.countries_met[:15])
        borders += f" ({met})"
    embed.add_field(name="Borders", value=clip(borders, 1024), inline=False)
    embed.set_footer(text=f"Round #{found.id} · the picks are in the archive now")
    return embed


def history_embed(past: Sequence[PastRound], member: int | None) -> discord.Embed:
    embed = discord.Embed(title="Past swap rounds", colour=COLOURS["revealed"])
    if not past:
        embed.description = "No swap round has been revealed here yet."
        return embed
    used = len(embed.title or "")
    for shown, item in enumerate(past[:10]):
        by_entry = {r.entry_id: r for r in item.reviews}
        lines = []
        for entry in item.entries:
            if member is not None and member not in (entry.user_id, entry.receiver_id):
                continue
            review = by_entry.get(entry.id)
            rating = f" · {review.rating}/5" if review else ""
            giver, receiver = mention(entry.user_id), mention(entry.receiver_id)
            lines.append(f"{giver} → {receiver}: {md(entry.heading)}{rating}")
        when = discord.utils.format_dt(item.round.review_until, "D")
        name = clip(f"#{item.round.id} {item.round.theme} · {when}", 256)
        value = clip("\n".join(lines) or "—", 1024)
        if used + len(name) + len(value) > EMBED_BUDGET:  # Discord refuses over 6,000 in all
            embed.set_footer(text=f"…and {len(past) - shown} older round(s)")
            break
        used += len(name) + len(value)
        embed.add_field(name=name, value=value, inline=False)
    return embed
