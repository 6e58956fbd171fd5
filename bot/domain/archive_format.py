"""The archive's export formats (CSV, JSON, Markdown) and parsing CSV/JSON back for import.

One record per entry, with the same keys in every format:

``id, artist, title, link, subgenres, label, year, country, city, format, note, shared_by,
shared_at, heard, loved, seconds, lineage``

``seconds`` is a list of ``{"user_id", "note", "at"}`` (a JSON string inside CSV); ``lineage`` is
``relation:id`` pairs separated by ``;`` where ``id`` is another record's ``id`` in the same file.
``heard``/``loved`` are counts for reading; votes belong to members and are not re-created.
Parsing checks every record and reports every problem with its line (CSV) or entry (JSON) number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.domain.picks import (
    FORMER_MEMBER,
    RELATIONS,
    Pick,
    PickDraft,
    PickFields,
    Second,
    build_draft,
    clean_text,
)
from bot.errors import UserError

COLUMNS = (
    "id", "artist", "title", "link", "subgenres", "label", "year", "country", "city", "format",
    "note", "shared_by", "shared_at", "heard", "loved", "seconds", "lineage",
)  # fmt: skip
EXPORT_FORMATS = ("csv", "json", "markdown")
FILE_SUFFIX = {"csv": "csv", "json": "json", "markdown": "md"}
JSON_HEAD = '{"format": "undercurrent-archive", "version": 1, "entries": [\n'
JSON_TAIL = "\n]}\n"
MAX_IMPORT_ROWS = 20_000  # one transaction; ~1 s of holding the database at this size
MAX_ID = 2**63 - 1
EARLIEST = datetime(2015, 5, 13, tzinfo=UTC)  # Discord's first day: nothing was shared before
FORMULA_START = ("=", "+", "-", "@")


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat().replace("+00:00", "Z")


def to_record(pick: Pick, lineage: str | None, seconds: list[Second]) -> dict[str, Any]:
    return {
        "id": pick.id,
        "artist": pick.artist,
        "title": pick.title,
        "link": pick.link_url or "",
        "subgenres": ", ".join(pick.subgenres),
        "label": pick.label or "",
        "year": pick.year if pick.year is not None else "",
        "country": pick.country or "",
        "city": pick.city or "",
        "format": pick.format or "",
        "note": pick.note or "",
        "shared_by": pick.shared_by if pick.shared_by is not None else "",
        "shared_at": iso(pick.created_at),
        "heard": pick.heard,
        "loved": pick.loved,
        "seconds": [
            {"user_id": s.user_id, "note": s.note, "at": iso(s.created_at)} for s in seconds
        ],
        "lineage": lineage or "",
    }


class RecordWriter:
    """Writes records to a text stream in one format, one at a time (nothing is held back)."""

    def __init__(self, stream: io.TextIOBase | Any, fmt: str) -> None:
        if fmt not in EXPORT_FORMATS:
            raise ValueError(fmt)
        self.stream = stream
        self.fmt = fmt
        self.count = 0
        self._csv = csv.DictWriter(stream, COLUMNS, lineterminator="\n") if fmt == "csv" else None

    def start(self, title: str) -> None:
        if self._csv is not None:
            self._csv.writeheader()
        elif self.fmt == "json":
            self.stream.write(JSON_HEAD)
        else:
            self.stream.write(f"# {title}\n\n")

    def write(self, record: dict[str, Any]) -> None:
        if self._csv is not None:
            row = {key: _spreadsheet_safe(value) for key, value in record.items()}
            row["seconds"] = json.dumps(record["seconds"], ensure_ascii=False)
            self._csv.writerow(row)
        elif self.fmt == "json":
            self.stream.write(
                (",\n" if self.count else "") + json.dumps(record, ensure_ascii=False)
            )
        else:
            self.stream.write(_markdown(record))
        self.count += 1

    def finish(self) -> None:
        if self.fmt == "json":
            self.stream.write(JSON_TAIL)


def _spreadsheet_safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading ``'``, which a CSV import
    removes (``_from_spreadsheet``). So that the import can tell, text that already starts
    with ``'`` and then a formula character or another ``'`` gets one too."""
    if isinstance(value, str) and (
        value.startswith(FORMULA_START) or _from_spreadsheet(value) != value
    ):
        return "'" + value
    return value


