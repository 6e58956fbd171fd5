"""``python -m bot sandbox``: try the real bot in a browser, with no Discord token.

It starts the local Discord (``sandbox.server.Emulator``) on 127.0.0.1 with the demo server
(``sandbox.demo``), runs the unmodified bot (``python -m bot``) against it as a subprocess with
its own database (``./sandbox.sqlite3`` by default), seeds the demo through the bot's commands the
first time, and prints the address of the page. The bot gets the emulator's made-up token and
addresses only; ``DISCORD_*`` settings of this shell and any ``.env`` are never read or passed on
(the bot runs in a scratch directory), so a real token cannot leave the machine in this mode.

The world (channels, messages, members, events, and how far its clock was moved ahead) is saved
beside the database (``sandbox.sqlite3.world``) every few seconds and on exit, so the next run
continues where this one stopped, a skipped-ahead clock included; ``--fresh`` starts again.
The file is a pickle this program wrote for itself; it is only ever read from beside the
try-out's own database.

Ctrl-C (or SIGTERM) stops the bot (SIGTERM, as a service manager would), saves the world and
stops the emulator. A bot that crashes is not restarted by itself: the page shows its last log
lines and a **Restart bot** button.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import pickle
import signal
import sqlite3
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sandbox.demo import demo_world, seed
from sandbox.model import World
from sandbox.page import BotStatus
from sandbox.process import BotExited, BotProcess
from sandbox.server import Emulator

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: How often the world is saved while the try-out runs.
SAVE_EVERY = 5.0
#: The bot's next pending job after a moment, leaving out housekeeping that is not "something
#: the bot has scheduled" for a person to see: the hourly outbox sweep, the daily purge, and
#: card refreshes (``*.sync``).
NEXT_JOB = """
SELECT min(run_at) FROM jobs WHERE status = 'pending' AND run_at > ?
  AND kind NOT IN ('outbox.sweep', 'archive.purge_removed') AND kind NOT LIKE '%.sync'
"""
EXIT_FAILED = 1


def world_path(database: Path) -> Path:
    return database.with_name(database.name + ".world")


def log_path(database: Path) -> Path:
    return database.with_name(database.name + ".log")


def save_world(world: World, path: Path) -> None:
    """Write the world atomically (a crash mid-write leaves the previous save)."""
    dispatch = world.dispatch
    world.dispatch = None  # the emulator's hook, not part of the world
    try:
        data = pickle.dumps(world, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        world.dispatch = dispatch
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def load_world(path: Path) -> World | None:
    """The saved world, or None when there is none or it cannot be read (then the try-out
    starts afresh rather than half-way)."""
    try:
        world = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, see the docstring
    except (OSError, pickle.UnpicklingError, AttributeError, EOFError, TypeError, ValueError):
        log.warning("Could not read the saved world %s: starting a new demo server", path)
        return None
    return world if isinstance(world, World) else None


def remove_saved(database: Path) -> None:
    for path in (
        database,
        database.with_name(database.name + "-wal"),
        database.with_name(database.name + "-shm"),
        world_path(database),
    ):
        path.unlink(missing_ok=True)


def next_scheduled(database: Path, now: datetime) -> datetime | None:
    """The next thing the bot has scheduled (a reminder, a party's marker, a pairing, a
    digest…), read from its database without writing: the time control's "skip ahead"."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)
        ) as conn:
            row = conn.execute(NEXT_JOB, (int(now.timestamp()),)).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None or row[0] is None else datetime.fromtimestamp(row[0], tz=UTC)


class NotOurs(Exception):
    """The files asked for are not the try-out's to replace, or are in use."""


