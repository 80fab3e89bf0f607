"""Twenty requests a second per action and app; the next one is refused."""

from __future__ import annotations

import pytest

from mixdown.api.faults import ApiError
from mixdown.api.limiter import RateLimiter


def test_the_twenty_first_request_within_a_second_is_refused() -> None:
    now = [100.0]
    limiter = RateLimiter(clock=lambda: now[0])
    for _ in range(20):
        limiter.check(None, "DescribeOnlineRecord", 1)
    with pytest.raises(ApiError) as err:
        limiter.check(None, "DescribeOnlineRecord", 1)
    assert err.value.code == "RequestLimitExceeded"


def test_other_actions_and_apps_have_their_own_budget_and_it_refills() -> None:
    now = [100.0]
    limiter = RateLimiter(clock=lambda: now[0])
    for _ in range(20):
        limiter.check(None, "A", 1)
    limiter.check(None, "B", 1)
    limiter.check(None, "A", 2)
    now[0] += 1.01
    limiter.check(None, "A", 1)
