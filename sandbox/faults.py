"""Fault injection: answer chosen routes with a rate limit (429) or a server error, N times,
either instead of handling the request or after handling it (the change is made, the answer is
lost: what a client sees when Discord's edge fails after the API did the work).

Faults are matched by HTTP method and route template (``/channels/{channel_id}/messages``) or
concrete path, and consumed one per matching request. A 429 carries Discord's headers
(``X-RateLimit-*``, ``Retry-After``, ``Via``; discord.py treats a 429 without ``Via`` as a
Cloudflare ban) and body ``{"message": "You are being rate limited.", "retry_after": …,
"global": …}``, built by ``rate_limited`` (which ``sandbox.limits`` answers with too).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

#: Status, headers and JSON body of an answer made outside the route handlers.
Answer = tuple[int, dict[str, str], dict[str, Any]]


def bucket_headers(
    *, limit: int, remaining: int, reset_after: float, bucket: str
) -> dict[str, str]:
    """The ``X-RateLimit-*`` headers Discord sends with every answer of a limited route; the
    reset is ``reset_after`` seconds from now (real time, as clients pace themselves by it)."""
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


def rate_limited(retry_after: float, *, limit: int, bucket: str, is_global: bool = False) -> Answer:
    """Discord's 429: ``Retry-After`` in whole seconds, the bucket's headers with nothing
    remaining, the scope, and the body with the exact ``retry_after``."""
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(max(1, math.ceil(retry_after))),
        **bucket_headers(limit=limit, remaining=0, reset_after=retry_after, bucket=bucket),
        "X-RateLimit-Scope": "global" if is_global else "user",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    body = {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
    }
    return 429, headers, body


@dataclass(slots=True)
class Fault:
    """One planned fault; ``remaining`` counts down as requests hit it."""

    method: str | None
    route: str
    status: int
    remaining: int
    retry_after: float = 0.0
    is_global: bool = False
    hits: int = 0
    #: Handle the request first, then answer with the fault instead of the real reply.
    after_handling: bool = False

    def matches(self, method: str, route: str, path: str) -> bool:
        return (self.method is None or self.method == method) and self.route in (route, path)

    def response(self) -> Answer:
        """Status, headers and JSON body of the injected answer."""
        if self.status == 429:
            bucket = "sandbox-" + format(abs(hash(self.route)) & 0xFFFFFFFF, "08x")
            return rate_limited(self.retry_after, limit=5, bucket=bucket, is_global=self.is_global)
        if self.status == 502:
            return 502, {"Via": "1.1 google"}, {"message": "502 Bad Gateway", "code": 0}
        return (
            self.status,
            {"Via": "1.1 google"},
            {"message": f"{self.status}: Internal Server Error", "code": 0},
        )


class FaultPlan:
    """The faults waiting to be injected."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def rate_limit(
        self,
        route: str,
        *,
        method: str | None = None,
        times: int = 1,
        retry_after: float = 0.2,
        is_global: bool = False,
    ) -> Fault:
        """Answer the next ``times`` matching requests with 429 and ``retry_after`` seconds."""
        fault = Fault(method.upper() if method else None, route, 429, times, retry_after, is_global)
        self.faults.append(fault)
        return fault

    def server_error(
        self, route: str, *, method: str | None = None, times: int = 1, status: int = 500
    ) -> Fault:
        """Answer the next ``times`` matching requests with a 5xx status."""
        fault = Fault(method.upper() if method else None, route, status, times)
        self.faults.append(fault)
        return fault

    def lose_reply(
        self, route: str, *, method: str | None = None, times: int = 1, status: int = 502
    ) -> Fault:
        """Handle the next ``times`` matching requests, then answer them with a 5xx status."""
        fault = Fault(method.upper() if method else None, route, status, times)
        fault.after_handling = True
        self.faults.append(fault)
        return fault

    def take(self, method: str, route: str, path: str) -> Fault | None:
        """The fault for this request, if any, counting it as used."""
        for fault in self.faults:
            if fault.remaining > 0 and fault.matches(method, route, path):
                fault.remaining -= 1
                fault.hits += 1
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()

    @property
    def pending(self) -> list[Fault]:
        return [f for f in self.faults if f.remaining > 0]
