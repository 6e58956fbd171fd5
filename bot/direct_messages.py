"""Direct messages a feature sends members (reminders, assignments, notices), each exactly once.

``dm_once`` opens (or reuses) the DM channel, reserves an outbox entry for it and posts through
the outbox, so a DM survives a restart mid-fan-out without being sent twice. A member whose DMs
are closed (Discord refuses with 50007), or with whom Discord won't open a DM channel at all, is
reported as ``"closed"`` and their entry dropped, so a retry doesn't try them again; the feature
decides what to do instead (mention them, or leave a button on its card).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Literal

import discord

from bot.outbox import OutboxMessage, PostRefused

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)

CANNOT_DM = 50007  # Discord: "Cannot send messages to this user"
#: DMs sent at once during a fan-out; discord.py paces each route by Discord's rate limits.
FANOUT_CONCURRENCY = 8

DmOutcome = Literal["sent", "closed"]


async def dm_once(
    bot: UndercurrentBot, key: str, user_id: int, marker: str, message: OutboxMessage
) -> DmOutcome:
    """Send ``message`` to ``user_id`` once under outbox ``key`` (``marker`` is the custom id of
    a component in it, by which a retry finds it in the DM channel). Errors other than closed
    DMs propagate, the entry still pending, for the caller's retry."""
    try:
        dm = await bot.create_dm(discord.Object(user_id))
    except discord.HTTPException as exc:
        if exc.status >= 500 or exc.status == 429:
            raise
        await bot.outbox.drop(key, "Discord would not open a DM channel")
        return "closed"
    await bot.outbox.reserve_alone(key, marker=marker, channel_id=dm.id)
    try:
        posted = await bot.outbox.post(key, message)
    except PostRefused as refused:
        cause = refused.__cause__
        if isinstance(cause, discord.HTTPException) and cause.code == CANNOT_DM:
            await bot.outbox.drop(key, "DMs closed")
            return "closed"
        raise
    return "sent" if posted is not None else "closed"


async def fan_out(
    user_ids: Iterable[int], send: Callable[[int], Awaitable[None]], *, what: str
) -> None:
    """``send`` to every member, a few at a time; one member's failure doesn't stop the rest,
    and if any failed, a ``RuntimeError`` says how many (for the job's retry, which sends only
    to those not done)."""
    semaphore = asyncio.Semaphore(FANOUT_CONCURRENCY)
    failures: list[BaseException] = []
    members = list(user_ids)

    async def one(user_id: int) -> None:
        async with semaphore:
            try:
                await send(user_id)
            except Exception as exc:
                failures.append(exc)

    await asyncio.gather(*(one(user_id) for user_id in members))
    if failures:
        raise RuntimeError(
            f"{len(failures)} of {len(members)} {what} did not go out (first: {failures[0]!r}); "
            "the rest went out, and a retry sends only these"
        )
