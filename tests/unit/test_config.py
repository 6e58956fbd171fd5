"""Configuration parsing: defaults, .env vs real environment, validation, secrecy."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_DOCS_URL, Secret, load_settings
from bot.errors import ConfigError

TOKEN = "MTIzNDU2.fake.token-value"


def test_defaults_with_only_a_token(tmp_path: Path) -> None:
    settings = load_settings({"DISCORD_TOKEN": TOKEN}, env_file=None)
    assert settings.discord_token.reveal() == TOKEN
    assert settings.database_path == Path("./undercurrent.sqlite3")
    assert settings.log_level == "INFO"
    assert settings.dev_guild_id is None
    assert settings.api_base is None and settings.gateway_url is None
    assert settings.docs_url == DEFAULT_DOCS_URL


@pytest.mark.parametrize("environ", [{}, {"DISCORD_TOKEN": ""}, {"DISCORD_TOKEN": "   "}])
def test_missing_or_blank_token_names_the_variable_and_where_to_get_one(
    environ: dict[str, str],
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ, env_file=None)
    assert caught.value.exit_code == 2
    message = caught.value.message
    assert message.startswith("DISCORD_TOKEN is not set")
    assert "discord.com/developers/applications" in message
    assert "\n" not in message


def test_env_file_is_read_and_real_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"DISCORD_TOKEN={TOKEN}\nDATABASE_PATH=/data/from-dotenv.sqlite3\nLOG_LEVEL=debug\n"
    )
    settings = load_settings({"DATABASE_PATH": "/data/from-env.sqlite3"}, env_file=env_file)
    assert settings.discord_token.reveal() == TOKEN
    assert settings.database_path == Path("/data/from-env.sqlite3")
    assert settings.log_level == "DEBUG"


def test_blank_real_variable_does_not_hide_the_env_file_value(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"DISCORD_TOKEN={TOKEN}\n")
    # A blank value counts as unset, wherever it comes from.
    assert load_settings({"LOG_LEVEL": ""}, env_file=env_file).log_level == "INFO"


@pytest.mark.parametrize(
    "key,value,fragment",
    [
        ("LOG_LEVEL", "chatty", "LOG_LEVEL must be one of"),
        ("DEV_GUILD_ID", "my-server", "DEV_GUILD_ID must be a server ID"),
        ("DEV_GUILD_ID", "0", "DEV_GUILD_ID must be a server ID"),
        ("DISCORD_API_BASE", "http://discord.example.com/api/v10", "only on a loopback address"),
        ("DISCORD_API_BASE", "ftp://127.0.0.1/api", "DISCORD_API_BASE must be a https:// URL"),
        ("DISCORD_API_BASE", "javascript:alert(1)", "DISCORD_API_BASE must be a https:// URL"),
        ("DISCORD_GATEWAY_URL", "ws://10.0.0.5:8080/", "only on a loopback address"),
        ("DISCORD_GATEWAY_URL", "https://127.0.0.1/", "DISCORD_GATEWAY_URL must be a wss:// URL"),
        ("DOCS_URL", "file:///etc/passwd", "DOCS_URL must be an http:// or https:// URL"),
    ],
)
def test_malformed_values_are_refused_with_the_variable_named(
    key: str, value: str, fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment) as caught:
        load_settings({"DISCORD_TOKEN": TOKEN, key: value}, env_file=None)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    "key,value",
    [
        ("DISCORD_API_BASE", "http://127.0.0.1:8123/api/v10"),
        ("DISCORD_API_BASE", "http://localhost:8123/api/v10"),
        ("DISCORD_API_BASE", "http://[::1]:8123/api/v10"),
        ("DISCORD_API_BASE", "https://discord.example.com/api/v10"),
        ("DISCORD_GATEWAY_URL", "ws://127.0.0.2:9000/gateway"),
        ("DISCORD_GATEWAY_URL", "wss://gateway.example.com"),
    ],
)
def test_loopback_or_secure_endpoints_are_accepted(key: str, value: str) -> None:
    settings = load_settings({"DISCORD_TOKEN": TOKEN, key: value + "/"}, env_file=None)
    assert (settings.api_base if key == "DISCORD_API_BASE" else settings.gateway_url) == value


def test_token_never_shows_in_repr_str_or_format() -> None:
    settings = load_settings({"DISCORD_TOKEN": TOKEN}, env_file=None)
    for text in (repr(settings), str(settings), f"{settings}", f"{settings.discord_token}"):
        assert TOKEN not in text
    assert Secret(TOKEN) == settings.discord_token


def test_error_messages_never_contain_the_token() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"DISCORD_TOKEN": TOKEN, "LOG_LEVEL": "nope"}, env_file=None)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "key,value",
    [("DEV_GUILD_ID", "²"), ("DISCORD_API_BASE", "https://[::1"), ("DOCS_URL", "https://[::1")],
)
def test_odd_values_are_a_config_error_not_a_traceback(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=key):
        load_settings({"DISCORD_TOKEN": TOKEN, key: value}, env_file=None)


def test_log_format_and_backups(tmp_path: Path) -> None:
    base = {"DISCORD_TOKEN": "t"}
    settings = load_settings(base, env_file=None)
    assert (settings.log_format, settings.backup_dir, settings.backup_keep) == ("text", None, 7)
    folder = tmp_path / "backups"
    folder.mkdir()
    settings = load_settings(
        {**base, "LOG_FORMAT": "JSON", "BACKUP_DIR": str(folder), "BACKUP_KEEP": "14"},
        env_file=None,
    )
    assert (settings.log_format, settings.backup_dir, settings.backup_keep) == ("json", folder, 14)
    for key, value, said in (
        ("LOG_FORMAT", "yaml", "LOG_FORMAT must be text or json"),
        ("BACKUP_DIR", str(tmp_path / "nope"), "does not exist: point it at an existing folder"),
        ("BACKUP_KEEP", "0", "BACKUP_KEEP must be a whole number from 1 to 1000"),
        ("BACKUP_KEEP", "seven", "BACKUP_KEEP must be a whole number from 1 to 1000"),
    ):
        with pytest.raises(ConfigError, match=said):
            load_settings({**base, key: value}, env_file=None)


def test_commands_that_only_touch_the_database_need_no_token() -> None:
    settings = load_settings({"DATABASE_PATH": "x.sqlite3"}, env_file=None, require_token=False)
    assert settings.database_path == Path("x.sqlite3")
    with pytest.raises(ConfigError, match="DISCORD_TOKEN is not set"):
        load_settings({"DATABASE_PATH": "x.sqlite3"}, env_file=None)
