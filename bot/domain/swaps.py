"""Swap rounds' own rules: the deadlines, what a review may hold, and the reveal's summary.

A round is opened with a theme and two deadlines: members join with one pick each until
``join_until``; then the bot pairs them (``bot.domain.pairing``) and each reviews the pick they
were given until ``review_until``, which must be at least a day later; then the reveal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.domain.when import ParsedMoment
from bot.errors import UserError

RoundStatus = Literal["open", "reviewing", "revealed", "cancelled"]
Mode = Literal["random", "cross-scene"]
MODES: tuple[Mode, ...] = ("random", "cross-scene")
THEME_MAX = 100
FAVOURITE_MAX = 100
THOUGHTS_MAX = 1500
REASON_MAX = 300
MIN_REVIEW_TIME = timedelta(days=1)
#: The reminder to review goes this long before review_until, to those who have not.
REMIND_BEFORE = timedelta(hours=24)
#: How many of a server's past rounds a pairing avoids repeating.
HISTORY_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class SwapRound:
    id: int
    guild_id: int
    channel_id: int
    opener_id: int | None
    theme: str
    join_until: datetime
    review_until: datetime
    zone: str
    mode: Mode
    anonymous: bool
    status: RoundStatus
    card_message_id: int | None
    thread_id: int | None
    seed: int | None
    paired_at: datetime | None
    revealed_at: datetime | None
    cancel_reason: str | None

    @property
    def is_live(self) -> bool:
        return self.status in ("open", "reviewing")

    def card_url(self) -> str | None:
        if self.card_message_id is None:
            return None
        return (
            f"https://discord.com/channels/{self.guild_id}/{self.channel_id}/{self.card_message_id}"
        )

    @property
    def opener(self) -> str:
        return "a former member" if self.opener_id is None else f"<@{self.opener_id}>"


@dataclass(frozen=True, slots=True)
class SwapEntry:
    """What a member brings. ``receiver_id`` is set once paired."""

    id: int
    round_id: int
    user_id: int | None
    artist: str
    title: str
    link_url: str | None
    note: str | None
    country: str | None
    city: str | None
    label: str | None
    year: int | None
    format: str | None
    subgenres: tuple[str, ...]
    existing_pick_id: int | None
    pick_id: int | None
    receiver_id: int | None

    @property
    def heading(self) -> str:
        return f"{self.artist} — {self.title}"


@dataclass(frozen=True, slots=True)
class Review:
    entry_id: int
    reviewer_id: int | None
    rating: int
    favourite_track: str | None
    thoughts: str | None


def check_deadlines(join: ParsedMoment, review: ParsedMoment) -> None:
    """Both deadlines are in the future already (``parse_when``); review after join by a day."""
    if review.at - join.at < MIN_REVIEW_TIME:
        raise UserError(
            "**review_until** must be at least a day after **join_until**, so members have time "
            "to listen."
        )


def check_review(rating: int, favourite_track: str | None, thoughts: str | None) -> None:
    if not 1 <= rating <= 5:
        raise UserError("**rating** is from 1 to 5.")
    if favourite_track is not None and len(favourite_track) > FAVOURITE_MAX:
        raise UserError(f"**favourite_track** is at most {FAVOURITE_MAX} characters.")
    if thoughts is not None and len(thoughts) > THOUGHTS_MAX:
        raise UserError(
            f"**thoughts** are at most {THOUGHTS_MAX:,} characters ({len(thoughts):,} given)."
        )


@dataclass(frozen=True, slots=True)
class RevealSummary:
    pairs: int
    reviewed: int
    average: float | None
    best: SwapEntry | None
    best_rating: int | None
    borders: int
    countries_met: tuple[tuple[str, str], ...]


def reveal_summary(
    entries: Sequence[SwapEntry], reviews: Sequence[Review], receivers: dict[int, SwapEntry]
) -> RevealSummary:
    """How the round went: reviews, the average rating, the highest-rated pick (the first one
    joined on a tie), and the borders crossed: a pair whose two picks (the one a member gave
    and the one they got) come from two different known countries.

    ``receivers`` maps a receiver's user id to the entry *they* brought."""
    by_entry = {review.entry_id: review for review in reviews}
    rated = [(by_entry[e.id].rating, e) for e in entries if e.id in by_entry]
    best = max(rated, key=lambda pair: (pair[0], -pair[1].id), default=None)
    met: list[tuple[str, str]] = []
    for entry in entries:
        theirs = receivers.get(entry.receiver_id) if entry.receiver_id is not None else None
        if theirs is None or not entry.country or not theirs.country:
            continue
        if entry.country != theirs.country:
            met.append((entry.country, theirs.country))
    return RevealSummary(
        pairs=sum(1 for e in entries if e.receiver_id is not None),
        reviewed=len(rated),
        average=sum(r for r, _ in rated) / len(rated) if rated else None,
        best=best[1] if best else None,
        best_rating=best[0] if best else None,
        borders=len(met),
        countries_met=tuple(dict.fromkeys((min(a, b), max(a, b)) for a, b in met)),
    )
