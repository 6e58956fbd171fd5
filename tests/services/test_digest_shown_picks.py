"""A week's digest shows the same picks whichever way it reads them: a week of up to
``SHOWN_MAX`` picks in full in one statement, a busier one its facts and then only the picks
shown."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from bot.db import Database
from bot.domain.picks import PickFields
from bot.services import digests as service
from bot.services import picks as picks_service
from tests.fakes import FakeClock
from tests.services.sharing import ALICE, BOB, CHANNEL, GUILD, MOD

PLACES = ("ML", "NE", "DE", None)
CITIES = ("Bamako", "BAMAKO", "Köln", None)
LABELS = ("Kranky", "kranky", "Sahel Sounds", None)
TAGS = ("drone", "desert-blues", "dub", "ambient")


async def share_some(
    db: Database, clock: FakeClock, rng: random.Random, guild: int, n: int, step: timedelta
) -> None:
    """Pick ``n`` of ``guild``, shared ``step`` or less after the last, with a place, a label,
    subgenres, sometimes a note, and Heard/Loved marks from up to three members."""
    clock.advance(step * rng.random())
    shared = await picks_service.share_pick(
        db, guild_id=guild, user_id=rng.choice((ALICE, BOB)), channel_id=CHANNEL,
        now=clock.now(),
        given=PickFields(
            artist=f"Artist {n}", title=f"Record {n}", country=rng.choice(PLACES),
            city=rng.choice(CITIES), label=rng.choice(LABELS),
            subgenres=", ".join(rng.sample(TAGS, rng.randint(0, 2))) or None,
            note=f"Note {n}" if rng.random() < 0.5 else None,
        ),
    )  # fmt: skip
    assert shared.pick is not None
    for member in (ALICE, BOB, MOD):
        if rng.random() < 0.4:
            await picks_service.toggle_vote(
                db, guild_id=guild, pick_id=shared.pick.id, user_id=member,
                kind=rng.choice(("heard", "loved")), now=clock.now(),
            )  # fmt: skip


async def test_a_busy_week_shows_the_same_picks_as_a_quiet_one_would(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A week of up to SHOWN_MAX picks is read in full in one statement; a busier one reads
    its facts, then the shown picks. Both ways give the same facts, firsts and picks."""
    rng = random.Random(3)
    start = clock.now()
    for n in range(30):
        await share_some(db, clock, rng, GUILD, n, timedelta(hours=5))
    end = clock.now() + timedelta(seconds=1)
    few = await service.gather(db, GUILD, start, end, end)
    monkeypatch.setattr(service, "SHOWN_MAX", 5)
    busy = await service.gather(db, GUILD, start, end, end)
    assert len(few.facts) == 30 and busy.facts == few.facts and busy.firsts == few.firsts
    assert len(few.picks) == 30 and 5 <= len(busy.picks) < 30
    by_id = {pick.id: pick for pick in few.picks}
    assert all(by_id[pick.id] == pick for pick in busy.picks)
    top = sorted(few.facts, key=lambda f: f.rank)[:5]
    assert {f.pick_id for f in top} | {f.pick_id for f in few.firsts} == {p.id for p in busy.picks}
