"""When each country, city, label and subgenre was first seen on a server's live picks
(``map_firsts``, migration 0013): kept by triggers through shares, edits, removals, restores,
purges and a member forgotten with their picks, always what counting afresh says; and filled
in by the upgrade from the picks a database already holds."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.db import Database
from bot.domain.picks import PickFields
from bot.errors import UserError
from bot.services import archive_upkeep
from bot.services import picks as picks_service
from bot.services import privacy as privacy_service
from tests.db.test_database import build_at_version
from tests.fakes import FakeClock
from tests.services.sharing import ALICE, BOB, CHANNEL, GUILD, MOD, OTHER_GUILD

# What map_firsts should hold, counted afresh from the live picks (the upgrade's own queries
# are not reused here: this is the definition).
AFRESH = """
SELECT guild_id, 'country', country, min(created_at) FROM picks
WHERE country IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 3
UNION ALL
SELECT guild_id, 'city', lower(city), min(created_at) FROM picks
WHERE city IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 3
UNION ALL
SELECT guild_id, 'label', lower(label), min(created_at) FROM picks
WHERE label IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 3
UNION ALL
SELECT p.guild_id, 'subgenre', t.tag, min(p.created_at) FROM pick_tags t
JOIN picks p ON p.id = t.pick_id WHERE p.deleted_at IS NULL GROUP BY 1, 3
"""
KEPT = "SELECT guild_id, kind, key, first_at FROM map_firsts WHERE first_at IS NOT NULL"

COUNTRIES = ("ML", "NE", "DE", None)
CITIES = ("Bamako", "BAMAKO", "bamako", "Köln", "KÖLN", None)
LABELS = ("Kranky", "KRANKY", "Sahel Sounds", None)
TAGS = ("drone", "desert-blues", "dub", "ambient")


def fields(rng: random.Random, n: int) -> PickFields:
    return PickFields(
        artist=f"Artist {n}", title=f"Record {n}", country=rng.choice(COUNTRIES),
        city=rng.choice(CITIES), label=rng.choice(LABELS),
        subgenres=", ".join(rng.sample(TAGS, rng.randint(0, 3))) or None,
    )  # fmt: skip


async def kept_and_afresh(db: Database) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    async with db.read() as conn:
        kept = {tuple(row) for row in await conn.execute_fetchall(KEPT)}
        afresh = {tuple(row) for row in await conn.execute_fetchall(AFRESH)}
    return kept, afresh


async def test_first_seen_follows_every_change_to_the_picks(db: Database, clock: FakeClock) -> None:
    rng = random.Random(13)
    live: dict[int, int] = {}  # pick id → guild
    removed: dict[int, int] = {}
    done: set[str] = set()
    for n in range(160):
        clock.advance(timedelta(minutes=rng.randint(0, 3) * 30))  # some share a second
        action = rng.random()
        if action < 0.5 or not live:
            guild = rng.choice((GUILD, OTHER_GUILD))
            shared = await picks_service.share_pick(
                db, guild_id=guild, user_id=rng.choice((ALICE, BOB)), channel_id=CHANNEL,
                now=clock.now(), given=fields(rng, n),
            )  # fmt: skip
            if shared.pick is not None:
                live[shared.pick.id] = guild
                done.add("share")
        elif action < 0.7:
            pick_id = rng.choice(sorted(live))
            changes = fields(rng, n)
            await picks_service.edit_pick(
                db, guild_id=live[pick_id], pick_id=pick_id, user_id=MOD, is_moderator=True,
                now=clock.now(),
                changes={
                    "country": changes.country, "city": changes.city, "label": changes.label,
                    "subgenres": changes.subgenres,
                },
            )  # fmt: skip
            done.add("edit")
        elif action < 0.85:
            pick_id = rng.choice(sorted(live))
            await picks_service.remove_pick(
                db, guild_id=live[pick_id], pick_id=pick_id, user_id=MOD, is_moderator=True,
                now=clock.now(),
            )  # fmt: skip
            removed[pick_id] = live.pop(pick_id)
            done.add("remove")
        elif action < 0.93 and removed:
            pick_id = rng.choice(sorted(removed))
            try:
                await picks_service.restore_pick(db, removed[pick_id], pick_id, clock.now())
            except UserError:  # a live duplicate took its place: it stays removed
                continue
            live[pick_id] = removed.pop(pick_id)
            done.add("restore")
        else:
            pick_id = rng.choice(sorted(live))
            async with db.transaction() as conn:  # a card never posted: deleted for good
                await conn.execute("DELETE FROM picks WHERE id = ?", (pick_id,))
            live.pop(pick_id)
            done.add("delete")
        kept, afresh = await kept_and_afresh(db)
        assert kept == afresh, f"after step {n}"
    assert done == {"share", "edit", "remove", "restore", "delete"}

    clock.advance(timedelta(days=60))
    await archive_upkeep.purge_removed(db, clock.now())
    await privacy_service.forget_user(db, ALICE, delete_picks=True)
    kept, afresh = await kept_and_afresh(db)
    assert kept == afresh and afresh


async def test_the_upgrade_fills_in_first_seen_from_the_picks_held(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "old.sqlite3"
    build_at_version(path, 12)
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        rows = [
            (1, "ML", "Bamako", "Sahel Sounds", 100, None, "desert-blues"),
            (2, "ML", "BAMAKO", "sahel sounds", 50, None, "desert-blues drone"),
            (3, "NE", "Niamey", None, 10, 20, "drone"),  # removed: never counts
            (4, None, None, "Kranky", 70, None, ""),
        ]
        for pick_id, country, city, label, created, deleted, tags in rows:
            conn.execute(
                "INSERT INTO picks (id, guild_id, artist, title, match_key, country, city, label, "
                "tags, created_at, deleted_at) VALUES (?, ?, 'A', ?, ?, ?, ?, ?, ?, ?, ?)",
                (pick_id, GUILD, f"T{pick_id}", f"a t{pick_id}", country, city, label, tags,
                 created, deleted),
            )  # fmt: skip
            for tag in tags.split():
                conn.execute(
                    "INSERT INTO pick_tags (guild_id, tag, pick_id) VALUES (?, ?, ?)",
                    (GUILD, tag, pick_id),
                )
    db = await Database.open(path)
    try:
        kept, afresh = await kept_and_afresh(db)
        assert kept == afresh == {
            (GUILD, "country", "ML", 50), (GUILD, "city", "bamako", 50),
            (GUILD, "label", "sahel sounds", 50), (GUILD, "label", "kranky", 70),
            (GUILD, "subgenre", "desert-blues", 50), (GUILD, "subgenre", "drone", 50),
        }  # fmt: skip
    finally:
        await db.close()
