"""When each shard may IDENTIFY: Discord's session start rate limit, as a plan.

Discord lets ``max_concurrency`` shards IDENTIFY in each 5-second window: shard ``s`` is in rate
limit bucket ``s % max_concurrency``, and each bucket may IDENTIFY once per window. A bot with
``max_concurrency`` 16 may start 16 shards at once; one with 1 (most bots) starts one every 5 s.
discord.py waits 5 s before every IDENTIFY but the first, whatever the limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

IDENTIFY_WINDOW = 5.0  # seconds, Discord's
IDENTIFY_MARGIN = 0.25  # seconds added, so network jitter can't make two IDENTIFYs look too close


@dataclass(slots=True)
class IdentifyPlan:
    """Books IDENTIFYs so that no bucket sends two within a window. Times are monotonic seconds."""

    max_concurrency: int
    _booked: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_concurrency < 1:
            raise ValueError("max_concurrency is at least 1")

    def bucket(self, shard_id: int) -> int:
        return shard_id % self.max_concurrency

    def book(self, shard_id: int, now: float) -> float:
        """Book the shard's IDENTIFY at the earliest moment its bucket allows; how long to wait."""
        bucket = self.bucket(shard_id)
        previous = self._booked.get(bucket, -math.inf)
        at = max(now, previous + IDENTIFY_WINDOW + IDENTIFY_MARGIN)
        self._booked[bucket] = at
        return at - now
