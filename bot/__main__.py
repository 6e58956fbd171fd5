"""Entry point: ``python -m bot`` — a command line with subcommands (``--help`` lists them).

``run`` (the default) runs the bot against Discord with the token from the environment or
``.env``. ``check`` validates the configuration and the database (``--live``: and that the
running bot is connected); ``backup PATH`` and ``restore PATH`` copy the live database out and
back (``bot.operations``). ``sandbox`` runs the real bot against a local Discord with a demo
server and a page to use it from a browser: no token, nothing leaves the machine
(``sandbox.tryout``). ``--help`` and ``--version`` need no token.

Exit statuses (the README's table): 0 done / stopped cleanly, 1 anything unexpected, 2 a
configuration problem, 3 Discord rejected the token, 4 the database cannot be used, 5 ``check
--live``: the bot is not connected, 6 ``backup``/``restore``: the path given cannot be used, 7
another bot is running on the database. Every failure is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import discord

from bot import __version__, operations
from bot.client import UndercurrentBot
from bot.clock import open_clock
from bot.config import Settings, apply_endpoints, load_settings
from bot.db import Database
from bot.errors import StartupError
from bot.instance import AlreadyRunning, InstanceLock, heartbeat_path
from bot.logs import RedactSecrets, configure_logging
from bot.services import archive_upkeep
from bot.startup import login_when_reachable

log = logging.getLogger("bot")

EXIT_TOKEN_REJECTED = operations.EXIT_TOKEN_REJECTED

__all__ = ["EXIT_TOKEN_REJECTED", "RedactSecrets", "main", "parser", "run"]


async def run(settings: Settings) -> int:
    apply_endpoints(settings)
    lock = InstanceLock(settings.database_path)
    if settings.database_path.parent.is_dir():
        try:
            lock.acquire()
        except AlreadyRunning as exc:
            raise StartupError(
                f"another Undercurrent is already running on DATABASE_PATH "
                f"{settings.database_path}{exc.who}; two would post everything twice",
                exit_code=operations.EXIT_BOT_RUNNING,
            ) from None
        # One a killed bot left says nothing of this one (in a container both are pid 1).
        heartbeat_path(settings.database_path).unlink(missing_ok=True)
    try:
        db = await Database.open(settings.database_path)
        try:
            rekeyed = await archive_upkeep.refresh_match_keys(db)
            if rekeyed:
                log.info("Dedupe rules changed: recomputed the keys of %d picks", rekeyed)
            # The clock outlives the bot: it stops following the emulator once the bot closed.
            async with (
                open_clock(settings.api_base) as clock,
                UndercurrentBot(
                    settings=settings,
                    db=db,
                    clock=clock,
                    heartbeat=heartbeat_path(settings.database_path),
                ) as bot,
            ):
                return await _serve(bot, settings)
        finally:
            await db.close()
    finally:
        lock.release()


async def _connect(bot: UndercurrentBot, token: str) -> None:
    """``bot.start``, except that the first login waits for the network (bot/startup.py)."""
    bot.start_heartbeat()
    if await login_when_reachable(bot, token) is not None:
        await bot.connect(reconnect=True)


async def _serve(bot: UndercurrentBot, settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows' default loop
            loop.add_signal_handler(signum, stop.set)

    # Everything loaded so far (every module, discord.py included) lives as long as the process.
    # Freezing it keeps the collector from rescanning it: otherwise each full collection,
    # which a busy archive search triggers every few dozen calls, costs ~4 ms (the search
    # benchmark's p99 went from 7.7 to 4.6 ms).
    gc.freeze()
    connection = asyncio.create_task(_connect(bot, settings.discord_token.reveal()), name="discord")
    stopping = asyncio.create_task(stop.wait(), name="wait-for-signal")
    await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)

    if connection.done():
        stopping.cancel()
        error = connection.exception()
        if isinstance(error, discord.LoginFailure):
            raise StartupError(
                "Discord rejected DISCORD_TOKEN (401 Unauthorized): copy a fresh token from the "
                "Developer Portal (Bot → Reset Token) into .env",
                exit_code=EXIT_TOKEN_REJECTED,
            )
        if error is not None:
            raise StartupError(
                f"could not stay connected to Discord: {_one_line(error)}"
            ) from error
        return 0

    log.info("Shutting down")
    await bot.close()
    # Still waiting for the network (bot/startup.py) or between reconnects: stop that too.
    connection.cancel()
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await connection
    log.info("Stopped cleanly")
    return 0


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text}" if type(error).__name__ not in text else text


def parser() -> argparse.ArgumentParser:
    """The command line: one parser, a subcommand per thing the program does."""
    top = argparse.ArgumentParser(
        prog="python -m bot",
        description="Undercurrent, a Discord bot for subgenre listening communities.",
    )
    top.add_argument("--version", action="version", version=f"Undercurrent {__version__}")
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "run",
        help="run the bot against Discord (the default); needs DISCORD_TOKEN",
        description="Run the bot against Discord with DISCORD_TOKEN and the other settings "
        "from the environment or .env (see the README's configuration table).",
    )
    check = commands.add_parser(
        "check",
        help="check the configuration and the database (read-only); --live: the running bot too",
        description="Validate the configuration (the token is checked for presence, never "
        "printed) and open the database read-only: its schema version and whether the bot "
        "will upgrade it. --live also reads the running bot's heartbeat: healthy only if it "
        "is connected to Discord (a container's HEALTHCHECK).",
    )
    check.add_argument(
        "--live", action="store_true", help="also require the running bot to be connected"
    )
    check.add_argument(
        "--integrity",
        action="store_true",
        help="also run SQLite's integrity check over the whole database (slow on a big one)",
    )
    backup = commands.add_parser(
        "backup",
        help="write a consistent, checked copy of the database to PATH (safe while the bot runs)",
        description="Copy the database at DATABASE_PATH to PATH with SQLite's online backup "
        "API (safe while the bot runs), then check the copy and print its size. PATH must "
        "not exist; nothing is ever overwritten.",
    )
    backup.add_argument("path", metavar="PATH", type=Path, help="the new backup file")
    restore = commands.add_parser(
        "restore",
        help="replace the database with the backup at PATH (the bot must be stopped)",
        description="Check the backup at PATH and put it in place of the database at "
        "DATABASE_PATH; the database it replaces is kept beside it. Refused while a bot "
        "runs on the database. An older backup is upgraded by the bot when it starts.",
    )
    restore.add_argument("path", metavar="PATH", type=Path, help="the backup to restore")
    sandbox = commands.add_parser(
        "sandbox",
        help="try the bot in a browser against a local Discord: no token needed",
        description="Start a local Discord on 127.0.0.1 with a demo server, run the real bot "
        "against it, and print the address of a page to use it from. Never reads "
        "DISCORD_TOKEN. Ctrl-C stops both.",
    )
    sandbox.add_argument(
        "--port",
        type=int,
        default=8080,
        help="the page's port on 127.0.0.1 (default 8080; 0 picks a free one)",
    )
    sandbox.add_argument(
        "--fresh",
        action="store_true",
        help="start from a new demo server (the database and the saved world are replaced)",
    )
    sandbox.add_argument(
        "--database",
        default="sandbox.sqlite3",
        metavar="PATH",
        help="the try-out's own database (default ./sandbox.sqlite3); its world is kept beside it",
    )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "sandbox":
        from sandbox.tryout import run_tryout  # the emulator and its page: only in this mode

        return run_tryout(port=args.port, fresh=args.fresh, database=Path(args.database))
    if args.command == "check":
        return operations.check(live=args.live, integrity=args.integrity)
    if args.command == "backup":
        return operations.backup(args.path)
    if args.command == "restore":
        return operations.restore(args.path)
    return run_bot()


def run_bot() -> int:
    try:
        settings = load_settings()
    except StartupError as exc:
        print(f"undercurrent: {exc.message}", file=sys.stderr)
        return exc.exit_code
    configure_logging(
        settings.log_level, settings.log_format, secrets=(settings.discord_token.reveal(),)
    )
    try:
        return asyncio.run(run(settings))
    except StartupError as exc:
        print(f"undercurrent: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # a signal before the handlers were installed
        return 0
    except Exception as exc:
        log.debug("Start-up failed", exc_info=True)
        print(f"undercurrent: could not start: {_one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
