"""What the bot stores about a person: export it all, or forget it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import __version__
from bot.db import Database
from bot.db.repos import digests as digests_repo
from bot.db.repos import member_data as member_repo
from bot.db.repos import parties as parties_repo
from bot.db.repos import settings as settings_repo
from bot.db.repos import swaps as swaps_repo
from bot.domain.archive_format import iso
from bot.domain.cards import CardPlace
from bot.domain.timeutil import to_epoch


async def export_user_data(db: Database, user_id: int, now: datetime) -> dict[str, Any]:
    """Everything stored about ``user_id``, across every server, as plain JSON-able data."""
    async with db.read() as conn:
        settings = await settings_repo.user_settings_data(conn, user_id)
        archive = await member_repo.user_data(conn, user_id)
        parties = await parties_repo.member_data(conn, user_id)
        swaps = await swaps_repo.member_data(conn, user_id)
        digests = await digests_repo.member_data(conn, user_id)
    return {
        "about": "Everything Undercurrent stores about you. Times are UTC epoch seconds.",
        "user_id": user_id,
        "exported_at": iso(to_epoch(now)),
        "bot_version": __version__,
        "settings": settings,
        **archive,
        **parties,
        **swaps,
        **digests,
    }


@dataclass(frozen=True, slots=True)
class ForgetResult:
    votes: int
    picks: int
    seconds: int
    settings: int
    party_rows: int  # RSVPs, reminder opt-outs and notice records deleted
    swap_rows: int  # swap picks, pairs and reviews deleted or kept without the name
    deleted_picks: bool
    cards: list[CardPlace]  # posted cards that still show the member


async def forget_user(db: Database, user_id: int, *, delete_picks: bool) -> ForgetResult:
    """Delete votes, settings, party RSVPs and reminder choices; delete or anonymise picks,
    seconds, and swap picks, pairs and reviews (picks brought to rounds not yet revealed are
    withdrawn); clear edit traces; parties hosted, rounds opened, digest settings set and extra
    digests asked for keep no name.
    The result lists the cards in channels that still show the member's name and words."""
    async with db.transaction() as conn:
        cards = [CardPlace(*card) for card in await member_repo.user_cards(conn, user_id)]
        counts = await member_repo.forget_user(conn, user_id, delete_picks=delete_picks)
        settings = await settings_repo.delete_user_settings(conn, user_id)
        party_rows = await parties_repo.forget_member(conn, user_id)
        swap_rows = await swaps_repo.forget_member(conn, user_id, delete=delete_picks)
        await digests_repo.forget_member(conn, user_id)
    return ForgetResult(
        counts["votes"], counts["picks"], counts["seconds"], settings, party_rows, swap_rows,
        delete_picks, cards,
    )  # fmt: skip
