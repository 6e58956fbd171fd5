"""Pick use cases on a real SQLite file: storing, dedupe, votes, seconds, edits, removal, lineage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.db import Database
from bot.db.repos import outbox as outbox_repo
from bot.domain.cards import card_key
from bot.domain.picks import PickFields
from bot.domain.search import SearchFilters
from bot.errors import UserError
from bot.services import archive_search, archive_upkeep
from bot.services import picks as service
from tests.fakes import FakeClock
from tests.services.sharing import ALICE, BOB, CHANNEL, GUILD, MOD, OTHER_GUILD, share


async def test_share_stores_every_field_normalised(db: Database, clock: FakeClock) -> None:
    result = await service.share_pick(db, guild_id=GUILD, user_id=ALICE, channel_id=CHANNEL, now=clock.now(), given=PickFields(artist="  Kas   Product ", title="Try Out", link="https://kasproduct.bandcamp.com/album/try-out?from=hp", subgenres="Minimal Synth, cold wave,minimal-synth", label="RCA", year=1982, country="France", city="Nancy", format="vinyl", note="Spatial  and   cold.\n\nStill ahead of its time."))  # fmt: skip
    pick = result.pick
    assert pick is not None and result.duplicate is None
    assert (pick.artist, pick.title) == ("Kas Product", "Try Out")
    assert pick.link_url == "https://kasproduct.bandcamp.com/album/try-out"
    assert pick.link_platform == "bandcamp"
    assert pick.subgenres == ("minimal-synth", "cold-wave")
    assert (pick.label, pick.year, pick.country, pick.city, pick.format) == (
        "RCA",
        1982,
        "FR",
        "Nancy",
        "vinyl",
    )
    assert pick.note == "Spatial and cold.\n\nStill ahead of its time."
    assert pick.shared_by == ALICE and pick.created_at == int(clock.now().timestamp())


@pytest.mark.parametrize(
    "artist,title,link",
    [
        ("sigur ros", "AGAETIS BYRJUN", None),
        ("Sigur  Rós", "Ágætis byrjun!", None),
        ("Other", "Name", "http://www.sigurros.bandcamp.com/album/agaetis-byrjun/?utm_source=x"),
    ],
)
async def test_dedupe_by_name_or_link(
    db: Database, clock: FakeClock, artist: str, title: str, link: str | None
) -> None:
    first = await share(
        db,
        clock,
        "Sigur Rós",
        "Ágætis byrjun",
        link="https://sigurros.bandcamp.com/album/agaetis-byrjun",
    )
    again = await service.share_pick(
        db,
        guild_id=GUILD,
        user_id=BOB,
        channel_id=CHANNEL,
        now=clock.now(),
        given=PickFields(artist=artist, title=title, link=link),
    )
    assert again.pick is None
    assert again.duplicate is not None and again.duplicate.id == first
    assert again.duplicate.shared_by == ALICE


async def test_same_pick_in_another_server_is_not_a_duplicate(
    db: Database, clock: FakeClock
) -> None:
    await share(db, clock, "Tinariwen", "Amassakoul")
    other = await service.share_pick(
        db,
        guild_id=OTHER_GUILD,
        user_id=BOB,
        channel_id=CHANNEL,
        now=clock.now(),
        given=PickFields(artist="Tinariwen", title="Amassakoul"),
    )
    assert other.pick is not None


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"artist": " "}, "**artist** is required"),
        ({"title": "x" * 201}, "**title** is too long: 201 characters, the limit is 200"),
        ({"note": "n" * 1001}, "**note** is too long"),
        ({"link": "javascript:alert(1)"}, "not `javascript:`"),
        ({"year": 1899}, "**year** must be between 1900"),
        ({"country": "Atlantis"}, "`Atlantis` is not a country I know"),
        ({"format": "8-track"}, "**format** must be one of"),
        ({"subgenres": ",".join(f"tag{i}" for i in range(9))}, "At most 8 subgenres"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_stored(
    db: Database, clock: FakeClock, fields: dict[str, object], message: str
) -> None:
    kwargs: dict[str, object] = {"artist": "Artist", "title": "Title"} | fields
    with pytest.raises(UserError, match=message.replace("*", r"\*").replace("(", r"\(")):
        given = PickFields(**kwargs)  # type: ignore[arg-type]
        await service.share_pick(
            db, guild_id=GUILD, user_id=ALICE, channel_id=CHANNEL, now=clock.now(), given=given
        )
    page = await archive_search.search_archive(db, GUILD, SearchFilters(), 1, clock.now())
    assert page.total == 0


async def test_votes_toggle_and_count(db: Database, clock: FakeClock) -> None:
    pick_id = await share(db, clock, "Carla dal Forno", "You Know What It's Like")
    pick, is_set = await service.toggle_vote(db, GUILD, pick_id, "loved", BOB, clock.now())
    assert is_set and pick.loved == 1 and pick.heard == 0
    pick, _ = await service.toggle_vote(db, GUILD, pick_id, "loved", MOD, clock.now())
    assert pick.loved == 2
    pick, is_set = await service.toggle_vote(db, GUILD, pick_id, "loved", BOB, clock.now())
    assert not is_set and pick.loved == 1


async def test_second_adds_a_voice_but_not_to_your_own_pick(db: Database, clock: FakeClock) -> None:
    pick_id = await share(db, clock, "Grouper", "Dragging a Dead Deer Up a Hill")
    await service.second_pick(db, GUILD, pick_id, BOB, "the fog record", clock.now())
    await service.second_pick(db, GUILD, pick_id, BOB, None, clock.now())  # again: no duplicate
    details = await service.pick_details(db, GUILD, pick_id)
    assert [(s.user_id, s.note) for s in details.seconds] == [(BOB, "the fog record")]
    with pytest.raises(UserError, match="your own pick"):
        await service.second_pick(db, GUILD, pick_id, ALICE, None, clock.now())


async def test_edit_is_for_the_sharer_or_a_moderator(db: Database, clock: FakeClock) -> None:
    pick_id = await share(db, clock, "Cocteau Twins", "Treasure", year=1984)
    fields = {
        "artist": "Cocteau Twins", "title": "Treasure", "link": None, "subgenres": "dream pop",
        "label": "4AD", "year": 1984, "country": "GB", "city": "Grangemouth", "format": "vinyl", "note": None,
    }  # fmt: skip
    with pytest.raises(UserError, match="Only the member who shared"):
        await service.edit_pick(
            db,
            guild_id=GUILD,
            pick_id=pick_id,
            user_id=BOB,
            is_moderator=False,
            now=clock.now(),
            changes=fields,
        )
    edited = await service.edit_pick(
        db,
        guild_id=GUILD,
        pick_id=pick_id,
        user_id=MOD,
        is_moderator=True,
        now=clock.now(),
        changes=fields,
    )
    assert (edited.label, edited.subgenres, edited.edited_by) == ("4AD", ("dream-pop",), MOD)
    found = await archive_search.search_archive(
        db, GUILD, SearchFilters(label="4ad"), 1, clock.now()
    )
    assert [p.id for p in found.results] == [pick_id]


async def test_remove_then_restore_within_30_days(db: Database, clock: FakeClock) -> None:
    pick_id = await share(db, clock, "Broadcast", "Tender Buttons")
    with pytest.raises(UserError, match="Only the member who shared"):
        await service.remove_pick(db, GUILD, pick_id, BOB, False, clock.now())
    await service.remove_pick(db, GUILD, pick_id, ALICE, False, clock.now())
    assert (
        await archive_search.search_archive(
            db, GUILD, SearchFilters(query="broadcast"), 1, clock.now()
        )
    ).total == 0
    with pytest.raises(UserError, match="was removed"):
        await service.pick_details(db, GUILD, pick_id)

    clock.advance(timedelta(days=29))
    restored = await service.restore_pick(db, GUILD, pick_id, clock.now())
    assert restored.deleted_at is None
    assert (
        await archive_search.search_archive(
            db, GUILD, SearchFilters(query="broadcast"), 1, clock.now()
        )
    ).total == 1


async def test_restore_refused_after_30_days_and_purged(db: Database, clock: FakeClock) -> None:
    pick_id = await share(db, clock, "Broadcast", "Haha Sound")
    await service.remove_pick(db, GUILD, pick_id, MOD, True, clock.now())
    clock.advance(timedelta(days=31))
    with pytest.raises(UserError, match="more than 30 days ago"):
        await service.restore_pick(db, GUILD, pick_id, clock.now())
    assert await archive_upkeep.purge_removed(db, clock.now()) == 1
    with pytest.raises(UserError, match="There is no entry"):
        await service.restore_pick(db, GUILD, pick_id, clock.now())


async def test_lineage_two_steps_each_way(db: Database, clock: FakeClock) -> None:
    a = await share(db, clock, "Kraftwerk", "Computerwelt")
    b = await share(db, clock, "Drexciya", "Neptune's Lair")
    c = await share(db, clock, "Dopplereffekt", "Gesamtkunstwerk")
    d = await share(db, clock, "Someone", "Later")
    await service.link_picks(db, GUILD, b, a, "influenced-by", ALICE, clock.now())
    await service.link_picks(db, GUILD, c, b, "side-project-of", ALICE, clock.now())
    await service.link_picks(db, GUILD, d, c, "influenced-by", ALICE, clock.now())

    details = await service.pick_details(db, GUILD, b)
    assert {(e.from_id, e.to_id, e.depth) for e in details.grew_from} == {(b, a, 1)}
    assert {(e.from_id, e.to_id, e.depth) for e in details.grew_into} == {(c, b, 1), (d, c, 2)}
    assert set(details.related) == {a, c, d}

    with pytest.raises(UserError, match="cannot be linked to itself"):
        await service.link_picks(db, GUILD, a, a, "same-scene", ALICE, clock.now())
    with pytest.raises(UserError, match="already linked"):
        await service.link_picks(db, GUILD, b, a, "influenced-by", BOB, clock.now())
    await service.link_picks(db, GUILD, a, b, "same-scene", BOB, clock.now())
    with pytest.raises(UserError, match="already linked"):
        await service.link_picks(db, GUILD, b, a, "same-scene", BOB, clock.now())
    with pytest.raises(UserError, match="relation"):
        await service.link_picks(db, GUILD, a, c, "sampled", BOB, clock.now())


async def test_edit_applies_only_the_given_fields_over_the_current_entry(
    db: Database, clock: FakeClock
) -> None:
    pick_id = await share(db, clock, "Cocteau Twins", "Treasure", label="4AD", year=1984)
    # A moderator fixes the year while the sharer still has the first edit form open.
    await service.edit_pick(
        db,
        guild_id=GUILD,
        pick_id=pick_id,
        user_id=MOD,
        is_moderator=True,
        now=clock.now(),
        changes={"year": 1985},
    )
    edited = await service.edit_pick(
        db, guild_id=GUILD, pick_id=pick_id, user_id=ALICE, is_moderator=False, now=clock.now(),
        changes={"title": "Treasure (remaster)", "note": "better than I remembered"},
    )  # fmt: skip
    assert (edited.title, edited.year, edited.label) == ("Treasure (remaster)", 1985, "4AD")


async def test_edit_to_another_entrys_link_is_a_clear_error(db: Database, clock: FakeClock) -> None:
    await share(db, clock, "A", "One", link="https://a.bandcamp.com/album/one")
    second = await share(db, clock, "B", "Two")
    with pytest.raises(UserError, match="duplicate of entry #1"):
        await service.edit_pick(
            db, guild_id=GUILD, pick_id=second, user_id=ALICE, is_moderator=False, now=clock.now(),
            changes={"link": "https://A.bandcamp.com/album/one?from=x"},
        )  # fmt: skip


async def test_a_pick_id_is_never_given_to_another_pick(db: Database, clock: FakeClock) -> None:
    """Deleting the newest pick (a share whose answer failed, a purge) must not hand its id to
    the next share: the card's outbox entry, an old card's buttons and saved links name it."""
    taken_back = await share(db, clock, "Kas Product", "Try Out")
    await service.discard_unposted(db, GUILD, taken_back, clock.now(), "the answer failed")
    elsewhere = CHANNEL + 1
    shared = await service.share_pick(
        db, guild_id=GUILD, user_id=BOB, channel_id=elsewhere, now=clock.now(),
        given=PickFields(artist="Ruth", title="Polaroid"),
    )  # fmt: skip
    assert shared.pick is not None and shared.pick.id > taken_back
    async with db.read() as conn:
        entry = await outbox_repo.get_entry(conn, card_key(shared.pick.id))
        old = await outbox_repo.get_entry(conn, card_key(taken_back))
    assert entry is not None and (entry.status, entry.channel_id) == ("pending", elsewhere)
    assert old is not None and old.status == "dropped"

    await service.remove_pick(db, GUILD, shared.pick.id, MOD, True, clock.now())
    clock.advance(timedelta(days=31))
    assert await archive_upkeep.purge_removed(db, clock.now()) == 1
    assert await share(db, clock, "Broadcast", "Haha Sound") > shared.pick.id
