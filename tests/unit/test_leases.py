"""The lease of cluster jobs comes from ``MIXDOWN_LEASE_SECONDS``: heartbeats every sixth of
it, sweeps every third; a value that is no sane number of seconds is refused."""

from __future__ import annotations

import pytest

from mixdown.errors import InternalError
from mixdown.settings import Settings


def test_the_lease_sets_the_heartbeat_and_sweep_periods() -> None:
    assert Settings.from_env({}).leases.lease_s == 60
    leases = Settings.from_env({"MIXDOWN_LEASE_SECONDS": "3"}).leases
    assert (leases.lease_s, leases.beat_s, leases.sweep_s) == (3.0, 0.5, 1.0)


@pytest.mark.parametrize("value", ["0", "0.1", "-5", "soon", "1e9"])
def test_a_lease_that_is_no_sane_number_of_seconds_is_refused(value: str) -> None:
    with pytest.raises(InternalError, match="MIXDOWN_LEASE_SECONDS"):
        Settings.from_env({"MIXDOWN_LEASE_SECONDS": value})
