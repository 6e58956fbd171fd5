"""A busy week's digest counted in SQL says exactly what counting every pick in Python says:
the same picks ranked, curators, chart, pick and sharer counts and firsts on the map, and the
same message, over generated weeks with ties, removed and edited picks and forgotten members.
The Python count (``count_week`` of every pick's facts, and ``firsts_on_map`` of all of them)
is the oracle."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from bot.db import Database
from bot.db.repos import digests as digests_repo
from bot.db.rows import in_one_hop
from bot.domain.digest import count_week, firsts_on_map
from bot.domain.picks import PickFields
from bot.services import digests as service
from bot.services import picks as picks_service
from bot.services import privacy
from cogs.digest.embeds import chart, digest_embed
from tests.fakes import FakeClock
from tests.services.sharing import CHANNEL, GUILD, OTHER_GUILD

MEMBERS = tuple(range(101, 116))
PLACES = ("ML", "NE", "DE", "FR", None)
CITIES = ("Bamako", "BAMAKO", "Köln", "KÖLN", "Niamey", None)
LABELS = ("Kranky", "kranky", "Sahel Sounds", "4AD", None)
TAGS = ("drone", "desert-blues", "dub", "ambient", "zouk", "ebm", "tishoumaren")


async def share_week(
    db: Database, clock: FakeClock, rng: random.Random, guild: int, n: int
) -> list[int]:
    """``n`` picks over a week or so, often several in the same second (ties in every order),
    with places, labels, subgenres and Heard/Loved marks; returns their ids."""
    ids = []
    for at in range(n):
        if rng.random() < 0.7:
            clock.advance(timedelta(seconds=rng.randint(1, 3 * 3600)))
        shared = await picks_service.share_pick(
            db, guild_id=guild, user_id=rng.choice(MEMBERS), channel_id=CHANNEL,
            now=clock.now(),
            given=PickFields(
                artist=f"Artist {guild} {clock.now().timestamp()} {at}", title=f"Record {at}",
                country=rng.choice(PLACES), city=rng.choice(CITIES), label=rng.choice(LABELS),
                subgenres=", ".join(rng.sample(TAGS, rng.randint(0, 3))) or None,
                note=f"Note {at}" if rng.random() < 0.3 else None,
            ),
        )  # fmt: skip
        assert shared.pick is not None
        ids.append(shared.pick.id)
        for member in rng.sample(MEMBERS, rng.randint(0, 5)):
            await picks_service.toggle_vote(
                db, guild_id=guild, pick_id=shared.pick.id, user_id=member,
                kind=rng.choice(("heard", "loved", "loved")), now=clock.now(),
            )  # fmt: skip
    return ids


async def change_some(
    db: Database, clock: FakeClock, rng: random.Random, guild: int, ids: list[int]
) -> None:
    """Edit some picks' places and subgenres, remove some (and restore a few)."""
    for pick_id in rng.sample(ids, len(ids) // 6):
        await picks_service.edit_pick(
            db, guild_id=guild, pick_id=pick_id, user_id=MEMBERS[0], is_moderator=True,
            now=clock.now(),
            changes={
                "country": rng.choice(PLACES), "city": rng.choice(CITIES),
                "subgenres": ", ".join(rng.sample(TAGS, rng.randint(0, 3))) or None,
            },
        )  # fmt: skip
    removed = rng.sample(ids, len(ids) // 8)
    for pick_id in removed:
        await picks_service.remove_pick(db, guild, pick_id, MEMBERS[0], True, clock.now())
    for pick_id in removed[:2]:
        await picks_service.restore_pick(db, guild, pick_id, clock.now())


@pytest.fixture
async def weeks(db: Database, clock: FakeClock) -> list[service.WeekAsked]:
    """Two servers' archives, busy and quiet stretches, then windows of a week over them (and a
    few of other lengths), some with sections turned off."""
    rng = random.Random(11)
    began = clock.now()
    for guild, n in ((GUILD, 260), (OTHER_GUILD, 90), (GUILD, 140)):
        ids = await share_week(db, clock, rng, guild, n)
        await change_some(db, clock, rng, guild, ids)
    await privacy.forget_user(db, MEMBERS[1], delete_picks=False)  # their picks: no sharer
    await privacy.forget_user(db, MEMBERS[2], delete_picks=True)
    end = clock.now() + timedelta(seconds=1)
    asked = []
    for guild in (GUILD, OTHER_GUILD):
        at = began - timedelta(days=1)
        while at < end:
            length = timedelta(days=rng.choice((7, 7, 7, 3, 14)))
            off = frozenset(rng.sample(sorted(service.SECTIONS), rng.randint(0, 2)))
            asked.append(service.WeekAsked(guild, at, at + length, end, off))
            at += timedelta(hours=rng.randint(12, 96))
    return asked


async def test_a_week_counted_in_sql_is_what_counting_every_pick_says(
    db: Database, weeks: list[service.WeekAsked]
) -> None:
    def both(conn: digests_repo.SyncConnection) -> list[tuple[object, object]]:
        compared = []
        for w in weeks:
            facts = digests_repo.read_week_facts(conn, w.guild_id, w.start, w.end)
            seen = digests_repo.read_first_seen_since(conn, w.guild_id, w.start)
            candidates = digests_repo.read_week_firsts_facts(conn, w.guild_id, w.start, w.end)
            compared.append(
                (
                    (
                        digests_repo.read_week_counts(conn, w.guild_id, w.start, w.end),
                        firsts_on_map(candidates, seen),
                    ),
                    (count_week(facts), firsts_on_map(facts, seen)),
                )
            )
        return compared

    async with db.read() as conn:
        compared = await in_one_hop(conn, both)
    for in_sql, in_python in compared:
        assert in_sql == in_python
    counted = [python for _, (python, _) in compared]  # type: ignore[misc]
    # the generated weeks do exercise what is compared
    assert max(c.picks for c in counted) > service.COUNT_IN_SQL_OVER
    assert any(c.sharers < c.picks for c in counted)
    assert any(len(c.curators) == 10 for c in counted)
    assert {c.chart_title for c in counted} >= {"Subgenres", ""}
    assert any(firsts for _, (_, firsts) in compared)  # type: ignore[misc]


def shown(content: service.DigestContent, now: datetime) -> object:
    """Everything of a digest a member sees: the message, the chart, and the picks shown."""
    embed = digest_embed(content, server_name="Scene", week="2026-W48", with_chart=True)
    return (
        embed.to_dict(),
        chart(content),
        content.quiet,
        content.picks,
        content.firsts,
        content.swaps,
        content.parties,
        content.coming,
        content.from_archive,
    )


async def test_a_busy_weeks_digest_counted_in_sql_is_the_same_message(
    db: Database, weeks: list[service.WeekAsked], monkeypatch: pytest.MonkeyPatch
) -> None:
    in_python = []
    monkeypatch.setattr(service, "COUNT_IN_SQL_OVER", 10**9)  # every week's facts are read
    for w in weeks:
        content = await service.gather(
            db, w.guild_id, w.start, w.end, w.now, sections_off=w.sections_off
        )
        assert content.counts == count_week(content.facts)
        in_python.append(content)
    monkeypatch.setattr(service, "COUNT_IN_SQL_OVER", 0)  # every week past SHOWN_MAX in SQL
    in_sql = [
        await service.gather(db, w.guild_id, w.start, w.end, w.now, sections_off=w.sections_off)
        for w in weeks
    ]
    busy = 0
    for python, sql in zip(in_python, in_sql, strict=True):
        assert shown(sql, sql.now) == shown(python, python.now)
        if len(python.facts) > service.SHOWN_MAX:
            busy += 1
            assert sql.facts == [] and sql.counts == python.counts
    assert busy > 5
