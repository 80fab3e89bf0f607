"""Database URLs as users write them: the driver is chosen for them, and the password never
reaches a message."""

from __future__ import annotations

import pytest

from mixdown.errors import InvalidParameterValue
from mixdown.store.database_url import driver_url, masked


@pytest.mark.parametrize(
    "written",
    [
        "postgresql://mix:pw@db.internal:6432/mixdown",
        "postgres://mix:pw@db.internal:6432/mixdown",
        "postgresql+psycopg://mix:pw@db.internal:6432/mixdown",
    ],
)
def test_a_postgresql_url_runs_on_psycopg_3_and_keeps_everything_else(written: str) -> None:
    url = driver_url(written)
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "mix",
        "pw",
        "db.internal",
        6432,
        "mixdown",
    )


def test_a_sqlite_url_names_a_file_relative_or_absolute() -> None:
    assert driver_url("sqlite:///data/mixdown.db").database == "data/mixdown.db"
    assert driver_url("sqlite:////srv/mixdown.db").database == "/srv/mixdown.db"


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("mysql://mix:pw@db/mixdown", "'mysql' is not supported"),
        ("postgresql://mix:pw@db:port/mixdown", "expected postgresql://"),
        ("db.internal/mixdown", "expected postgresql://"),
        ("sqlite://", "SQLite needs a file path"),
        ("sqlite:///:memory:", "SQLite needs a file path"),
    ],
)
def test_an_unusable_url_is_refused_naming_it_without_its_password(written: str, says: str) -> None:
    with pytest.raises(InvalidParameterValue) as refused:
        driver_url(written)
    assert f"database URL {masked(written)}: " in refused.value.message
    assert says in refused.value.message and ":pw@" not in refused.value.message


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("postgresql://mix:pw@db/x", "postgresql://mix:***@db/x"),
        ("postgresql://mix:p@ss:w/rd@db:5432/x", "postgresql://mix:***@db:5432/x"),
        (
            "postgresql://db/x?user=mix&password=pw&sslmode=require",
            "postgresql://db/x?user=mix&password=***&sslmode=require",
        ),
        ("postgresql://mix@db/x", "postgresql://mix@db/x"),
        ("sqlite:////home/a@b/mixdown.db", "sqlite:////home/a@b/mixdown.db"),
        ("not a url", "not a url"),
    ],
)
def test_masking_hides_only_the_password(written: str, shown: str) -> None:
    assert masked(written) == shown
