"""Each pick's Heard and Loved counts (migration 0012): kept by triggers as marks are added and
removed, a member forgotten, a pick purged, and filled in from the marks an older database
already holds."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.db import Database
from bot.domain.timeutil import to_epoch
from bot.services import archive_upkeep
from bot.services import picks as picks_service
from bot.services import privacy as privacy_service
from tests.db.test_database import build_at_version
from tests.fakes import FakeClock
from tests.services.sharing import GUILD, share

MEMBERS = (11, 22, 33, 44, 55)


async def kept_and_counted(
    db: Database,
) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
    """Every pick's (heard, loved): as the columns say, and counted from its marks."""
    async with db.read() as conn:
        kept = await conn.execute_fetchall("SELECT id, heard_count, loved_count FROM picks")
        counted = await conn.execute_fetchall(
            "SELECT p.id, "
            "(SELECT count(*) FROM pick_votes v WHERE v.pick_id = p.id AND v.kind = 'heard'), "
            "(SELECT count(*) FROM pick_votes v WHERE v.pick_id = p.id AND v.kind = 'loved') "
            "FROM picks p"
        )
    return {r[0]: (r[1], r[2]) for r in kept}, {r[0]: (r[1], r[2]) for r in counted}


async def test_counts_follow_marks_added_removed_forgotten_and_purged(
    db: Database, clock: FakeClock
) -> None:
    rng = random.Random(12)
    picks = [await share(db, clock, f"Artist {n}", f"Record {n}") for n in range(4)]
    for _ in range(80):
        pick_id, member, kind = (
            rng.choice(picks),
            rng.choice(MEMBERS),
            rng.choice(("heard", "loved")),
        )
        pick, _ = await picks_service.toggle_vote(
            db, guild_id=GUILD, pick_id=pick_id, user_id=member, kind=kind, now=clock.now()
        )
        kept, counted = await kept_and_counted(db)
        assert kept == counted
        assert (pick.heard, pick.loved) == counted[pick_id]  # what a card and a digest show
    assert any(heard and loved for heard, loved in counted.values())  # both were exercised

    await privacy_service.forget_user(db, MEMBERS[0], delete_picks=False)
    kept, counted = await kept_and_counted(db)
    assert kept == counted

    removed = picks[0]
    await picks_service.remove_pick(
        db, guild_id=GUILD, pick_id=removed, user_id=MEMBERS[1], is_moderator=True,
        now=clock.now(),
    )  # fmt: skip
    clock.advance(timedelta(days=60))
    assert await archive_upkeep.purge_removed(db, clock.now()) == 1
    kept, counted = await kept_and_counted(db)
    assert removed not in kept and kept == counted
    async with db.read() as conn:
        assert (
            await conn.execute_fetchall("SELECT * FROM pick_votes WHERE pick_id = ?", (removed,))
            == []
        )


async def test_a_mark_moved_to_another_kind_or_pick_moves_its_count(
    db: Database, clock: FakeClock
) -> None:
    first = await share(db, clock, "Grouper", "Ruins")
    second = await share(db, clock, "Moin", "Moot")
    await picks_service.toggle_vote(
        db, guild_id=GUILD, pick_id=first, user_id=MEMBERS[0], kind="heard", now=clock.now()
    )
    async with db.transaction() as conn:
        await conn.execute("UPDATE pick_votes SET kind = 'loved' WHERE pick_id = ?", (first,))
    kept, counted = await kept_and_counted(db)
    assert kept == counted and kept[first] == (0, 1)
    async with db.transaction() as conn:
        await conn.execute("UPDATE pick_votes SET pick_id = ? WHERE pick_id = ?", (second, first))
    kept, counted = await kept_and_counted(db)
    assert kept == counted and kept[first] == (0, 0) and kept[second] == (0, 1)


async def test_the_upgrade_counts_the_marks_a_database_already_holds(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "old.sqlite3"
    build_at_version(path, 11)
    now = to_epoch(clock.now())
    with sqlite3.connect(path, isolation_level=None) as conn:
        for pick_id in (1, 2, 3):
            conn.execute(
                "INSERT INTO picks (id, guild_id, artist, title, match_key, created_at) "
                "VALUES (?, ?, 'A', ?, ?, ?)",
                (pick_id, GUILD, f"T{pick_id}", f"a t{pick_id}", now),
            )
        conn.executemany(
            "INSERT INTO pick_votes (pick_id, kind, user_id, created_at) VALUES (?, ?, ?, ?)",
            [
                (1, "heard", 11, now), (1, "heard", 22, now), (1, "loved", 11, now),
                (2, "loved", 33, now),
            ],
        )  # fmt: skip
    db = await Database.open(path)
    try:
        kept, counted = await kept_and_counted(db)
        assert kept == counted == {1: (2, 1), 2: (0, 1), 3: (0, 0)}
    finally:
        await db.close()
