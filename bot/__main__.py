"""Entry point: ``python -m bot`` — a command line with subcommands (``--help`` lists them).

``run`` (the default) runs the bot against Discord with the token from the environment or
``.env``. ``sandbox`` runs the real bot against a local Discord with a demo server and a page to
use it from a browser: no token, nothing leaves the machine (``sandbox.tryout``). ``--help`` and
``--version`` need no token.

Exit status of ``run``: 0 after a clean shutdown (SIGINT/SIGTERM), 2 for a configuration
problem, 3 when Discord rejects the token, 4 when the database file cannot be used, 1 for
anything else that stops start-up. Every failure is one line on stderr, never a traceback.
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

from bot import __version__
from bot.client import UndercurrentBot
from bot.clock import open_clock
from bot.config import Settings, apply_endpoints, load_settings
from bot.db import Database
from bot.errors import StartupError
from bot.services import archive_upkeep

log = logging.getLogger("bot")

EXIT_TOKEN_REJECTED = 3


class RedactSecrets(logging.Filter):
    """Replaces any occurrence of the given secrets in a log record's text."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, "********")
            record.msg, record.args = message, None
        return True


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-8s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    handler.addFilter(RedactSecrets(settings.discord_token.reveal()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)


async def run(settings: Settings) -> int:
    apply_endpoints(settings)
    db = await Database.open(settings.database_path)
    try:
        rekeyed = await archive_upkeep.refresh_match_keys(db)
        if rekeyed:
            log.info("Dedupe rules changed: recomputed the keys of %d picks", rekeyed)
        # The clock outlives the bot: it stops following the emulator only once the bot closed.
        async with (
            open_clock(settings.api_base) as clock,
            UndercurrentBot(settings=settings, db=db, clock=clock) as bot,
        ):
            return await _serve(bot, settings)
    finally:
        await db.close()


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
    connection = asyncio.create_task(bot.start(settings.discord_token.reveal()), name="discord")
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
    return run_bot()


def run_bot() -> int:
    try:
        settings = load_settings()
    except StartupError as exc:
        print(f"undercurrent: {exc.message}", file=sys.stderr)
        return exc.exit_code
    configure_logging(settings)
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
