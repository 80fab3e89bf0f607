"""Action parameter shapes, and conforming a request's parameters to one.

JSON bodies must carry native types. GET and form requests carry dotted, indexed names
(``A.B.0.C``) with string values, which are rebuilt and coerced here (reference §1.12).
Unknown names give UnknownParameter, wrong types InvalidParameter.BodyParameterTypeUnmatched,
absent required fields MissingParameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mixdown.api import faults
from mixdown.api.faults import ApiError

INTEGER, STRING, BOOLEAN, OBJECT, ARRAY = "Integer", "String", "Boolean", "Object", "Array"
_INT64 = 2**63
_DIGITS = re.compile(r"^-?[0-9]{1,19}$")
#: Deepest nesting any TIW parameter needs; stops hostile inputs early.
_MAX_DEPTH = 8
#: Longest array any parameter may have.
MAX_ITEMS = 10_000


@dataclass(frozen=True)
class Field:
    kind: str
    required: bool = False
    fields: Mapping[str, Field] = field(default_factory=dict)
    item: Field | None = None


Shape = Mapping[str, Field]


def integer(required: bool = False) -> Field:
    return Field(INTEGER, required)


def string(required: bool = False) -> Field:
    return Field(STRING, required)


def boolean(required: bool = False) -> Field:
    return Field(BOOLEAN, required)


def obj(fields: Shape, required: bool = False) -> Field:
    return Field(OBJECT, required, fields=fields)


def array(item: Field, required: bool = False) -> Field:
    return Field(ARRAY, required, item=item)


def _name(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def _unmatched(path: str, want: str) -> ApiError:
    return ApiError(faults.TYPE_UNMATCHED, f"{path}: expected {want}")


def conform(params: Mapping[str, Any], shape: Shape, *, flat: bool) -> dict[str, Any]:
    """The parameters as native, nested JSON values, checked against ``shape``."""
    nested = _unflatten(params, shape) if flat else dict(params)
    return _object(nested, shape, "", flat, 0)


def _object(data: Any, shape: Shape, path: str, flat: bool, depth: int) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _unmatched(path, "an object")
    if depth > _MAX_DEPTH:
        raise ApiError(faults.INVALID_PARAMETER, f"{path}: nested too deeply")
    for key in data:
        if key not in shape:
            raise ApiError(faults.UNKNOWN_PARAMETER, f"{_name(path, key)}: unknown parameter")
    out: dict[str, Any] = {}
    for key, spec in shape.items():
        value = data.get(key)
        if value is None:  # the SDK never sends null: null and absent both mean "not given"
            if spec.required:
                raise ApiError(faults.MISSING_PARAMETER, f"{_name(path, key)}: required")
            continue
        out[key] = _value(value, spec, _name(path, key), flat, depth + 1)
    return out


def _value(value: Any, spec: Field, path: str, flat: bool, depth: int) -> Any:
    if spec.kind == OBJECT:
        return _object(value, spec.fields, path, flat, depth)
    if spec.kind == ARRAY:
        if not isinstance(value, list):
            raise _unmatched(path, "an array")
        if len(value) > MAX_ITEMS:
            raise ApiError(faults.INVALID_PARAMETER_VALUE, f"{path}: more than {MAX_ITEMS} items")
        assert spec.item is not None
        return [_value(v, spec.item, f"{path}[{i}]", flat, depth + 1) for i, v in enumerate(value)]
    if spec.kind == INTEGER:
        if flat and isinstance(value, str) and _DIGITS.match(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _unmatched(path, "an integer")
        if not -_INT64 <= value < _INT64:
            raise ApiError(faults.INVALID_PARAMETER_VALUE, f"{path}: {value} is out of range")
        return value
    if spec.kind == BOOLEAN:
        if flat and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise _unmatched(path, "a boolean")
        return value
    if not isinstance(value, str):
        raise _unmatched(path, "a string")
    return value


def _unflatten(params: Mapping[str, Any], shape: Shape) -> dict[str, Any]:
    """Rebuild nesting from dotted names, guided by ``shape`` (arrays use 0-based indices)."""
    root: dict[str, Any] = {}
    for dotted, value in params.items():
        parts = dotted.split(".")
        if len(parts) > 2 * _MAX_DEPTH:
            raise ApiError(faults.INVALID_PARAMETER, f"{dotted}: nested too deeply")
        _place(root, parts, value, shape, dotted)
    rebuilt: dict[str, Any] = _lists(root)
    return rebuilt


def _place(node: Any, parts: list[str], value: Any, shape: Shape, dotted: str) -> None:
    key, rest = parts[0], parts[1:]
    if key not in shape:
        raise ApiError(faults.UNKNOWN_PARAMETER, f"{dotted}: unknown parameter")
    spec = shape[key]
    _store(node, key, rest, value, spec, dotted)


def _store(
    node: Any, key: str | int, rest: list[str], value: Any, spec: Field, dotted: str
) -> None:
    if not rest:
        if isinstance(node.get(key), dict):
            raise _unmatched(dotted, f"nested parameters under {dotted}")
        node[key] = value
        return
    child = node.setdefault(key, {})
    if not isinstance(child, dict):
        raise _unmatched(dotted, "a value, not nested parameters")
    if spec.kind == OBJECT:
        _place(child, rest, value, spec.fields, dotted)
    elif spec.kind == ARRAY:
        index = rest[0]
        if not index.isdigit() or int(index) >= MAX_ITEMS:
            raise ApiError(faults.INVALID_PARAMETER, f"{dotted}: {index!r} is not an array index")
        assert spec.item is not None
        # Arrays are built as {index: value} and turned into lists once all names are in.
        child.setdefault("\0array", True)
        _store(child, int(index), rest[1:], value, spec.item, dotted)
    else:
        raise _unmatched(dotted, f"a {spec.kind.lower()}, not nested parameters")


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node.pop("\0array", False):
        indices = sorted(k for k in node if isinstance(k, int))
        if indices != list(range(len(indices))):
            raise ApiError(faults.INVALID_PARAMETER, "array indices must run 0, 1, 2, ...")
        return [_lists(node[i]) for i in indices]
    return {k: _lists(v) for k, v in node.items()}
