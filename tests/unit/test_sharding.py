"""The IDENTIFY plan keeps to Discord's session start rate limit and no slower."""

from __future__ import annotations

import pytest

from bot.domain.sharding import IDENTIFY_MARGIN, IDENTIFY_WINDOW, IdentifyPlan

STEP = IDENTIFY_WINDOW + IDENTIFY_MARGIN


def test_with_concurrency_one_each_identify_waits_a_window_after_the_last() -> None:
    plan = IdentifyPlan(max_concurrency=1)
    assert [plan.book(shard, now=100.0) for shard in range(3)] == [0.0, STEP, 2 * STEP]
    assert plan.book(3, now=100.0 + 10 * STEP) == 0.0  # long after: at once


def test_shards_in_different_buckets_identify_together() -> None:
    plan = IdentifyPlan(max_concurrency=16)
    assert [plan.book(shard, now=0.0) for shard in range(16)] == [0.0] * 16
    assert plan.book(16, now=1.0) == pytest.approx(STEP - 1.0)  # bucket 0 again
    assert plan.book(17, now=1.0) == pytest.approx(STEP - 1.0)  # bucket 1 again


def test_a_reidentify_waits_for_its_bucket_only() -> None:
    plan = IdentifyPlan(max_concurrency=2)
    plan.book(0, now=0.0)
    plan.book(1, now=0.0)
    assert plan.book(1, now=3.0) == pytest.approx(STEP - 3.0)
    assert plan.bucket(5) == 1


def test_concurrency_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        IdentifyPlan(max_concurrency=0)
