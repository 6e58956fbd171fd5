"""A pick's card as the rest of the system names it: its outbox key and its buttons' ids.

The card is posted exactly once through the outbox under ``card_key(pick_id)``; it is found
again in a channel by its **Heard it** button, whose ``custom_id`` is the entry's marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CARD_KEY_PREFIX = "pick:"
_CARD_KEY = re.compile(r"pick:(?P<pick_id>\d+):card")
VOTE_KINDS = ("heard", "loved")


def card_key(pick_id: int) -> str:
    """The outbox key of the pick's card."""
    return f"{CARD_KEY_PREFIX}{pick_id}:card"


def pick_of_card_key(key: str) -> int | None:
    """The pick a card key belongs to; None for any other key."""
    match = _CARD_KEY.fullmatch(key)
    return None if match is None else int(match["pick_id"])


def vote_custom_id(kind: str, pick_id: int) -> str:
    """The ``custom_id`` of the card's Heard it / Loved it button."""
    if kind not in VOTE_KINDS:
        raise ValueError(kind)
    return f"uc:pick:{kind}:{pick_id}"


def card_marker(pick_id: int) -> str:
    """What identifies the card among a channel's messages: its Heard it button."""
    return vote_custom_id("heard", pick_id)


@dataclass(frozen=True, slots=True)
class CardPlace:
    """Where a pick's card is posted: enough to update it, even once the pick is gone."""

    pick_id: int
    guild_id: int
    channel_id: int
    message_id: int
