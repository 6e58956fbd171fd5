"""Listening parties' use cases on a real database: what scheduling, editing, cancelling and the
host's controls store, and the jobs that go with them (one transaction each)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.db import Database
from bot.domain.parties import COUNTDOWN, Party, RunPlan
from bot.domain.timeutil import from_epoch
from bot.domain.tracklist import parse_tracklist
from bot.errors import UserError
from bot.scheduler import Scheduler
from bot.services import parties as service
from bot.services import picks as picks_service
from bot.services import privacy as privacy_service
from bot.services import settings as settings_service
from bot.services.parties import PartyChange, PartyInput
from tests.fakes import FakeClock
from tests.services.sharing import ALICE, BOB, CHANNEL, GUILD, MOD, share

OTHER_CHANNEL = 4004


@pytest.fixture
def scheduler(db: Database, clock: FakeClock) -> Scheduler:
    return Scheduler(db, clock)


async def pending_jobs(db: Database) -> dict[str, datetime]:
    """``dedupe_key → run_at`` of every pending job."""
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT dedupe_key, run_at FROM jobs WHERE status = 'pending' ORDER BY run_at"
        )
    return {row[0]: from_epoch(row[1]) for row in rows}


async def outbox_keys(db: Database) -> dict[str, str]:
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT key, status FROM outbox")
    return {row[0]: row[1] for row in rows}


async def schedule(
    db: Database,
    scheduler: Scheduler,
    clock: FakeClock,
    when: str = "in 2 days",
    host: int = ALICE,
    **given: object,
) -> service.ScheduledParty:
    fields: dict[str, object] = {"what": "Slowdive — Souvlaki", "channel_id": CHANNEL}
    fields.update(given)
    return await service.schedule_party(
        db,
        scheduler,
        guild_id=GUILD,
        host_id=host,
        given=PartyInput(when=when, **fields),  # type: ignore[arg-type]
        now=clock.now(),
    )


async def test_scheduling_stores_the_party_its_reminders_start_and_outbox_entries(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    scheduled = await schedule(db, scheduler, clock)
    party = scheduled.party
    assert party.starts_at == clock.now() + timedelta(days=2)
    assert party.duration == timedelta(minutes=60) and party.status == "scheduled"
    assert scheduled.zone_source.startswith("UTC")
    jobs = await pending_jobs(db)
    assert jobs[f"party:{party.id}:remind:86400"] == party.starts_at - timedelta(hours=24)
    assert jobs[f"party:{party.id}:remind:900"] == party.starts_at - timedelta(minutes=15)
    assert jobs[f"party:{party.id}:start"] == party.starts_at
    assert f"party:{party.id}:sync:0" in jobs
    assert await outbox_keys(db) == {
        f"party:{party.id}:event": "pending",
        f"party:{party.id}:card:{CHANNEL}": "pending",
    }


async def test_a_reminder_already_past_when_scheduling_is_not_planned(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    party = (await schedule(db, scheduler, clock, when="in 2 hours")).party
    jobs = await pending_jobs(db)
    assert f"party:{party.id}:remind:86400" not in jobs
    assert f"party:{party.id}:remind:900" in jobs


async def test_the_time_is_read_in_the_hosts_zone_then_the_servers(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    await settings_service.set_server_timezone(db, GUILD, MOD, "Europe/Berlin", clock.now())
    server = await schedule(db, scheduler, clock, when="tomorrow 21:00")
    assert server.zone_source == "the server's time zone"
    assert server.party.starts_at.astimezone(ZoneInfo("Europe/Berlin")).hour == 21
    await settings_service.set_member_timezone(db, BOB, "America/New_York", clock.now())
    mine = await schedule(db, scheduler, clock, when="tomorrow 21:00", host=BOB)
    assert mine.zone_source == "your time zone"
    assert mine.party.starts_at.astimezone(ZoneInfo("America/New_York")).hour == 21


@pytest.mark.parametrize(
    "given,message",
    [
        ({"when": "yesterday"}, "can't read"),
        ({"when": "2020-01-01 20:00"}, "passed"),
        ({"when": "in 2 years"}, "year"),
        ({"repeat": "daily"}, "repeat"),
        ({"duration_minutes": 13 * 60}, "12 hours"),
        ({"what": "   "}, "empty"),
        ({"what": "#999"}, "no archive entry #999"),
        ({"description": "x" * 900}, "at most 800"),
        ({"link": "javascript:alert(1)"}, "Only web links"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_stored(
    db: Database, scheduler: Scheduler, clock: FakeClock, given: dict[str, object], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        await schedule(db, scheduler, clock, **given)
    assert await pending_jobs(db) == {} and await outbox_keys(db) == {}


async def test_an_archive_entry_names_the_party_and_links_it(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    pick_id = await share(db, clock, "Kas Product", "Try Out")
    party = (await schedule(db, scheduler, clock, what=f"#{pick_id}")).party
    assert (party.what, party.pick_id) == ("Kas Product — Try Out", pick_id)


async def test_editing_the_time_moves_reminders_and_start_and_tells_rsvps(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    party = (await schedule(db, scheduler, clock, when="in 3 days")).party
    await service.rsvp(db, party_id=party.id, user_id=BOB, choice="going", now=clock.now())
    edited = await service.edit_party(
        db, scheduler, guild_id=GUILD, party_id=party.id, user_id=ALICE, manages_events=False,
        change=PartyChange(when="in 4 days"), now=clock.now(),
    )  # fmt: skip
    assert edited.moved and edited.party.starts_at == clock.now() + timedelta(days=4)
    jobs = await pending_jobs(db)
    assert jobs[f"party:{party.id}:start"] == edited.party.starts_at
    assert jobs[f"party:{party.id}:remind:86400"] == edited.party.starts_at - timedelta(days=1)
    assert f"party:{party.id}:notify:moved:1" in jobs
    assert f"party:{party.id}:sync:1" in jobs


async def test_another_members_party_is_edited_only_with_manage_events(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    party = (await schedule(db, scheduler, clock)).party
    change = PartyChange(description="new words")
    with pytest.raises(UserError, match="Only the host"):
        await service.edit_party(
            db, scheduler, guild_id=GUILD, party_id=party.id, user_id=BOB, manages_events=False,
            change=change, now=clock.now(),
        )  # fmt: skip
    edited = await service.edit_party(
        db, scheduler, guild_id=GUILD, party_id=party.id, user_id=MOD, manages_events=True,
        change=change, now=clock.now(),
    )  # fmt: skip
    assert edited.party.description == "new words" and not edited.moved


async def test_cancelling_cancels_reminders_and_start_and_tells_rsvps_once(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    party = (await schedule(db, scheduler, clock)).party
    await service.rsvp(db, party_id=party.id, user_id=BOB, choice="maybe", now=clock.now())
    cancelled = await service.cancel_party(
        db, scheduler, guild_id=GUILD, party_id=party.id, user_id=ALICE, manages_events=False,
        reason="storm", series=False, now=clock.now(),
    )  # fmt: skip
    assert cancelled.party.status == "cancelled" and cancelled.told == 1
    jobs = await pending_jobs(db)
    assert not any(key.startswith(f"party:{party.id}:remind") for key in jobs)
    assert f"party:{party.id}:start" not in jobs
    assert f"party:{party.id}:notify:cancelled" in jobs
    with pytest.raises(UserError, match="cancelled"):
        await service.rsvp(db, party_id=party.id, user_id=BOB, choice="going", now=clock.now())


async def test_a_tracklist_sets_the_length_unless_the_host_gave_one(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    party = (await schedule(db, scheduler, clock)).party
    tracklist = parse_tracklist(["--- side A\nOne 20:00\n--- side B\nTwo 20:00"])
    updated = await service.set_tracklist(
        db, guild_id=GUILD, party_id=party.id, user_id=ALICE, manages_events=False,
        tracklist=tracklist, now=clock.now(), scheduler=scheduler,
    )  # fmt: skip
    assert updated.duration == timedelta(minutes=40, seconds=30)  # with the side break
    given = (await schedule(db, scheduler, clock, duration_minutes=90)).party
    kept = await service.set_tracklist(
        db, guild_id=GUILD, party_id=given.id, user_id=ALICE, manages_events=False,
        tracklist=tracklist, now=clock.now(), scheduler=scheduler,
    )  # fmt: skip
    assert kept.duration == timedelta(minutes=90)
    assert await service.tracklist_text(db, GUILD, party.id) == [
        "--- side A\nOne 20:00",
        "--- side B\nTwo 20:00",
    ]


async def test_interested_counts_as_going_unless_the_member_chose(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    party = (await schedule(db, scheduler, clock)).party
    await service.rsvp(db, party_id=party.id, user_id=BOB, choice="cant", now=clock.now())
    counts = await service.sync_interested(db, party.id, [BOB, MOD], clock.now())
    assert (counts.going, counts.cant) == (1, 1)
    counts = await service.sync_interested(db, party.id, [], clock.now())
    assert (counts.going, counts.cant) == (0, 1)  # MOD is no longer interested


async def test_notices_go_to_going_and_maybe_minus_opt_outs_and_those_done(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    party = (await schedule(db, scheduler, clock)).party
    for user, choice in ((ALICE, "going"), (BOB, "maybe"), (MOD, "cant"), (44, "going")):
        await service.rsvp(db, party_id=party.id, user_id=user, choice=choice, now=clock.now())  # type: ignore[arg-type]
    await service.set_reminders(db, GUILD, 44, on=False, now=clock.now())
    work = await service.notice_recipients(db, party.id, "remind:900")
    assert work.to_dm == [ALICE, BOB]
    await service.notice_sent(db, party.id, "remind:900", ALICE)
    await service.dm_closed(db, party.id, "remind:900", BOB)
    assert (await service.notice_recipients(db, party.id, "remind:900")).to_dm == []
    # "the time changed" goes to everyone who said yes, opted out of reminders or not
    assert (await service.notice_recipients(db, party.id, "moved:1")).to_dm == [ALICE, BOB, 44]
    assert await service.mention_batches(db, party.id, "remind:900") == {1: [BOB]}
    assert await service.mention_batches(db, party.id, "remind:900") == {1: [BOB]}


async def started_with_tracks(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> tuple[Party, RunPlan]:
    """A party with three 4-minute tracks, started, its first marker posted, and its step 1
    pending (generation 0: no control yet)."""
    party = (await schedule(db, scheduler, clock, when="in 10 minutes")).party
    tracklist = parse_tracklist(["One 4:00\nTwo 4:00\nThree 4:00"])
    await service.set_tracklist(
        db, guild_id=GUILD, party_id=party.id, user_id=ALICE, manages_events=False,
        tracklist=tracklist, now=clock.now(), scheduler=scheduler,
    )  # fmt: skip
    clock.advance(timedelta(minutes=10))
    started, plan, follow = await service.mark_started(db, scheduler, party, clock.now())
    assert started.status == "running"
    assert follow[0].dedupe_key == f"party:{party.id}:step:0:g0"
    assert follow[0].run_at == clock.now() + COUNTDOWN  # "press play in 10 s"
    clock.advance(COUNTDOWN)  # step 0 runs: the first marker is posted
    await service.beat_posted(db, started, 0, 1, 555, clock.now())
    await scheduler.schedule_all([service.next_run_job(started, plan, 1, 0)])
    return started, plan


def control_as_host(
    db: Database, scheduler: Scheduler, clock: FakeClock, party: Party, kind: str
) -> Awaitable[object]:
    return service.control(
        db, scheduler, guild_id=GUILD, party_id=party.id, user_id=ALICE, manages_events=False,
        kind=kind, now=clock.now(),  # type: ignore[arg-type]
    )  # fmt: skip


async def test_pause_resume_and_skip_move_the_runs_next_job(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    party, _ = await started_with_tracks(db, scheduler, clock)
    assert (await pending_jobs(db))[f"party:{party.id}:step:1:g0"] == clock.now() + timedelta(
        minutes=4
    )
    clock.advance(timedelta(minutes=1))
    await control_as_host(db, scheduler, clock, party, "pause")
    assert not any(key.startswith(f"party:{party.id}:step") for key in await pending_jobs(db))
    with pytest.raises(UserError, match="already paused"):
        await control_as_host(db, scheduler, clock, party, "pause")
    clock.advance(timedelta(minutes=2))
    await control_as_host(db, scheduler, clock, party, "resume")
    assert (await pending_jobs(db))[f"party:{party.id}:step:1:g2"] == clock.now() + timedelta(
        minutes=3
    )
    await control_as_host(db, scheduler, clock, party, "skip")
    assert (await pending_jobs(db))[f"party:{party.id}:step:1:g3"] == clock.now()
    state = await service.run_state(db, party.id)
    assert state.gen == 3 and not state.plan.paused  # type: ignore[union-attr]


async def test_a_step_that_was_running_when_the_host_paused_cannot_undo_the_resume(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    """The race a review found: step 1 is running when the host pauses; it finishes and its
    follow-up (step 2 of the old generation) is stored and runs during the pause, as a no-op.
    The resume must still plan the run's next beat."""
    party, plan = await started_with_tracks(db, scheduler, clock)
    clock.advance(timedelta(minutes=4))
    await control_as_host(db, scheduler, clock, party, "pause")
    # step 1 (generation 0) was already running: it posts and stores its follow-up
    await service.beat_posted(db, party, 1, 2, 556, clock.now())
    await scheduler.schedule_all([service.next_run_job(party, plan, 2, 0)])
    async with db.transaction() as conn:  # it runs during the pause and is done, doing nothing
        await conn.execute(
            "UPDATE jobs SET status = 'done' WHERE dedupe_key = ?", (f"party:{party.id}:step:2:g0",)
        )
    clock.advance(timedelta(minutes=1))
    await control_as_host(db, scheduler, clock, party, "resume")
    assert f"party:{party.id}:step:2:g2" in await pending_jobs(db)


