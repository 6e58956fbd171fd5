"""Archive benchmark: search, share and export at the service layer over a million picks.

    .venv/bin/python bench/archive_bench.py [--entries 1000000] [--export-entries 100000]

Builds (once, then reuses) a database under bench/.data/ with one busy server of ``--entries``
picks and a second server of ``--export-entries`` picks, then prints p50/p99 latencies for
search (common word, common tag, rare word, prefixes, filter combinations), for sharing
(dedupe check + insert + FTS index), and peak memory growth for an export. Figures, not asserts:
the README records them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.db import Database
from bot.db.repos import picks as picks_repo
from bot.domain.picks import FORMATS, PickFields, build_draft
from bot.domain.search import SearchFilters
from bot.services import archive_io, archive_search
from bot.services import picks as picks_service

BUSY_GUILD, EXPORT_GUILD = 1, 2
CHANNEL = 3  # where shares are posted (their card's outbox entry names it)
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
TAGS = ["ambient", "drone", "minimal-synth", "cold-wave", "dub-techno", "shoegaze", "post-punk",
        "ebm", "tishoumaren", "sahel-rock", "dream-pop", "kosmische", "italo", "noise", "library"]  # fmt: skip
COUNTRIES = ["FR", "DE", "GB", "US", "ML", "NE", "JP", "IT", "BE", "NL", "IS", "CA", "SE", "ES"]
SYLLABLES = ["ka", "lo", "mi", "ne", "ra", "su", "to", "vi", "da", "po", "re", "si", "ga", "mu", "te",
             "bo", "fe", "ju", "xa", "zo", "qui", "dre", "bla", "sto", "gra", "pri", "klo", "vel"]  # fmt: skip


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def make_fields(rng: random.Random, n: int) -> PickFields:
    tags = []
    if rng.random() < 0.15:  # "ambient" on an ambient-heavy server: ~15 % of the archive
        tags.append("ambient")
    tags += rng.sample(TAGS[1:], rng.randint(0, 2))
    note_words = [word(rng) for _ in range(rng.randint(0, 12))]
    if rng.random() < 0.12:
        note_words.append("hypnotic")  # a common note word, ~12 %
    return PickFields(
        artist=f"{word(rng).title()} {word(rng).title()}",
        title=f"{word(rng).title()} {n}",
        subgenres=", ".join(tags),
        label=f"{word(rng).title()} Records" if rng.random() < 0.7 else None,
        year=rng.randint(1965, 2026) if rng.random() < 0.9 else None,
        country=rng.choice(COUNTRIES) if rng.random() < 0.8 else None,
        city=word(rng).title() if rng.random() < 0.5 else None,
        format=rng.choice(FORMATS) if rng.random() < 0.7 else None,
        note=" ".join(note_words) or None,
    )


async def build(db: Database, guild_id: int, count: int, seed: int) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    batch = 20_000
    for start in range(0, count, batch):
        drafts = [
            build_draft(make_fields(rng, n), current_year=2026)
            for n in range(start, min(count, start + batch))
        ]
        async with db.transaction() as conn:
            for offset, draft in enumerate(drafts):
                await picks_repo.insert_pick(
                    conn, guild_id, draft, 1000 + rng.randint(0, 500), start + offset
                )
        done = min(count, start + batch)
        rate = done / (time.perf_counter() - started)
        print(
            f"  built {done:,}/{count:,} in guild {guild_id} ({rate:,.0f}/s)", end="\r", flush=True
        )
    print()


async def count_matches(conn, match: str) -> int:  # type: ignore[no-untyped-def]
    sql = "SELECT count(*) FROM picks_fts WHERE picks_fts MATCH :match"
    async with conn.execute(sql, {"match": match}) as cursor:
        row = await cursor.fetchone()
    return int(row[0])


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(label: str, runs: int, make_call) -> None:  # type: ignore[no-untyped-def]
    samples = []
    for i in range(runs):
        t0 = time.perf_counter()
        await make_call(i)
        samples.append((time.perf_counter() - t0) * 1000)
    p50, p99 = statistics.median(samples), percentile(samples, 0.99)
    print(f"  {label:<52} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   ({runs} runs)")


def proc_status_kb(field: str) -> int:
    """``VmHWM`` (peak RSS) or ``VmRSS`` (current), in kB, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--export-entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()

    folder = Path(__file__).parent / ".data"
    folder.mkdir(exist_ok=True)
    path = folder / f"archive-{args.entries}-{args.export_entries}.sqlite3"
    fresh = not path.exists()
    db = await Database.open(path)
    try:
        await run_benchmarks(db, args, fresh, path)
    finally:
        await db.close()  # aiosqlite's worker thread would otherwise keep the process alive


