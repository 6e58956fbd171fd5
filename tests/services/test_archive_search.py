"""Archive search and random picks on a real SQLite file: ranking, filters, paging, the index."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from bot.db import Database
from bot.domain.picks import PickFields
from bot.domain.search import SearchFilters, words
from bot.errors import UserError
from bot.services import archive_search, archive_upkeep
from bot.services import picks as service
from tests.fakes import FakeClock
from tests.services.sharing import ALICE, BOB, CHANNEL, GUILD, OTHER_GUILD, share


async def test_search_ranks_prefix_and_diacritics_insensitive(
    db: Database, clock: FakeClock
) -> None:
    await share(db, clock, "Múm", "Yesterday Was Dramatic", note="glitchy icelandic lullabies")
    target = await share(db, clock, "Sigur Rós", "Takk", note="icelandic")
    await share(db, clock, "Other band", "Sigurd", note="not it")
    page = await archive_search.search_archive(
        db, GUILD, SearchFilters(query="sigur ros"), 1, clock.now()
    )
    assert page.results[0].id == target
    assert page.total == 1  # "ros" does not prefix-match "Sigurd"'s words
    assert (
        await archive_search.search_archive(
            db, GUILD, SearchFilters(query="mum yester"), 1, clock.now()
        )
    ).total == 1
    # FTS syntax in a query is just words.
    assert (
        await archive_search.search_archive(
            db, GUILD, SearchFilters(query='"NEAR( OR :'), 1, clock.now()
        )
    ).total == 0


async def test_search_filters_combine_and_stay_in_their_server(
    db: Database, clock: FakeClock
) -> None:
    hit = await share(
        db,
        clock,
        "Mdou Moctar",
        "Ilana",
        subgenres="tishoumaren, sahel rock",
        country="Niger",
        year=2019,
        format="vinyl",
        city="Agadez",
    )
    await share(
        db,
        clock,
        "Tinariwen",
        "Tassili",
        subgenres="tishoumaren",
        country="Mali",
        year=2011,
        format="CD",
    )
    await service.share_pick(
        db,
        guild_id=OTHER_GUILD,
        user_id=BOB,
        channel_id=CHANNEL,
        now=clock.now(),
        given=PickFields(artist="Mdou Moctar", title="Ilana", subgenres="sahel rock", country="NE"),
    )

    def f(**kw: object) -> SearchFilters:
        return SearchFilters(**kw)  # type: ignore[arg-type]

    cases = [
        f(subgenre="Sahel Rock"),
        f(subgenre="tishoumaren", country="NE"),
        f(format="vinyl", year_from=2015),
        f(year_from=2019, year_to=2019, city="agadez"),
        f(query="ilana", shared_by=ALICE),
    ]
    for filters in cases:
        page = await archive_search.search_archive(db, GUILD, filters, 1, clock.now())
        assert [p.id for p in page.results] == [hit], filters
    assert (
        await archive_search.search_archive(db, GUILD, f(subgenre="tishoumaren"), 1, clock.now())
    ).total == 2
    assert (
        await archive_search.search_archive(db, GUILD, f(format="CD-R"), 1, clock.now())
    ).total == 0


async def test_search_pages_and_caps_the_total(db: Database, clock: FakeClock) -> None:
    from bot.db.repos import picks as picks_repo
    from bot.domain.picks import build_draft

    async with db.transaction() as conn:
        for n in range(1_005):
            draft = build_draft(
                PickFields(artist=f"Ambient Artist {n}", title=f"Drone {n}", subgenres="ambient"),
                current_year=2026,
            )
            await picks_repo.insert_pick(conn, GUILD, draft, ALICE, n)
    first = await archive_search.search_archive(
        db, GUILD, SearchFilters(query="ambient"), 1, clock.now()
    )
    assert first.capped and first.total == 1000 and first.pages == 100 and len(first.results) == 10
    last = await archive_search.search_archive(
        db, GUILD, SearchFilters(query="ambient"), 999, clock.now()
    )
    assert last.page == 100 and len(last.results) == 10
    assert not {p.id for p in first.results} & {p.id for p in last.results}
    newest = await archive_search.search_archive(
        db, GUILD, SearchFilters(subgenre="ambient"), 1, clock.now()
    )
    assert newest.results[0].title == "Drone 1004"


async def test_no_results_suggests_close_tags_and_labels(db: Database, clock: FakeClock) -> None:
    await share(db, clock, "A", "B", subgenres="shoegaze", label="Creation")
    page = await archive_search.search_archive(
        db, GUILD, SearchFilters(query="shoegase"), 1, clock.now()
    )
    assert page.total == 0
    assert "subgenre `shoegaze`" in page.suggestions
    page = await archive_search.search_archive(
        db, GUILD, SearchFilters(label="creaton"), 1, clock.now()
    )
    assert "label `Creation`" in page.suggestions


async def test_random_skips_what_you_have_heard(db: Database, clock: FakeClock) -> None:
    ids = [
        await share(db, clock, f"Artist {n}", f"Record {n}", subgenres="dub techno", year=1990 + n)
        for n in range(5)
    ]
    for pick_id in ids[:4]:
        await service.toggle_vote(db, GUILD, pick_id, "heard", BOB, clock.now())
    rng = random.Random(7)
    for _ in range(10):
        found = await archive_search.random_unheard(db, GUILD, BOB, clock.now(), rng=rng)
        assert found is not None and found.id == ids[4]
    assert (
        await archive_search.random_unheard(db, GUILD, BOB, clock.now(), decade=1980, rng=rng)
        is None
    )
    assert (
        await archive_search.random_unheard(
            db, GUILD, BOB, clock.now(), decade=1994, subgenre="dub-techno", rng=rng
        )
    ) == await service.get_live_pick(db, GUILD, ids[4])  # 1994 is read as the 1990s
    assert (
        await archive_search.random_unheard(
            db, GUILD, BOB, clock.now(), decade=1990, country="FR", rng=rng
        )
        is None
    )
    await service.toggle_vote(db, GUILD, ids[4], "heard", BOB, clock.now())
    assert await archive_search.random_unheard(db, GUILD, BOB, clock.now(), rng=rng) is None


@pytest.mark.parametrize("scoped", [True, False])
async def test_searches_stay_in_their_server_with_or_without_the_scope_token(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, scoped: bool
) -> None:
    # The planner scopes by token or by a per-row server check (plus the server's id range)
    # depending on sizes; both must give the same answers, so each is forced in turn.
    monkeypatch.setattr(archive_search, "use_scope_token", lambda *args: scoped)
    older = await service.share_pick(db, guild_id=OTHER_GUILD, user_id=BOB, channel_id=CHANNEL, now=clock.now(), given=PickFields(artist="Old", title="Shared Word", year=1984))  # fmt: skip
    big = [await share(db, clock, f"Big {n}", "Shared Word", year=1980 + n) for n in range(12)]
    small = await service.share_pick(db, guild_id=OTHER_GUILD, user_id=BOB, channel_id=CHANNEL, now=clock.now(), given=PickFields(artist="Small", title="Shared Word", year=1985))  # fmt: skip
    assert older.pick is not None and small.pick is not None
    mine = await archive_search.search_archive(
        db, OTHER_GUILD, SearchFilters(query="shared word"), 1, clock.now()
    )
    assert sorted(p.id for p in mine.results) == [older.pick.id, small.pick.id]
    theirs = await archive_search.search_archive(
        db, GUILD, SearchFilters(query="shared word"), 1, clock.now()
    )
    assert theirs.total == 12 and {p.id for p in theirs.results} <= set(big)
    in_years = await archive_search.search_archive(
        db, GUILD, SearchFilters(query="shared", year_from=1984, year_to=1985), 1, clock.now()
    )
    assert sorted(p.id for p in in_years.results) == big[4:6]
    listed = await archive_search.search_archive(db, GUILD, SearchFilters(), 2, clock.now())
    assert listed.total == 12 and len(listed.results) == 2
    assert (
        await archive_search.search_archive(db, 999, SearchFilters(query="shared"), 1, clock.now())
    ).total == 0


async def test_subgenres_with_ampersands_are_searchable(db: Database, clock: FakeClock) -> None:
    pick_id = await share(
        db, clock, "LTJ Bukem", "Logical Progression", subgenres="Drum & Bass, R&B"
    )
    page = await archive_search.search_archive(
        db, GUILD, SearchFilters(subgenre="drum & bass"), 1, clock.now()
    )
    assert [p.id for p in page.results] == [pick_id]
    assert (
        await archive_search.search_archive(db, GUILD, SearchFilters(subgenre="r"), 1, clock.now())
    ).total == 0
    assert (
        await archive_search.random_unheard(db, GUILD, BOB, clock.now(), subgenre="R&B") is not None
    )


@pytest.mark.parametrize("field", ["label", "city", "query", "subgenre"])
async def test_filters_with_nothing_searchable_are_refused(
    db: Database, clock: FakeClock, field: str
) -> None:
    with pytest.raises(UserError, match=r"no letters or digits|not a subgenre name"):
        await archive_search.search_archive(
            db, GUILD, SearchFilters(**{field: "!!!"}), 1, clock.now()
        )


async def test_full_text_index_stays_in_step_with_the_archive(
    db: Database, clock: FakeClock
) -> None:
    a = await share(db, clock, "Sigur Rós", "Takk", subgenres="post-rock", label="EMI")
    b = await share(db, clock, "Múm", "Finally We Are No One")
    await service.edit_pick(
        db,
        guild_id=GUILD,
        pick_id=a,
        user_id=ALICE,
        is_moderator=False,
        now=clock.now(),
        changes={"label": "Krunk"},
    )
    await service.remove_pick(db, GUILD, b, ALICE, False, clock.now())
    await service.restore_pick(db, GUILD, b, clock.now())
    await service.remove_pick(db, GUILD, a, ALICE, False, clock.now())
    clock.advance(timedelta(days=31))
    await archive_upkeep.purge_removed(db, clock.now())
    async with db.transaction() as conn:
        # Compares the index with the live-picks view it is built from; raises if they differ.
        await conn.execute("INSERT INTO picks_fts (picks_fts, rank) VALUES ('integrity-check', 1)")
        async with conn.execute(
            "SELECT uses FROM archive_terms WHERE kind = 'label' AND value = 'EMI'"
        ) as cursor:
            assert (await cursor.fetchone())[0] == 0  # type: ignore[index]
    assert [
        p.id
        for p in (
            await archive_search.search_archive(
                db, GUILD, SearchFilters(query="finally"), 1, clock.now()
            )
        ).results
    ] == [b]
    assert (
        await archive_search.search_archive(db, GUILD, SearchFilters(query="takk"), 1, clock.now())
    ).total == 0


async def test_last_word_is_a_prefix_unless_it_is_already_a_whole_word(
    db: Database, clock: FakeClock
) -> None:
    ambient = await share(db, clock, "Brian Eno", "Ambient 1")
    ambiental = await share(db, clock, "Someone", "Ambiental Music")
    typed_partly = await archive_search.search_archive(
        db, GUILD, SearchFilters(query="ambie"), 1, clock.now()
    )
    assert {p.id for p in typed_partly.results} == {ambient, ambiental}
    whole_word = await archive_search.search_archive(
        db, GUILD, SearchFilters(query="ambient"), 1, clock.now()
    )
    assert [p.id for p in whole_word.results] == [ambient]


async def test_a_whole_word_elsewhere_does_not_stop_a_prefix_here(
    db: Database, clock: FakeClock
) -> None:
    coldwave = await share(db, clock, "Coldwave Ensemble", "Nuit")
    await service.share_pick(
        db,
        guild_id=OTHER_GUILD,
        user_id=BOB,
        channel_id=CHANNEL,
        now=clock.now(),
        given=PickFields(artist="Someone", title="Cold"),
    )
    page = await archive_search.search_archive(
        db, GUILD, SearchFilters(query="cold"), 1, clock.now()
    )
    assert [p.id for p in page.results] == [coldwave]


@pytest.mark.parametrize("scoped", [True, False])
async def test_every_way_of_reading_a_window_gives_the_same_results(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, scoped: bool
) -> None:
    # A search of several parts that promise to be rare together reads its oldest matches
    # forwards up to a limit, then the newest backwards down to there
    # (bot.services.picks._search_window); a year range is then left out of the forward read
    # and checked on the rows. Limit 0 reads everything
    # backwards with the whole expression, a huge one reads everything forwards, 1 and 5
    # split the read; a small window makes the backward read fill it alone. None of that
    # may change a single result.
    from bot.db.repos import picks as picks_repo
    from bot.domain.picks import build_draft

    monkeypatch.setattr(archive_search, "use_scope_token", lambda *args: scoped)
    monkeypatch.setattr(
        archive_search, "expected_matches", lambda *args: 0.0
    )  # always worth trying
    rng = random.Random(5)
    async with db.transaction() as conn:
        for n in range(400):
            draft = build_draft(PickFields(artist=f"Artist {n}", title=f"Record {n}", subgenres=rng.choice(["ambient", "drone", "ambient, drone", "dub techno"]), country=rng.choice(["FR", "DE", "ML"]), year=rng.choice([None, *range(1975, 1996)]), format=rng.choice([None, "vinyl", "cassette", "CD-R"]), note=rng.choice(["hypnotic and slow", "bright", "", "hypnotic"])), current_year=2026)  # fmt: skip
            await picks_repo.insert_pick(conn, GUILD, draft, ALICE, 1_700_000_000 + n)
            await picks_repo.insert_pick(conn, OTHER_GUILD, draft, BOB, 1_700_000_000 + n)
    listed = await archive_search.search_archive(db, GUILD, SearchFilters(), 1, clock.now())
    removed = {p.id for p in listed.results[:5]}
    for pick_id in removed:
        await service.remove_pick(db, GUILD, pick_id, ALICE, False, clock.now())
    for pick in listed.results[5:9]:  # the index follows edits of what the filters pair with
        changes = {
            "year": 1986,
            "country": "ML",
            "subgenres": "drone, dub techno",
            "format": "CD-R",
        }
        await service.edit_pick(
            db, guild_id=GUILD, pick_id=pick.id, user_id=ALICE, is_moderator=False,
            now=clock.now(), changes=changes,
        )  # fmt: skip
    cases = [
        SearchFilters(year_from=1980, year_to=1989),
        SearchFilters(query="hypnotic", year_from=1978, year_to=1991),
        SearchFilters(query="hypnotic", country="FR", year_from=1985),
        SearchFilters(subgenre="drone", country="ML", year_to=1979),
        SearchFilters(query="record", subgenre="ambient", year_from=1990, year_to=1990),
        SearchFilters(query="hypnotic", country="FR", year_from=1980, year_to=1989),
        SearchFilters(query="hypnotic slow", subgenre="drone"),
        SearchFilters(subgenre="ambient", country="DE"),
        SearchFilters(subgenre="dub-techno", country="ML", format="CD-R", year_from=1984),
        SearchFilters(query="hypnotic", format="cassette", year_from=1979, year_to=1992),
        SearchFilters(query="hypnotic", year_from=1900, year_to=1950),
    ]

    async with db.read() as conn:  # the oracle: the picks table itself, not the index
        live = await conn.execute_fetchall(
            "SELECT id, artist || ' ' || title || ' ' || coalesce(note, '') || ' ' || tags, tags,"
            " country, format, year FROM picks WHERE guild_id = ? AND deleted_at IS NULL",
            (GUILD,),
        )

    def oracle(filters: SearchFilters) -> set[int]:
        return {
            pick_id
            for pick_id, text, tags, country, fmt, year in live
            if set(words(filters.query)) <= set(words(text))
            and (filters.subgenre is None or filters.subgenre in tags.split())
            and (filters.country is None or filters.country == country)
            and (filters.format is None or filters.format == fmt)
            and (filters.year_from is None or (year is not None and year >= filters.year_from))
            and (filters.year_to is None or (year is not None and year <= filters.year_to))
        }

    Answers = list[list[tuple[int, bool, list[int]]]]

    async def answers(limit: int, window: int) -> Answers:
        monkeypatch.setattr(archive_search, "FEW_MATCHES", limit)
        monkeypatch.setattr(archive_search, "RARE_MATCHES", limit)
        monkeypatch.setattr(archive_search, "RANK_WINDOW", window)
        found: Answers = []
        for filters in cases:
            pages = []
            for page in (1, 2):
                result = await archive_search.search_archive(db, GUILD, filters, page, clock.now())
                assert all(p.guild_id == GUILD and p.id not in removed for p in result.results)
                if filters.year_from is not None or filters.year_to is not None:
                    assert all(
                        p.year is not None
                        and (filters.year_from or 0) <= p.year <= (filters.year_to or 9999)
                        for p in result.results
                    ), filters
                pages.append((result.total, result.capped, [p.id for p in result.results]))
            found.append(pages)
        return found

    for window in (1000, 7):
        expected = await answers(0, window)
        for limit in (1, 5, 1_000_000):
            assert await answers(limit, window) == expected, (limit, window)
    full = await answers(0, 1000)
    assert [pages[0][0] for pages in full] == [len(oracle(filters)) for filters in cases]
    assert all(
        set(pages[0][2]) <= oracle(filters) for pages, filters in zip(full, cases, strict=True)
    )
    assert all(pages[0][0] > 0 for pages in full[:-1]) and full[-1][0][0] == 0
    assert not any(pages[0][1] for pages in full)
    capped = [len(oracle(filters)) > 7 for filters in cases]
    assert [pages[0][1] for pages in await answers(0, 7)] == capped and sum(capped) >= 8


async def test_search_finds_words_however_their_letters_are_written(
    db: Database, clock: FakeClock
) -> None:
    # FTS5 drops accents (ö → o) but not letters of their own (ß, ø, æ, œ, ł): the index's
    # view and the query fold those the same way, so every spelling finds every other.
    expected = {
        await share(db, clock, "Die Krupps", "Straße der Wölfe"): ["straße", "STRAẞE der", "strasse", "wolfe", "wöl"],
        await share(db, clock, "Røyksopp", "Melody A.M."): ["royksopp", "RØYKSOPP", "røyk"],
        await share(db, clock, "Sigur Rós", "Ágætis byrjun"): ["agaetis", "ÁGÆTIS", "agæt"],
        await share(db, clock, "Mœbius & Plank", "Rastakraut Pasta"): ["moebius", "MŒBIUS plank"],
        await share(db, clock, "Łona", "Nic dziwnego", label="Asfalt"): ["lona", "łona nic"],
    }  # fmt: skip
    for target, queries in expected.items():
        for query in queries:
            page = await archive_search.search_archive(
                db, GUILD, SearchFilters(query=query), 1, clock.now()
            )
            assert [p.id for p in page.results] == [target], query


async def test_a_last_word_that_is_also_a_filter_token_still_matches_as_a_prefix(
    db: Database, clock: FakeClock
) -> None:
    # Country tokens are "c" + ISO code: Austria's is "cat". Only words of the text columns
    # decide whether the last word is whole, so "cat" keeps finding "Cathedral".
    target = await share(db, clock, "Cathedral", "Forest of Equilibrium")
    await service.share_pick(db, guild_id=OTHER_GUILD, user_id=BOB, channel_id=CHANNEL, now=clock.now(), given=PickFields(artist="Kruder", title="K&D", country="AT"))  # fmt: skip
    page = await archive_search.search_archive(
        db, GUILD, SearchFilters(query="cat"), 1, clock.now()
    )
    assert [p.id for p in page.results] == [target]


async def test_a_query_of_only_underscores_is_refused_like_punctuation(
    db: Database, clock: FakeClock
) -> None:
    with pytest.raises(UserError, match="no letters or digits"):
        await archive_search.search_archive(db, GUILD, SearchFilters(query="___"), 1, clock.now())


async def test_the_total_is_exact_up_to_the_window_and_capped_past_it(
    db: Database, clock: FakeClock
) -> None:
    from bot.db.repos import picks as picks_repo
    from bot.domain.picks import build_draft

    async def add(n: int) -> None:
        draft = build_draft(PickFields(artist=f"Artist {n}", title=f"Loop {n}"), current_year=2026)
        async with db.transaction() as conn:
            await picks_repo.insert_pick(conn, GUILD, draft, ALICE, n)

    for n in range(1000):
        await add(n)
    for filters in (SearchFilters(query="loop"), SearchFilters()):
        page = await archive_search.search_archive(db, GUILD, filters, 100, clock.now())
        assert (page.total, page.capped, page.pages, len(page.results)) == (1000, False, 100, 10)
    await add(1000)
    for filters in (SearchFilters(query="loop"), SearchFilters()):
        page = await archive_search.search_archive(db, GUILD, filters, 1, clock.now())
        assert (page.total, page.capped, page.pages) == (1000, True, 100)


async def test_the_index_folds_every_letter_that_typing_folds(
    db: Database, clock: FakeClock
) -> None:
    # LETTER_FOLDS (Python) and migration 0003's replace() chain (SQL) are two copies of one
    # table; a letter missing from either makes its records unfindable by the folded spelling.
    from bot.domain.picks import LETTER_FOLDS

    for n, (code, folded) in enumerate(LETTER_FOLDS.items()):
        letter = chr(code)
        for m, spelled in enumerate({letter, letter.upper()}):
            pick_id = await share(db, clock, f"Zq{spelled}x{n}n{m}", "Record")
            page = await archive_search.search_archive(
                db, GUILD, SearchFilters(query=f"zq{folded}x{n}n{m}"), 1, clock.now()
            )
            assert [p.id for p in page.results] == [pick_id], spelled
