"""``python -m bot`` start-up failures: one line, the right exit status, never the token."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

import bot.__main__ as entry
from bot.config import load_settings

TOKEN = "MTIzNDU2Nzg5.secret.part-of-the-token"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in (
        "DISCORD_TOKEN",
        "DATABASE_PATH",
        "LOG_LEVEL",
        "DEV_GUILD_ID",
        "DISCORD_API_BASE",
        "DISCORD_GATEWAY_URL",
        "DOCS_URL",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.fixture(autouse=True)
def restore_discord_endpoints() -> None:
    import discord

    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


def test_missing_token_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("undercurrent: DISCORD_TOKEN is not set")
    assert "Traceback" not in err


def test_non_sqlite_database_exits_4_and_is_untouched(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my shoegaze list\n")
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_PATH", str(notes))
    assert entry.main([]) == 4
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("undercurrent: DATABASE_PATH")
    assert notes.read_text() == "my shoegaze list\n"
    assert TOKEN not in err


@pytest_asyncio.fixture
async def rejecting_discord() -> AsyncIterator[str]:
    """A loopback HTTP server that answers every request as Discord does a bad token."""

    async def unauthorized(request: web.Request) -> web.Response:
        return web.Response(
            status=401,
            body=b'{"message": "401: Unauthorized", "code": 0}',
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", unauthorized)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/api/v10"
    await runner.cleanup()


async def test_rejected_token_is_a_startup_error_without_the_token(
    rejecting_discord: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(
        {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_BASE": rejecting_discord,
            "DATABASE_PATH": str(tmp_path / "db.sqlite3"),
        },
        env_file=None,
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(entry.StartupError) as caught:
        await entry.run(settings)
    assert caught.value.exit_code == entry.EXIT_TOKEN_REJECTED
    assert caught.value.message.startswith("Discord rejected DISCORD_TOKEN (401 Unauthorized)")
    assert TOKEN not in caught.value.message
    assert TOKEN not in caplog.text
    assert (tmp_path / "db.sqlite3").exists()


def test_log_records_have_the_token_redacted() -> None:
    record = logging.LogRecord(
        "discord.http", logging.DEBUG, __file__, 1, "sent %s", (f"Bot {TOKEN}",), None
    )
    entry.RedactSecrets(TOKEN).filter(record)
    assert record.getMessage() == "sent Bot ********"


def test_help_and_version_need_no_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A token in the environment must not make --help start the bot.
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    for argv, shown in ((["--help"], "sandbox"), (["--version"], "Undercurrent "),
                        (["sandbox", "--help"], "--fresh")):  # fmt: skip
        with pytest.raises(SystemExit) as exited:
            entry.main(argv)
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert shown in out and TOKEN not in out


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        entry.main(["serve"])
    assert exited.value.code == 2
    assert "invalid choice: 'serve'" in capsys.readouterr().err


def test_run_is_the_default_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.main(["run"]) == entry.main([]) == 2
    assert capsys.readouterr().err.count("DISCORD_TOKEN is not set") == 2
