"""The language TIW's types are declared in, and the three things done with a declaration.

A ``Field`` says what the wire carries (kind, nesting, whether TIW requires it) and how it
maps onto a domain value (attribute, default, bounds, a rule across fields):

- ``conform``: an API request's parameters, typed and nested (GET and form requests carry
  dotted, indexed names ``A.B.0.C`` with string values, rebuilt here; reference §1.12).
  Unknown names give UnknownParameter, wrong types BodyParameterTypeUnmatched, absent
  required fields MissingParameter.
- ``read``: JSON (a request's, a manifest's, a params file's, a stored row's) into domain
  values, with defaults, bounds and rules; every error names the field path.
- ``write``: a domain value back into JSON of the same shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mixdown import errors
from mixdown.errors import InvalidParameter, MixdownError


class Kind(Enum):
    INTEGER = "an integer"
    STRING = "a string"
    BOOLEAN = "true or false"
    OBJECT = "an object"
    ARRAY = "a list"


class _Absent:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


#: A field without a default: reading refuses its absence (with its type's error).
NO_DEFAULT: Any = _Absent()
_INT64 = 2**63
#: Digits a flat request's integer may have: more than an int64 holds, so that a value out
#: of range is InvalidParameterValue as in JSON, not a type mismatch.
_DIGITS = re.compile(r"^-?[0-9]{1,40}$")
#: Deepest nesting any TIW parameter needs; stops hostile inputs early.
_MAX_DEPTH = 8
#: Longest array any parameter may have.
MAX_ITEMS = 10_000


class Refused(Exception):
    """Raised by a rule; ``read`` turns it into the field's error class."""


#: A check across fields, or a normalisation: (value read, its path) -> the value kept.
Rule = Callable[[Any, str], Any]


@dataclass(frozen=True)
class Field:
    kind: Kind
    #: TIW requires it: the API answers MissingParameter, reading refuses its absence.
    required: bool = False
    fields: Mapping[str, Field] = field(default_factory=dict)
    item: Field | None = None
    #: The domain attribute it fills; None: accepted and checked, not kept.
    attr: str | None = None
    #: The value read when absent; NO_DEFAULT: reading refuses its absence.
    default: Any = NO_DEFAULT
    lo: int = -_INT64
    hi: int = _INT64 - 1
    #: An object's domain type (or a function), called with its fields' attributes.
    build: Callable[..., Any] | None = None
    #: An object whose attributes belong to its parent's value (TIW nests what the
    #: domain keeps flat, such as the canvas size).
    spread: bool = False
    rule: Rule | None = None
    #: The error class of what goes wrong reading this field and those below it.
    error: type[MixdownError] | None = None

    @property
    def kept(self) -> bool:
        return self.attr is not None or self.spread


Fields = Mapping[str, Field]


def integer(
    attr: str | None = None,
    *,
    required: bool = False,
    default: Any = NO_DEFAULT,
    lo: int = -_INT64,
    hi: int = _INT64 - 1,
    rule: Rule | None = None,
) -> Field:
    return Field(Kind.INTEGER, required, attr=attr, default=default, lo=lo, hi=hi, rule=rule)


def string(
    attr: str | None = None,
    *,
    required: bool = False,
    default: Any = NO_DEFAULT,
    rule: Rule | None = None,
) -> Field:
    return Field(Kind.STRING, required, attr=attr, default=default, rule=rule)


def boolean(attr: str | None = None, *, required: bool = False, default: Any = NO_DEFAULT) -> Field:
    return Field(Kind.BOOLEAN, required, attr=attr, default=default)


def obj(
    fields: Fields,
    attr: str | None = None,
    *,
    build: Callable[..., Any] | None = None,
    required: bool = False,
    default: Any = NO_DEFAULT,
    spread: bool = False,
    rule: Rule | None = None,
    error: type[MixdownError] | None = None,
) -> Field:
    return Field(
        Kind.OBJECT,
        required,
        fields=fields,
        attr=attr,
        default=default,
        build=build,
        spread=spread,
        rule=rule,
        error=error,
    )


def array(
    item: Field, attr: str | None = None, *, required: bool = False, default: Any = NO_DEFAULT
) -> Field:
    return Field(Kind.ARRAY, required, item=item, attr=attr, default=default)


