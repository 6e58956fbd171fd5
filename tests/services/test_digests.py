"""Weekly digests' use cases on a real database: setting up and moving the week's job, what a
week holds ("new on the map" against a brute-force oracle, from the archive), what the job
decides about a week, and a member's data."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.db import Database
from bot.domain.digest import MAP_KINDS, map_key
from bot.domain.picks import PickFields
from bot.domain.timeutil import from_epoch, to_epoch
from bot.errors import UserError
from bot.scheduler import Scheduler
from bot.services import digests as service
from bot.services import picks as picks_service
from bot.services import privacy as privacy_service
from bot.services.digests import WeekOf
from tests.fakes import FakeClock
from tests.services.sharing import ALICE, BOB, CHANNEL, GUILD, MOD, OTHER_GUILD, share
from tests.services.test_parties import pending_jobs

DIGEST_CHANNEL = 4004


@pytest.fixture
def scheduler(db: Database, clock: FakeClock) -> Scheduler:
    return Scheduler(db, clock)


async def set_up(
    db: Database, scheduler: Scheduler, clock: FakeClock, **given: object
) -> service.Planned:
    values: dict[str, object] = {"weekday": None, "at": None, "zone": None} | given
    return await service.setup(
        db, scheduler, guild_id=GUILD, user_id=MOD, channel_id=DIGEST_CHANNEL, now=clock.now(),
        **values,  # type: ignore[arg-type]
    )  # fmt: skip


async def digest_jobs(db: Database) -> dict[str, datetime]:
    return {k: v for k, v in (await pending_jobs(db)).items() if k.startswith("digest:")}


# -- setting up and moving ----------------------------------------------------------------------


async def test_setup_defaults_to_monday_at_ten_in_utc_and_plans_one_job(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    # The clock starts on Monday 2026-01-05 at 12:00 UTC: this Monday's 10:00 has passed.
    planned = await set_up(db, scheduler, clock)
    assert planned.next_run == datetime(2026, 1, 12, 10, 0, tzinfo=UTC)
    assert planned.zone == "UTC" and planned.zone_source.startswith("UTC")
    assert await digest_jobs(db) == {f"digest:{GUILD}:2026-W03": planned.next_run}


async def test_changing_the_day_time_or_zone_moves_the_pending_job(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    await set_up(db, scheduler, clock)
    planned = await set_up(db, scheduler, clock, weekday=4, at="18:30", zone="Europe/Berlin")
    # Friday 2026-01-09 18:30 in Berlin is 17:30 UTC; the week is W02.
    assert planned.next_run == datetime(2026, 1, 9, 17, 30, tzinfo=UTC)
    assert await digest_jobs(db) == {f"digest:{GUILD}:2026-W02": planned.next_run}
    # Options left out keep what was set.
    kept = await set_up(db, scheduler, clock, at="08:00")
    assert (kept.settings.weekday, kept.settings.zone) == (4, "Europe/Berlin")
    assert await digest_jobs(db) == {
        f"digest:{GUILD}:2026-W02": datetime(2026, 1, 9, 7, 0, tzinfo=UTC)
    }


async def test_a_digest_following_the_servers_zone_moves_with_it(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    from bot.services import settings as settings_service

    await set_up(db, scheduler, clock)

    async def follow(conn: object) -> None:
        await service.follow_server_zone(conn, scheduler, GUILD, clock.now())  # type: ignore[arg-type]

    await settings_service.set_server_timezone(
        db, GUILD, MOD, "America/New_York", clock.now(), also=follow
    )
    # Monday 10:00 in New York (EST, UTC-5) is 15:00 UTC: still today.
    assert await digest_jobs(db) == {
        f"digest:{GUILD}:2026-W02": datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    }


@pytest.mark.parametrize(
    "given,message",
    [
        ({"at": "25:00"}, r"\*\*at\*\*: `25:00` is not a time of day"),
        ({"at": "ten"}, r"\*\*at\*\*: `ten` is not a time"),
        ({"zone": "Mars/Olympus"}, "not a time zone I know"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_stored(
    db: Database, scheduler: Scheduler, clock: FakeClock, given: dict[str, object], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        await set_up(db, scheduler, clock, **given)
    assert await service.get_settings(db, GUILD) is None
    assert await digest_jobs(db) == {}


async def test_a_week_already_handled_is_never_planned_again(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=-3))  # Monday 09:00: this week's is still to come
    planned = await set_up(db, scheduler, clock)
    assert planned.next_run == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    clock.advance(timedelta(hours=2))
    assert planned.next_run is not None
    spec = await service.record_week(
        db, scheduler, WeekOf(GUILD, "2026-W02", planned.next_run), status="posted", now=clock.now(),
        channel_id=DIGEST_CHANNEL, message_id=1,
    )  # fmt: skip
    assert spec is not None and spec.dedupe_key == f"digest:{GUILD}:2026-W03"
    # Moved to Friday of the same week after Monday's went out: the next is next week's Friday,
    # and it covers the time since Monday's, so nothing falls between the two.
    moved = await set_up(db, scheduler, clock, weekday=4)
    assert moved.next_run == datetime(2026, 1, 16, 10, 0, tzinfo=UTC)
    plan = await service.plan_week(db, GUILD, "2026-W03", moved.next_run, moved.next_run)
    assert plan.content is not None
    assert (plan.content.start, plan.content.end) == (planned.next_run, moved.next_run)


async def test_off_cancels_the_job_and_setup_starts_it_again_with_the_settings_kept(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    with pytest.raises(UserError, match="no digest yet"):
        await service.set_quiet(db, GUILD, MOD, "skip", clock.now())
    await set_up(db, scheduler, clock, weekday=2)
    await service.set_quiet(db, GUILD, MOD, "skip", clock.now())
    await service.set_sections(db, GUILD, MOD, {"loved", "new"}, clock.now())
    assert await service.turn_off(db, scheduler, GUILD, MOD, clock.now())
    assert not await service.turn_off(db, scheduler, GUILD, MOD, clock.now())
    assert await digest_jobs(db) == {}
    status = await service.status(db, GUILD)
    assert not status.settings.enabled and status.next_run is None
    again = await set_up(db, scheduler, clock)
    assert again.settings.weekday == 2 and again.settings.quiet == "skip"
    assert again.settings.sections_off == frozenset(
        {"swaps", "parties", "coming", "curators", "archive", "chart"}
    )
    assert list(await digest_jobs(db)) == [f"digest:{GUILD}:2026-W02"]


# -- what the job decides ------------------------------------------------------------------------


async def test_a_week_more_than_three_days_late_is_skipped(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    planned = await set_up(db, scheduler, clock)
    assert planned.next_run is not None
    due = planned.next_run
    late = await service.plan_week(db, GUILD, "2026-W03", due, due + timedelta(days=2, hours=23))
    assert late.action == "post"
    skipped = await service.plan_week(db, GUILD, "2026-W03", due, due + timedelta(days=3))
    assert skipped.action == "skip"
    await service.record_week(
        db, scheduler, WeekOf(GUILD, "2026-W03", due), status="skipped", now=due + timedelta(days=3)
    )
    again = await service.plan_week(db, GUILD, "2026-W03", due, due + timedelta(days=3))
    assert again.action == "done"


async def test_a_week_covers_the_time_since_the_previous_run_across_dst(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    # Berlin moves to summer time on 2026-03-29: the week before Monday 30 March 10:00 CEST
    # starts on Monday 23 March 10:00 CET, 167 hours earlier, not 168.
    clock.advance(datetime(2026, 3, 27, tzinfo=UTC) - clock.now())
    planned = await set_up(db, scheduler, clock, zone="Europe/Berlin")
    assert planned.next_run == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    plan = await service.plan_week(db, GUILD, "2026-W14", planned.next_run, planned.next_run)
    assert plan.content is not None
    assert plan.content.start == datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
    assert plan.content.end == planned.next_run


# -- what a week holds ---------------------------------------------------------------------------

COUNTRIES = ["ML", "NE", "FR", "DE", "JP", "GB", "US", "BE", "IT", "NL", "IS", "SE", "BR", "NG",
             "KE", "AU", "KR", "MX", "ES", "CA"]  # fmt: skip
CITIES = ["Bamako", "Agadez", "Lyon", "Paris", "Köln", "Leeds", "Osaka", "Ghent", "Turin", "Reykjavík",
          "Malmö", "Lagos", "Perth", "Seoul", "Bristol"]  # fmt: skip
LABELS = ["Kranky", "Sahel Sounds", "Mute", "Minimal Wave", "Dark Entries", "Ghostly", "4AD",
          "Warp", "Factory", "Les Disques du Crépuscule", "Sub Pop", "Sacred Bones"]  # fmt: skip
TAGS = ["drone", "tishoumaren", "minimal-synth", "cold-wave", "ambient", "shoegaze", "dub-techno",
        "kosmische", "ebm", "italo", "post-punk", "library"]  # fmt: skip


def skewed(rng: random.Random, values: list[str]) -> str:
    """Early values often, late ones rarely: first appearances spread over the archive's life."""
    return values[min(int(rng.expovariate(0.35)), len(values) - 1)]


