"""The values a condition works on, and the operations between them, with expr-lang's semantics.

Only JSON-like values exist here: nil (None), bool, int, float, str, array (list) and map (dict with string
keys). Anything a provider hands over is converted to that by :func:`sanitize` first, so no operation ever
meets another Python object, and none looks anything up on one: a member access is a dict key lookup.

Where expr-lang follows Go, so do these: ints are 64-bit (an overflow is an error here rather than a silent
wrap), ``/`` always divides as floats (``1 / 0`` is +Inf), ``%`` takes ints and keeps the dividend's sign,
``**`` is ``math.Pow`` (a float), NaN compares false to everything, ``1 == 1.0`` holds but ``true == 1``
and ``"1" == 1`` do not, and ordering is only defined between numbers or between strings.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol, TypeAlias, TypeGuard

from kube.json_data import json_type_name

Value: TypeAlias = "bool | int | float | str | list[Value] | dict[str, Value] | None"

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

MAX_STRING_LENGTH = 1 << 20
"""Longest string an operation may build (concatenation, repeat, …): 1 Mi characters."""
MAX_ITEMS = 100_000
"""Most elements an operation may build into one array or map (a range, a literal, split, …)."""
MAX_INPUT_DEPTH = 64
"""Deepest nesting of arrays and maps accepted in a result; deeper JSON is refused rather than walked."""
TEXT_CHARACTERS_PER_STEP = 16
"""Building text costs one step per this many characters, so the step budget also bounds the memory that
strings built along the way can take (about 16 Mi characters in all)."""


class Meter(Protocol):
    """What bounds the work of one evaluation: every loop over data charges it, and it raises once the
    evaluation has used up its budget."""

    def charge(self, units: int) -> None: ...


class OperationError(Exception):
    """An operation that is not defined on its operands; the evaluator adds the position.

    ``empty_access`` marks a failure to read an element of an empty array or of nil, which the caller turns
    into the "metric result is empty" message when the result itself is empty.
    """

    def __init__(self, reason: str, *, empty_access: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.empty_access = empty_access


# --- types --------------------------------------------------------------------------------------------------


# expr-lang's names for the JSON types a value can have.
_EXPR_TYPE_NAMES = {
    "null": "nil",
    "boolean": "bool",
    "integer": "int",
    "number": "float",
    "string": "string",
    "array": "array",
    "object": "map",
}


def type_name(value: Value) -> str:
    """expr-lang's name for the type of a value."""
    return _EXPR_TYPE_NAMES[json_type_name(value)]


def is_number(value: Value) -> TypeGuard[int | float]:
    # bool is an int subclass in Python but never a number in the language.
    return isinstance(value, int | float) and not isinstance(value, bool)


def checked_int(number: int) -> int:
    """An int result, refused when it leaves Go's 64-bit range (Go would silently wrap around)."""
    if not INT_MIN <= number <= INT_MAX:
        raise OperationError("integer overflow")
    return number


def to_float(number: int | float) -> float:
    try:
        return float(number)
    except OverflowError:
        raise OperationError("integer is too large to convert to float") from None


def checked_string(text: str) -> str:
    if len(text) > MAX_STRING_LENGTH:
        raise OperationError(f"string would be longer than {MAX_STRING_LENGTH} characters")
    return text


def text_cost(text: str) -> int:
    """The steps building ``text`` costs."""
    return len(text) // TEXT_CHARACTERS_PER_STEP + 1


def checked_items(count: int) -> None:
    if count > MAX_ITEMS:
        raise OperationError(f"array would have more than {MAX_ITEMS} elements")


# --- input --------------------------------------------------------------------------------------------------


def sanitize(value: object, what: str = "metric result") -> Value:
    """A copy of a provider's value made of the language's types only.

    Tuples become arrays, other integer and real number types (numpy scalars, IntEnum) plain ints and floats,
    and mappings dicts;
    anything else — including a map key that is not a string — is refused, so an expression can never reach
    a Python object through its result.
    """
    return _sanitize(value, what, 0)