def name(path: str, key: str | int) -> str:
    """The path of ``key`` below ``path``: ``A.B``, and ``A[0]`` for an array's item."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _mismatch(value: Any, kind: Kind) -> bool:
    if kind is Kind.OBJECT:
        return not isinstance(value, dict)
    if kind is Kind.ARRAY:
        return not isinstance(value, list)
    if kind is Kind.INTEGER:
        return isinstance(value, bool) or not isinstance(value, int)
    if kind is Kind.BOOLEAN:
        return not isinstance(value, bool)
    return not isinstance(value, str)


def _got(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _unmatched(
    path: str, kind: Kind, value: Any, error: type[MixdownError] = InvalidParameter
) -> MixdownError:
    return error(
        f"{path or 'document'}: expected {kind.value}, got {_got(value)}",
        code=errors.TYPE_UNMATCHED,
    )


# --- conform: an API request's parameters ---------------------------------------------


def conform(params: Mapping[str, Any], fields: Fields, *, flat: bool) -> dict[str, Any]:
    """The parameters as native, nested JSON values, checked against ``fields``."""
    nested = _unflatten(params, fields) if flat else dict(params)
    return _conform_object(nested, fields, "", flat, 0)


def _conform_object(data: Any, fields: Fields, path: str, flat: bool, depth: int) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _unmatched(path, Kind.OBJECT, data)
    if depth > _MAX_DEPTH:
        raise InvalidParameter(f"{path}: nested too deeply")
    for key in data:
        if key not in fields:
            message = f"{name(path, key)}: unknown parameter"
            raise MixdownError(message, code=errors.UNKNOWN_PARAMETER)
    out: dict[str, Any] = {}
    for key, spec in fields.items():
        value = data.get(key)
        if value is None:  # the SDK never sends null: null and absent both mean "not given"
            if spec.required:
                raise MixdownError(f"{name(path, key)}: required", code=errors.MISSING_PARAMETER)
            continue
        out[key] = _conform_value(value, spec, name(path, key), flat, depth + 1)
    return out


def _conform_value(value: Any, spec: Field, path: str, flat: bool, depth: int) -> Any:
    if spec.kind is Kind.OBJECT:
        return _conform_object(value, spec.fields, path, flat, depth)
    if spec.kind is Kind.ARRAY:
        items = _checked_list(value, path)
        assert spec.item is not None
        return [
            _conform_value(v, spec.item, name(path, i), flat, depth + 1)
            for i, v in enumerate(items)
        ]
    if flat and isinstance(value, str):
        value = _from_text(value, spec.kind)
    if _mismatch(value, spec.kind):
        raise _unmatched(path, spec.kind, value)
    if spec.kind is Kind.INTEGER and not -_INT64 <= value < _INT64:
        raise MixdownError(f"{path}: {value} is out of range", code=errors.INVALID_PARAMETER_VALUE)
    return value


def _checked_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _unmatched(path, Kind.ARRAY, value)
    if len(value) > MAX_ITEMS:
        message = f"{path}: more than {MAX_ITEMS} items"
        raise MixdownError(message, code=errors.INVALID_PARAMETER_VALUE)
    return value


def _from_text(value: str, kind: Kind) -> Any:
    """A flat request's string as the kind it stands for, where it is one."""
    if kind is Kind.INTEGER and _DIGITS.match(value):
        return int(value)
    if kind is Kind.BOOLEAN and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _unflatten(params: Mapping[str, Any], fields: Fields) -> dict[str, Any]:
    """Rebuild nesting from dotted names, guided by ``fields`` (arrays use 0-based indices)."""
    root: dict[str, Any] = {}
    for dotted, value in params.items():
        parts = dotted.split(".")
        if len(parts) > 2 * _MAX_DEPTH:
            raise InvalidParameter(f"{dotted}: nested too deeply")
        _place(root, parts, value, fields, dotted)
    rebuilt: dict[str, Any] = _lists(root)
    return rebuilt


def _place(node: Any, parts: list[str], value: Any, fields: Fields, dotted: str) -> None:
    key, rest = parts[0], parts[1:]
    if key not in fields:
        raise MixdownError(f"{dotted}: unknown parameter", code=errors.UNKNOWN_PARAMETER)
    _store(node, key, rest, value, fields[key], dotted)


