"""``python -m bot sandbox`` as the browser tests run it: started with ``--port 0`` in a scratch
directory, its address read from what it prints, the bot's schedule read from its database (read
only) to know when the bot has caught up after a skip ahead, and stopped with Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ADDRESS = re.compile(r"(http://127\.0\.0\.1:\d+)/app")
#: The first start imports the demo archive and seeds it through the bot's commands.
STARTUP_WITHIN = 180.0
#: How long the bot may take over what fell due after a skip ahead.
CATCH_UP_WITHIN = 60.0
#: Jobs that fell due and are not done yet.
DUE_JOBS = "SELECT kind, run_at FROM jobs WHERE status IN ('pending', 'running') AND run_at <= ?"


def poll_until(condition: Callable[[], Any], within: float, what: str) -> Any:
    """``condition()``'s first truthy answer, asked every 0.1 s; fails after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        answer = condition()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within:.0f} s waiting for {what}")
        time.sleep(0.1)


@dataclass
class Sandbox:
    """A running ``python -m bot sandbox``: its address, database and output."""

    base_url: str
    database: Path
    output: Path
    process: subprocess.Popen[bytes]

    def clock(self) -> dict[str, float]:
        """The world's clock as the bot reads it: ``{"now": epoch seconds, "generation": n}``
        (the generation counts the jumps)."""
        with urllib.request.urlopen(f"{self.base_url}/sandbox/clock", timeout=10) as reply:
            reading: dict[str, float] = json.load(reply)
        return reading

    def due_jobs(self) -> list[tuple[str, int]]:
        """The bot's jobs that fell due by the world's time and have not run yet (its database,
        read only: the try-out's "Next scheduled" reads it the same way)."""
        now = self.clock()["now"]
        uri = f"file:{self.database}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5)) as conn:
            return [(str(kind), int(at)) for kind, at in conn.execute(DUE_JOBS, (int(now),))]

    def wait_for_bot_to_catch_up(self) -> None:
        """Wait until the bot has done everything that fell due (a reminder it has not sent yet
        would otherwise be skipped past, and dropped as stale, by the next skip)."""
        poll_until(
            lambda: not self.due_jobs(),
            CATCH_UP_WITHIN,
            "the bot to run the jobs that fell due",
        )

    def output_tail(self, lines: int = 40) -> str:
        texts = []
        for path in (self.output, self.database.with_name(self.database.name + ".log")):
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                texts.append(f"--- {path.name} ---\n" + "\n".join(tail))
        return "\n".join(texts)


def start_sandbox(workdir: Path) -> Sandbox:
    output = workdir / "tryout.out"
    database = workdir / "sandbox.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "sandbox", "--port", "0", "--database", str(database)],
            cwd=workdir, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def address() -> str | None:
        if process.poll() is not None:
            raise AssertionError(
                f"python -m bot sandbox exited ({process.returncode}) before printing its "
                f"address:\n{output.read_text(errors='replace')}"
            )
        found = ADDRESS.search(output.read_text(errors="replace"))
        return found.group(1) if found else None

    try:
        base_url = poll_until(address, STARTUP_WITHIN, "python -m bot sandbox to print its address")
    except BaseException:
        interrupt(process)
        raise
    return Sandbox(base_url, database, output, process)


def interrupt(process: subprocess.Popen[bytes]) -> int | None:
    """Ctrl-C, as a person stops it (the try-out then stops its bot); killed if it has not
    stopped within a minute. Its exit status, or None when it had to be killed."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def stop_sandbox(sandbox: Sandbox) -> None:
    """Stop it with Ctrl-C: the bot and the emulator must stop cleanly, with exit status 0."""
    status = interrupt(sandbox.process)
    assert status is not None, f"the try-out did not stop on Ctrl-C\n{sandbox.output_tail()}"
    assert status == 0, f"the try-out exited {status} on Ctrl-C\n{sandbox.output_tail()}"
