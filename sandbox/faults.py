"""Fault injection: answer chosen routes with a rate limit (429) or a server error, N times,
either instead of handling the request or after handling it (the change is made, the answer is
lost: what a client sees when Discord's edge fails after the API did the work).

Faults are matched by HTTP method and route template (``/channels/{channel_id}/messages``) or
concrete path, and consumed one per matching request. A 429 carries Discord's headers
(``X-RateLimit-*``, ``Retry-After``, ``Via``; discord.py treats a 429 without ``Via`` as a
Cloudflare ban) and body ``{"message": "You are being rate limited.", "retry_after": …,
"global": …}``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any


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

    def response(self) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Status, headers and JSON body of the injected answer."""
        if self.status == 429:
            reset_after = f"{self.retry_after:.3f}"
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, math.ceil(self.retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
                "X-RateLimit-Reset-After": reset_after,
                "X-RateLimit-Bucket": "sandbox-"
                + format(abs(hash(self.route)) & 0xFFFFFFFF, "08x"),
                "X-RateLimit-Scope": "global" if self.is_global else "user",
            }
            if self.is_global:
                headers["X-RateLimit-Global"] = "true"
            body = {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.is_global,
            }
            return 429, headers, body
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