def _from_spreadsheet(value: str) -> str:
    """Undo ``_spreadsheet_safe``: ``'=x`` → ``=x``, ``''=x`` → ``'=x``; ``'Til`` stays."""
    if value.startswith("'") and value[1:2] in (*FORMULA_START, "'"):
        return value[1:]
    return value


def _markdown(record: dict[str, Any]) -> str:
    lines = [f"## #{record['id']} {_md(record['artist'])} — {_md(record['title'])}", ""]
    details = [
        ("Label", record["label"]), ("Year", record["year"]), ("City", record["city"]),
        ("Country", record["country"]), ("Format", record["format"]),
        ("Subgenres", record["subgenres"]), ("Link", record["link"]),
        ("Shared", f"by {record['shared_by'] or FORMER_MEMBER} at {record['shared_at']}"),
        ("Heard / loved", f"{record['heard']} / {record['loved']}"), ("Lineage", record["lineage"]),
    ]  # fmt: skip
    lines += [
        f"- **{name}:** {_md(str(value))}" for name, value in details if value not in ("", None)
    ]
    if record["note"]:
        lines += [""] + [f"> {_md(line)}" for line in str(record["note"]).splitlines()]
    return "\n".join(lines) + "\n\n"


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_").replace("#", "\\#")


# -- import -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportedEntry:
    """One valid record, ready to insert. ``source_id`` is its ``id`` in the file."""

    where: str
    source_id: int | None
    draft: PickDraft
    shared_by: int | None
    created_at: int | None
    seconds: list[tuple[int | None, str | None, int | None]] = field(default_factory=list)
    lineage: list[tuple[str, int]] = field(default_factory=list)


