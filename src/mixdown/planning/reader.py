"""A strict reader over parsed JSON that names the field path in every error."""

from __future__ import annotations

from typing import Any

from mixdown.errors import TYPE_UNMATCHED, InvalidParameter, MixdownError

_MAX_INT = 2**63 - 1


class Reader:
    """Reads one JSON object; unknown keys are an error so typos do not pass silently."""

    def __init__(self, data: Any, path: str, error: type[MixdownError] = InvalidParameter) -> None:
        self.error = error
        self.path = path
        if not isinstance(data, dict):
            raise error(
                f"{path or 'document'}: expected an object, got {_kind(data)}", code=TYPE_UNMATCHED
            )
        self.data: dict[str, Any] = data
        self._seen: set[str] = set()

    def _unmatched(self, key: str, want: str, value: Any) -> MixdownError:
        return self.error(
            f"{self._where(key)}: expected {want}, got {_kind(value)}", code=TYPE_UNMATCHED
        )

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, required: bool) -> Any:
        self._seen.add(key)
        value = self.data.get(key)
        if value is None and required:
            raise self.error(f"{self._where(key)}: required")
        return value

    def integer(
        self, key: str, default: int | None = None, *, lo: int = -_MAX_INT, hi: int = _MAX_INT
    ) -> int:
        value = self._get(key, default is None)
        if value is None:
            assert default is not None
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            # JSON's own types, as the API's JSON bodies: a GET's strings are converted by
            # the API's schema before they get here, so "1700000000000" is an error here.
            raise self._unmatched(key, "an integer", value)
        if not lo <= value <= hi:
            raise self.error(f"{self._where(key)}: {value} is outside [{lo}, {hi}]")
        return int(value)

    def optional_integer(self, key: str, *, lo: int = -_MAX_INT, hi: int = _MAX_INT) -> int | None:
        if self.data.get(key) is None:
            self._seen.add(key)
            return None
        return self.integer(key, lo=lo, hi=hi)

    def string(self, key: str, default: str | None = None) -> str:
        value = self._get(key, default is None)
        if value is None:
            assert default is not None
            return default
        if not isinstance(value, str):
            raise self._unmatched(key, "a string", value)
        return value

    def boolean(self, key: str, default: bool | None = None) -> bool:
        value = self._get(key, default is None)
        if value is None:
            assert default is not None
            return default
        if not isinstance(value, bool):
            raise self._unmatched(key, "true or false", value)
        return value

    def child(self, key: str, required: bool = False) -> Reader | None:
        value = self._get(key, required)
        if value is None:
            return None
        return Reader(value, self._where(key), self.error)

    def items(self, key: str, required: bool = False) -> list[Any]:
        value = self._get(key, required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._unmatched(key, "a list", value)
        return value

    def item_path(self, key: str, index: int) -> str:
        return f"{self._where(key)}[{index}]"

    def ignore(self, *keys: str) -> None:
        """Accept these keys without reading them."""
        self._seen.update(keys)

    def done(self) -> None:
        """Reject keys nobody read."""
        extra = sorted(set(self.data) - self._seen)
        if extra:
            raise self.error(f"{self._where(extra[0])}: unknown field")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
