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
        "LOG_FORMAT",
        "BACKUP_DIR",
        "BACKUP_KEEP",
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


# -- check, backup, restore --------------------------------------------------------------------


def _database(tmp_path: Path, migrated_database: Path) -> Path:
    import shutil

    path = tmp_path / "data" / "undercurrent.sqlite3"
    path.parent.mkdir()
    shutil.copyfile(migrated_database, path)
    return path


def test_check_reports_the_database_without_the_token_and_exits_by_the_table(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    migrated_database: Path,
) -> None:
    from bot.db.migrate import latest_version

    assert entry.main(["check"]) == 2  # no token: a configuration problem
    capsys.readouterr()
    path = _database(tmp_path, migrated_database)
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_PATH", str(path))
    before = path.read_bytes()
    assert entry.main(["check", "--integrity"]) == 0
    out = capsys.readouterr().out
    assert f"schema v{latest_version()}" in out and "integrity     ok" in out
    assert "DISCORD_TOKEN is set" in out and TOKEN not in out
    assert path.read_bytes() == before  # read-only
    # --live: no bot is running on it.
    assert entry.main(["check", "--live"]) == 5
    assert "not healthy: no heartbeat" in capsys.readouterr().err
    # A database written by a newer version: status 4, untouched.
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    conn.close()
    assert entry.main(["check"]) == 4
    assert "newer Undercurrent" in capsys.readouterr().err


def test_check_says_an_older_database_will_be_upgraded(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    migrated_database: Path,
) -> None:
    import sqlite3

    from bot.db.migrate import latest_version

    path = _database(tmp_path, migrated_database)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {latest_version() - 1}")
    conn.close()
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_PATH", str(path))
    assert entry.main(["check"]) == 0
    assert (
        f"schema v{latest_version() - 1} (v{latest_version()} after the upgrade the bot applies "
        "on start)" in capsys.readouterr().out
    )


def test_backup_and_restore_need_no_token_and_refuse_with_their_statuses(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    migrated_database: Path,
) -> None:
    from bot.instance import InstanceLock

    path = _database(tmp_path, migrated_database)
    monkeypatch.setenv("DATABASE_PATH", str(path))
    copy = tmp_path / "copy.sqlite3"
    assert entry.main(["backup", str(copy)]) == 0
    assert capsys.readouterr().out.startswith(f"Backed up {path} to {copy}: ")
    assert entry.main(["backup", str(copy)]) == 6
    assert "already exists: nothing was overwritten" in capsys.readouterr().err
    assert entry.main(["backup", str(tmp_path)]) == 6
    capsys.readouterr()

    with InstanceLock(path):  # a bot is running on it
        assert entry.main(["restore", str(copy)]) == 7
        assert "a bot is running on" in capsys.readouterr().err
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    assert entry.main(["restore", str(notes)]) == 6
    assert "the database is untouched" in capsys.readouterr().err
    assert entry.main(["restore", str(copy)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Restored {path} from {copy}")
    assert "The database it replaced is kept as" in out
    assert len(list(path.parent.glob("undercurrent.sqlite3.replaced-*"))) == 1

    # The database is the problem, not the backup: status 4, as the README's table says.
    folder = tmp_path / "a-folder.sqlite3"
    folder.mkdir()
    monkeypatch.setenv("DATABASE_PATH", str(folder))
    assert entry.main(["restore", str(copy)]) == 4
    assert "is a folder, not a database file" in capsys.readouterr().err
    # Nothing there yet (a new machine, or DATABASE_PATH forgotten): restored, and said so.
    fresh = tmp_path / "new" / "undercurrent.sqlite3"
    fresh.parent.mkdir()
    monkeypatch.setenv("DATABASE_PATH", str(fresh))
    assert entry.main(["restore", str(copy)]) == 0
    assert f"There was no database at {fresh} before" in capsys.readouterr().out


async def test_a_second_bot_on_the_same_database_is_refused(
    tmp_path: Path, migrated_database: Path
) -> None:
    from bot.errors import StartupError
    from bot.instance import InstanceLock

    path = _database(tmp_path, migrated_database)
    settings = load_settings({"DISCORD_TOKEN": TOKEN, "DATABASE_PATH": str(path)}, env_file=None)
    with InstanceLock(path), pytest.raises(StartupError) as refused:
        await entry.run(settings)
    assert refused.value.exit_code == 7
    assert "another Undercurrent is already running" in refused.value.message
