"""Configuration: read once at start-up from the environment and ``.env``, validated, immutable.

Real environment variables win over ``.env``. A blank value counts as unset. Every problem is a
``ConfigError`` whose message names the variable, so ``python -m bot`` can print one line and exit.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import discord
import yarl
from dotenv import dotenv_values

from bot.errors import ConfigError
from bot.logs import LOG_FORMATS

MISSING_TOKEN_MESSAGE = (
    "DISCORD_TOKEN is not set: create an application at "  # noqa: S105 - help text
    "https://discord.com/developers/applications, open Bot → Reset Token, and put the token in "
    ".env (see .env.example) or the environment"
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_DATABASE_PATH = "./undercurrent.sqlite3"
DEFAULT_DOCS_URL = "https://github.com/undercurrent-bot/undercurrent#command-reference"
DEFAULT_BACKUP_KEEP = 7


class Secret:
    """A string that never shows itself in ``repr``, ``str``, f-strings or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the process is configured with. See the README's configuration table."""

    discord_token: Secret
    database_path: Path
    log_level: str = "INFO"
    dev_guild_id: int | None = None
    api_base: str | None = None
    gateway_url: str | None = None
    docs_url: str = DEFAULT_DOCS_URL
    log_format: str = "text"
    #: Where the daily backups go (None: no scheduled backups), and how many are kept.
    backup_dir: Path | None = None
    backup_keep: int = DEFAULT_BACKUP_KEEP


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    *,
    require_token: bool = True,
) -> Settings:
    """Read settings from ``env_file`` (if it exists) overlaid with ``environ`` (default: os.environ).

    ``require_token=False`` is for the commands that only touch the database (``backup``,
    ``restore``): a missing token is then an empty one rather than an error.
    """
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(key: str) -> str | None:
        value = values.get(key, "").strip()
        return value or None

    token = get("DISCORD_TOKEN")
    if token is None and require_token:
        raise ConfigError(MISSING_TOKEN_MESSAGE)

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")

    log_format = (get("LOG_FORMAT") or "text").lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be text or json, not {log_format!r}")

    return Settings(
        discord_token=Secret(token or ""),
        database_path=Path(get("DATABASE_PATH") or DEFAULT_DATABASE_PATH),
        log_level=log_level,
        dev_guild_id=_parse_snowflake("DEV_GUILD_ID", get("DEV_GUILD_ID")),
        api_base=_parse_endpoint("DISCORD_API_BASE", get("DISCORD_API_BASE"), ("http", "https")),
        gateway_url=_parse_endpoint(
            "DISCORD_GATEWAY_URL", get("DISCORD_GATEWAY_URL"), ("ws", "wss")
        ),
        docs_url=_parse_web_url("DOCS_URL", get("DOCS_URL")) or DEFAULT_DOCS_URL,
        log_format=log_format,
        backup_dir=_parse_folder("BACKUP_DIR", get("BACKUP_DIR")),
        backup_keep=_parse_count("BACKUP_KEEP", get("BACKUP_KEEP"), DEFAULT_BACKUP_KEEP),
    )


def _parse_folder(key: str, raw: str | None) -> Path | None:
    """A folder the bot will write into: it must exist (the bot never creates folders the host
    did not ask for) and be a folder."""
    if raw is None:
        return None
    path = Path(raw).expanduser()
    if not path.is_dir():
        problem = "is a file" if path.exists() else "does not exist"
        raise ConfigError(f"{key} {raw} {problem}: point it at an existing folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{key} {raw} is not writable by this user")
    return path


def _parse_count(key: str, raw: str | None, default: int) -> int:
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdecimal()) or not 1 <= int(raw) <= 1000:
        raise ConfigError(f"{key} must be a whole number from 1 to 1000, not {raw!r}")
    return int(raw)


def _parse_snowflake(key: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdecimal()) or not 0 < int(raw) < 2**64:
        raise ConfigError(f"{key} must be a server ID (a number; Developer Mode → Copy Server ID)")
    return int(raw)


def _parse_endpoint(key: str, raw: str | None, schemes: tuple[str, str]) -> str | None:
    """Accept ``raw`` only as a secure URL, or a plain one on a loopback address."""
    if raw is None:
        return None
    plain, secure = schemes
    try:
        parts = urlsplit(raw)
        scheme, hostname = parts.scheme, parts.hostname
    except ValueError:
        scheme, hostname = "", None
    if scheme not in schemes or not hostname:
        raise ConfigError(f"{key} must be a {secure}:// URL or a {plain}:// URL on 127.0.0.1")
    if scheme == plain and not is_loopback(hostname):
        raise ConfigError(
            f"{key} may use {plain}:// only on a loopback address (127.0.0.1, ::1, localhost); "
            f"use {secure}:// for anything else"
        )
    return raw.rstrip("/")


def _parse_web_url(key: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{key} must be an http:// or https:// URL")
    return raw


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine: ``localhost``, 127.0.0.0/8, ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def apply_endpoints(settings: Settings) -> None:
    """Point discord.py's REST and gateway clients at the configured endpoints, if any.

    discord.py sends every REST call (including interaction callbacks and webhook follow-ups)
    through ``Route.BASE``. The sharded client opens each shard's gateway where
    ``GET /gateway/bot`` says (so the emulator's REST base brings its gateway with it), and
    falls back on ``DEFAULT_GATEWAY`` only when it reconnects without that answer.
    """
    if settings.api_base is not None:
        discord.http.Route.BASE = settings.api_base
        logging.getLogger(__name__).info("REST API base set to %s", settings.api_base)
    if settings.gateway_url is not None:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)
        logging.getLogger(__name__).info("Gateway URL set to %s", settings.gateway_url)
