"""Sustained rate limits, off until a test or benchmark switches them on, kept the way Discord
keeps them: per route and major parameter (the channel, guild or webhook in the path), in
windows of ``per`` requests every ``seconds``, and optionally one global limit across routes.

    limits = emulator.limits
    messages = limits.route("POST", "/channels/{channel_id}/messages", per=5, seconds=5)
    limits.route("POST", "/users/@me/channels", per=10, seconds=10)   # opening DM channels
    limits.global_limit(per=50, seconds=1)                             # Discord's 50 a second

A limited route's answers carry ``X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket`` for
its window, so discord.py paces itself; a request past the window's allowance is answered 429
(``sandbox.faults.rate_limited``) without being handled, and counted in ``Bucket.limited``.
Interaction callbacks and follow-ups are outside the global limit, as on Discord. Windows run on
real time (clients pace by it): moving the world's clock does not refill them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from sandbox.faults import Answer, bucket_headers, rate_limited

#: Path parameters that split one route's limit into one bucket each (Discord's "major
#: parameters"); interaction webhooks are keyed by their application and token.
MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "application_id", "token")
#: Routes Discord leaves outside the global limit.
_NOT_GLOBAL = ("/interactions/", "/webhooks/")


@dataclass(slots=True)
class _Window:
    resets_at: float
    used: int = 0


@dataclass(slots=True)
class Bucket:
    """One limited route: ``per`` requests every ``seconds`` for each major parameter."""

    method: str
    route: str
    per: int
    seconds: float
    name: str
    #: Requests answered 429 by this limit.
    limited: int = 0
    #: Requests let through.
    passed: int = 0
    _windows: dict[tuple[str, ...], _Window] = field(default_factory=dict)

    def take(self, major: tuple[str, ...], now: float) -> tuple[bool, dict[str, str], float]:
        """Count one request: (allowed, the headers to answer with, seconds until the reset)."""
        window = self._windows.get(major)
        if window is None or now >= window.resets_at:
            window = self._windows[major] = _Window(now + self.seconds)
        reset_after = max(0.0, window.resets_at - now)
        if window.used >= self.per:
            self.limited += 1
            return False, {}, reset_after
        window.used += 1
        self.passed += 1
        headers = bucket_headers(
            limit=self.per,
            remaining=self.per - window.used,
            reset_after=reset_after,
            bucket=self.name,
        )
        return True, headers, reset_after


class RateLimits:
    """The rate limits in force (none by default)."""

    def __init__(self) -> None:
        self.buckets: list[Bucket] = []
        self.global_bucket: Bucket | None = None

    def route(self, method: str, route: str, *, per: int, seconds: float) -> Bucket:
        """Limit ``method route`` (a route template, e.g. ``/channels/{channel_id}/messages``)
        to ``per`` requests every ``seconds`` for each major parameter."""
        if per < 1 or seconds <= 0:
            raise ValueError("a limit needs per >= 1 and seconds > 0")
        name = "sandbox-" + format(abs(hash((method.upper(), route))) & 0xFFFFFFFF, "08x")
        bucket = Bucket(method.upper(), route, per, seconds, name)
        self.buckets = [b for b in self.buckets if (b.method, b.route) != (bucket.method, route)]
        self.buckets.append(bucket)
        return bucket

    def global_limit(self, *, per: int = 50, seconds: float = 1.0) -> Bucket:
        """Limit all requests together (but interaction callbacks and follow-ups), as Discord's
        global limit of 50 a second does."""
        self.global_bucket = Bucket("*", "*", per, seconds, "global")
        return self.global_bucket

    def clear(self) -> None:
        """Lift every limit."""
        self.buckets.clear()
        self.global_bucket = None

    def take(
        self, method: str, route: str, params: Mapping[str, str]
    ) -> tuple[dict[str, str] | None, Answer | None]:
        """Count a request to ``method route``: the headers for its answer (None when no route
        limit applies), or the 429 to answer instead."""
        now = time.monotonic()
        if self.global_bucket is not None and not route.startswith(_NOT_GLOBAL):
            allowed, _, reset_after = self.global_bucket.take((), now)
            if not allowed:
                return None, rate_limited(
                    reset_after, limit=self.global_bucket.per, bucket="global", is_global=True
                )
        for bucket in self.buckets:
            if bucket.method == method and bucket.route == route:
                major = tuple(params[k] for k in MAJOR_PARAMETERS if k in params)
                allowed, headers, reset_after = bucket.take(major, now)
                if not allowed:
                    return None, rate_limited(reset_after, limit=bucket.per, bucket=bucket.name)
                return headers, None
        return None, None

    @property
    def limited(self) -> int:
        """429s answered by every limit together."""
        found = sum(b.limited for b in self.buckets)
        return found + (self.global_bucket.limited if self.global_bucket else 0)