def _store(
    node: Any, key: str | int, rest: list[str], value: Any, spec: Field, dotted: str
) -> None:
    if not rest:
        if isinstance(node.get(key), dict):
            raise _flat_unmatched(dotted, f"nested parameters under {dotted}")
        node[key] = value
        return
    child = node.setdefault(key, {})
    if not isinstance(child, dict):
        raise _flat_unmatched(dotted, "a value, not nested parameters")
    if spec.kind is Kind.OBJECT:
        _place(child, rest, value, spec.fields, dotted)
    elif spec.kind is Kind.ARRAY:
        index = rest[0]
        if not index.isdigit() or int(index) >= MAX_ITEMS:
            raise InvalidParameter(f"{dotted}: {index!r} is not an array index")
        assert spec.item is not None
        # Arrays are built as {index: value} and turned into lists once all names are in.
        child.setdefault("\0array", True)
        _store(child, int(index), rest[1:], value, spec.item, dotted)
    else:
        raise _flat_unmatched(dotted, f"{spec.kind.value}, not nested parameters")


def _flat_unmatched(dotted: str, want: str) -> MixdownError:
    return InvalidParameter(f"{dotted}: expected {want}", code=errors.TYPE_UNMATCHED)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node.pop("\0array", False):
        indices = sorted(k for k in node if isinstance(k, int))
        if indices != list(range(len(indices))):
            raise InvalidParameter("array indices must run 0, 1, 2, ...")
        return [_lists(node[i]) for i in indices]
    return {k: _lists(v) for k, v in node.items()}


# --- read: JSON into domain values ----------------------------------------------------


def read(data: Any, spec: Field, path: str = "") -> Any:
    """The domain value ``data`` declares: an object's ``build`` called with its fields'
    attributes, a list as a tuple; errors are ``spec.error`` (InvalidParameter if none)."""
    return _read(data, spec, path, spec.error or InvalidParameter)


def _read(value: Any, spec: Field, path: str, error: type[MixdownError]) -> Any:
    error = spec.error or error
    if _mismatch(value, spec.kind):
        raise _unmatched(path, spec.kind, value, error)
    if spec.kind is Kind.OBJECT:
        out = _read_object(value, spec, path, error)
    elif spec.kind is Kind.ARRAY:
        assert spec.item is not None
        out = tuple(_read(v, spec.item, name(path, i), error) for i, v in enumerate(value))
    else:
        out = value
        if spec.kind is Kind.INTEGER and not spec.lo <= value <= spec.hi:
            raise error(f"{path}: {value} is outside [{spec.lo}, {spec.hi}]")
    if spec.rule is None:
        return out
    try:
        return spec.rule(out, path)
    except Refused as refused:
        raise error(str(refused)) from None


def _read_object(data: dict[str, Any], spec: Field, path: str, error: type[MixdownError]) -> Any:
    for key in data:
        if key not in spec.fields:
            raise error(f"{name(path, key)}: unknown field")
    values = _attributes(data, spec.fields, path, error)
    return spec.build(**values) if spec.build is not None else values


def _attributes(
    data: dict[str, Any], fields: Fields, path: str, error: type[MixdownError]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, sub in fields.items():
        where, value = name(path, key), data.get(key)
        if value is None:
            if sub.required or (sub.kept and sub.default is NO_DEFAULT):
                raise (sub.error or error)(f"{where}: required")
            if sub.attr is not None:
                values[sub.attr] = sub.default
            continue
        if sub.spread:
            values.update(_read_spread(value, sub, where, error))
            continue
        got = _read(value, sub, where, error)
        if sub.attr is not None:
            values[sub.attr] = got
    return values


def _read_spread(value: Any, spec: Field, path: str, error: type[MixdownError]) -> dict[str, Any]:
    if _mismatch(value, Kind.OBJECT):
        raise _unmatched(path, Kind.OBJECT, value, error)
    for key in value:
        if key not in spec.fields:
            raise error(f"{name(path, key)}: unknown field")
    return _attributes(value, spec.fields, path, error)


# --- write: domain values back into JSON -----------------------------------------------


def write(value: Any, spec: Field) -> Any:
    """JSON of ``value`` in the shape ``spec`` declares; None attributes are left out."""
    if spec.kind is Kind.OBJECT:
        return _write_object(value, spec.fields)
    if spec.kind is Kind.ARRAY:
        assert spec.item is not None
        return [write(v, spec.item) for v in value]
    if spec.kind is Kind.INTEGER:
        return int(value)  # an IntEnum is written as its number
    return value


def _write_object(value: Any, fields: Fields) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, sub in fields.items():
        if sub.spread:
            out[key] = _write_object(value, sub.fields)
            continue
        if sub.attr is None:
            continue
        got = value[sub.attr] if isinstance(value, Mapping) else getattr(value, sub.attr)
        if got is not None:
            out[key] = write(got, sub)
    return out