async def test_a_weekly_party_creates_its_next_occurrence_at_the_same_berlin_time_when_it_starts(
    db: Database, scheduler: Scheduler
) -> None:
    clock = FakeClock(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))  # DST ends on 25 October
    await settings_service.set_server_timezone(db, GUILD, MOD, "Europe/Berlin", clock.now())
    party = (await schedule(db, scheduler, clock, when="fri 21:00", repeat="weekly")).party
    berlin = ZoneInfo("Europe/Berlin")
    clock.advance(party.starts_at - clock.now())
    started, _, _ = await service.mark_started(db, scheduler, party, clock.now())
    assert started.next_id is not None
    following = await service.get_party(db, started.next_id, GUILD)
    assert following.starts_at.astimezone(berlin).hour == 21
    assert following.starts_at - started.starts_at == timedelta(days=7, hours=1)
    jobs = await pending_jobs(db)
    assert jobs[f"party:{following.id}:start"] == following.starts_at
    # starting again (a job run twice) creates nothing more
    await service.mark_started(db, scheduler, started, clock.now())
    assert len(await service.upcoming(db, GUILD, clock.now())) == 2


async def test_ending_a_series_stops_its_repeats_and_cancels_the_next(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    party = (await schedule(db, scheduler, clock, when="in 1 hour", repeat="weekly")).party
    clock.advance(timedelta(hours=1))
    started, _, _ = await service.mark_started(db, scheduler, party, clock.now())
    assert started.next_id is not None
    cancelled = await service.cancel_party(
        db, scheduler, guild_id=GUILD, party_id=party.id, user_id=ALICE, manages_events=False,
        reason=None, series=True, now=clock.now(),
    )  # fmt: skip
    assert cancelled.series_ended and cancelled.party.status == "running"
    following = await service.get_party(db, started.next_id, GUILD)
    assert following.status == "cancelled" and following.repeat_weeks == 0


async def test_rsvps_and_reminder_choices_are_exported_and_forgotten(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    party = (await schedule(db, scheduler, clock, host=BOB)).party
    await service.rsvp(db, party_id=party.id, user_id=BOB, choice="going", now=clock.now())
    await service.set_reminders(db, GUILD, BOB, on=False, now=clock.now())
    await service.dm_closed(db, party.id, "remind:900", BOB)
    exported = await privacy_service.export_user_data(db, BOB, clock.now())
    assert [(r["party_id"], r["choice"]) for r in exported["party_rsvps"]] == [(party.id, "going")]
    assert [r["guild_id"] for r in exported["party_reminder_optouts"]] == [GUILD]
    assert [r["notice"] for r in exported["party_notices"]] == ["remind:900"]
    assert [r["party_id"] for r in exported["parties_hosted"]] == [party.id]

    forgotten = await privacy_service.forget_user(db, BOB, delete_picks=False)
    assert forgotten.party_rows == 3
    exported = await privacy_service.export_user_data(db, BOB, clock.now())
    assert all(
        exported[k] == [] for k in ("party_rsvps", "party_reminder_optouts", "party_notices")
    )
    assert exported["parties_hosted"] == []
    kept = await service.get_party(db, party.id, GUILD)
    assert kept.host_id is None and kept.host == "a former member"
    assert (await service.party_view(db, party.id)).counts.going == 0


async def test_an_archive_entry_lists_its_parties_but_not_cancelled_ones(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    pick_id = await share(db, clock, "Kas Product", "Try Out")
    kept = (await schedule(db, scheduler, clock, what=f"#{pick_id}")).party
    dropped = (await schedule(db, scheduler, clock, what=f"#{pick_id}", when="in 3 days")).party
    await service.cancel_party(
        db, scheduler, guild_id=GUILD, party_id=dropped.id, user_id=ALICE, manages_events=False,
        reason=None, series=False, now=clock.now(),
    )  # fmt: skip
    details = await picks_service.pick_details(db, GUILD, pick_id)
    assert [p.id for p in details.parties] == [kept.id]


async def test_cancelling_one_evening_of_a_series_keeps_the_series_going(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    first = (await schedule(db, scheduler, clock, when="in 2 days", repeat="weekly")).party
    cancelled = await service.cancel_party(
        db, scheduler, guild_id=GUILD, party_id=first.id, user_id=ALICE, manages_events=False,
        reason="holiday", series=False, now=clock.now(),
    )  # fmt: skip
    assert cancelled.party.next_id is not None
    following = await service.get_party(db, cancelled.party.next_id, GUILD)
    assert following.starts_at == first.starts_at + timedelta(weeks=1)
    assert f"party:{following.id}:start" in await pending_jobs(db)


async def test_a_missed_evening_of_a_series_keeps_the_series_going(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    first = (await schedule(db, scheduler, clock, when="in 2 days", repeat="weekly")).party
    clock.advance(timedelta(days=3))
    missed = await service.mark_missed(db, scheduler, first, clock.now())
    assert missed.status == "missed" and missed.next_id is not None


async def test_ending_a_series_from_an_earlier_evening_cancels_every_later_one(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    first = (await schedule(db, scheduler, clock, when="in 1 hour", repeat="weekly")).party
    clock.advance(timedelta(hours=1))
    started, _, _ = await service.mark_started(db, scheduler, first, clock.now())
    assert started.next_id is not None
    second = await service.get_party(db, started.next_id, GUILD)
    clock.advance(second.starts_at - clock.now())
    second_started, _, _ = await service.mark_started(db, scheduler, second, clock.now())
    assert second_started.next_id is not None
    await service.cancel_party(
        db, scheduler, guild_id=GUILD, party_id=first.id, user_id=ALICE, manages_events=False,
        reason=None, series=True, now=clock.now(),
    )  # fmt: skip
    third = await service.get_party(db, second_started.next_id, GUILD)
    assert third.status == "cancelled" and third.repeat_weeks == 0
    assert (await service.get_party(db, second.id, GUILD)).status == "running"


async def test_a_move_drops_a_reminder_planned_under_an_older_setting(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    await service.update_settings(db, GUILD, MOD, clock.now(), reminders="2h")
    party = (await schedule(db, scheduler, clock, when="in 2 days")).party
    assert f"party:{party.id}:remind:7200" in await pending_jobs(db)
    await service.update_settings(db, GUILD, MOD, clock.now(), reminders="24h, 15m")
    await service.edit_party(
        db, scheduler, guild_id=GUILD, party_id=party.id, user_id=ALICE, manages_events=False,
        change=PartyChange(when="in 4 days"), now=clock.now(),
    )  # fmt: skip
    reminders = sorted(k for k in await pending_jobs(db) if ":remind:" in k)
    assert reminders == [f"party:{party.id}:remind:86400", f"party:{party.id}:remind:900"]


async def test_a_long_tracklist_reopens_in_the_forms_five_parts(
    db: Database, scheduler: Scheduler, clock: FakeClock
) -> None:
    party = (await schedule(db, scheduler, clock)).party
    note = "n" * 290
    typed = [
        "\n".join(f"Track {p}{n:02d} 3:00 | {note}" for n in range(12)) for p in range(1, 4)
    ]  # three boxes of about 3,600 characters, no sides
    tracklist = parse_tracklist(typed)
    await service.set_tracklist(
        db, guild_id=GUILD, party_id=party.id, user_id=ALICE, manages_events=False,
        tracklist=tracklist, now=clock.now(), scheduler=scheduler,
    )  # fmt: skip
    parts = await service.tracklist_text(db, GUILD, party.id)
    assert len(parts) <= 5 and all(len(part) <= 4000 for part in parts)
    assert parse_tracklist(parts) == tracklist
