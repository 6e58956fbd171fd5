"""``row_to_pick`` reads a row by position: ``PICK_COLUMNS`` must name ``Pick``'s fields in
their order (the tags column where the subgenres are)."""

from __future__ import annotations

import dataclasses
import sqlite3

from bot.db import Database
from bot.db.repos.picks import PICK_COLUMNS, row_to_pick
from bot.domain.picks import Pick

FIELDS = [field.name for field in dataclasses.fields(Pick)]


async def test_the_columns_are_the_picks_fields_in_order(db: Database) -> None:
    async with db.read() as conn:
        cursor = await conn.execute(f"SELECT {PICK_COLUMNS} FROM picks p LIMIT 0")
        columns = [d[0] for d in cursor.description]
    assert columns == ["tags" if name == "subgenres" else name for name in FIELDS]


def test_each_value_lands_in_its_field_whatever_follows() -> None:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    values = ", ".join(
        "'dub techno' AS tags" if name == "subgenres" else f"'{name}' AS {name}" for name in FIELDS
    )
    # as the archive's export reads them: the pick's columns, then its lineage and keys
    pick = row_to_pick(conn.execute(f"SELECT {values}, 'x' AS lineage, 'y'").fetchone())
    for name in FIELDS:
        assert getattr(pick, name) == (("dub", "techno") if name == "subgenres" else name)
