"""Export and import of a server's archive, on real SQLite files."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from pathlib import Path

import pytest

from bot.db import Database
from bot.domain.picks import PickFields
from bot.domain.search import SearchFilters
from bot.services import archive_io, archive_search
from bot.services import picks as service
from tests.fakes import FakeClock

SOURCE, TARGET = 1, 2
ALICE, BOB = 11, 22
CHANNEL = 3


async def seed(db: Database, clock: FakeClock) -> None:
    async def share(artist: str, title: str, **kw: object) -> int:
        given = PickFields(artist=artist, title=title, **kw)  # type: ignore[arg-type]
        result = await service.share_pick(
            db, guild_id=SOURCE, user_id=ALICE, channel_id=CHANNEL, now=clock.now(), given=given
        )
        assert result.pick is not None
        return result.pick.id

    a = await share(
        "Kas Product",
        "Try Out",
        link="https://kasproduct.bandcamp.com/album/try-out",
        subgenres="minimal synth, cold wave",
        label="RCA",
        year=1982,
        country="FR",
        city="Nancy",
        format="vinyl",
        note='Cold, "quoted", and\nmulti-line; with commas',
    )
    # Text that starts like a spreadsheet formula, or like the export's guard against one,
    # comes back exactly as it was.
    b = await share(
        "Martin Dupont", "Just Because", year=1987, country="FR", note="'=) winky", label="'Til"
    )
    c = await share(
        "Ruth", "Polaroïd / Roman / Photo", format="cassette", subgenres="minimal synth",
        note="=HYPERLINK(\"x\")", city="''Quoted",
    )  # fmt: skip
    await service.link_picks(db, SOURCE, b, a, "same-scene", ALICE, clock.now())
    await service.link_picks(db, SOURCE, c, a, "influenced-by", ALICE, clock.now())
    await service.second_pick(db, SOURCE, a, BOB, "'+1 essential", clock.now())
    await service.toggle_vote(db, SOURCE, a, "loved", BOB, clock.now())
    removed = await share("Removed", "Entry")
    await service.remove_pick(db, SOURCE, removed, ALICE, False, clock.now())


async def snapshot(db: Database, guild_id: int, clock: FakeClock) -> list[tuple[object, ...]]:
    page = await archive_search.search_archive(db, guild_id, SearchFilters(), 1, clock.now())
    rows = []
    for pick in sorted(page.results, key=lambda p: p.created_at * 1000 + p.id):
        details = await service.pick_details(db, guild_id, pick.id)
        rows.append((
            pick.artist, pick.title, pick.link_url, pick.subgenres, pick.label, pick.year, pick.country,
            pick.city, pick.format, pick.note, pick.shared_by, pick.created_at,
            sorted((s.user_id, s.note) for s in details.seconds),
            sorted((e.relation, details.related[e.to_id].title) for e in details.grew_from if e.depth == 1),
        ))  # fmt: skip
    return rows


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_export_then_import_into_an_empty_server_gives_the_same_archive(
    db: Database, clock: FakeClock, tmp_path: Path, fmt: str
) -> None:
    await seed(db, clock)
    result = await archive_io.export_archive(
        db, SOURCE, fmt, tmp_path, limit_bytes=10_000_000, title="t"
    )
    assert result.entries == 3 and not result.compressed
    imported = await archive_io.import_archive(
        db, TARGET, result.files[0].read_bytes(), clock.now()
    )
    assert (imported.imported, imported.links, imported.seconds) == (3, 2, 1)
    assert await snapshot(db, TARGET, clock) == await snapshot(db, SOURCE, clock)


async def test_markdown_export_is_readable(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    await seed(db, clock)
    result = await archive_io.export_archive(
        db, SOURCE, "markdown", tmp_path, limit_bytes=10_000_000, title="Society — scene archive"
    )
    text = result.files[0].read_text()
    assert text.startswith("# Society — scene archive\n")
    assert "## #1 Kas Product — Try Out" in text
    assert '> Cold, "quoted", and\n> multi-line; with commas' in text


async def test_large_export_is_gzipped_and_split_into_complete_files(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    from bot.db.repos import picks as picks_repo
    from bot.domain.picks import build_draft

    async with db.transaction() as conn:
        for n in range(3000):
            noise = "".join(hashlib.sha256(f"{n}:{i}".encode()).hexdigest() for i in range(6))
            draft = build_draft(
                PickFields(artist=f"Artist {n}", title=f"Title {n}", note=noise), current_year=2026
            )
            await picks_repo.insert_pick(conn, SOURCE, draft, ALICE, n)
    result = await archive_io.export_archive(
        db, SOURCE, "csv", tmp_path, limit_bytes=300_000, title="t"
    )
    assert result.compressed and len(result.files) > 1
    rows = []
    for path in result.files:
        assert path.name.endswith(".csv.gz") and path.stat().st_size <= 300_000
        rows += list(csv.DictReader(io.StringIO(gzip.decompress(path.read_bytes()).decode())))
    assert [r["artist"] for r in rows] == [f"Artist {n}" for n in range(3000)]


async def test_bad_rows_are_reported_by_line_and_nothing_is_imported(
    db: Database, clock: FakeClock
) -> None:
    data = (
        b"id,artist,title,year,country,format,link,lineage\n"
        b"1,Good,Row,1984,FR,vinyl,,\n"
        b"2,,Missing artist,,,,,\n"
        b"3,Bad,Year,1850,,,,\n"
        b"4,Bad,Country,,Atlantis,,,\n"
        b"5,Bad,Link,,,,javascript:alert(1),\n"
        b"6,Bad,Lineage,,,,,influenced-by:99\n"
        b"7,good,row!,,,,,\n"
        b"8,Links,Back,,,,,same-scene:9\n"
        b"9,Links,Forth,,,,,same-scene:8; same-scene:8\n"
    )
    with pytest.raises(archive_io.ImportRejected) as caught:
        await archive_io.import_archive(db, TARGET, data, clock.now())
    problems = caught.value.problems
    assert problems[0] == "line 3: **artist** is required."
    assert problems[1].startswith("line 4: **year** must be between 1900")
    assert problems[2].startswith("line 5: **country**: `Atlantis`")
    assert problems[3].startswith("line 6: **link**: Only web links")
    assert problems[4] == "line 8: the same entry as line 2 (good — row!)"
    assert problems[5] == "line 7: lineage points to id 99, which is not in the file"
    assert problems[6:] == [
        "line 10: same-scene:8 links the same two entries as line 9 already does"
    ]
    assert (
        await archive_search.search_archive(db, TARGET, SearchFilters(), 1, clock.now())
    ).total == 0


async def test_import_refuses_entries_already_in_the_archive(
    db: Database, clock: FakeClock
) -> None:
    await seed(db, clock)
    data = json.dumps(
        {
            "entries": [
                {"artist": "New", "title": "One"},
                {"artist": "KAS PRODUCT", "title": "try out"},
            ]
        }
    ).encode()
    with pytest.raises(archive_io.ImportRejected, match=r"entry 2: already in the archive as #1"):
        await archive_io.import_archive(db, SOURCE, data, clock.now())
    assert (
        await archive_search.search_archive(db, SOURCE, SearchFilters(query="new"), 1, clock.now())
    ).total == 0


@pytest.mark.parametrize(
    "data,message",
    [
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"entries": [', "malformed"),
        (b"name,colour\nx,y\n", "`artist` and `title` columns"),
        (b"\x1f\x8b\x08broken", "damaged"),
        (b"artist,title\n", "no entries"),
    ],
)
async def test_unreadable_files_get_a_clear_reason(
    db: Database, clock: FakeClock, data: bytes, message: str
) -> None:
    with pytest.raises(archive_io.UserError, match=message):
        await archive_io.import_archive(db, TARGET, data, clock.now())


async def test_lineage_to_a_removed_entry_is_not_exported_so_the_file_reimports(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await seed(db, clock)
    await service.remove_pick(db, SOURCE, 2, ALICE, False, clock.now())  # b, linked from nothing
    await service.remove_pick(db, SOURCE, 1, ALICE, False, clock.now())  # a: b and c link to it
    result = await archive_io.export_archive(
        db, SOURCE, "json", tmp_path, limit_bytes=10_000_000, title="t"
    )
    imported = await archive_io.import_archive(
        db, TARGET, result.files[0].read_bytes(), clock.now()
    )
    assert (imported.imported, imported.links) == (1, 0)


@pytest.mark.parametrize(
    "row,message",
    [
        ("1,a,b,0001-01-01T00:00:00+01:00,", "**shared_at** must be between 2015-05-13 and now"),
        ("1,a,b,9999-12-31T23:59:59-01:00,", "**shared_at** must be between"),
        ("1,a,b,,²", "**shared_by** must be a whole number"),
        ("1,a,b,,99999999999999999999999", "**shared_by** must be a whole number"),
        ("¹⁹⁹⁰,a,b,,", "**id** must be a whole number"),
    ],
)
async def test_odd_values_are_reported_not_crashed_on(
    db: Database, clock: FakeClock, row: str, message: str
) -> None:
    data = f"id,artist,title,shared_at,shared_by\n{row}\n".encode()
    with pytest.raises(archive_io.ImportRejected) as caught:
        await archive_io.import_archive(db, TARGET, data, clock.now())
    assert caught.value.problems[0].startswith("line 2: " + message)


def test_a_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"artist,title\n" + b"a" * 2_000_000)
    with pytest.raises(archive_io.UserError, match="unpacks to more than 1 MB"):
        archive_io.decompress_upload(bomb, limit=1_000_000)


async def test_csv_cells_that_look_like_formulas_are_guarded_and_restored(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await service.share_pick(
        db,
        guild_id=SOURCE,
        user_id=ALICE,
        channel_id=CHANNEL,
        now=clock.now(),
        given=PickFields(artist="=HYPERLINK(1)", title="-+-", note="@here"),
    )
    result = await archive_io.export_archive(
        db, SOURCE, "csv", tmp_path, limit_bytes=10_000_000, title="t"
    )
    row = next(csv.DictReader(io.StringIO(result.files[0].read_text())))
    assert (row["artist"], row["title"], row["note"]) == ("'=HYPERLINK(1)", "'-+-", "'@here")
    await archive_io.import_archive(db, TARGET, result.files[0].read_bytes(), clock.now())
    page = await archive_search.search_archive(db, TARGET, SearchFilters(), 1, clock.now())
    assert (page.results[0].artist, page.results[0].title, page.results[0].note) == (
        "=HYPERLINK(1)",
        "-+-",
        "@here",
    )