class Tryout:
    """The emulator, the bot process and the saved world, for one run."""

    def __init__(self, *, port: int, database: Path, fresh: bool) -> None:
        self.port = port
        self.database = database.resolve()
        self.fresh = fresh
        self.world_file = world_path(self.database)
        self.seeded = False
        self.emulator: Emulator | None = None
        self.bot: BotProcess | None = None
        self._stopping = False
        #: Set once the page can be used (the bot connected, the demo set up); cleared while
        #: the bot restarts, and set again once it is connected.
        self.ready = asyncio.Event()
        self._restarting = asyncio.Lock()
        self._rundir = tempfile.TemporaryDirectory(prefix="undercurrent-sandbox-")
        self._lock_file: IO[str] | None = None

    def prepare_world(self) -> World:
        """The saved world, or a new demo server. Only files the try-out made are ever
        replaced: a database with no saved world beside it is refused (``NotOurs``), even with
        ``--fresh``, so pointing ``--database`` at a real bot's database loses nothing."""
        if self.database.exists() and not self.world_file.exists():
            raise NotOurs(
                f"{self.database} is not a try-out database (there is no "
                f"{self.world_file.name} beside it). Nothing was changed: give --database a "
                "new file."
            )
        if self.fresh:
            remove_saved(self.database)
        world = load_world(self.world_file) if self.world_file.exists() else None
        if world is not None and self.database.exists():
            self.seeded = True
            return world
        remove_saved(self.database)  # a world without its database: start both afresh
        return demo_world()

    def lock(self) -> None:
        """Hold a lock beside the database for as long as this try-out runs: a second one on
        the same files (``--fresh`` included) is refused before it touches them."""
        self.database.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = self.database.with_name(self.database.name + ".lock").open("w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise NotOurs(
                f"another try-out is running on {self.database}; stop it first (Ctrl-C)."
            ) from exc

    async def run(self, stop: asyncio.Event) -> int:
        self.lock()
        world = self.prepare_world()
        async with Emulator(world, port=self.port) as emulator:
            self.emulator = emulator
            self.bot = self.bot_process(emulator)
            self.install_hooks(emulator)
            print("Starting the bot against a local Discord…", flush=True)
            try:
                await self.bot.start(within=90)
                await emulator.driver.wait_for_commands("digest", within=60)
                if not self.seeded:
                    await seed(emulator.driver, step=lambda text: print(f"  {text}…", flush=True))
                    # What the bot answered the demo's people privately while setting it up is
                    # theirs to have read: a visitor acting as one starts on a clean server.
                    emulator.driver.dismiss_ephemerals()
                    save_world(emulator.world, self.world_file)
            except (BotExited, TimeoutError) as exc:
                print(f"undercurrent: the bot did not start:\n{exc}", file=sys.stderr)
                await self.shutdown(keep=False)
                return EXIT_FAILED
            except Exception as exc:  # the demo no longer matches the bot: say where
                log.debug("Seeding failed", exc_info=True)
                print(
                    f"undercurrent: setting up the demo server failed: {exc}\n"
                    f"The bot's log is {self.bot.log_path}",
                    file=sys.stderr,
                )
                await self.shutdown(keep=False)
                return EXIT_FAILED
            print(
                f"\nUndercurrent is running against a local Discord. Open:\n\n"
                f"    {emulator.base_url}/app\n\n"
                f"Nothing leaves this machine. Ctrl-C stops it.",
                flush=True,
            )
            self.ready.set()
            saver = asyncio.create_task(self.keep_saving(), name="save-world")
            try:
                await stop.wait()
            finally:
                saver.cancel()
                print("\nStopping…", flush=True)
                await self.shutdown()
        return 0

    def bot_process(self, emulator: Emulator) -> BotProcess:
        """The real bot, pointed at ``emulator``, run in a scratch directory (so no ``.env`` is
        read) with this shell's ``DISCORD_*`` settings dropped (``BotProcess.env``)."""
        return BotProcess(
            emulator, database_path=self.database, cwd=self._rundir.name,
            pythonpath=[PROJECT_ROOT], log_level="INFO", log_path=log_path(self.database),
            die_with_parent=True,
        )  # fmt: skip

    async def keep_saving(self) -> None:
        assert self.emulator is not None
        while True:
            await asyncio.sleep(SAVE_EVERY)
            save_world(self.emulator.world, self.world_file)

    async def shutdown(self, *, keep: bool = True) -> None:
        """Stop the bot and save the world (``keep``), or, when the demo could not be set up,
        remove what was made so the next run starts afresh."""
        self._stopping = True
        if self.bot is not None:
            with contextlib.suppress(Exception):
                await self.bot.stop()
        if keep and self.emulator is not None:
            save_world(self.emulator.world, self.world_file)
        elif not self.seeded:
            remove_saved(self.database)
        self._rundir.cleanup()

    # -- what the page asks of the launcher ---------------------------------------------------

    def install_hooks(self, emulator: Emulator) -> None:
        """Let the page skip to the bot's next job, see whether the bot is running, and restart
        it (the emulator knows nothing of the bot otherwise)."""
        emulator.next_scheduled = self.next_scheduled
        emulator.bot_status = self.bot_status
        emulator.restart_bot = self.restart_bot

    async def next_scheduled(self) -> datetime | None:
        assert self.emulator is not None
        now = self.emulator.world.clock.now()
        return await asyncio.to_thread(next_scheduled, self.database, now)

    def bot_status(self) -> BotStatus:
        bot = self.bot
        running = bot is not None and bot.running
        started = bot is not None and bot.process is not None
        return {
            "running": running,
            "crashed": started and not running and not self._stopping,
            "log": [] if bot is None else bot.log_tail(30).splitlines(),
        }

    async def restart_bot(self) -> None:
        """The page's **Restart bot**: start the bot again (stopping it first if it runs). A
        bot that dies again while starting is left crashed, for the page to show its log."""
        bot = self.bot
        if bot is None:
            return
        starts = bot.starts
        async with self._restarting:  # a second click waits for the first restart
            if bot.starts != starts and bot.running:
                return  # restarted meanwhile
            self.ready.clear()
            if bot.running:
                await bot.stop()
            try:
                await bot.start(within=90)
            except BotExited:
                log.warning("The bot exited again while restarting; see %s", bot.log_path)
                return
            self.ready.set()


def run_tryout(*, port: int, fresh: bool, database: Path) -> int:
    """``python -m bot sandbox``: returns the exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    tryout = Tryout(port=port, database=database, fresh=fresh)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGHUP: the terminal closed
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        return await tryout.run(stop)

    try:
        return asyncio.run(main())
    except NotOurs as exc:
        print(f"undercurrent: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # the port is taken, say
        print(f"undercurrent: could not start the sandbox: {exc}", file=sys.stderr)
        return EXIT_FAILED
