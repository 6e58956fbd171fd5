"""Weekly digests' use cases on a real database: setting up and moving the week's job, what a
week holds ("new on the map" against a brute-force oracle, from the archive), what the job
decides about a week, and a member's data."""

from __future__ import annotations

import json
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


async def pending_run(db: Database) -> service.DigestRun:
    """The payload of the one pending digest job."""
    async with db.read() as conn:
        [row] = await conn.execute_fetchall(
            "SELECT payload FROM jobs WHERE kind = 'digest.post' AND status = 'pending'"
        )
    return service.DigestRun(**json.loads(row[0]))


async def test_a_week_already_handled_is_never_planned_again(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=-3))  # Monday 09:00: this week's is still to come
    planned = await set_up(db, scheduler, clock)
    assert planned.next_run == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    clock.advance(timedelta(hours=2))
    spec = await service.record_week(
        db, WeekOf(GUILD, "2026-W02", planned.next_run), status="posted", now=clock.now(),
        channel_id=DIGEST_CHANNEL, message_id=1,
    )  # fmt: skip
    assert spec is not None and spec.dedupe_key == f"digest:{GUILD}:2026-W03"
    async with db.transaction() as conn:  # the job completes
        await conn.execute("UPDATE jobs SET status = 'done' WHERE kind = 'digest.post'")
        await scheduler.schedule_in(conn, spec)
    # Moved to Friday of the same week after Monday's went out: the next is next week's Friday,
    # and it covers the time since Monday's, so nothing falls between the two.
    moved = await set_up(db, scheduler, clock, weekday=4)
    assert moved.next_run == datetime(2026, 1, 16, 10, 0, tzinfo=UTC)
    run = await pending_run(db)
    assert (from_epoch(run.start), from_epoch(run.due)) == (planned.next_run, moved.next_run)
    plan = await service.plan_week(db, GUILD, run, moved.next_run)
    assert plan.content is not None
    assert (plan.content.start, plan.content.end) == (planned.next_run, moved.next_run)


