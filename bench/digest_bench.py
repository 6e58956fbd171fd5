"""Weekly digest benchmark: build one server's digest and every server's over a million picks,
then post a digest to every server at the same minute through the local emulator.

    .venv/bin/python bench/digest_bench.py [--picks 1000000] [--servers 1000] [--runs 50]
                                           [--skip-emulator] [--emulator-only] [--kill]
                                           [--no-chart] [--zipf 1.0] [--seed 1]

1. Builds (once, then reuses) a database under bench/.data/ of ``--picks`` picks spread over
   ``--servers`` servers by a Zipf law (exponent ``--zipf``; server 1 is the busiest), shared
   over three years up to the digest's due time (Monday 2026-11-23 10:00 UTC), with Heard and
   Loved votes, subgenres (through ``pick_tags``, so the triggers run), countries, cities and
   labels drawn from Zipf-ranked vocabularies (so a week has a few firsts "on the map"), a few
   removed picks, parties held in the week and coming the next, and revealed swap rounds. The
   file name carries the parameters and a hash of the migrations, so a schema change rebuilds.
2. Times building the busiest server's digest (``gather`` + ``digest_embed``; target < 10 ms),
   p50/p99 over ``--runs`` runs, with a per-query breakdown, the chart separately (matplotlib,
   not part of the target), and the EXPLAIN QUERY PLAN of the "new on the map" and week
   statements; then builds every server's digest in turn on one ``Database`` (target < 1 s),
   twice, each read on its own as the bot's weekly job reads it.
3. Unless ``--skip-emulator``: the real bot process against the emulator, ``--servers`` guilds
   each with a #digest channel, each with a few picks and a digest set up (``/digest setup``'s
   service, so the job, key and payload are the bot's own) due at the same minute. With Discord's
   limits on (each channel's messages 5 per 5 s, all requests 50 a second), time jumps to that
   minute; prints the time until the last digest is posted, digests per channel (duplicates and
   missing must be 0), digests marked late, 429s answered, and the jobs left for next week.
   ``--kill`` kills the bot (SIGKILL) once half are posted and starts it again; ``--no-chart``
   turns the chart section off (``/digest sections``' service) to see the burst without
   matplotlib. The bot's log is kept as bench/.data/digest-emulator-bot.log.

Parts 1-2 print the cost of one aiosqlite round trip first: on a busy machine it grows several
times over, and a digest's read is one round trip (``bot.db.rows.in_one_hop``).

Figures, not asserts: the README records them.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import gc
import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pycountry

from bot.db import Database
from bot.db.repos import digests as digests_repo
from bot.db.repos import picks as picks_repo
from bot.db.repos import swaps as swaps_repo
from bot.db.rows import fetch_all, in_one_hop
from bot.domain.digest import SECTIONS, week_key
from bot.domain.picks import FORMATS, PickFields, build_draft
from bot.domain.timeutil import to_epoch
from bot.scheduler import Scheduler
from bot.services import digests as digests_service
from bot.services.digests import DigestContent

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / ".data"
#: Bump when the generator changes: the cached database's name carries it.
DATA_VERSION = 2
#: When the digest of the benchmark's week is due (a Monday, 10:00 UTC): its week is the seven
#: days before.
DUE = datetime(2026, 11, 23, 10, tzinfo=UTC)
WEEK_START = DUE - timedelta(days=7)
SPAN = timedelta(days=3 * 365)
# Snowflake-sized ids (19 digits), so jump links and mentions are as long as Discord's.
GUILD_BASE = 1_150_000_000_000_000_000  # server of rank r is GUILD_BASE + r
USER_BASE = 1_160_000_000_000_000_000
CHANNEL_BASE = 1_170_000_000_000_000_000  # the channel of server r's cards: CHANNEL_BASE + r
MESSAGE_BASE = 1_180_000_000_000_000_000  # pick i's card: MESSAGE_BASE + i
BATCH = 20_000
#: Servers (busiest first) that get parties and a swap round; the busiest gets every section.
WITH_EVENTS = 10
SYLLABLES = ["ka", "lo", "mi", "ne", "ra", "su", "to", "vi", "da", "po", "re", "si", "ga", "mu", "te",
             "bo", "fe", "ju", "xa", "zo", "qui", "dre", "bla", "sto", "gra", "pri", "klo", "vel"]  # fmt: skip
TAG_ROOTS = ["ambient", "drone", "minimal-synth", "cold-wave", "dub-techno", "shoegaze", "post-punk",
             "ebm", "tishoumaren", "sahel-rock", "dream-pop", "kosmische", "italo", "noise",
             "library", "dungeon-synth", "slowcore", "jangle", "no-wave", "fourth-world"]  # fmt: skip
NOTE_EXTRAS = ["*hypnotic*", "_warm_", "# side B", "- the B-side", "`tape hiss`", "<3", "a > b"]


# -- generating the archive ------------------------------------------------------------------


def word(rng: random.Random) -> str:
    return "".join(rng.choices(SYLLABLES, k=2 + int(rng.random() * 3)))


class Zipf:
    """Ranks 0..n-1 drawn with weight 1/(rank+1)^s."""

    def __init__(self, n: int, s: float) -> None:
        total, self.cum = 0.0, list[float]()
        for rank in range(n):
            total += 1.0 / (rank + 1) ** s
            self.cum.append(total)
        self.total = total

    def draw(self, rng: random.Random) -> int:
        return bisect.bisect_left(self.cum, rng.random() * self.total)


class Vocab:
    """A Zipf-ranked vocabulary that each server reads from its own rotation, so servers differ
    in what is common to them and each has a long tail of values it rarely or never had."""

    def __init__(self, values: list[str], s: float) -> None:
        self.values = values
        self.zipf = Zipf(len(values), s)

    def draw(self, rng: random.Random, offset: int) -> str:
        return self.values[(self.zipf.draw(rng) + offset) % len(self.values)]


def unique_words(rng: random.Random, count: int, shape: Callable[[str], str]) -> list[str]:
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen[shape(word(rng))] = None
    return list(seen)


class Generator:
    def __init__(self, servers: int, seed: int) -> None:
        rng = random.Random(seed)
        self.rng = random.Random(seed + 1)
        codes = sorted(str(c.alpha_2) for c in pycountry.countries)
        rng.shuffle(codes)
        self.countries = Vocab(codes, 1.3)
        self.cities = Vocab(unique_words(rng, 2_500, str.title), 1.1)
        suffixes = ["Records", "Tapes", "Editions", "Sound", "Recordings"]
        self.labels = Vocab(
            unique_words(rng, 4_000, lambda w: f"{w.title()} {rng.choice(suffixes)}"), 1.1
        )
        tags = list(TAG_ROOTS) + unique_words(rng, 180, lambda w: f"{w}-{rng.choice(['wave', 'core', 'gaze'])}")  # fmt: skip
        self.tags = Vocab(tags, 1.2)
        self.offsets = {
            rank: tuple(rng.randrange(10_000) for _ in range(4)) for rank in range(1, servers + 1)
        }

    def fields(self, rank: int, n: int) -> PickFields:
        rng = self.rng
        country_at, city_at, label_at, tag_at = self.offsets[rank]
        tags: list[str] = []
        for _ in range(rng.choices((0, 1, 2, 3), (15, 40, 30, 15))[0]):
            tag = self.tags.draw(rng, tag_at)
            if tag not in tags:
                tags.append(tag)
        note = None
        if rng.random() < 0.6:
            words = [word(rng) for _ in range(rng.randint(3, 25))]
            if rng.random() < 0.1:
                words.insert(rng.randrange(len(words) + 1), rng.choice(NOTE_EXTRAS))
            note = " ".join(words)
        return PickFields(
            artist=f"{word(rng).title()} {word(rng).title()}",
            title=f"{word(rng).title()} {n}",
            subgenres=", ".join(tags) or None,
            label=self.labels.draw(rng, label_at) if rng.random() < 0.7 else None,
            year=rng.randint(1965, 2026) if rng.random() < 0.9 else None,
            country=self.countries.draw(rng, country_at) if rng.random() < 0.8 else None,
            city=self.cities.draw(rng, city_at) if rng.random() < 0.5 else None,
            format=rng.choice(FORMATS) if rng.random() < 0.7 else None,
            note=note,
        )


def guild_of(rank: int) -> int:
    return GUILD_BASE + rank


def member_of(rank: int, n: int) -> int:
    return USER_BASE + rank * 100_000 + n


def server_sizes(picks: int, servers: int, s: float) -> list[int]:
    """Picks per server (index 0 is rank 1), by a Zipf law, summing to ``picks``."""
    weights = [1.0 / (rank**s) for rank in range(1, servers + 1)]
    total = sum(weights)
    sizes = [max(1, int(picks * w / total)) for w in weights]
    sizes[0] += picks - sum(sizes)
    return sizes


VOTE_SQL = """
INSERT INTO pick_votes (pick_id, kind, user_id, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""


async def build_archive(db: Database, picks: int, servers: int, s: float, seed: int) -> None:
    gen = Generator(servers, seed)
    rng = random.Random(seed + 2)
    sizes = server_sizes(picks, servers, s)
    end, begin = to_epoch(DUE), to_epoch(DUE - SPAN)
    # Every pick's moment and server, in the order they were shared (ids grow with time, as in a
    # real archive); the busiest server was there from the start, others joined later.
    moments: list[tuple[int, int]] = []
    for rank, size in enumerate(sizes, start=1):
        start = begin if rank == 1 else begin + int(rng.random() * 0.75 * (end - begin))
        moments.extend((start + int(rng.random() * (end - start)), rank) for _ in range(size))
    moments.sort()
    pools = {rank: max(5, size // 15) for rank, size in enumerate(sizes, start=1)}
    sharers = {rank: Zipf(pool, 1.0) for rank, pool in pools.items()}
    removed: list[tuple[int, int, int]] = []
    started = time.perf_counter()
    next_id = 1

    async def insert(rows: tuple[list[Any], list[Any], list[Any]], done: int) -> None:
        pick_rows, tag_rows, vote_rows = rows
        async with db.transaction() as conn:
            await conn.executemany(picks_repo.INSERT_PICK_WITH_ID, pick_rows)
            await conn.executemany(picks_repo.INSERT_TAG, tag_rows)
            await conn.executemany(VOTE_SQL, vote_rows)
        rate = done / (time.perf_counter() - started)
        print(f"  built {done:,}/{len(moments):,} picks ({rate:,.0f}/s)", end="\r", flush=True)

    # SQLite runs one batch on aiosqlite's thread (releasing the GIL) while the next is made.
    writing: asyncio.Task[None] | None = None
    for first in range(0, len(moments), BATCH):
        pick_rows: list[Any] = []
        tag_rows: list[Any] = []
        vote_rows: list[Any] = []
        for created_at, rank in moments[first : first + BATCH]:
            guild_id = guild_of(rank)
            draft = build_draft(gen.fields(rank, next_id), current_year=2026)
            sharer = member_of(rank, sharers[rank].draw(rng))
            pick_rows.append(
                picks_repo.draft_params(draft)
                | {"id": next_id, "guild_id": guild_id, "shared_by": sharer, "created_at": created_at}
            )  # fmt: skip
            tag_rows.extend(
                {"guild_id": guild_id, "tag": tag, "pick_id": next_id} for tag in draft.subgenres
            )
            for kind, mean in (("heard", 1.5), ("loved", 0.8)):
                count = min(pools[rank], int(rng.expovariate(1 / mean)))
                for voter in rng.sample(range(pools[rank]), count):
                    vote_rows.append(
                        (
                            next_id,
                            kind,
                            member_of(rank, voter),
                            created_at + rng.randint(60, 86_400),
                        )
                    )
            if rng.random() < 0.005:
                removed.append((created_at + 3_600, sharer, next_id))
            next_id += 1
        if writing is not None:
            await writing
        done = min(len(moments), first + BATCH)
        writing = asyncio.create_task(insert((pick_rows, tag_rows, vote_rows), done))
    if writing is not None:
        await writing
    print()
    async with db.transaction() as conn:
        # Every pick has its card (what picks_repo.set_card records after the post).
        await conn.execute(
            "UPDATE picks SET channel_id = ? + guild_id - ?, message_id = ? + id",
            (CHANNEL_BASE, GUILD_BASE, MESSAGE_BASE),
        )
        await conn.executemany(
            "UPDATE picks SET deleted_at = ?, deleted_by = ? WHERE id = ?", removed
        )
        for rank in range(1, min(WITH_EVENTS, servers) + 1):
            await add_events(conn, rank, pools[rank], random.Random(seed + 100 + rank))
        await conn.execute("INSERT INTO picks_fts(picks_fts) VALUES ('optimize')")


async def add_events(conn: Any, rank: int, pool: int, rng: random.Random) -> None:
    """Two parties held in the week (with tracks, reactions and RSVPs), two coming in the next
    seven days, and one swap round revealed in the week."""
    guild_id, channel = guild_of(rank), CHANNEL_BASE + rank
    created = to_epoch(WEEK_START) - 86_400 * 10
    for n, (starts, status) in enumerate(
        [
            (WEEK_START + timedelta(days=2, hours=19), "ended"),
            (WEEK_START + timedelta(days=5, hours=20), "ended"),
            (DUE + timedelta(days=2, hours=20), "scheduled"),
            (DUE + timedelta(days=6, hours=21), "scheduled"),
        ]
    ):
        ended = status == "ended"
        length = 3_600 + 600 * n
        cursor = await conn.execute(
            """INSERT INTO parties (guild_id, host_id, what, starts_at, duration_s, zone,
                channel_id, status, card_channel_id, card_message_id, thread_id, started_at,
                ended_at, writers, beat, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, 'Europe/Berlin', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            RETURNING id""",
            (
                guild_id, member_of(rank, n), f"Listening party {n}: {word(rng).title()} "
                f"— *{word(rng)}* night", to_epoch(starts), length, channel, status, channel,
                MESSAGE_BASE - 1_000 * rank - n, CHANNEL_BASE + 10_000 + 10 * rank + n if ended else None,
                to_epoch(starts) if ended else None, to_epoch(starts) + length if ended else None,
                rng.randint(2, 12) if ended else None, 12 if ended else 0, created, created,
            ),
        )  # fmt: skip
        party_id = await returned_id(cursor)
        if ended:
            await conn.executemany(
                """INSERT INTO party_tracks (party_id, number, title, seconds, reactions)
                VALUES (?, ?, ?, ?, ?)""",
                [
                    (party_id, t, f"{word(rng).title()} {word(rng)}", 240, rng.randint(0, 30))
                    for t in range(1, 13)
                ],
            )
        choices = ["going", "maybe", "cant"]
        await conn.executemany(
            """INSERT INTO party_rsvps (party_id, user_id, choice, source, updated_at)
            VALUES (?, ?, ?, 'button', ?)""",
            [
                (party_id, member_of(rank, m), rng.choice(choices), created)
                for m in rng.sample(range(pool), min(pool, 40))
            ],
        )
    revealed = to_epoch(WEEK_START + timedelta(days=4, hours=18))
    cursor = await conn.execute(
        """INSERT INTO swap_rounds (guild_id, channel_id, opener_id, theme, join_until,
            review_until, zone, mode, anonymous, status, card_message_id, thread_id, seed,
            paired_at, revealed_at, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, 'UTC', 'cross-scene', 0, 'revealed', ?, ?, 7, ?, ?, ?, ?)
        RETURNING id""",
        (
            guild_id, channel, member_of(rank, 0), f"Records from where you grew up ({word(rng)})",
            revealed - 9 * 86_400, revealed, MESSAGE_BASE - 1_000 * rank - 9, CHANNEL_BASE + 20_000 + rank,
            revealed - 9 * 86_400, revealed, revealed - 12 * 86_400, revealed,
        ),
    )  # fmt: skip
    round_id = await returned_id(cursor)
    members = [member_of(rank, m) for m in rng.sample(range(pool), min(pool, 30))]
    entry_ids = []
    for i, user in enumerate(members):
        cursor = await conn.execute(
            """INSERT INTO swap_entries (round_id, user_id, artist, title, note, country,
                subgenres, receiver_id, joined_at, updated_at)
            VALUES (?, ?, ?, ?, 'why it matters', ?, '[]', ?, ?, ?) RETURNING id""",
            (
                round_id, user, word(rng).title(), word(rng).title(),
                rng.choice(["FR", "DE", "ML", "JP", "BR", "NG", "IS"]),
                members[(i + 1) % len(members)], revealed - 11 * 86_400, revealed - 11 * 86_400,
            ),
        )  # fmt: skip
        entry_id = await returned_id(cursor)
        entry_ids.append(entry_id)
    await conn.executemany(
        """INSERT INTO swap_reviews (round_id, entry_id, reviewer_id, rating, thoughts,
            created_at, updated_at) VALUES (?, ?, ?, ?, 'lovely', ?, ?)""",
        [
            (round_id, entry_id, members[(i + 1) % len(members)], rng.randint(1, 5),
             revealed - 86_400, revealed - 86_400)
            for i, entry_id in enumerate(entry_ids)
            if rng.random() < 0.8
        ],
    )  # fmt: skip


async def returned_id(cursor: Any) -> int:
    row = await cursor.fetchone()
    await cursor.close()
    assert row is not None
    return int(row[0])


def migrations_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((PROJECT_ROOT / "bot" / "db" / "migrations").glob("*.sql")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:8]


async def open_archive(args: argparse.Namespace) -> Database:
    """The benchmark's database, built first if no file for these parameters exists (into a
    scratch name, renamed once complete, so an interrupted build is never reused)."""
    DATA.mkdir(exist_ok=True)
    name = (
        f"digest-{args.picks}-{args.servers}-z{args.zipf}-s{args.seed}"
        f"-v{DATA_VERSION}-m{migrations_hash()}.sqlite3"
    )
    path = DATA / name
    if not path.exists():
        building = DATA / f"building-{name}"
        for stale in DATA.glob(f"building-{name}*"):
            stale.unlink()
        print(f"Building {name} (once; reused by later runs)")
        t0 = time.perf_counter()
        db = await Database.open(building)
        try:
            await build_archive(db, args.picks, args.servers, args.zipf, args.seed)
        finally:
            await db.close()
        building.rename(path)
        for leftover in DATA.glob(f"building-{name}-*"):  # an empty WAL after a clean close
            leftover.unlink()
        print(f"  built in {time.perf_counter() - t0:.0f} s, {path.stat().st_size / 1e6:,.0f} MB")
    return await Database.open(path)


# -- timing the digest ------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def describe(samples: Sequence[float]) -> str:
    return (
        f"p50 {statistics.median(samples):7.2f} ms   p99 {percentile(samples, 0.99):7.2f} ms   "
        f"max {max(samples):7.2f} ms"
    )


async def timed(runs: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def timed_sync(runs: int, call: Callable[[], object]) -> list[float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


async def gather(db: Database, rank: int) -> DigestContent:
    return await digests_service.gather(db, guild_of(rank), WEEK_START, DUE, DUE)


def embed_of(content: DigestContent, rank: int) -> Any:
    from cogs.digest.embeds import digest_embed

    return digest_embed(
        content, server_name=f"Scene {rank}", week=week_key(DUE, "UTC"), with_chart=True
    )


async def archive_benchmarks(db: Database, args: argparse.Namespace) -> None:
    from bot.charts import render_bar_chart
    from cogs.digest.embeds import chart

    async with db.read() as conn:
        sizes = await fetch_all(
            conn, "SELECT guild_id, picks FROM archive_sizes ORDER BY picks DESC"
        )
        totals = await fetch_all(
            conn,
            "SELECT (SELECT count(*) FROM pick_votes), (SELECT count(*) FROM pick_tags), "
            "(SELECT count(*) FROM picks WHERE deleted_at IS NOT NULL)",
        )
    busiest, busiest_size = sizes[0]
    assert busiest == guild_of(1)
    votes, tags, removed = next(iter(totals))
    print(
        f"\n{sum(r[1] for r in sizes):,} picks over {len(sizes):,} servers; busiest "
        f"{busiest_size:,}, median {sizes[len(sizes) // 2][1]:,}, smallest {sizes[-1][1]:,}; "
        f"{votes:,} votes, {tags:,} tags, {removed:,} removed"
    )

    gc.freeze()  # as python -m bot does before connecting
    async with db.read() as conn:  # what one statement costs here before any SQL runs
        hops = await timed(500, lambda: conn.execute_fetchall("SELECT 1"))
    print(
        f"One aiosqlite round trip (SELECT 1) on this machine now: p50 {statistics.median(hops):.3f} ms"
    )
    content = await gather(db, 1)
    embed = embed_of(content, 1)
    firsts = Counter(first.kind for first in content.firsts)
    print(
        f"Busiest server's week {week_key(DUE, 'UTC')}: {content.counts.picks} picks "
        f"({'counted in SQL' if not content.facts else 'read into Python'}), new on the "
        f"map {dict(firsts)}, {len(content.swaps)} swap round(s), {len(content.parties)} "
        f"parties held, {len(content.coming)} coming, from the archive: "
        f"{'yes' if content.from_archive else 'no'}"
    )
    print(
        f"  embed: {len(embed.fields)} fields ({', '.join(f.name or '' for f in embed.fields)}), "
        f"{len(embed):,} characters"
    )

    print(f"\nBusiest server's digest ({args.runs} runs; target < 10 ms for gather + embed)")
    for _ in range(3):  # warm the page cache and the statement cache
        await gather(db, 1)
    gathered = await timed(args.runs, lambda: gather(db, 1))
    embedded = timed_sync(args.runs, lambda: embed_of(content, 1))

    async def both() -> None:
        embed_of(await gather(db, 1), 1)

    built = await timed(args.runs, both)
    print(f"  {'gather (one read)':<40} {describe(gathered)}")
    print(f"  {'digest_embed':<40} {describe(embedded)}")
    print(f"  {'gather + digest_embed':<40} {describe(built)}")
    await breakdown(db, content, args.runs)

    title, bars = chart(content)
    t0 = time.perf_counter()
    png = render_bar_chart(f"{title} this week", bars)
    first_chart = (time.perf_counter() - t0) * 1000
    charts = timed_sync(10, lambda: render_bar_chart(f"{title} this week", bars))
    print(
        f"  {'chart (matplotlib, not in the target)':<40} {describe(charts)}   "
        f"(first, with imports: {first_chart:.0f} ms; {len(png) / 1000:.0f} kB, {len(bars)} bars)"
    )

    rank = len(sizes) // 2  # a median server whose week has a chart (two subgenres or more)
    while True:
        title, bars = chart(await gather(db, rank))
        if bars or rank == 1:
            break
        rank -= 1
    charts = timed_sync(10, lambda: render_bar_chart(f"{title} this week", bars))
    print(
        f"  {'chart of a median server':<40} {describe(charts)}   (server {rank}, {len(bars)} bars)"
    )

    await explain(db, content)

    print(f"\nEvery server's digest in turn ({len(sizes):,} servers, one Database; target < 1 s)")
    for attempt in ("first pass", "second pass"):
        per_server: list[tuple[float, int]] = []
        quiet = 0
        t0 = time.perf_counter()
        for rank in range(1, len(sizes) + 1):
            s0 = time.perf_counter()
            built_content = await gather(db, rank)
            if built_content.quiet:
                quiet += 1
            else:
                embed_of(built_content, rank)
            per_server.append(((time.perf_counter() - s0) * 1000, rank))
        took = time.perf_counter() - t0
        slowest = sorted(per_server, reverse=True)[:3]
        print(
            f"  {attempt:<12} {took * 1000:8.0f} ms in all ({took * 1000 / len(sizes):.2f} ms a "
            f"server; {quiet} quiet weeks); slowest: "
            + ", ".join(f"server {rank} {ms:.1f} ms" for ms, rank in slowest)
        )


async def breakdown(db: Database, content: DigestContent, runs: int) -> None:
    """Each statement of the busiest server's gather on its own, one hop each (p50), to see
    where time goes (gather itself runs them all in one hop)."""
    guild_id = guild_of(1)
    steps: list[tuple[str, Callable[[Any], object]]] = [
        (
            f"few_week_picks (first {digests_service.SHOWN_MAX + 1}: too many)",
            lambda c: digests_repo.read_few_week_picks(
                c, guild_id, WEEK_START, DUE, digests_service.SHOWN_MAX
            ),
        ),
        ("week_size", lambda c: digests_repo.read_week_size(c, guild_id, WEEK_START, DUE)),
        (
            "week_counts (size, ranked, curators, chart)",
            lambda c: digests_repo.read_week_counts(c, guild_id, WEEK_START, DUE),
        ),
        (
            "(week_facts: every pick, no longer read)",
            lambda c: digests_repo.read_week_facts(c, guild_id, WEEK_START, DUE),
        ),
        (
            f"get_picks (the {len(content.picks)} shown)",
            lambda c: picks_repo.read_picks(c, guild_id, [p.id for p in content.picks]),
        ),
        (
            "new on the map (firsts' picks, first_seen)",
            lambda c: digests_service._firsts(
                c,
                guild_id,
                digests_repo.read_week_firsts_facts(c, guild_id, WEEK_START, DUE),
                WEEK_START,
            ),
        ),
        (
            "rounds_revealed",
            lambda c: digests_repo.read_rounds_revealed(c, guild_id, WEEK_START, DUE),
        ),
        ("swap entries + reviews (per round)", lambda c: swap_details(c, content)),
        ("parties_held", lambda c: digests_repo.read_parties_held(c, guild_id, WEEK_START, DUE)),
        ("came + top_track (per party)", lambda c: party_details(c, content)),
        (
            "parties_coming",
            lambda c: digests_repo.read_parties_coming(
                c, guild_id, DUE, DUE + timedelta(days=7), 10
            ),
        ),
        ("first_pick_at", lambda c: digests_repo.read_first_pick_at(c, guild_id)),
        ("from the archive (same week, past years)", lambda c: from_archive(c, guild_id)),
    ]
    print("  breakdown (p50 of each statement alone, one hop each):")
    async with db.read() as conn:
        for label, step in steps:
            samples = await timed(runs, lambda s=step: in_one_hop(conn, s))  # type: ignore[misc]
            print(f"    {label:<44} {statistics.median(samples):6.2f} ms")


def swap_details(conn: Any, content: DigestContent) -> None:
    for result in content.swaps:
        swaps_repo.read_entries(conn, result.round.id)
        swaps_repo.read_reviews(conn, result.round.id)


def party_details(conn: Any, content: DigestContent) -> None:
    for recap in content.parties:
        digests_repo.read_came(conn, recap.party.id)
        digests_repo.read_top_track(conn, recap.party.id)


def from_archive(conn: Any, guild_id: int) -> object:
    return digests_service._from_archive(conn, guild_id, WEEK_START, "UTC")


async def explain(db: Database, content: DigestContent) -> None:
    guild_id = guild_of(1)
    print("\nEXPLAIN QUERY PLAN of the 'new on the map' statement (bot/db/repos/digests.py)")
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "EXPLAIN QUERY PLAN " + digests_repo.FIRST_SEEN_SINCE,
            {"guild_id": guild_id, "start": to_epoch(WEEK_START)},
        )
        depth: dict[int, int] = {0: 0}
        for node, parent, _, detail in rows:
            depth[node] = depth.get(parent, 0) + 1
            print(f"    {'  ' * (depth[node] - 1)}{detail}")
        window = {"guild_id": guild_id, "start": to_epoch(WEEK_START), "end": to_epoch(DUE)}
        for name, sql, params in (
            ("week_ranked", digests_repo.WEEK_RANKED, {**window, "limit": 40}),
            ("week_curators", digests_repo.WEEK_CURATORS, {**window, "limit": 10}),
            ("week_subgenres", digests_repo.WEEK_SUBGENRES, window),
            ("week_firsts_facts", digests_repo.WEEK_FIRSTS_FACTS, window),
        ):
            rows = await conn.execute_fetchall("EXPLAIN QUERY PLAN " + sql, params)
            print(f"  {name}:")
            for _, _, _, detail in rows:
                print(f"    {detail}")


# -- posting through the emulator ---------------------------------------------------------------


class FixedClock:
    """The scheduler's clock while seeding: the emulator's time when seeding began."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def seed_digests(
    path: Path,
    guilds: list[tuple[int, int, int]],
    now: datetime,
    due: datetime,
    seed: int,
    no_chart: bool,
) -> None:
    """Each guild ``(guild_id, channel_id, owner_id)``: five picks shared in the last days (with
    subgenres, so the digest has its chart, and votes), and its digest set up through the
    service ``/digest setup`` calls, due at ``due``."""
    gen = Generator(1, seed)
    rng = random.Random(seed)
    db = await Database.open(path)
    try:
        scheduler = Scheduler(db, FixedClock(now))
        for n, (guild_id, _, owner_id) in enumerate(guilds):
            async with db.transaction() as conn:
                for k in range(5):
                    draft = build_draft(gen.fields(1, n * 10 + k), current_year=2026)
                    created = to_epoch(now) - rng.randint(3_600, 5 * 86_400)
                    pick_id = await picks_repo.insert_pick(
                        conn, guild_id, draft, owner_id + k, created
                    )
                    await conn.executemany(
                        VOTE_SQL,
                        [(pick_id, "loved", owner_id + v, created + 60) for v in range(k)],
                    )
        for guild_id, channel_id, owner_id in guilds:
            planned = await digests_service.setup(
                db, scheduler, guild_id=guild_id, user_id=owner_id, channel_id=channel_id,
                weekday=due.weekday(), at=f"{due:%H:%M}", zone="UTC", now=now,
            )  # fmt: skip
            assert planned.next_run == due, (planned.next_run, due)
            if no_chart:
                shown = set(SECTIONS) - {"chart"}
                await digests_service.set_sections(db, guild_id, owner_id, shown, now)
        async with db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT dedupe_key, run_at, payload FROM jobs WHERE kind = 'digest.post'"
            )
        week = week_key(due, "UTC")
        expected = {f"digest:{g}:{week}" for g, _, _ in guilds}
        assert {row[0] for row in rows} == expected
        assert {row[1] for row in rows} == {to_epoch(due)}
        payloads = [json.loads(row[2]) for row in rows]  # planned by the service itself
        assert all((p["week"], p["due"]) == (week, to_epoch(due)) for p in payloads)
    finally:
        await db.close()


async def start_bot(bot: Any, within: float) -> float:
    """Start the bot and wait for its "Ready as" line; returns the seconds it took."""
    offset = bot.log_path.stat().st_size if bot.log_path.exists() else 0
    t0 = time.perf_counter()
    await bot.start(within=within)
    await bot.wait_for_log(r"Ready as ", offset=offset, within=within)
    return time.perf_counter() - t0


def digest_counts(world: Any, channels: dict[int, int]) -> tuple[Counter[int], int, int, float]:
    """Weekly digests per guild in its channel, how many were marked late, how many carry the
    chart, and the world time of the last one."""
    counts: Counter[int] = Counter()
    late = with_chart = 0
    last = 0.0
    bot_id = world.bot_user.id
    for guild_id, channel_id in channels.items():
        for message in world.channels[channel_id].messages:
            if message.deleted or message.author.id != bot_id:
                continue
            footer = (
                (message.embeds[0].get("footer") or {}).get("text", "") if message.embeds else ""
            )
            if footer.startswith("Undercurrent weekly digest") or "quiet week" in message.content:
                counts[guild_id] += 1
                late += "Posted late" in (message.content or "")
                with_chart += bool(message.attachments)
                last = max(last, message.created_at.timestamp())
    return counts, late, with_chart, last


async def emulator_run(
    servers: int, kill: bool, no_chart: bool, seed: int, within: float
) -> dict[str, object]:
    from bench.party_fanout_bench import bot_process, poll
    from sandbox import Emulator, World

    world = World.create()
    t0 = time.perf_counter()
    channels: dict[int, int] = {}
    guilds: list[tuple[int, int, int]] = []
    for n in range(servers):
        guild = world.add_guild(f"Scene {n:04d}", owner=f"owner{n:04d}")
        channel = guild.add_text_channel("digest")
        guild.system_channel_id = channel.id
        channels[guild.id] = channel.id
        guilds.append((guild.id, channel.id, guild.owner_id))
    print(f"  world of {servers:,} guilds built in {time.perf_counter() - t0:.1f} s")
    result: dict[str, object] = {"servers": servers}
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
        workdir = Path(tmp)
        database = workdir / "undercurrent.sqlite3"
        async with Emulator(world) as emulator:
            driver = emulator.driver
            bot = bot_process(emulator, workdir)
            try:
                result["first_start_s"] = round(await start_bot(bot, within), 1)
                print(f"  bot ready with {servers:,} guilds in {result['first_start_s']} s")
                assert await bot.stop(within=60) == 0
                now = driver.now()
                due = (now + timedelta(hours=1)).replace(second=0, microsecond=0)
                t0 = time.perf_counter()
                await seed_digests(database, guilds, now, due, seed, no_chart)
                result["seed_s"] = round(time.perf_counter() - t0, 1)
                result["start_s"] = round(await start_bot(bot, within), 1)
                print(f"  seeded in {result['seed_s']} s; bot ready again in {result['start_s']} s")
                emulator.limits.route("POST", "/channels/{channel_id}/messages", per=5, seconds=5.0)
                emulator.limits.global_limit(per=50, seconds=1.0)
                mark = emulator.recorder.mark()

                def posted() -> int:
                    return len(digest_counts(emulator.world, channels)[0])

                began = time.perf_counter()
                await driver.advance(due - driver.now() + timedelta(seconds=1))
                jumped_to = driver.now().timestamp()
                first_seen = None
                killed_after = None
                restart_s = None

                def progress(target: int) -> Callable[[], bool]:
                    def check() -> bool:
                        nonlocal first_seen
                        done = posted()
                        if done and first_seen is None:
                            first_seen = time.perf_counter() - began
                        return done >= target

                    return check

                if kill:
                    await poll(progress(servers // 2), within=3600, every=0.25)
                    await bot.kill()
                    killed_after = posted()
                    restart_s = round(await start_bot(bot, within), 1)
                    print(f"  killed after {killed_after} digests; ready again in {restart_s} s")
                await poll(progress(servers), within=3600, every=0.5)
                took = time.perf_counter() - began
                await driver.settle()
                await asyncio.sleep(3)  # anything still in flight would show as a duplicate
                counts, late, with_chart, last = digest_counts(emulator.world, channels)
                log_text = bot.log_path.read_text(errors="replace")
                assert await bot.stop(within=60) == 0
                shutil.copy(bot.log_path, DATA / "digest-emulator-bot.log")
                result |= {
                    "seconds_until_last_posted": round(took, 1),
                    "seconds_until_last_posted_world_clock": round(last - jumped_to, 1),
                    "seconds_until_first_seen": round(first_seen or 0.0, 1),
                    "digests_posted": sum(counts.values()),
                    "duplicates": sum(c - 1 for c in counts.values() if c > 1),
                    "missing": sum(1 for g in channels if counts[g] == 0),
                    "marked_late": late,
                    "with_chart": with_chart,
                    "answered_429": len(emulator.recorder.rate_limited(after=mark)),
                    "limits_429": emulator.limits.limited,
                    "killed_after_digests": killed_after,
                    "restart_s": restart_s,
                    "log_errors": len(re.findall(r"\bERROR\b|Traceback", log_text)),
                }
                with sqlite3.connect(database) as conn:
                    jobs = conn.execute(
                        "SELECT status, count(*) FROM jobs WHERE kind = 'digest.post' "
                        "GROUP BY status ORDER BY status"
                    ).fetchall()
                    posts = conn.execute(
                        "SELECT status, count(*) FROM digest_posts GROUP BY status"
                    ).fetchall()
                    outbox = conn.execute(
                        "SELECT status, count(*) FROM outbox WHERE key LIKE 'digest:%' "
                        "GROUP BY status"
                    ).fetchall()
                    next_week = conn.execute(
                        "SELECT count(DISTINCT guild_id) FROM jobs WHERE kind = 'digest.post' "
                        "AND status = 'pending' AND run_at = ?",
                        (to_epoch(due + timedelta(days=7)),),
                    ).fetchone()[0]
                conn.close()
                result |= {
                    "digest_jobs": dict(jobs),
                    "digest_posts": dict(posts),
                    "outbox_digest_entries": dict(outbox),
                    "next_week_jobs": next_week,
                }
                return result
            finally:
                await bot.kill()


# -- command line -------------------------------------------------------------------------------


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--picks", type=int, default=1_000_000)
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--zipf", type=float, default=1.0, help="server size exponent")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--skip-emulator", action="store_true")
    parser.add_argument("--emulator-only", action="store_true")
    parser.add_argument("--kill", action="store_true", help="SIGKILL the bot halfway once")
    parser.add_argument(
        "--no-chart", action="store_true", help="turn the chart section off (emulator run)"
    )
    parser.add_argument("--within", type=float, default=300.0, help="bot start-up timeout (s)")
    args = parser.parse_args()

    print(
        f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"({os.cpu_count()} cores)"
    )
    if not args.emulator_only:
        db = await open_archive(args)
        try:
            await archive_benchmarks(db, args)
        finally:
            await db.close()  # aiosqlite's worker thread would otherwise keep the process alive
    if not args.skip_emulator:
        DATA.mkdir(exist_ok=True)
        print(f"\n{args.servers:,} servers due at the same minute, through the emulator "
              f"(messages 5 per 5 s per channel, 50 requests a second){' with a kill' if args.kill else ''}{', chart off' if args.no_chart else ''}")  # fmt: skip
        result = await emulator_run(args.servers, args.kill, args.no_chart, args.seed, args.within)
        width = max(len(key) for key in result)
        for key, value in result.items():
            print(f"  {key:<{width}}  {value}")


if __name__ == "__main__":
    asyncio.run(main())
