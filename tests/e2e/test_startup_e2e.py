"""Start-up failures of the real process, over real sockets: one line on stderr, the right status."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sandbox import Emulator
from tests.e2e.conftest import PROJECT_ROOT


async def run_bot(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot",
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_ROOT), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_token_discord_rejects_exits_3_with_one_line(tmp_path: Path) -> None:
    async with Emulator() as emulator:
        env = emulator.bot_env() | {"DISCORD_TOKEN": "MTIz.not-the.right-token", "LOG_LEVEL": "ERROR",
                                    "DATABASE_PATH": str(tmp_path / "db.sqlite3")}  # fmt: skip
        status, stderr = await run_bot(env, tmp_path)
    assert status == 3
    assert stderr.splitlines() == [
        "undercurrent: Discord rejected DISCORD_TOKEN (401 Unauthorized): copy a fresh token "
        "from the Developer Portal (Bot → Reset Token) into .env"
    ]
    assert "not-the.right-token" not in stderr


async def test_missing_token_exits_2_with_one_line(tmp_path: Path) -> None:
    status, stderr = await run_bot({}, tmp_path)
    assert status == 2
    assert len(stderr.splitlines()) == 1
    assert stderr.startswith("undercurrent: DISCORD_TOKEN is not set")
