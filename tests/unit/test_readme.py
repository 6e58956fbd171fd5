"""The README tells the truth: the invite's permissions, every setting the bot reads, every
command of ``python -m bot``, every exit status."""

from __future__ import annotations

import re
from pathlib import Path

from bot.client import INVITE_PERMISSIONS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")

# discord.py's names → the names Discord's own permission screens use.
DISCORD_NAMES = {
    "read_messages": "View Channels",
    "send_messages": "Send Messages",
    "send_messages_in_threads": "Send Messages in Threads",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
    "read_message_history": "Read Message History",
    "create_public_threads": "Create Public Threads",
    "manage_threads": "Manage Threads",
    "create_events": "Create Events",
    "manage_events": "Manage Events",
    "manage_messages": "Manage Messages",
}


def test_the_invite_link_asks_for_exactly_the_permissions_in_code() -> None:
    integers = set(re.findall(r"permissions=(\d+)", README))
    assert integers == {str(INVITE_PERMISSIONS.value)}
    assert f"**{INVITE_PERMISSIONS.value}**" in README


def test_the_permissions_table_lists_each_permission_asked_for_and_no_other() -> None:
    table = README.split("| Permission | Why |", 1)[1].split("\n\n", 1)[0]
    listed = {line.split("|")[1].strip() for line in table.splitlines()[2:] if line.strip()}
    asked = {DISCORD_NAMES[name] for name, granted in INVITE_PERMISSIONS if granted}
    assert listed == asked


def _section(heading: str) -> str:
    start = README.index(heading)
    end = README.find("\n#", start + len(heading))
    return README[start : end if end != -1 else None]


def test_the_configuration_table_lists_every_setting_the_bot_reads() -> None:
    source = (Path(__file__).resolve().parents[2] / "bot" / "config.py").read_text()
    read = set(re.findall(r'get\("([A-Z_]+)"\)', source))
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", _section("## Configuration"), re.MULTILINE))
    assert read == table


def test_every_command_of_the_command_line_is_documented() -> None:
    import argparse

    import bot.__main__ as entry

    commands = next(
        action
        for action in entry.parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    documented = set(re.findall(r"`python -m bot (\w+)", _section("### The command line")))
    assert set(commands.choices) == documented


def test_the_exit_status_table_covers_every_status() -> None:
    import bot.__main__ as entry
    from bot import operations
    from bot.errors import ConfigError, DatabaseRefused

    statuses = {
        0,
        1,
        ConfigError.exit_code,
        entry.EXIT_TOKEN_REJECTED,
        DatabaseRefused.exit_code,
        operations.EXIT_UNHEALTHY,
        operations.EXIT_PATH_REFUSED,
        operations.EXIT_BOT_RUNNING,
    }
    table = {
        int(n) for n in re.findall(r"^\| (\d+) \|", _section("### Exit statuses"), re.MULTILINE)
    }
    assert table == statuses