def any_case(rng: random.Random, text: str) -> str:
    return rng.choice([text, text.upper(), text.lower()])


async def test_new_on_the_map_matches_a_brute_force_oracle(db: Database, clock: FakeClock) -> None:
    rng = random.Random(14)
    for n in range(240):  # two servers' archives, interleaved in time
        guild = rng.choice((GUILD, OTHER_GUILD))
        clock.advance(timedelta(hours=rng.randint(1, 15)))
        given = PickFields(
            artist=f"Artist {n}", title=f"Record {guild} {n}",
            country=skewed(rng, COUNTRIES) if rng.random() < 0.8 else None,
            city=any_case(rng, skewed(rng, CITIES)) if rng.random() < 0.6 else None,
            label=any_case(rng, skewed(rng, LABELS)) if rng.random() < 0.7 else None,
            subgenres=", ".join(dict.fromkeys(skewed(rng, TAGS) for _ in range(rng.randint(0, 3))))
            or None,
        )  # fmt: skip
        shared = await picks_service.share_pick(
            db, guild_id=guild, user_id=ALICE, channel_id=CHANNEL, now=clock.now(), given=given
        )
        assert shared.pick is not None
        if rng.random() < 0.25:
            await picks_service.remove_pick(
                db, guild_id=guild, pick_id=shared.pick.id, user_id=ALICE,
                is_moderator=True, now=clock.now(),
            )  # fmt: skip
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT id, created_at, country, city, label, tags FROM picks "
            "WHERE guild_id = ? AND deleted_at IS NULL ORDER BY created_at, id",
            (GUILD,),
        )
    first, last = rows[0][1], rows[-1][1]
    found = seen_again = 0
    starts = [first - 1, *(rng.randint(first, last) for _ in range(30))]
    starts += [row[1] for row in rng.sample(rows, 10)]  # a week starting as a pick is shared
    for start_at in starts:
        start = from_epoch(start_at)
        end = start + timedelta(days=7)
        content = await service.gather(db, GUILD, start, end, end)
        assert content.firsts == oracle(rows, to_epoch(start), to_epoch(end))
        found += len(content.firsts)
        seen_again += sum(1 for p in content.picks if p.country) - sum(
            1 for f in content.firsts if f.kind == "country"
        )
    assert found > 10 and seen_again > 10  # both answers were exercised