async def run_benchmarks(db: Database, args: argparse.Namespace, fresh: bool, path: Path) -> None:
    if fresh:
        print(f"Building {path.name} (once; reused by later runs)")
        await build(db, BUSY_GUILD, args.entries, seed=1)
        await build(db, EXPORT_GUILD, args.export_entries, seed=2)
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO picks_fts(picks_fts) VALUES ('optimize')")
    async with db.read() as conn:
        total = await picks_repo.count_live(conn, BUSY_GUILD)
        ambient = await count_matches(conn, "facets:tambient")
        hypnotic = await count_matches(conn, "note:hypnotic")
    print(f"\nServer {BUSY_GUILD}: {total:,} picks; tag 'ambient' on {ambient:,} ({ambient / total:.0%}), "
          f"note word 'hypnotic' in {hypnotic:,} ({hypnotic / total:.0%})\n")  # fmt: skip

    rng = random.Random(3)
    rare_titles = [f"{n}" for n in rng.sample(range(args.entries), args.runs)]

    async def search(filters: SearchFilters, page: int = 1, guild: int = BUSY_GUILD) -> None:
        await archive_search.search_archive(db, guild, filters, page, NOW)

    def small(filters: SearchFilters) -> Awaitable[None]:
        return search(filters, guild=EXPORT_GUILD)

    gc.freeze()  # as python -m bot does before connecting (see bot/__main__.py)
    print(f"Search (service layer, first page unless noted; server {BUSY_GUILD} unless noted)")
    cases = [
        ("common word 'ambient' (query, ranked)", lambda i: search(SearchFilters(query="ambient"))),
        ("common note word 'hypnotic' (ranked)", lambda i: search(SearchFilters(query="hypnotic"))),
        ("common word, page 50", lambda i: search(SearchFilters(query="ambient"), 50)),
        ("common tag filter 'ambient' (newest first)", lambda i: search(SearchFilters(subgenre="ambient"))),
        ("rare term (a title number)", lambda i: search(SearchFilters(query=rare_titles[i]))),
        ("two short words 'ka lo' (exact: < 3 letters)", lambda i: search(SearchFilters(query="ka lo"))),
        ("last word a 3-letter prefix 'lor'", lambda i: search(SearchFilters(query="lor"))),
        ("word + prefix 'ambient hyp'", lambda i: search(SearchFilters(query="ambient hyp"))),
        ("word + tag + country + years 1978-91", lambda i: search(SearchFilters(query="ambient", subgenre="drone", country="FR", year_from=1978, year_to=1991))),
        ("common word + country + years 1978-91", lambda i: search(SearchFilters(query="hypnotic", country="FR", year_from=1978, year_to=1991))),
        ("common word + country + decade", lambda i: search(SearchFilters(query="hypnotic", country="FR", year_from=1980, year_to=1989))),
        ("common word + tag + years 1978-91", lambda i: search(SearchFilters(query="hypnotic", subgenre="drone", year_from=1978, year_to=1991))),
        ("common word + format + years 1979-92", lambda i: search(SearchFilters(query="hypnotic", format="cassette", year_from=1979, year_to=1992))),
        ("common word + years 1978-91 (no filter)", lambda i: search(SearchFilters(query="hypnotic", year_from=1978, year_to=1991))),
        ("common word + one year", lambda i: search(SearchFilters(query="ambient", year_from=2026, year_to=2026))),
        ("word + subgenre + format (~1,100 matches)", lambda i: search(SearchFilters(query="ambient", subgenre="drone", format="cassette"))),
        ("two common words + format (~2,200 matches)", lambda i: search(SearchFilters(query="ambient hypnotic", format="cassette"))),
        ("filters only: tag + country + years 1978-91", lambda i: search(SearchFilters(subgenre="drone", country="FR", year_from=1978, year_to=1991))),
        ("filters only: format + decade", lambda i: search(SearchFilters(format="cassette", year_from=1980, year_to=1989))),
        ("no results (suggestions computed)", lambda i: search(SearchFilters(query="zzqxv"))),
        ("everything (no query, no filters)", lambda i: search(SearchFilters())),
        ("small server (100k of 1.1M): common word", lambda i: small(SearchFilters(query="ambient"))),
        ("small server: word + prefix", lambda i: small(SearchFilters(query="ambient hyp"))),
        ("small server: word + tag + country + years", lambda i: small(SearchFilters(query="ambient", subgenre="drone", country="FR", year_from=1978, year_to=1991))),
    ]  # fmt: skip
    for label, call in cases:
        await timed(label, args.runs, call)

    print("\nShare (dedupe check + insert + tags + FTS index, one transaction)")
    share_rng = random.Random(4)

    async def share(i: int) -> None:
        given = make_fields(share_rng, 10_000_000 + i)
        result = await picks_service.share_pick(
            db, guild_id=BUSY_GUILD, user_id=42, channel_id=CHANNEL, now=NOW, given=given
        )
        assert result.pick is not None

    await timed("share a new pick", max(args.runs, 1000), share)

    async def share_duplicate(i: int) -> None:
        result = await picks_service.share_pick(
            db,
            guild_id=BUSY_GUILD,
            user_id=43,
            channel_id=CHANNEL,
            now=NOW,
            given=PickFields(artist="Ka Lo", title="Duplicate"),
        )
        assert i == 0 or result.duplicate is not None

    await timed("share a duplicate (refused)", args.runs, share_duplicate)
    async with db.transaction() as conn:  # leave the benchmark database as it was built
        await conn.execute("DELETE FROM picks WHERE created_at >= :t", {"t": int(NOW.timestamp())})
        await conn.execute("DELETE FROM outbox WHERE key GLOB 'pick:[0-9]*:card'")

    print(f"\nExport of {args.export_entries:,} entries (server {EXPORT_GUILD})")
    for fmt in ("csv", "json"):
        with tempfile.TemporaryDirectory() as tmp:
            Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS counter
            before = proc_status_kb("VmRSS")
            t0 = time.perf_counter()
            result = await archive_io.export_archive(
                db, EXPORT_GUILD, fmt, Path(tmp), limit_bytes=25 * 1024 * 1024, title="bench"
            )
            elapsed = time.perf_counter() - t0
            growth = (proc_status_kb("VmHWM") - before) / 1024
            size = sum(p.stat().st_size for p in result.files) / 1e6
            print(f"  {fmt:<5} {result.entries:,} entries in {elapsed:5.1f} s, {len(result.files)} file(s), "
                  f"{size:.1f} MB{' (gzip)' if result.compressed else ''}; peak RSS growth {growth:.1f} MB")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
