"""Swap rounds' use cases on a real database: the round's states, joining, pairing, reviews, the
reveal into the archive, cancelling, and a member's data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.db import Database
from bot.domain.picks import PickFields
from bot.errors import UserError
from bot.scheduler import Scheduler
from bot.services import picks as picks_service
from bot.services import privacy as privacy_service
from bot.services import swaps as service
from bot.services.swaps import Opened
from tests.fakes import FakeClock
from tests.services.sharing import ALICE, BOB, CHANNEL, GUILD, MOD, share
from tests.services.test_parties import pending_jobs

CAROL = 44


@pytest.fixture
def scheduler(db: Database, clock: FakeClock) -> Scheduler:
    return Scheduler(db, clock)


async def open_round(
    db: Database, scheduler: Scheduler, clock: FakeClock, **given: object
) -> Opened:
    values: dict[str, object] = {
        "theme": "Records from a city you've never been to",
        "join_until": "in 2 days",
        "review_until": "in 9 days",
        "mode": "random",
        "anonymous": True,
    } | given
    return await service.open_round(
        db, scheduler, guild_id=GUILD, channel_id=CHANNEL, opener_id=MOD, now=clock.now(),
        **values,  # type: ignore[arg-type]
    )  # fmt: skip


async def join(
    db: Database, clock: FakeClock, round_id: int, user_id: int, artist: str, **fields: object
) -> service.Joined:
    return await service.join(
        db, guild_id=GUILD, round_id=round_id, user_id=user_id, now=clock.now(),
        given=PickFields(artist=artist, title="LP", **fields),  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize(
    "given,message",
    [
        ({"review_until": "in 2 days"}, "at least a day after"),
        ({"join_until": "yesterday"}, r"\*\*join_until\*\*: I can't read"),
        ({"review_until": "2020-01-01 20:00"}, r"\*\*review_until\*\*: .* has already passed"),
        ({"mode": "clustered"}, "random` or `cross-scene"),
        ({"theme": "   "}, "theme"),
    ],
)
async def test_a_round_with_bad_input_is_refused_and_nothing_is_stored(
    db: Database, scheduler: Scheduler, clock: FakeClock, given: dict[str, object], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        await open_round(db, scheduler, clock, **given)
    assert await pending_jobs(db) == {}


async def test_one_live_round_per_channel(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    opened = await open_round(db, scheduler, clock)
    assert f"swap:{opened.round.id}:pair" in await pending_jobs(db)
    with pytest.raises(UserError, match="already has a swap round going"):
        await open_round(db, scheduler, clock)


async def test_joining_twice_changes_the_pick_and_an_archived_pick_lends_its_details(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    round_id = (await open_round(db, scheduler, clock)).round.id
    pick_id = await share(db, clock, "Kas Product", "LP", country="France", city="Nancy")
    first = await join(db, clock, round_id, BOB, "Grouper")
    assert first.first_time and first.existing is None
    again = await join(db, clock, round_id, BOB, "Kas Product")
    assert not again.first_time and again.existing is not None and again.existing.id == pick_id
    assert (again.entry.country, again.entry.city) == ("FR", "Nancy")
    await service.leave(db, guild_id=GUILD, round_id=round_id, user_id=BOB, now=clock.now())
    assert await service.my_entry(db, round_id, BOB) is None
    clock.advance(timedelta(days=2))
    with pytest.raises(UserError, match="closed"):
        await join(db, clock, round_id, BOB, "Kas Product")


async def test_fewer_than_two_members_cancel_the_round(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    round_id = (await open_round(db, scheduler, clock)).round.id
    await join(db, clock, round_id, ALICE, "Grouper")
    await join(db, clock, round_id, BOB, "Moin")
    clock.advance(timedelta(days=2))
    paired = await service.pair(db, scheduler, round_id, gone=[BOB], now=clock.now())
    assert paired.pairing is None and paired.round.status == "cancelled"
    assert paired.round.cancel_reason == "fewer than two members joined"
    assert f"swap:{round_id}:notify:cancelled" in await pending_jobs(db)


async def test_pairing_gives_everyone_someone_elses_pick_and_plans_what_follows(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    round_id = (await open_round(db, scheduler, clock)).round.id
    for user, artist in (
        (ALICE, "Grouper"),
        (BOB, "Moin"),
        (CAROL, "Kas Product"),
        (MOD, "Tinariwen"),
    ):
        await join(db, clock, round_id, user, artist)
    clock.advance(timedelta(days=2))
    paired = await service.pair(db, scheduler, round_id, gone=[], now=clock.now())
    assert paired.pairing is not None and paired.round.status == "reviewing"
    receivers = paired.pairing.receiver_of
    assert sorted(receivers) == sorted(receivers.values()) == sorted([ALICE, BOB, CAROL, MOD])
    assert all(giver != receiver for giver, receiver in receivers.items())
    jobs = await pending_jobs(db)
    assert jobs[f"swap:{round_id}:notify:assigned"] == clock.now()
    assert jobs[f"swap:{round_id}:notify:remind"] == paired.round.review_until - timedelta(hours=24)
    assert jobs[f"swap:{round_id}:reveal"] == paired.round.review_until
    again = await service.pair(db, scheduler, round_id, gone=[], now=clock.now())
    assert again.pairing is None and again.round.status == "reviewing"  # nothing changed


async def paired_round(db: Database, scheduler: Scheduler, clock: FakeClock) -> int:
    round_id = (await open_round(db, scheduler, clock)).round.id
    for user, artist in ((ALICE, "Grouper"), (BOB, "Moin"), (CAROL, "Kas Product")):
        await join(db, clock, round_id, user, artist, country="FR" if user == BOB else "US")
    clock.advance(timedelta(days=2))
    await service.pair(db, scheduler, round_id, gone=[], now=clock.now())
    return round_id


async def review(db: Database, clock: FakeClock, user: int, rating: int, **more: object) -> None:
    await service.review(
        db, guild_id=GUILD, round_id=None, user_id=user, rating=rating, now=clock.now(),
        favourite_track=more.get("favourite_track"), thoughts=more.get("thoughts"),  # type: ignore[arg-type]
    )  # fmt: skip


async def test_reviews_are_for_assignments_in_time_and_the_reminder_skips_reviewers(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    round_id = await paired_round(db, scheduler, clock)
    with pytest.raises(UserError, match="no swap assignment"):
        await review(db, clock, MOD, 4)
    with pytest.raises(UserError, match="from 1 to 5"):
        await review(db, clock, ALICE, 6)
    with pytest.raises(UserError, match="at most 1,500"):
        await review(db, clock, ALICE, 4, thoughts="x" * 1501)
    await review(db, clock, ALICE, 4, favourite_track="Heavy Water")
    _, _, first = await service.review(
        db, guild_id=GUILD, round_id=round_id, user_id=ALICE, rating=5, favourite_track=None,
        thoughts="Better on the second listen", now=clock.now(),
    )  # fmt: skip
    assert not first
    work = await service.notice_recipients(db, round_id, "remind")
    assert work.members == sorted([BOB, CAROL])
    clock.advance(timedelta(days=7))
    with pytest.raises(UserError, match="closed"):
        await review(db, clock, BOB, 3)


async def test_the_reveal_files_the_picks_in_the_archive_with_their_reviews_once(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    round_id = await paired_round(db, scheduler, clock)
    await review(db, clock, ALICE, 5, thoughts="Stunning")
    clock.advance(timedelta(days=7))
    revealed = await service.reveal(db, round_id, clock.now())
    assert revealed.round.status == "revealed"
    assert all(entry.pick_id is not None for entry in revealed.entries)
    reviewed = next(e for e in revealed.entries if e.receiver_id == ALICE)
    assert reviewed.pick_id is not None
    details = await picks_service.pick_details(db, GUILD, reviewed.pick_id)
    assert details.pick.shared_by == reviewed.user_id
    assert [(r[1], r[3]) for r in details.reviews] == [(5, "Stunning")]
    again = await service.reveal(db, round_id, clock.now())
    assert [e.pick_id for e in again.entries] == [e.pick_id for e in revealed.entries]


async def test_only_the_opener_or_a_moderator_cancels_and_members_are_told_once(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    round_id = (await open_round(db, scheduler, clock)).round.id
    await join(db, clock, round_id, ALICE, "Grouper")
    kwargs = {"guild_id": GUILD, "round_id": round_id, "reason": "summer", "now": clock.now()}
    with pytest.raises(UserError, match="Only the member who opened"):
        await service.cancel(db, scheduler, user_id=BOB, manages_events=False, **kwargs)  # type: ignore[arg-type]
    cancelled, members = await service.cancel(
        db,
        scheduler,
        user_id=MOD,
        manages_events=False,
        **kwargs,  # type: ignore[arg-type]
    )
    assert cancelled.status == "cancelled" and members == 1
    jobs = await pending_jobs(db)
    assert f"swap:{round_id}:pair" not in jobs and f"swap:{round_id}:notify:cancelled" in jobs


async def test_swap_data_is_exported_and_forgotten(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    round_id = await paired_round(db, scheduler, clock)
    await review(db, clock, ALICE, 5, thoughts="Stunning")
    exported = await privacy_service.export_user_data(db, ALICE, clock.now())
    assert [e["artist"] for e in exported["swap_picks_brought"]] == ["Grouper"]
    assert len(exported["swap_picks_received"]) == 1
    assert [r["thoughts"] for r in exported["swap_reviews"]] == ["Stunning"]
    clock.advance(timedelta(days=7))
    await service.reveal(db, round_id, clock.now())
    await privacy_service.forget_user(db, ALICE, delete_picks=False)
    exported = await privacy_service.export_user_data(db, ALICE, clock.now())
    assert exported["swap_picks_brought"] == exported["swap_reviews"] == []
    data = await service.reveal_data(db, round_id)
    assert len(data.entries) == 3 and [r.reviewer_id for r in data.reviews] == [None]


async def test_members_bringing_the_same_record_count_as_knowing_each_others() -> None:
    from bot.domain.swaps import SwapEntry

    def entry(user_id: int, artist: str) -> SwapEntry:
        return SwapEntry(user_id, 1, user_id, artist, "LP", None, None, None, None, None, None,
                         None, (), None, None, None)  # fmt: skip

    pairs = service.same_record_pairs([entry(1, "Grouper"), entry(2, "GROUPER "), entry(3, "Moin")])
    assert sorted(pairs) == [(1, 2), (2, 1)]


def test_the_reminder_comes_a_day_before_or_halfway_through_a_short_review() -> None:
    from datetime import UTC, datetime

    paired = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert service.reminder_time(paired + timedelta(days=7), paired) == paired + timedelta(days=6)
    assert service.reminder_time(paired + timedelta(days=1), paired) == paired + timedelta(hours=12)
    assert service.reminder_time(paired + timedelta(minutes=30), paired) is None


async def test_an_anonymous_rounds_export_names_no_giver_before_the_reveal(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    round_id = await paired_round(db, scheduler, clock)
    exported = await privacy_service.export_user_data(db, ALICE, clock.now())
    assert [r["giver_id"] for r in exported["swap_picks_received"]] == [None]
    assert [r["receiver_id"] for r in exported["swap_picks_brought"]] == [None]
    clock.advance(timedelta(days=7))
    await service.reveal(db, round_id, clock.now())
    exported = await privacy_service.export_user_data(db, ALICE, clock.now())
    assert exported["swap_picks_received"][0]["giver_id"] in (BOB, CAROL)


async def test_a_round_cancelled_just_before_its_reveal_is_not_revealed(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    round_id = await paired_round(db, scheduler, clock)
    await service.cancel(
        db, scheduler, guild_id=GUILD, round_id=round_id, user_id=MOD, manages_events=True,
        reason=None, now=clock.now(),
    )  # fmt: skip
    clock.advance(timedelta(days=7))
    data = await service.reveal(db, round_id, clock.now())
    assert not data.revealed and all(entry.pick_id is None for entry in data.entries)
