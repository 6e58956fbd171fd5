"""Outbox entries as values, and the rules for posting them exactly once.

An entry is one thing the bot means to post once: written before the post, given the posted id
after it. What a retry must do depends on how the earlier attempt went out: a message sent with
the entry's nonce is returned by Discord instead of being posted again for a few minutes, so a
retry inside that window just sends again; anything else (past the window, an interaction
response, which takes no nonce, or a scheduled event, which has no idempotency at all) is looked
for first.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

OutboxKind = Literal["message", "response", "event"]
OutboxStatus = Literal["pending", "posted", "dropped", "failed"]

#: Discord accepts a nonce of at most 25 characters.
NONCE_MAX_LENGTH = 25
#: Characters of randomness per entry, so two databases (a restored backup, a wiped test
#: database on the same bot) never send the same nonce for different posts.
NONCE_SALT_LENGTH = 10
#: How long we count on Discord remembering a nonce. Discord says "a few minutes" and gives no
#: figure; assuming less than it keeps costs a history read on some retries, assuming more would
#: cost a double post, so this stays well short.
NONCE_TRUSTED_FOR = timedelta(minutes=2)

_BASE36 = string.digits + string.ascii_lowercase


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One stored outbox row. ``posted_id`` is the message's (or event's) id once posted."""

    id: int
    key: str
    kind: OutboxKind
    guild_id: int | None
    channel_id: int | None
    marker: str
    nonce_salt: str
    posted_id: int | None
    status: OutboxStatus
    attempts: int
    last_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime

    @property
    def nonce(self) -> str:
        return make_nonce(self.id, self.nonce_salt)


def stamp(moment: datetime) -> int:
    """An outbox time: whole seconds, rounded down. An attempt must never look more recent than
    it was (a retry could count on a nonce Discord has already forgotten), and an entry written
    by a process killed this second must not look newer than the restarted process's start
    (reconciliation would take it for another live process's and leave it)."""
    return int(moment.timestamp())


def new_nonce_salt() -> str:
    """Fresh randomness for a new entry's nonce."""
    return secrets.token_hex(NONCE_SALT_LENGTH // 2)


def make_nonce(entry_id: int, salt: str) -> str:
    """``<id in base 36>.<salt>``: unique per entry, the same on every retry, ≤ 25 characters."""
    if entry_id < 0:
        raise ValueError("outbox ids are positive")
    digits = ""
    rest = entry_id
    while True:
        rest, digit = divmod(rest, 36)
        digits = _BASE36[digit] + digits
        if rest == 0:
            break
    nonce = f"{digits}.{salt}"
    if len(nonce) > NONCE_MAX_LENGTH:
        raise ValueError(f"nonce {nonce!r} is longer than Discord's {NONCE_MAX_LENGTH}")
    return nonce


def must_look_before_posting(
    entry: OutboxEntry, now: datetime, trusted_for: timedelta = NONCE_TRUSTED_FOR
) -> bool:
    """Whether an earlier attempt may have posted something the nonce will not bring back."""
    if entry.attempts == 0 or entry.last_attempt_at is None:
        return False
    if entry.kind != "message":
        return True
    return now - entry.last_attempt_at >= trusted_for
