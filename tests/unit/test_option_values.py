"""The command tree's one check on option values no Discord client sends."""

from __future__ import annotations

from typing import Any

import pytest

from bot.interactions import OPTION_NUMBER_LIMIT, unusable_option


def option(name: str, value: Any, type: int = 4) -> dict[str, Any]:
    return {"name": name, "type": type, "value": value}


@pytest.mark.parametrize(
    "value", [1, -1, 0, OPTION_NUMBER_LIMIT, -OPTION_NUMBER_LIMIT, 2.5, True, "x", "\U0001f600"]
)
def test_values_discord_sends_pass(value: Any) -> None:
    assert unusable_option([option("id", value)]) is None


@pytest.mark.parametrize("value", [OPTION_NUMBER_LIMIT + 1, 2**64, -(2**64), 1e300])
def test_numbers_past_discords_limit_are_named(value: Any) -> None:
    assert unusable_option([option("id", value)]) == (
        f"`{str(value)[:40]}` is not a valid value for **id**."
    )


def test_a_broken_character_is_named_inside_a_subcommand() -> None:
    options = [
        {
            "name": "search",
            "type": 1,
            "options": [option("year_from", 1990), option("query", "a\ud800", type=3)],
        }
    ]
    problem = unusable_option(options)
    assert problem is not None and problem.startswith("**query** contains a broken character")
