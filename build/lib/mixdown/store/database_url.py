"""A database URL as users write it: its driver chosen for them, its password kept out of
every message.

``postgresql://USER@HOST/DB`` (and ``postgres://``, as many hosting tools print it) means
psycopg 3, the one PostgreSQL driver Mixdown installs; ``sqlite:///PATH`` is a SQLite file.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from mixdown.errors import InvalidParameterValue

POSTGRESQL = "postgresql+psycopg"
SQLITE = "sqlite"
_DRIVERS = {
    "postgresql": POSTGRESQL,
    "postgres": POSTGRESQL,
    POSTGRESQL: POSTGRESQL,
    SQLITE: SQLITE,
}
_FORMS = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DB or sqlite:///PATH"
_PASSWORD_PARAMETER = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)


def driver_url(text: str) -> URL:
    """The SQLAlchemy URL, driver included, of the database ``text`` names."""
    try:
        url = make_url(text.strip())
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise InvalidParameterValue(f"database URL {masked(text)}: expected {_FORMS}") from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise InvalidParameterValue(
            f"database URL {masked(text)}: {url.drivername!r} is not supported; expected {_FORMS}"
        )
    if driver == SQLITE and url.database in (None, "", ":memory:"):
        # Every connection would get its own empty database: nothing would be kept.
        raise InvalidParameterValue(f"database URL {masked(text)}: SQLite needs a file path")
    return url.set(drivername=driver)


def masked(text: str) -> str:
    """``text`` as written, with its password (in the user part or a ``password=``
    parameter) replaced by ``***``, for messages and logs."""
    scheme, sep, rest = text.partition("://")
    if sep:
        before_query = rest.partition("?")[0]
        at = before_query.rfind("@")  # the last one: a raw password may hold an "@"
        colon = before_query.find(":", 0, max(at, 0))
        if at > 0 and colon >= 0:
            rest = f"{rest[: colon + 1]}***{rest[at:]}"
    return _PASSWORD_PARAMETER.sub(r"\1***", f"{scheme}{sep}{rest}")
