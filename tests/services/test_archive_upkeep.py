"""Archive upkeep on a real SQLite file: dedupe keys recomputed when their rules change."""

from __future__ import annotations

from bot.db import Database
from bot.domain.picks import PickFields
from bot.services import archive_upkeep
from bot.services import picks as service
from tests.fakes import FakeClock
from tests.services.sharing import ALICE, BOB, CHANNEL, GUILD, share


async def test_changed_dedupe_rules_rekey_stored_picks_once(db: Database, clock: FakeClock) -> None:
    # Keys as the first rules stored them (punctuation became a space), then new rules.
    older = await share(db, clock, "R.E.M.", "Murmur")
    kas = await share(db, clock, "Kas Product", "Try Out")
    removed = await share(db, clock, "Ruth", "Polaroïd / Roman / Photo")
    old_keys = {older: "r e m\x1fmurmur", kas: "kas product\x1ftry out", removed: "ruth\x1fpolaroid roman photo"}  # fmt: skip
    async with db.transaction() as conn:
        for pick_id, key in old_keys.items():
            await conn.execute("UPDATE picks SET match_key = ? WHERE id = ?", (key, pick_id))
        await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('match_key_version', '1')")
    # Under the old rules these were two records; under the new ones they are one.
    newer = await share(db, clock, "REM", "Murmur")
    await service.remove_pick(db, GUILD, removed, ALICE, False, clock.now())

    assert await archive_upkeep.refresh_match_keys(db) == 4
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT id, match_key FROM picks ORDER BY id")
    assert dict(rows) == {  # type: ignore[arg-type]
        older: "rem\x1fmurmur",  # the oldest keeps the key new shares are compared with
        kas: "kasproduct\x1ftryout",
        removed: "ruth\x1fpolaroidromanphoto",
        newer: f"rem\x1fmurmur\x1e{newer}",  # kept apart, nothing merged or lost
    }
    again = await service.share_pick(
        db,
        guild_id=GUILD,
        user_id=BOB,
        channel_id=CHANNEL,
        now=clock.now(),
        given=PickFields(artist="R. E. M.", title="MURMUR"),
    )
    assert again.pick is None and again.duplicate is not None and again.duplicate.id == older
    assert await archive_upkeep.refresh_match_keys(db) is None  # once only
