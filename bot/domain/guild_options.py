"""Per-server options (``guild_options``): one registry of what each option holds.

Each option is stored as one JSON value under its name. A feature that needs a channel, a time
or a list of offsets declares a ``GuildOption`` here, with how its stored JSON is checked, and
needs no new table or column. A stored value that no longer parses reads as unset.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class GuildOption(Generic[T]):
    """A named per-server option. ``parse`` turns the stored JSON value into ``T`` (raising
    ``ValueError`` if it does not fit); ``dump`` turns ``T`` into a JSON value."""

    name: str
    label: str
    parse: Callable[[object], T]
    dump: Callable[[T], object] = _identity

    def encode(self, value: T) -> str:
        """The JSON text stored for ``value``; refuses a value that would not read back."""
        text = json.dumps(self.dump(value), separators=(",", ":"))
        self.decode(text)
        return text

    def decode(self, text: str) -> T:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{self.name}: stored value is not JSON") from exc
        return self.parse(data)


def parse_snowflake(value: object) -> int:
    """A Discord ID: a positive whole number (stored as a JSON number)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"not a Discord ID: {value!r}")
    return value


MOD_LOG_CHANNEL: GuildOption[int] = GuildOption(
    "mod_log_channel", "Mod-log channel", parse_snowflake
)


def parse_seconds_list(value: object) -> tuple[int, ...]:
    """A list of whole, positive numbers of seconds (reminder offsets)."""
    if not isinstance(value, list) or not value:
        raise ValueError(f"not a list of seconds: {value!r}")
    return tuple(parse_seconds(item) for item in value)


def parse_seconds(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"not a number of seconds: {value!r}")
    return value


PARTY_CHANNEL: GuildOption[int] = GuildOption("party_channel", "Party channel", parse_snowflake)
PARTY_REMINDERS: GuildOption[tuple[int, ...]] = GuildOption(
    "party_reminders", "Party reminders (seconds before)", parse_seconds_list, list
)
PARTY_SIDE_BREAK: GuildOption[int] = GuildOption(
    "party_side_break", "Pause between sides (seconds)", parse_seconds
)

OPTIONS: dict[str, GuildOption[Any]] = {
    option.name: option
    for option in (MOD_LOG_CHANNEL, PARTY_CHANNEL, PARTY_REMINDERS, PARTY_SIDE_BREAK)
}
