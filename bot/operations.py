"""``python -m bot check | backup | restore``: what a host runs beside the bot.

Each prints what it found or did on stdout, one problem on stderr as one line, and returns the
exit status the README's table gives. None of them prints the token, and ``check`` and
``backup`` never write to the bot's database.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.config import Settings, load_settings
from bot.db import backup as backups
from bot.db.connection import check_database_path
from bot.errors import ConfigError, DatabaseRefused, StartupError
from bot.instance import AlreadyRunning, InstanceLock, assess_heartbeat, heartbeat_path

EXIT_OK = 0
EXIT_CONFIG = ConfigError.exit_code
EXIT_TOKEN_REJECTED = 3
EXIT_DATABASE = DatabaseRefused.exit_code
EXIT_UNHEALTHY = 5
EXIT_PATH_REFUSED = 6
EXIT_BOT_RUNNING = 7


def _fail(message: str, status: int) -> int:
    print(f"undercurrent: {message}", file=sys.stderr)
    return status


def _settings(*, require_token: bool) -> Settings | int:
    try:
        return load_settings(require_token=require_token)
    except StartupError as exc:
        return _fail(exc.message, exc.exit_code)


def _show(label: str, text: str) -> None:
    print(f"{label:<14}{text}")


def check(*, live: bool, integrity: bool) -> int:
    """Configuration, the database (read-only), the backups' folder; with ``live``, whether the
    running bot is connected to Discord (its heartbeat)."""
    settings = _settings(require_token=True)
    if isinstance(settings, int):
        return settings
    _show("configuration", f"ok (DISCORD_TOKEN is set; LOG_LEVEL {settings.log_level})")
    path = settings.database_path
    try:
        check_database_path(path)
    except DatabaseRefused as exc:
        return _fail(exc.message, exc.exit_code)
    if not path.exists() and not path.is_symlink():
        _show("database", f"{path} does not exist yet: the bot creates it on its first start")
    else:
        try:
            facts = backups.inspect(path, integrity=integrity, counts=not live)
        except backups.BackupRefused as exc:
            return _fail(f"DATABASE_PATH {exc}", EXIT_DATABASE)
        _show("database", f"{path}: {facts.describe()}")
        if integrity:
            _show("integrity", "ok (SQLite's integrity check found nothing)")
    if settings.backup_dir is None:
        _show("backups", "not scheduled (set BACKUP_DIR for a daily one)")
    else:
        taken = backups.scheduled_backups(settings.backup_dir)
        last = f"latest {taken[-1].name}" if taken else "none taken yet"
        _show(
            "backups",
            f"daily at {backups.BACKUP_HOUR_UTC:02d}:00 UTC into {settings.backup_dir}, keeping "
            f"{settings.backup_keep}; {last}",
        )
    if not live:
        return EXIT_OK
    health = assess_heartbeat(heartbeat_path(path))
    if not health.healthy:
        return _fail(f"not healthy: {health.summary}", EXIT_UNHEALTHY)
    _show("gateway", health.summary)
    return EXIT_OK


def backup(destination: Path) -> int:
    """A consistent, checked copy of the database at ``destination`` (a new file)."""
    settings = _settings(require_token=False)
    if isinstance(settings, int):
        return settings
    source = settings.database_path
    try:
        backups.check_destination(destination)
    except backups.BackupRefused as exc:
        return _fail(f"backup refused: {exc}", EXIT_PATH_REFUSED)
    if not source.is_file():
        return _fail(f"DATABASE_PATH {source} does not exist: nothing to back up", EXIT_DATABASE)
    try:
        backups.inspect(source)
    except backups.BackupRefused as exc:
        return _fail(f"DATABASE_PATH {exc}", EXIT_DATABASE)
    try:
        facts = backups.backup(source, destination)
    except backups.DatabaseUnusable as exc:
        return _fail(f"backup failed, nothing was written: DATABASE_PATH {exc}", EXIT_DATABASE)
    except (backups.BackupRefused, OSError) as exc:
        return _fail(f"backup failed, nothing was written: {exc}", EXIT_PATH_REFUSED)
    print(f"Backed up {source} to {destination}: {facts.describe()}; integrity check ok")
    return EXIT_OK


def restore(source: Path) -> int:
    """Put the backup ``source`` in place of the database, keeping the one it replaces."""
    settings = _settings(require_token=False)
    if isinstance(settings, int):
        return settings
    target = settings.database_path
    try:
        check_database_path(target)
    except DatabaseRefused as exc:
        return _fail(f"restore refused: {exc.message}", exc.exit_code)
    if source.resolve() == target.resolve():
        return _fail(f"{source} is the database itself: give the backup's path", EXIT_PATH_REFUSED)
    lock = InstanceLock(target)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        return _fail(
            f"a bot is running on {target}{exc.who}: stop it first (systemctl stop undercurrent, "
            "or docker compose stop), then restore",
            EXIT_BOT_RUNNING,
        )
    try:
        restored = backups.restore(source, target)
    except backups.DatabaseUnusable as exc:
        return _fail(f"restore refused: {exc}", EXIT_DATABASE)
    except backups.BackupRefused as exc:
        return _fail(f"restore refused, the database is untouched: {exc}", EXIT_PATH_REFUSED)
    except OSError as exc:
        return _fail(f"restore failed, the database is untouched: {exc}", EXIT_PATH_REFUSED)
    finally:
        lock.release()
    print(f"Restored {target.resolve()} from {source}: {restored.facts.describe()}")
    if restored.replaced is not None:
        print(f"The database it replaced is kept as {restored.replaced}")
    else:
        print(
            f"There was no database at {target.resolve()} before: if the bot's is elsewhere, "
            "set DATABASE_PATH as the bot's service does, and restore again"
        )
    return EXIT_OK
