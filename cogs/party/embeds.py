"""What parties look like in Discord: the card, the list, the run's messages, the recap, the
notices, and the private "what's playing" answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import aiosqlite
import discord

from bot.domain.parties import (
    COUNTDOWN,
    Beat,
    Party,
    RsvpCounts,
    RunPlan,
    format_offset,
    message_url,
    progress_bar,
)
from bot.domain.timeutil import from_epoch
from bot.domain.tracklist import Track, Tracklist, format_length
from bot.replies import clip, md
from bot.services.parties import PartyView, Replay

COLOURS = {
    "scheduled": discord.Colour.from_rgb(88, 101, 242),
    "running": discord.Colour.from_rgb(59, 165, 93),
    "ended": discord.Colour.from_rgb(128, 132, 142),
    "cancelled": discord.Colour.from_rgb(237, 66, 69),
    "missed": discord.Colour.from_rgb(250, 166, 26),
}
STATUS_LINE = {
    "running": "🔴 **Live now**: press play with everyone in the thread.",
    "ended": "The party is over; the recap is in the thread.",
    "missed": "Missed: the bot was offline for the whole party.",
}
FIELD = 1024


def when(moment: datetime) -> str:
    return f"{discord.utils.format_dt(moment, 'F')} ({discord.utils.format_dt(moment, 'R')})"


def where(party: Party) -> str:
    text = f"<#{party.channel_id}>"
    if party.voice_id is not None:
        text += f" · 🔊 <#{party.voice_id}>"
    return text


def tracklist_summary(tracklist: Tracklist | None) -> str:
    if tracklist is None or not tracklist.tracks:
        return "No tracklist yet: the host can add one with `/party tracklist`."
    count = len(tracklist.tracks)
    text = f"{count} track{'s' if count != 1 else ''} · {format_length(tracklist.seconds)}"
    if tracklist.sides:
        text += " · sides " + ", ".join(md(side) for side in tracklist.sides)
    return text


def counts_line(counts: RsvpCounts) -> str:
    return f"✅ Going **{counts.going}** · 🤔 Maybe **{counts.maybe}** · ❌ Can't **{counts.cant}**"


def card_embed(view: PartyView) -> discord.Embed:
    """The announcement card: what, when, where, who hosts, the tracklist and the RSVPs."""
    party = view.party
    embed = discord.Embed(
        title=clip(f"🎧 {party.what}", 256),
        colour=COLOURS[party.status],
        url=party.link or None,
    )
    lines: list[str] = []
    if party.status == "cancelled":
        reason = f": {md(party.cancel_reason)}" if party.cancel_reason else "."
        lines.append(f"**Cancelled**{reason}")
    elif party.status in STATUS_LINE:
        lines.append(STATUS_LINE[party.status])
    if party.description:
        lines.append(md(party.description))
    if lines:
        embed.description = clip("\n\n".join(lines), 4096)
    embed.add_field(name="When", value=when(party.starts_at), inline=False)
    embed.add_field(name="Where", value=where(party), inline=True)
    embed.add_field(name="Host", value=party.host, inline=True)
    embed.add_field(
        name="Length", value=format_length(int(party.duration.total_seconds())), inline=True
    )
    embed.add_field(name="Tracklist", value=tracklist_summary(view.tracklist), inline=False)
    if view.pick is not None:
        embed.add_field(
            name="From the archive",
            value=f"#{view.pick.id} {md(view.pick.artist)} — {md(view.pick.title)}",
            inline=False,
        )
    embed.add_field(name="RSVPs", value=counts_line(view.counts), inline=False)
    footer = f"Party #{party.id}"
    if party.repeat_weeks:
        footer += " · repeats " + ("weekly" if party.repeat_weeks == 1 else "every two weeks")
    if party.status == "scheduled":
        footer += " · Interested on the Discord event counts as Going"
    embed.set_footer(text=footer)
    return embed


def moved_card_embed(party: Party) -> discord.Embed:
    return discord.Embed(
        title=clip(f"🎧 {party.what}", 256),
        description=f"This party moved to <#{party.channel_id}>.",
        colour=COLOURS["ended"],
    )


def list_embed(views: Sequence[PartyView]) -> discord.Embed:
    embed = discord.Embed(title="Coming up", colour=COLOURS["scheduled"])
    if not views:
        embed.description = (
            "No parties are scheduled. Moderators can start one with `/party schedule`."
        )
        return embed
    lines = []
    for view in views:
        party = view.party
        link = party.card_url()
        title = f"[{md(party.what)}]({link})" if link else f"**{md(party.what)}**"
        live = " · 🔴 live" if party.status == "running" else ""
        lines.append(
            f"**#{party.id}** {title}{live}\n{when(party.starts_at)} · {where(party)}\n"
            f"Going {view.counts.going} · Maybe {view.counts.maybe}"
            + (f" · [event]({party.event_url()})" if party.event_id else "")
        )
    embed.description = _fit(lines, 4096)
    return embed


def _fit(lines: Sequence[str], limit: int, joiner: str = "\n\n") -> str:
    """As many whole lines as fit, then "and N more"."""
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        more = f"{joiner}…and {len(lines) - index} more"
        if used + len(joiner) + len(line) + len(more) > limit:
            out.append(more.strip())
            break
        out.append(line)
        used += len(joiner) + len(line)
    return joiner.join(out)


# -- the run -----------------------------------------------------------------------------------


def start_text(party: Party, tracklist: Tracklist | None, plan: RunPlan | None) -> str:
    """The thread's first message: "press play in 10 s" with a countdown; after a late start,
    where to join instead."""
    about = f"**{md(party.what)}**" + (f" · <{party.link}>" if party.link else "")
    about += f"\nHosted by {party.host} · {tracklist_summary(tracklist)}"
    if party.late_by is None:
        go = party.started_at or party.starts_at + COUNTDOWN
        return f"▶ **Press play in 10 s** — {discord.utils.format_dt(go, 'R')}\n{about}"
    late = format_offset(party.late_by) if party.late_by >= timedelta(minutes=1) else "a moment"
    joining = ""
    if tracklist is not None and plan is not None and plan.beats:
        track = (
            tracklist.tracks[plan.beats[party.beat].track] if party.beat < len(plan.beats) else None
        )
        if track is not None:
            joining = f" Join at track {track.number}, **{md(track.title)}**, playing now."
    return f"▶ **We're starting {late} late**: the bot was offline at the start.{joining}\n{about}"


def marker_text(track: Track, total: int) -> str:
    text = f"▶ **{track.number}/{total}** · {md(track.title)} · {track.length}"
    if track.note:
        text += f"\n> {md(track.note)}"
    return text


def side_break_text(tracks: Sequence[Track], beat: Beat, next_at: datetime) -> str:
    before = tracks[beat.track - 1].side
    after = tracks[beat.track].side
    return (
        f"⏏ **Side {md(before or '?')} is over**: turn the record. Side {md(after or '?')} "
        f"starts {discord.utils.format_dt(next_at, 'R')}."
    )


def playing_embed(
    party: Party, tracklist: Tracklist, plan: RunPlan, now: datetime
) -> discord.Embed:
    """The "now playing" message, edited at each track (and what ``/party now`` shows)."""
    embed = discord.Embed(title="Now playing", colour=COLOURS["running"])
    now = plan.shown_at(now)
    starts = [beat.at for beat in plan.beats if beat.kind == "track"]
    tracks = tracklist.tracks
    playing = max((i for i, at in enumerate(starts) if at <= now), default=None)
    if now >= plan.ends or party.status == "ended":
        embed.title = "Finished"
        embed.description = f"All {len(tracks)} tracks played. Thanks for listening."
        return embed
    if playing is None:
        embed.title = "Starting"
        embed.description = f"Track 1 starts {discord.utils.format_dt(starts[0], 'R')}."
        return embed
    track = tracks[playing]
    elapsed = now - starts[playing]
    lines = [
        f"▶ **{track.number}/{len(tracks)}** · {md(track.title)}",
        progress_bar(elapsed, timedelta(seconds=track.seconds)),
    ]
    if plan.paused:
        lines.append("⏸ Paused by the host.")
    if track.note:
        lines.append(f"> {md(track.note)}")
    if playing + 1 < len(tracks):
        nxt = tracks[playing + 1]
        at = "" if plan.paused else f" {discord.utils.format_dt(starts[playing + 1], 'R')}"
        lines.append(f"Next: {md(nxt.title)} ({nxt.length}){at}")
    else:
        lines.append("This is the last track.")
    embed.description = "\n".join(lines)
    return embed


def now_answer(
    party: Party, tracklist: Tracklist | None, plan: RunPlan | None, now: datetime
) -> tuple[str | None, discord.Embed | None]:
    """For the late joiner (``/party now``, the **What's playing?** button)."""
    if party.status == "scheduled":
        return f"**{md(party.what)}** starts {when(party.starts_at)}.", None
    if party.status != "running" or plan is None:
        return f"**{md(party.what)}** is {party.status}.", None
    thread = f" in <#{party.thread_id}>" if party.thread_id else ""
    if tracklist is None:
        return (
            f"**{md(party.what)}** is on{thread}: started "
            f"{discord.utils.format_dt(party.starts_at, 'R')}, ends "
            f"{discord.utils.format_dt(plan.ends, 'R')}.",
            None,
        )
    return f"**{md(party.what)}**{thread}", playing_embed(party, tracklist, plan, now)


def end_text_without_tracklist(party: Party) -> str:
    return f"■ **{md(party.what)}** is over. Thanks for listening."


# -- the recap and the replay -------------------------------------------------------------------


def _names(user_ids: Sequence[int], limit: int = FIELD) -> str:
    return _fit([f"<@{user}>" for user in user_ids], limit, joiner=" ") if user_ids else "nobody"


def recap_embed(replay: Replay) -> discord.Embed:
    party = replay.view.party
    embed = discord.Embed(title=clip(f"Recap: {party.what}", 256), colour=COLOURS["ended"])
    embed.add_field(name=f"Going ({len(replay.going)})", value=_names(replay.going), inline=False)
    if replay.maybe:
        embed.add_field(
            name=f"Maybe ({len(replay.maybe)})", value=_names(replay.maybe), inline=False
        )
    if party.writers is not None:
        embed.add_field(
            name="In the thread",
            value=f"{party.writers} member{'s' if party.writers != 1 else ''} wrote along",
            inline=True,
        )
    top = max(
        (row for row in replay.tracks if row["reactions"]),
        key=lambda row: (row["reactions"], -row["number"]),
        default=None,
    )
    if top is not None:
        embed.add_field(
            name="Most reactions",
            value=f"▶ {top['number']} · {md(top['title'])} ({top['reactions']})",
            inline=True,
        )
    notes = [f"**{row['number']}.** {md(row['note'])}" for row in replay.tracks if row["note"]]
    if notes:
        embed.add_field(name="The host's notes", value=_fit(notes, FIELD, "\n"), inline=False)
    embed.set_footer(text=f"Party #{party.id} · /party replay {party.id} shows it again")
    return embed


REPLAY_PAGE = 15
REPLAY_PAGE_CHARACTERS = 3800  # of Discord's 4,096 for a description, with room to spare


def replay_pages(replay: Replay) -> list[discord.Embed]:
    """The private, paged replay: the tracklist with when each marker was posted, the notes,
    the reactions each track got; the recap first."""
    party = replay.view.party
    pages = [recap_embed(replay)]
    header = f"{when(party.starts_at)}\nHosted by {party.host}"
    if party.status == "missed":
        header += "\nMissed: the bot was offline for the whole party."
    pages[0].description = header
    for chunk in _pages_of(
        [_replay_line(party, row) for row in replay.tracks], REPLAY_PAGE, REPLAY_PAGE_CHARACTERS
    ):
        embed = discord.Embed(title=clip(f"Replay: {party.what}", 256), colour=COLOURS["ended"])
        embed.description = "\n".join(chunk)
        pages.append(embed)
    for number, page in enumerate(pages, start=1):
        page.set_footer(text=f"Party #{party.id} · page {number} of {len(pages)}")
    return pages


def _pages_of(lines: Sequence[str], most: int, characters: int) -> list[list[str]]:
    """``lines`` in pages of at most ``most`` lines and ``characters`` characters, every line
    on some page (a line longer than a page is cut to fit)."""
    pages: list[list[str]] = []
    used = 0
    for line in lines:
        line = clip(line, characters)
        if not pages or len(pages[-1]) >= most or used + len(line) + 1 > characters:
            pages.append([])
            used = 0
        pages[-1].append(line)
        used += len(line) + 1
    return pages


def _replay_line(party: Party, row: aiosqlite.Row) -> str:
    """One track of a replay: when its marker went up, its reactions, its note."""
    posted = (
        discord.utils.format_dt(from_epoch(row["posted_at"]), "T")
        if row["posted_at"]
        else "not played"
    )
    reactions = f" · {row['reactions']} reactions" if row["reactions"] else ""
    line = (
        f"**{row['number']}.** {md(row['title'])} · {format_length(row['seconds'])} · "
        f"{posted}{reactions}"
    )
    if row["message_id"] and party.thread_id:
        url = message_url(party.guild_id, party.thread_id, row["message_id"])
        line += f" · [marker]({url})"
    if row["note"]:
        line += f"\n> {md(row['note'])}"
    return line


def history_embed(parties: Sequence[Party], total: int, page: int, pages: int) -> discord.Embed:
    embed = discord.Embed(title="Past parties", colour=COLOURS["ended"])
    if not parties:
        embed.description = "No party has been held here yet."
        return embed
    lines = []
    for party in parties:
        state = " · missed" if party.status == "missed" else ""
        thread = f" · [thread]({party.thread_url()})" if party.thread_id else ""
        lines.append(
            f"**#{party.id}** {md(party.what)} · {discord.utils.format_dt(party.starts_at, 'D')}"
            f"{state}{thread}"
        )
    embed.description = _fit(lines, 4096, "\n")
    embed.set_footer(text=f"{total} part{'ies' if total != 1 else 'y'} · page {page} of {pages}")
    return embed


# -- notices ------------------------------------------------------------------------------------


def notice_text(party: Party, notice: str, guild_name: str | None) -> str:
    """A reminder, "the time changed" or "cancelled", as a DM."""
    place = f" on **{md(guild_name)}**" if guild_name else ""
    what = f"**{md(party.what)}**{place}"
    if notice.startswith("remind:"):
        return f"⏰ {what} starts {when(party.starts_at)} in {where(party)}."
    if notice.startswith("moved:"):
        return f"🕘 {what} has a new time: {when(party.starts_at)}, in {where(party)}."
    reason = f" ({md(party.cancel_reason)})" if party.cancel_reason else ""
    return f"✖ {what}, planned for {when(party.starts_at)}, was cancelled{reason}."


def mention_text(party: Party, notice: str, user_ids: Sequence[int]) -> str:
    """For members whose DMs are closed: the notice, in the party channel, mentioning them."""
    mentions = " ".join(f"<@{user}>" for user in user_ids)
    return f"{mentions}\n{notice_text(party, notice, None)}\n-# I couldn't DM you: your DMs are closed."
