"""Exporting a server's archive to files, and importing one back, all or nothing."""

from __future__ import annotations

import asyncio
import gzip
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.db import Database
from bot.db.repos import archive_files as files_repo
from bot.domain.archive_format import (
    EXPORT_FORMATS,
    FILE_SUFFIX,
    RecordWriter,
    parse_import,
    to_record,
)
from bot.domain.timeutil import to_epoch
from bot.errors import UserError

EXPORT_BATCH = 1000
SIZE_MARGIN = 0.9  # leave room for multipart overhead under the upload limit


class ImportRejected(UserError):
    """Nothing was imported; ``problems`` lists every reason, by line or entry."""

    def __init__(self, problems: list[str]) -> None:
        shown = "\n".join(f"• {p}" for p in problems[:15])
        more = (
            f"\n… and {len(problems) - 15} more (see the attached report)"
            if len(problems) > 15
            else ""
        )
        super().__init__(f"Nothing was imported: {len(problems)} problem(s).\n{shown}{more}")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ExportResult:
    files: list[Path]
    entries: int
    compressed: bool


async def export_records(db: Database, guild_id: int) -> AsyncIterator[dict[str, Any]]:
    """Every live entry of the server as an export record, fetched a batch at a time (each batch
    holds the database only briefly, so the bot keeps answering during a large export)."""
    after = 0
    while True:
        async with db.read() as conn:
            batch = await files_repo.export_batch(conn, guild_id, after, EXPORT_BATCH)
        if not batch:
            return
        for pick, lineage, seconds in batch:
            yield to_record(pick, lineage, seconds)
        after = batch[-1][0].id


async def export_archive(
    db: Database, guild_id: int, fmt: str, folder: Path, *, limit_bytes: int, title: str
) -> ExportResult:
    """Write the archive into ``folder``: one plain file if it fits under ``limit_bytes``,
    otherwise gzip, split into as many gzip parts as it takes (each a complete file)."""
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"**format** must be one of {', '.join(EXPORT_FORMATS)}.")
    suffix = FILE_SUFFIX[fmt]
    plain = folder / f"archive.{suffix}"
    with plain.open("w", encoding="utf-8", newline="") as stream:
        writer = RecordWriter(stream, fmt)
        writer.start(title)
        async for record in export_records(db, guild_id):
            writer.write(record)
        writer.finish()
    if plain.stat().st_size <= limit_bytes * SIZE_MARGIN:
        return ExportResult([plain], writer.count, compressed=False)
    plain.unlink()
    return await _export_gzip_parts(db, guild_id, fmt, folder, limit_bytes, title)


async def _export_gzip_parts(
    db: Database, guild_id: int, fmt: str, folder: Path, limit_bytes: int, title: str
) -> ExportResult:
    budget = int(limit_bytes * SIZE_MARGIN)
    files: list[Path] = []
    total = 0
    part: _GzipPart | None = None
    async for record in export_records(db, guild_id):
        if part is None:
            part = _GzipPart(
                folder / f"archive.part{len(files) + 1:03d}.{FILE_SUFFIX[fmt]}.gz", fmt, title
            )
            files.append(part.path)
        part.write(record)
        total += 1
        if part.compressed_size() >= budget - 64 * 1024:  # gzip buffers up to ~64 KiB
            part.close()
            part = None
    if part is not None:
        part.close()
    if len(files) == 1:
        single = files[0].with_name(f"archive.{FILE_SUFFIX[fmt]}.gz")
        files[0].rename(single)
        files = [single]
    return ExportResult(files, total, compressed=True)


class _GzipPart:
    def __init__(self, path: Path, fmt: str, title: str) -> None:
        self.path = path
        self._raw = path.open("wb")
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6)
        self._text = io.TextIOWrapper(self._gzip, encoding="utf-8", newline="")
        self._writer = RecordWriter(self._text, fmt)
        self._writer.start(title)

    def write(self, record: dict[str, Any]) -> None:
        self._writer.write(record)

    def compressed_size(self) -> int:
        self._text.flush()
        return self._raw.tell()

    def close(self) -> None:
        self._writer.finish()
        self._text.close()  # closes the gzip stream, not the raw file
        self._raw.close()


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    links: int
    seconds: int


MAX_UNPACKED_BYTES = 100_000_000


def decompress_upload(data: bytes, limit: int = MAX_UNPACKED_BYTES) -> bytes:
    """Unpack a .gz upload, refusing one that expands past ``limit`` (a gzip bomb)."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as unpacked:
            content = unpacked.read(limit + 1)
    except (OSError, EOFError) as exc:
        raise UserError("The .gz file is damaged and could not be unpacked.") from exc
    if len(content) > limit:
        raise UserError(
            f"The .gz file unpacks to more than {limit // 1_000_000} MB; split the archive."
        )
    return content


async def import_archive(db: Database, guild_id: int, data: bytes, now: datetime) -> ImportResult:
    """Validate every record, then insert them all in one transaction, or none at all."""
    report = await asyncio.to_thread(lambda: parse_import(decompress_upload(data), now))
    if report.errors:
        raise ImportRejected(report.errors)
    match_keys = {entry.draft.match_key: entry for entry in report.entries}
    link_keys = {entry.draft.link.key: entry for entry in report.entries if entry.draft.link}
    async with db.transaction() as conn:
        existing = await files_repo.find_existing_keys(
            conn, guild_id, list(match_keys), list(link_keys)
        )
        problems = []
        for clash, match_key, link_key in existing:
            entry = match_keys.get(match_key) or link_keys[link_key or ""]
            problems.append(
                f"{entry.where}: already in the archive as #{clash.id} ({clash.artist} — {clash.title})"
            )
        if problems:
            raise ImportRejected(sorted(set(problems), key=_by_position))
        links, seconds = await files_repo.bulk_import(conn, guild_id, report.entries, to_epoch(now))
    return ImportResult(len(report.entries), links, seconds)


def _by_position(problem: str) -> tuple[int, str]:
    where = problem.split(":", 1)[0].split()
    return (int(where[-1]) if where and where[-1].isdecimal() else 0, problem)


def problems_report(problems: list[str]) -> bytes:
    return ("\n".join(problems) + "\n").encode()
