"""The first login, waiting for a network that is not up yet.

At boot a host's network, DNS or Discord itself may not answer yet. Until the first login
succeeds, an error that says "not reachable (yet)" — DNS, a refused or reset connection, a
timeout, a 5xx from Discord, a 429 — is retried with capped exponential backoff and jitter, one log
line per attempt. A rejected token is not retried (it will not get better), nor is anything
raised once the bot has started setting itself up. After the first login, discord.py's own
reconnect logic keeps the gateway up.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Protocol

import aiohttp
import discord
from discord.utils import MISSING

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MAX_DELAY = 60.0


class LoginTarget(Protocol):
    """What of the bot the first login needs (``UndercurrentBot``; a fake in unit tests)."""

    http: discord.http.HTTPClient
    setup_started: bool

    async def login(self, token: str) -> None: ...

    def is_closed(self) -> bool: ...


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` means Discord could not be reached (yet), rather than refused us."""
    if isinstance(error, discord.LoginFailure):
        return False
    if isinstance(error, discord.HTTPException):
        # 429 here is a limit discord.py could not wait out itself (a Cloudflare ban after too
        # many restarts): waiting longer each time is the cure, exiting for a restart is not.
        return error.status >= 500 or error.status == 429

    return isinstance(error, aiohttp.ClientConnectionError | OSError | TimeoutError)


def backoff(
    attempt: int,
    *,
    first: float = FIRST_DELAY,
    cap: float = MAX_DELAY,
    rng: Callable[[], float] = random.random,
) -> float:
    """The wait after failed attempt ``attempt`` (from 1): doubling from ``first`` up to
    ``cap``, the upper half of it drawn at random so many bots rebooting together spread out."""
    ceiling = min(cap, first * 2.0 ** (attempt - 1))
    return ceiling / 2 + rng() * ceiling / 2


def _why(error: BaseException) -> str:
    if isinstance(error, discord.HTTPException):
        return f"Discord answered {error.status}"
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def login_when_reachable(
    bot: LoginTarget,
    token: str,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: Callable[[], float] = random.random,
) -> int | None:
    """Log in, retrying while Discord cannot be reached; returns the attempts it took, or
    None when the bot was closed while it waited."""
    attempt = 0
    while True:
        attempt += 1
        try:
            await bot.login(token)
        except Exception as error:
            if not is_transient(error) or bot.setup_started or bot.is_closed():
                raise
            await _drop_session(bot)
            wait = backoff(attempt, rng=rng)
            log.warning(
                "Discord is not reachable yet (attempt %d: %s); trying again in %.1f s",
                attempt,
                _why(error),
                wait,
            )
            await sleep(wait)
            if bot.is_closed():  # told to stop while waiting: nothing to log in for
                return None
            continue
        if attempt > 1:
            log.info("Reached Discord after %d attempts", attempt)
        return attempt


async def _drop_session(bot: LoginTarget) -> None:
    """Close the HTTP session the failed attempt opened (each attempt opens its own), and let
    the next one make a new connection pool: closing a session closes its pool."""
    await bot.http.close()
    bot.http.connector = MISSING
