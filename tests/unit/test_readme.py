"""The README tells the truth about what the bot asks for: the invite's permissions."""

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
