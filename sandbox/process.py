"""Run the real bot (``python -m bot``) as a subprocess pointed at an emulator.

The bot gets ``DISCORD_TOKEN``, ``DISCORD_API_BASE``, ``DISCORD_GATEWAY_URL``,
``DATABASE_PATH`` and ``LOG_LEVEL``. Run it with ``cwd`` set to a scratch directory and the
project on ``pythonpath`` so that a developer's ``.env`` is not read. Its stdout and stderr go
to a log file (never a pipe, so a chatty bot cannot block on a full pipe). Start-up is complete
when the emulator has sent READY to as many sessions identified after the start as it recommends
shards (one for an unsharded emulator), or, with ``ready_log``, when that pattern appears in the
log (the log is polled every 50 ms: a process's output has no event to wait on).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.server import Emulator


#: Environment variables never inherited by the bot process.
STRIPPED_ENV_PREFIXES = ("DISCORD_", "DEV_GUILD_ID", "DATABASE_PATH", "LOG_LEVEL")


class BotExited(RuntimeError):
    """The bot process ended while we were waiting for it."""


class BotProcess:
    """One bot subprocess; ``start``/``stop``/``restart`` may be called repeatedly."""

    def __init__(
        self,
        emulator: Emulator,
        *,
        database_path: Path | str,
        cwd: Path | str | None = None,
        module: str = "bot",
        python: str = sys.executable,
        log_level: str = "DEBUG",
        log_path: Path | str | None = None,
        extra_env: dict[str, str] | None = None,
        ready_log: str | None = None,
        pythonpath: list[Path | str] | None = None,
        die_with_parent: bool = False,
    ) -> None:
        self.emulator = emulator
        self.database_path = Path(database_path)
        self.cwd = Path(cwd) if cwd is not None else Path.cwd()
        self.module = module
        self.python = python
        self.log_level = log_level
        if log_path:
            self.log_path = Path(log_path)
        else:
            handle, name = tempfile.mkstemp(prefix="sandbox-bot-", suffix=".log")
            os.close(handle)  # the bot's process opens the file itself
            self.log_path = Path(name)
        self.extra_env = dict(extra_env or {})
        self.ready_log = re.compile(ready_log) if ready_log else None
        self.pythonpath = [str(p) for p in pythonpath or []]
        #: On Linux, the bot gets SIGTERM if this process dies (even by SIGKILL), so a try-out
        #: killed abruptly leaves no bot behind holding its database.
        self.die_with_parent = die_with_parent
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    # -- environment --------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The child's environment: ours without the bot's own settings, plus the emulator's.

        Settings a developer may have exported (``DISCORD_*``, ``DEV_GUILD_ID``) are dropped so
        they cannot point the child at the real Discord or another guild.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith(STRIPPED_ENV_PREFIXES)}
        if self.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(
                [*self.pythonpath, env.get("PYTHONPATH", "")]
            ).rstrip(os.pathsep)
        env.update(self.emulator.bot_env())
        env["DATABASE_PATH"] = str(self.database_path)
        env["LOG_LEVEL"] = self.log_level
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.returncode

    async def start(self, *, wait_ready: bool = True, within: float = 20.0) -> None:
        """Start the bot; by default wait until it is connected and READY."""
        if self.running:
            raise RuntimeError("bot already running")
        mark = self.emulator.recorder.mark()
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            log.write(f"\n--- sandbox: starting bot (start #{self.starts + 1}) ---\n".encode())
            log.flush()
            self.process = await asyncio.create_subprocess_exec(
                self.python,
                "-m",
                self.module,
                cwd=str(self.cwd),
                env=self.env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                preexec_fn=_term_with_parent if self.die_with_parent else None,
            )
        self.starts += 1
        if wait_ready:
            await self.wait_ready(after=mark, log_offset=log_offset, within=within)

    async def wait_ready(
        self, *, after: int = 0, log_offset: int = 0, within: float = 20.0
    ) -> None:
        """Wait for READY after ``after`` on every shard the emulator recommends (and for
        ``ready_log`` if set); fail fast if the bot dies."""
        process = self.process
        if process is None:
            raise RuntimeError("bot not started")
        gateway = self.emulator.gateway
        ready = asyncio.ensure_future(
            gateway.wait_session(
                after=after, kind="READY", count=gateway.recommended_shards, within=within
            )
        )
        died = asyncio.ensure_future(process.wait())
        try:
            done, _ = await asyncio.wait(
                {ready, died}, timeout=within, return_when=asyncio.FIRST_COMPLETED
            )
            if died in done:
                raise BotExited(
                    f"bot exited with {process.returncode} during start-up\n{self.log_tail()}"
                )
            if ready not in done:
                raise TimeoutError(f"bot not READY after {within}s\n{self.log_tail()}")
            ready.result()
        finally:
            for task in (ready, died):
                if not task.done():
                    task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await ready
        if self.ready_log is not None:
            await self.wait_for_log(self.ready_log, offset=log_offset, within=within)

    async def wait_for_log(
        self, pattern: str | re.Pattern[str], *, offset: int = 0, within: float = 10.0
    ) -> str:
        """Wait until ``pattern`` appears in the log after byte ``offset``; returns the line."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            text = self.log_path.read_bytes()[offset:].decode(errors="replace")
            for line in text.splitlines():
                if regex.search(line):
                    return line
            if self.process is not None and self.process.returncode is not None:
                raise BotExited(f"bot exited with {self.process.returncode}\n{self.log_tail()}")
            if loop.time() > deadline:
                raise TimeoutError(
                    f"{regex.pattern!r} not in the bot log after {within}s\n{self.log_tail()}"
                )
            await asyncio.sleep(0.05)

    async def stop(self, *, sig: int = signal.SIGTERM, within: float = 10.0) -> int:
        """Send ``sig`` (SIGTERM by default) and wait for exit; returns the exit code. Kills the
        process if it does not exit in time and raises ``TimeoutError``."""
        process = self.process
        if process is None or process.returncode is not None:
            return self.returncode or 0
        process.send_signal(sig)
        try:
            return await asyncio.wait_for(process.wait(), within)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise TimeoutError(
                f"bot did not exit {within}s after signal {sig}\n{self.log_tail()}"
            ) from None

    async def kill(self) -> int:
        """SIGKILL: a crash, with no chance to clean up."""
        process = self.process
        if process is None or process.returncode is not None:
            return self.returncode or 0
        process.kill()
        return await process.wait()

    async def restart(self, *, within: float = 20.0) -> None:
        """Stop with SIGTERM (the exit code must be 0) and start again."""
        code = await self.stop()
        if code != 0:
            raise BotExited(f"bot exited with {code} on SIGTERM\n{self.log_tail()}")
        await self.start(within=within)

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def _term_with_parent() -> None:
    """In the child, before it runs: ask Linux for SIGTERM when the parent dies."""
    if sys.platform == "linux":
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