@dataclass(slots=True)
class ImportReport:
    entries: list[ImportedEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_records(data: bytes) -> tuple[str, Iterator[tuple[str, dict[str, Any]]]]:
    """Detect CSV or JSON and yield ``(where, record)``; ``where`` is "line N" or "entry N"."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError("The file is not UTF-8 text; export it again from Undercurrent.") from exc
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"The JSON file is malformed at line {exc.lineno}: {exc.msg}.") from exc
        entries = document.get("entries") if isinstance(document, dict) else document
        if not isinstance(entries, list):
            raise UserError('The JSON file has no list of entries (expected {"entries": [...]}).')
        return "json", ((f"entry {n}", item) for n, item in enumerate(entries, start=1))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or not {"artist", "title"} <= set(reader.fieldnames):
        raise UserError(
            "The CSV file needs a header row with at least `artist` and `title` columns."
        )
    return "csv", (
        (
            f"line {reader.line_num}",
            {k: _from_spreadsheet(v) if isinstance(v, str) else v for k, v in row.items()},
        )
        for row in reader
    )


def _optional_int(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UserError(f"**{name}** must be a whole number.")
    text = str(value).strip()
    if not (text.isascii() and text.isdecimal()) or len(text) > 19 or int(text) > MAX_ID:
        raise UserError(f"**{name}** must be a whole number, not `{text[:30]}`.")
    return int(text)


def _optional_time(value: Any, name: str, now: datetime) -> int | None:
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise UserError(
            f"**{name}** must be an ISO 8601 time such as 2024-05-01T20:00:00Z."
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        in_range = EARLIEST <= moment <= now
    except OverflowError:
        in_range = False
    if not in_range:
        raise UserError(f"**{name}** must be between {EARLIEST:%Y-%m-%d} and now.")
    return int(moment.timestamp())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise UserError("a field holds a list or object where text was expected.")
    return str(value)


def _seconds(value: Any, now: datetime) -> list[tuple[int | None, str | None, int | None]]:
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise UserError("**seconds** must be a JSON list.") from exc
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise UserError("**seconds** must be a list of {user_id, note, at}.")
    return [
        (_optional_int(item.get("user_id"), "seconds.user_id"),
         clean_text(_text(item.get("note")), "note"),
         _optional_time(item.get("at"), "seconds.at", now))
        for item in value
    ]  # fmt: skip


def _lineage(value: Any) -> list[tuple[str, int]]:
    if value in (None, ""):
        return []
    links = []
    for piece in str(value).split(";"):
        if not piece.strip():
            continue
        relation, _, target = piece.strip().partition(":")
        if relation not in RELATIONS or not target.strip().isdecimal():  # "²" is a digit
            raise UserError(
                f"**lineage** entry `{piece.strip()[:40]}` must look like `influenced-by:12`."
            )
        if (relation, int(target)) not in links:
            links.append((relation, int(target)))
    return links


def parse_import(data: bytes, now: datetime) -> ImportReport:
    """Validate every record; the report holds either all entries or the list of problems.

    Pure CPU work: callers with an event loop run it in a worker thread."""
    current_year = now.year
    try:
        return _parse_import(data, now, current_year)
    except RecursionError as exc:
        raise UserError("The JSON file is nested too deeply to be an archive export.") from exc
    except csv.Error as exc:
        raise UserError(f"The CSV file cannot be read: {exc}.") from exc


def _parse_import(data: bytes, now: datetime, current_year: int) -> ImportReport:
    _, records = read_records(data)
    report = ImportReport()
    seen_ids: set[int] = set()
    seen_keys: dict[str, str] = {}
    for count, (where, record) in enumerate(records, start=1):
        if count > MAX_IMPORT_ROWS:
            report.errors.append(f"more than {MAX_IMPORT_ROWS:,} entries: split the file")
            break
        if not isinstance(record, dict):
            report.errors.append(f"{where}: not an object with named fields")
            continue
        try:
            source_id = _optional_int(record.get("id"), "id")
            given = PickFields(
                artist=_text(record.get("artist")) or "",
                title=_text(record.get("title")) or "",
                link=_text(record.get("link")),
                subgenres=_text(record.get("subgenres")),
                label=_text(record.get("label")),
                year=_optional_int(record.get("year"), "year"),
                country=_text(record.get("country")),
                city=_text(record.get("city")),
                format=_text(record.get("format")),
                note=_text(record.get("note")),
            )
            draft = build_draft(given, current_year=current_year)
            entry = ImportedEntry(
                where=where,
                source_id=source_id,
                draft=draft,
                shared_by=_optional_int(record.get("shared_by"), "shared_by"),
                created_at=_optional_time(record.get("shared_at"), "shared_at", now),
                seconds=_seconds(record.get("seconds"), now),
                lineage=_lineage(record.get("lineage")),
            )
        except UserError as exc:
            report.errors.append(f"{where}: {exc.message}")
            continue
        if source_id is not None:
            if source_id in seen_ids:
                report.errors.append(f"{where}: id {source_id} appears twice in the file")
            seen_ids.add(source_id)
        keys = [draft.match_key] + ([draft.link.key] if draft.link else [])
        for key in keys:
            if key in seen_keys:
                report.errors.append(
                    f"{where}: the same entry as {seen_keys[key]} ({draft.artist} — {draft.title})"
                )
                break
        for key in keys:
            seen_keys.setdefault(key, where)
        report.entries.append(entry)
    seen_links: dict[tuple[frozenset[int | None], str], str] = {}
    for entry in report.entries:
        if entry.lineage and entry.source_id is None:
            report.errors.append(f"{entry.where}: has lineage but no id for it to start from")
        for relation, target in entry.lineage:
            pair = (frozenset((entry.source_id, target)), relation)
            if target not in seen_ids:
                report.errors.append(
                    f"{entry.where}: lineage points to id {target}, which is not in the file"
                )
            elif target == entry.source_id:
                report.errors.append(f"{entry.where}: lineage links the entry to itself")
            elif pair in seen_links:  # as /archive link refuses it, either way round
                report.errors.append(
                    f"{entry.where}: {relation}:{target} links the same two entries as "
                    f"{seen_links[pair]} already does"
                )
            else:
                seen_links[pair] = entry.where
    if not report.entries and not report.errors:
        report.errors.append("the file has no entries")
    return report