def oracle(rows: list, start: int, end: int) -> list[service.FirstOnMap]:  # type: ignore[type-arg]
    """Every value of the week's picks that no live pick before the week had, with the week's
    first pick that has it, countries first, then cities, labels and subgenres."""
    found = []
    for kind in MAP_KINDS:
        before = {map_key(kind, v) for r in rows if r[1] < start for v in values(r, kind)}
        seen: set[str] = set()
        for r in rows:
            if start <= r[1] < end:
                for v in values(r, kind):
                    if map_key(kind, v) not in before and map_key(kind, v) not in seen:
                        seen.add(map_key(kind, v))
                        found.append(service.FirstOnMap(kind, v, r[0]))
    return found


def values(row: tuple, kind: str) -> list[str]:  # type: ignore[type-arg]
    column = {"country": row[2], "city": row[3], "label": row[4]}
    if kind == "subgenre":
        return row[5].split() if row[5] else []
    value = column[kind]
    return [value] if value else []


async def test_a_week_lists_its_picks_swaps_parties_and_the_same_week_a_year_ago(
    db: Database, clock: FakeClock
) -> None:
    clock.advance(timedelta(days=-365))  # Monday 2025-01-06
    old = await share(db, clock, "Moin", "Moot", country="GB")
    clock.advance(timedelta(days=365 + 2))  # Wednesday 2026-01-07
    first = await share(db, clock, "Mdou Moctar", "Afrique Victime", country="NE")
    loved = await share(db, clock, "Tinariwen", "Amassakoul", country="ML")
    await picks_service.toggle_vote(
        db, guild_id=GUILD, pick_id=loved, user_id=BOB, kind="loved", now=clock.now()
    )
    end = clock.now() + timedelta(days=1)
    content = await service.gather(db, GUILD, end - timedelta(days=7), end, end)
    assert [p.id for p in content.picks] == [first, loved]
    assert [p.loved for p in content.picks] == [0, 1]
    assert [(f.kind, f.value) for f in content.firsts] == [("country", "NE"), ("country", "ML")]
    assert content.from_archive is not None and content.from_archive.id == old
    assert not content.quiet
    off = await service.gather(
        db, GUILD, end - timedelta(days=7), end, end, sections_off=frozenset({"new", "archive"})
    )
    assert off.firsts == [] and off.from_archive is None
    empty = await service.gather(
        db, GUILD, end + timedelta(days=30), end + timedelta(days=37), end + timedelta(days=37)
    )
    assert empty.quiet


async def test_privacy_covers_digest_settings_and_extras(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    await set_up(db, scheduler, clock)
    await service.record_extra(
        db, guild_id=GUILD, tag="9", channel_id=DIGEST_CHANNEL, message_id=5, user_id=MOD,
        now=clock.now(),
    )  # fmt: skip
    exported = await privacy_service.export_user_data(db, MOD, clock.now())
    assert [row["guild_id"] for row in exported["digest_settings_set"]] == [GUILD]
    assert [row["week"] for row in exported["extra_digests_asked"]] == ["extra:9"]
    await privacy_service.forget_user(db, MOD, delete_picks=False)
    exported = await privacy_service.export_user_data(db, MOD, clock.now())
    assert exported["digest_settings_set"] == [] and exported["extra_digests_asked"] == []
    assert (await service.get_settings(db, GUILD)) is not None  # the server's digest stays
