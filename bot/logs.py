"""Logging for a host: UTC timestamps that say so, text or one JSON object per line, no secrets.

Every record's time is UTC in ISO 8601 with a ``Z`` (``2026-12-01T20:31:07.412Z``), whatever
the machine's zone, so lines from a VPS, a container and journald line up. ``LOG_FORMAT=json``
writes one JSON object per line (``time``, ``level``, ``logger``, ``message``, and ``error``
with the traceback when there is one) for journald, Loki and the like. The token is replaced
by ``********`` in every record, whatever logged it, arguments and tracebacks included.

What members type (notes, search words, review text) is never logged at INFO or above: the
bot's own log lines name ids and counts, and ``tests/e2e/test_service_e2e.py`` checks a session's
log for what a member typed.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import TextIO

LOG_FORMATS = ("text", "json")


def utc_timestamp(created: float) -> str:
    """``created`` (seconds since the epoch) as ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    seconds, millis = divmod(round(created * 1000), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


class TextFormatter(logging.Formatter):
    """``2026-12-01T20:31:07.412Z INFO     bot: Ready as …``; a traceback follows on its lines."""

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{utc_timestamp(record.created)} {record.levelname:<8} {record.name}: "
            f"{record.getMessage()}"
        )
        error = _error_text(self, record)
        return f"{line}\n{error}" if error else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a traceback is a field, never extra lines."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        error = _error_text(self, record)
        if error:
            entry["error"] = error
        return json.dumps(entry, ensure_ascii=False)


def _error_text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    parts: list[str] = []
    if record.exc_info:
        parts.append(formatter.formatException(record.exc_info))
    elif record.exc_text:  # a traceback RedactSecrets already turned into cleaned text
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(formatter.formatStack(record.stack_info))
    return "\n".join(parts)


class RedactSecrets(logging.Filter):
    """Replaces every occurrence of the given secrets in a record: its message, its arguments
    and its traceback (a token can sit in an exception's text)."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "********")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            record.msg, record.args = self._clean(message), None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            if any(secret in text for secret in self._secrets):
                # The traceback is kept as text, cleaned; the exception object is dropped.
                record.exc_text = self._clean(text)
                record.exc_info = None
        if record.exc_text and any(secret in record.exc_text for secret in self._secrets):
            record.exc_text = self._clean(record.exc_text)
        return True


def _formatter(log_format: str) -> logging.Formatter:
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {LOG_FORMATS}, not {log_format!r}")
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(
    level: str,
    log_format: str = "text",
    *,
    secrets: tuple[str, ...] = (),
    stream: TextIO | None = None,
) -> None:
    """Send every logger's records to ``stream`` (default stderr) in ``log_format``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_formatter(log_format))
    handler.addFilter(RedactSecrets(*secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
