"""The first login waits for the network: transient errors are retried with capped, jittered
backoff, one log line each; a rejected token and anything after set-up began are not."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import discord
import pytest

from bot.startup import backoff, is_transient, login_when_reachable


class FakeResponse:
    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "x"


def http_error(status: int) -> discord.HTTPException:
    cls = discord.DiscordServerError if status >= 500 else discord.HTTPException
    return cls(FakeResponse(status), {"message": "x", "code": 0})  # type: ignore[arg-type]


def refused() -> aiohttp.ClientConnectorError:
    key = aiohttp.client_reqrep.ConnectionKey("discord.com", 443, True, True, None, None, None)
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))


def test_what_counts_as_not_reachable_yet() -> None:
    assert is_transient(refused())
    assert is_transient(TimeoutError())
    assert is_transient(OSError(-3, "Temporary failure in name resolution"))
    assert is_transient(http_error(502))
    assert is_transient(http_error(429))  # too many restarts: waiting is the cure
    assert not is_transient(discord.LoginFailure("Improper token"))
    assert not is_transient(http_error(403))
    assert not is_transient(ValueError("a bug"))


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    lows = [backoff(n, rng=lambda: 0.0) for n in range(1, 10)]
    highs = [backoff(n, rng=lambda: 1.0) for n in range(1, 10)]
    assert highs[:7] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0]
    assert highs[-1] == 60.0  # capped
    assert lows == [high / 2 for high in highs]


class FakeBot:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.attempts = 0
        self.setup_started = False
        self.closed = False
        self.http: Any = FakeHTTP()

    def is_closed(self) -> bool:
        return self.closed

    async def login(self, token: str) -> None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)


class FakeHTTP:
    def __init__(self) -> None:
        self.closed = 0
        self.connector: object = object()

    async def close(self) -> None:
        self.closed += 1


async def test_retries_until_discord_answers_logging_each_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = FakeBot([refused(), TimeoutError(), http_error(503)])
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    caplog.set_level(logging.INFO, "bot.startup")
    attempts = await login_when_reachable(bot, "t", sleep=sleep, rng=lambda: 1.0)  # type: ignore[arg-type]
    assert attempts == 4 and bot.attempts == 4
    assert waits == [1.0, 2.0, 4.0]
    assert bot.http.closed == 3  # each failed attempt's session is closed, not leaked
    lines = [r.getMessage() for r in caplog.records]
    assert len([line for line in lines if "not reachable yet" in line]) == 3
    assert "attempt 1: ClientConnectorError" in lines[0]
    assert "attempt 3: Discord answered 503" in lines[2]
    assert lines[-1] == "Reached Discord after 4 attempts"
    assert all("\n" not in line for line in lines)


async def test_a_rejected_token_is_not_retried() -> None:
    bot = FakeBot([discord.LoginFailure("Improper token has been passed.")])
    with pytest.raises(discord.LoginFailure):
        await login_when_reachable(bot, "t", sleep=_no_sleep)  # type: ignore[arg-type]
    assert bot.attempts == 1


async def test_nothing_is_retried_once_set_up_began() -> None:
    bot = FakeBot([refused()])
    bot.setup_started = True
    with pytest.raises(aiohttp.ClientConnectorError):
        await login_when_reachable(bot, "t", sleep=_no_sleep)  # type: ignore[arg-type]
    assert bot.attempts == 1


async def _no_sleep(seconds: float) -> None:
    return None


async def test_a_bot_closed_while_it_waits_stops_waiting() -> None:
    bot = FakeBot([refused(), refused(), refused()])

    async def closed_meanwhile(seconds: float) -> None:
        bot.closed = True  # SIGTERM arrived during the wait

    attempts = await login_when_reachable(bot, "t", sleep=closed_meanwhile)  # type: ignore[arg-type]
    assert attempts is None
    assert bot.attempts == 1  # no further attempt after the bot was closed
