"""The retry schedule, its jitter and Retry-After parsing, without a network."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from app.notify.webhooks import MAX_RETRY_AFTER, RETRY_SCHEDULE, parse_retry_after, retry_delay


def test_schedule_is_the_documented_one_with_bounded_jitter_then_dead():
    assert RETRY_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    rng = random.Random(3)
    for n, base in enumerate(RETRY_SCHEDULE):
        delays = [retry_delay(n, rng) for _ in range(200)]
        assert all(0.8 * base <= d <= 1.2 * base for d in delays)
        if base:
            assert len({round(d, 3) for d in delays}) > 100, "retries must not line up (jitter)"
    assert retry_delay(len(RETRY_SCHEDULE), rng) is None


def test_retry_after_seconds_dates_garbage_and_cap():
    now = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(format_datetime(now + timedelta(minutes=3), usegmt=True), now) == 180
    assert parse_retry_after(format_datetime(now - timedelta(minutes=3), usegmt=True), now) == 0
    assert parse_retry_after("9999999", now) == MAX_RETRY_AFTER
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None
