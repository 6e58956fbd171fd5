"""Logs a host can use: UTC times that say so, JSON lines on request, never the token."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging, utc_timestamp

TOKEN = "MTIzNDU2Nzg5.secret.part-of-the-token"


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_times_are_utc_with_a_z_whatever_the_machine_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Australia/Sydney")
    import time

    time.tzset()
    try:
        # 2026-12-01 20:31:07.412 UTC is 07:31 the next morning in Sydney.
        assert utc_timestamp(1796157067.412) == "2026-12-01T20:31:07.412Z"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def _emit(log_format: str) -> str:
    stream = io.StringIO()
    configure_logging("INFO", log_format, secrets=(TOKEN,), stream=stream)
    log = logging.getLogger("bot.test")
    log.info("Logged in with %s", TOKEN)
    try:
        raise RuntimeError(f"401 for token {TOKEN}")
    except RuntimeError:
        log.exception("Start-up failed")
    log.debug("not at INFO")
    return stream.getvalue()


def test_json_lines_are_one_object_each_with_the_traceback_inside(
    restore_root_logger: None,
) -> None:
    output = _emit("json")
    lines = output.splitlines()
    assert len(lines) == 2  # the traceback is a field, not extra lines; DEBUG is dropped
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "bot.test"
    assert first["message"] == "Logged in with ********"
    assert first["time"].endswith("Z") and first["time"][10] == "T"
    assert second["message"] == "Start-up failed"
    assert "RuntimeError: 401 for token ********" in second["error"]
    assert TOKEN not in output


def test_text_lines_start_with_the_utc_time_and_hide_the_token(
    restore_root_logger: None,
) -> None:
    output = _emit("text")
    first = output.splitlines()[0]
    stamp, level, rest = first.split(" ", 2)
    assert stamp.endswith("Z") and len(stamp) == len("2026-12-01T20:31:07.412Z")
    assert level == "INFO"
    assert rest.strip() == "bot.test: Logged in with ********"
    assert "Traceback (most recent call last)" in output
    assert TOKEN not in output