def _sanitize(value: object, what: str, level: int) -> Value:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        # The base class's own conversion, so a str subclass (a StrEnum member) becomes a plain str.
        return str.__str__(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if level >= MAX_INPUT_DEPTH:
        raise OperationError(f"{what} is nested more than {MAX_INPUT_DEPTH} levels deep")
    if isinstance(value, list | tuple):
        return [_sanitize(item, what, level + 1) for item in value]
    if isinstance(value, Mapping):
        converted: dict[str, Value] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise OperationError(f"{what} has a map key of type {type(key).__name__}; keys must be strings")
            converted[str(key)] = _sanitize(item, what, level + 1)
        return converted
    raise OperationError(f"{what} holds a value of unsupported type {type(value).__name__}")


# --- equality and order -------------------------------------------------------------------------------------


def equal(left: Value, right: Value, meter: Meter | None = None) -> bool:
    """``==``: numbers by value across int and float (NaN equals nothing), arrays and maps element by
    element, everything else only within its own type. Each pair of values compared costs a step."""
    if meter is not None:
        meter.charge(1)
    if is_number(left) and is_number(right):
        return left == right
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(equal(a, b, meter) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(equal(item, right[key], meter) for key, item in left.items())
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    return left is None and right is None


def compare(op: str, left: Value, right: Value) -> bool:
    """``<``, ``<=``, ``>``, ``>=`` between two numbers or two strings; any other pair is an error."""
    if (is_number(left) and is_number(right)) or (isinstance(left, str) and isinstance(right, str)):
        if op == "<":
            return left < right  # type: ignore[operator]
        if op == "<=":
            return left <= right  # type: ignore[operator]
        if op == ">":
            return left > right  # type: ignore[operator]
        return left >= right  # type: ignore[operator]
    raise OperationError(f"invalid operation: {type_name(left)} {op} {type_name(right)}")


# --- arithmetic ---------------------------------------------------------------------------------------------


def arithmetic(op: str, left: Value, right: Value) -> Value:
    """``+ - * / % **`` as expr-lang computes them."""
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return checked_string(left + right)
    if not (is_number(left) and is_number(right)):
        raise OperationError(f"invalid operation: {type_name(left)} {op} {type_name(right)}")
    if op == "/":
        return _divide(to_float(left), to_float(right))
    if op == "**":
        return _power(to_float(left), to_float(right))
    if op == "%":
        if isinstance(left, float) or isinstance(right, float):
            raise OperationError(f"invalid operation: {type_name(left)} % {type_name(right)}")
        if right == 0:
            raise OperationError("integer divide by zero")
        # Go's remainder truncates toward zero: the result has the sign of the dividend.
        remainder = abs(left) % abs(right)
        return -remainder if left < 0 else remainder
    if isinstance(left, int) and isinstance(right, int):
        if op == "+":
            return checked_int(left + right)
        if op == "-":
            return checked_int(left - right)
        return checked_int(left * right)
    a, b = to_float(left), to_float(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    return a * b


def _divide(a: float, b: float) -> float:
    if b != 0:
        return a / b
    # IEEE division, as Go does it: x/0 is ±Inf with the signs multiplied, 0/0 and NaN/0 are NaN.
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _power(base: float, exponent: float) -> float:
    # Work is constant whatever the numbers: floats saturate to ±Inf instead of growing.
    try:
        return math.pow(base, exponent)
    except OverflowError:
        negative = base < 0 and exponent.is_integer() and int(exponent) % 2 == 1
        return -math.inf if negative else math.inf
    except ValueError:
        # A negative base with a fractional exponent, or 0 to a negative power: Go gives NaN or +Inf.
        return math.inf if base == 0 else math.nan


def negate(value: Value) -> Value:
    if isinstance(value, int) and not isinstance(value, bool):
        return checked_int(-value)
    if isinstance(value, float):
        return -value
    raise OperationError(f"invalid operation: -{type_name(value)}")


def positive(value: Value) -> Value:
    if is_number(value):
        return value
    raise OperationError(f"invalid operation: +{type_name(value)}")


# --- access -------------------------------------------------------------------------------------------------


def to_index(value: Value) -> int:
    """An index or slice bound: an int, or a float truncated toward zero as Go converts it (so that
    ``result[len(result) / 2]`` works although ``/`` yields a float)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    raise OperationError(f"cannot use {type_name(value)} as an index")


def fetch(target: Value, key: Value) -> Value:
    """``target[key]`` and ``target.key``: an element of an array or string (negative counts from the end),
    or a map's entry (nil when missing). Only ever a dict key lookup or a list index."""
    if isinstance(target, dict):
        if not isinstance(key, str):
            raise OperationError(f"cannot use {type_name(key)} as a map key")
        return target.get(key)
    if isinstance(target, list | str):
        if isinstance(key, str):
            raise OperationError(f"cannot fetch {key} from {type_name(target)}")
        index = to_index(key)
        length = len(target)
        position = index + length if index < 0 else index
        if not 0 <= position < length:
            raise OperationError(
                f"index out of range: {index} (array length is {length})", empty_access=length == 0
            )
        return target[position]
    shown = key if isinstance(key, str) else format_value(key)
    raise OperationError(f"cannot fetch {shown} from {type_name(target)}", empty_access=target is None)


def slice_of(target: Value, start: Value, stop: Value) -> Value:
    """``target[start:stop]`` with Go's clamping: bounds count from the end when negative and are cut to
    the length, and a start past the stop gives an empty slice."""
    if not isinstance(target, list | str):
        raise OperationError(f"cannot slice {type_name(target)}")
    length = len(target)
    low = 0 if start is None else to_index(start)
    high = length if stop is None else to_index(stop)
    if low < 0:
        low = max(low + length, 0)
    if high < 0:
        high = max(high + length, 0)
    high = min(high, length)
    low = min(low, high)
    return target[low:high]


def member_of(needle: Value, haystack: Value, meter: Meter | None = None) -> bool:
    """``needle in haystack``: an element of an array (by ``==``), or a key of a map; nothing is in nil."""
    if haystack is None:
        return False
    if isinstance(haystack, list):
        return any(equal(needle, item, meter) for item in haystack)
    if isinstance(haystack, dict):
        return isinstance(needle, str) and needle in haystack
    raise OperationError(f'operator "in" not defined on {type_name(haystack)}')


def string_test(op: str, left: Value, right: Value) -> bool:
    """``contains``, ``startsWith``, ``endsWith``: defined on two strings only."""
    if not (isinstance(left, str) and isinstance(right, str)):
        raise OperationError(f"invalid operation: {type_name(left)} {op} {type_name(right)}")
    if op == "contains":
        return right in left
    if op == "startsWith":
        return left.startswith(right)
    return left.endswith(right)


# --- text ---------------------------------------------------------------------------------------------------


def format_float(number: float) -> str:
    """A float the way Argo shows a measured value: the shortest text that reads back to the same number,
    positional rather than scientific for everyday magnitudes, without a ``.0`` on whole numbers; ``NaN``,
    ``+Inf`` and ``-Inf`` as Go writes them."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    magnitude = abs(number)
    if number == 0 or 1e-6 <= magnitude < 1e21:
        text = format(Decimal(repr(number)), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    # Go's JSON form for the extremes: 1e+21, 1e-07.
    mantissa, exponent = repr(number).split("e")
    sign = "-" if exponent.startswith("-") else "+"
    digits = exponent.lstrip("+-").lstrip("0").rjust(2, "0")
    return f"{mantissa.removesuffix('.0')}e{sign}{digits}"


def format_value(value: Value) -> str:
    """A measured value as text: numbers as :func:`format_float` writes them, a string as it is, arrays and
    maps as compact JSON (``[0.99,0.98]``, keys sorted) whose NaN and infinities read ``NaN``/``+Inf``."""
    if isinstance(value, str):
        return value
    return _json(value)


def _json(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(_json(item) for item in value) + "]"
    return "{" + ",".join(f"{json.dumps(key, ensure_ascii=False)}:{_json(value[key])}" for key in sorted(value)) + "}"


def go_string(value: Value) -> str:
    """``string(x)``: what Go's ``fmt.Sprint`` prints for scalars (``<nil>``, ``true``, ``0.5``); arrays and
    maps as compact JSON, which reads better than Go's ``[1 2 3]`` and is what messages show elsewhere."""
    if value is None:
        return "<nil>"
    return format_value(value)