async def test_a_week_whose_job_already_ran_is_not_planned_again(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    await set_up(db, scheduler, clock)  # next: W03
    async with db.transaction() as conn:  # as if W03's job had failed without a record
        await conn.execute("UPDATE jobs SET status = 'failed' WHERE kind = 'digest.post'")
    again = await set_up(db, scheduler, clock)
    assert again.next_run == datetime(2026, 1, 19, 10, 0, tzinfo=UTC)
    assert list(await digest_jobs(db)) == [f"digest:{GUILD}:2026-W04"]


async def test_a_digest_left_without_a_job_is_planned_again(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    await set_up(db, scheduler, clock)
    await scheduler.cancel_guild_jobs(GUILD)  # the bot was removed from the server
    assert await digest_jobs(db) == {}
    assert await service.plan_missing(db, scheduler, clock.now()) == 1
    assert list(await digest_jobs(db)) == [f"digest:{GUILD}:2026-W03"]
    assert await service.plan_missing(db, scheduler, clock.now()) == 0


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
    assert await service.plan_missing(db, scheduler, clock.now()) == 0  # off: nothing to plan
    status = await service.status(db, GUILD)
    assert not status.settings.enabled and status.next_run is None
    again = await set_up(db, scheduler, clock)
    assert again.settings.weekday == 2 and again.settings.quiet == "skip"
    assert again.settings.sections_off == frozenset(
        {"swaps", "parties", "coming", "curators", "archive", "chart"}
    )
    assert list(await digest_jobs(db)) == [f"digest:{GUILD}:2026-W02"]


async def test_a_week_waiting_to_retry_is_kept_and_tried_now_when_settings_change(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    planned = await set_up(db, scheduler, clock)
    assert planned.next_run is not None
    before = await pending_run(db)
    clock.advance(planned.next_run + timedelta(minutes=5) - clock.now())
    async with db.transaction() as conn:  # its first attempt failed; it waits for an hour
        await conn.execute(
            "UPDATE jobs SET attempts = 1, run_at = run_at + 3600 WHERE kind = 'digest.post'"
        )
    moved = await set_up(db, scheduler, clock, at="18:00")
    assert moved.retrying and moved.next_run == clock.now()
    assert await pending_run(db) == before  # the same week, the same window
    again = await set_up(db, scheduler, clock, weekday=3)  # and again: still kept
    assert again.retrying and await pending_run(db) == before


# -- what the job decides ------------------------------------------------------------------------


async def test_a_week_more_than_three_days_late_is_skipped(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    planned = await set_up(db, scheduler, clock)
    assert planned.next_run is not None
    due = planned.next_run
    run = await pending_run(db)
    late = await service.plan_week(db, GUILD, run, due + timedelta(days=2, hours=23))
    assert late.action == "post"
    skipped = await service.plan_week(db, GUILD, run, due + timedelta(days=3))
    assert skipped.action == "skip"
    await service.record_week(
        db, WeekOf(GUILD, "2026-W03", due), status="skipped", now=due + timedelta(days=3)
    )
    again = await service.plan_week(db, GUILD, run, due + timedelta(days=3))
    assert again.action == "done"


async def test_after_a_long_downtime_the_next_is_the_first_week_not_yet_three_days_late(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    planned = await set_up(db, scheduler, clock)
    assert planned.next_run is not None
    due = planned.next_run
    # Back eight days after W03 was due: W03 is skipped, W04 (a day late) is still posted.
    spec = await service.record_week(
        db, WeekOf(GUILD, "2026-W03", due), status="skipped", now=due + timedelta(days=8)
    )
    assert spec is not None and spec.run_at == due + timedelta(days=7)
    assert spec.dedupe_key == f"digest:{GUILD}:2026-W04"
    # Back a month later: the weeks more than 3 days late are past saving; W07, 2 days late, is
    # the next.
    spec = await service.record_week(
        db, WeekOf(GUILD, "2026-W03", due), status="skipped", now=due + timedelta(days=30)
    )
    assert spec is not None and spec.run_at == due + timedelta(days=28)
    run = service.DigestRun(**dict(spec.payload))
    assert from_epoch(run.due) - from_epoch(run.start) == timedelta(days=7)


async def test_a_week_covers_the_time_since_the_previous_run_across_dst(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    # Berlin moves to summer time on 2026-03-29: the week before Monday 30 March 10:00 CEST
    # starts on Monday 23 March 10:00 CET, 167 hours earlier, not 168.
    clock.advance(datetime(2026, 3, 27, tzinfo=UTC) - clock.now())
    planned = await set_up(db, scheduler, clock, zone="Europe/Berlin")
    assert planned.next_run == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    plan = await service.plan_week(db, GUILD, await pending_run(db), planned.next_run)
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


async def test_a_week_lists_parties_held_and_coming_and_swap_rounds_revealed(
    db: Database, clock: FakeClock
) -> None:
    now = to_epoch(clock.now())
    async with db.transaction() as conn:

        async def party(
            what: str, starts: int, status: str, ended: int | None, guild: int = GUILD
        ) -> int:
            cursor = await conn.execute(
                "INSERT INTO parties (guild_id, what, starts_at, duration_s, zone, channel_id, "
                "status, ended_at, card_channel_id, card_message_id, thread_id, writers, "
                "created_at, updated_at) VALUES (?, ?, ?, 3600, 'UTC', 1, ?, ?, 1, 2, 3, 4, ?, ?)",
                (guild, what, starts, status, ended, now, now),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        held = await party("Grouper — Ruins", now - 86400, "ended", now - 82800)
        await party("Long ago", now - 30 * 86400, "ended", now - 30 * 86400 + 3600)
        await party("Elsewhere", now - 86400, "ended", now - 82800, guild=OTHER_GUILD)
        coming = await party("Moin — Moot", now + 2 * 86400, "scheduled", None)
        await party("Next month", now + 30 * 86400, "scheduled", None)
        await conn.executemany(
            "INSERT INTO party_tracks (party_id, number, title, seconds, reactions) VALUES (?, ?, ?, 60, ?)",
            [(held, 1, "Made of Air", 3), (held, 2, "Holofernes", 7), (held, 3, "Clearing", 0)],
        )
        await conn.executemany(
            "INSERT INTO party_rsvps (party_id, user_id, choice, source, updated_at) VALUES (?, ?, ?, 'button', ?)",
            [(held, ALICE, "going", now), (held, BOB, "maybe", now), (held, MOD, "cant", now)],
        )
        cursor = await conn.execute(
            "INSERT INTO swap_rounds (guild_id, channel_id, theme, join_until, review_until, zone, "
            "mode, anonymous, status, thread_id, revealed_at, created_at, updated_at) VALUES "
            "(?, 1, 'Cities', ?, ?, 'UTC', 'random', 1, 'revealed', 9, ?, ?, ?)",
            (GUILD, now - 5 * 86400, now - 3600, now - 3600, now, now),
        )
        round_id = cursor.lastrowid
        entries = []
        for user, receiver, artist, country in (
            (ALICE, BOB, "Moin", "GB"),
            (BOB, ALICE, "Mdou Moctar", "NE"),
        ):
            cursor = await conn.execute(
                "INSERT INTO swap_entries (round_id, user_id, artist, title, country, receiver_id, "
                "joined_at, updated_at) VALUES (?, ?, ?, 'LP', ?, ?, ?, ?)",
                (round_id, user, artist, country, receiver, now, now),
            )
            entries.append((cursor.lastrowid, receiver))
        await conn.executemany(
            "INSERT INTO swap_reviews (round_id, entry_id, reviewer_id, rating, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (round_id, entries[0][0], BOB, 5, now, now),
                (round_id, entries[1][0], ALICE, 3, now, now),
            ],
        )
    start, end = clock.now() - timedelta(days=7), clock.now()
    content = await service.gather(db, GUILD, start, end, end)
    assert [r.party.id for r in content.parties] == [held]
    [recap] = content.parties
    assert recap.came == 2 and recap.top_track == ("Holofernes", 7)
    assert [p.id for p in content.coming] == [coming]
    [swap] = content.swaps
    assert swap.summary.pairs == 2 and swap.summary.average == 4.0
    assert swap.summary.best is not None and swap.summary.best.artist == "Moin"
    assert swap.summary.borders == 2
    assert not content.quiet
    off = await service.gather(
        db, GUILD, start, end, end, sections_off=frozenset({"parties", "swaps", "coming"})
    )
    assert off.parties == [] and off.swaps == [] and off.coming == []
