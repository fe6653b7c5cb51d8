"""The functions a condition can call: Argo's own (``asInt``, ``asFloat``, ``isNaN``, ``isInf``, ``isNil``,
``default``) and expr-lang's built-ins that make sense on a measurement.

The table is closed: the parser refuses a call to any other name, so nothing outside it is ever reachable.
Every function takes and returns the language's plain values and charges the evaluation's meter for the
elements it walks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from analysis.expressions.values import (
    MAX_STRING_LENGTH,
    TEXT_CHARACTERS_PER_STEP,
    Meter,
    OperationError,
    Value,
    checked_int,
    checked_items,
    checked_string,
    go_string,
    is_number,
    text_cost,
    to_float,
    type_name,
)

PredicateFunction = Callable[[Value, int], Value]
"""A predicate argument, ready to apply: element and index in, the body's value out."""

Kind = str | None
"""What static checks know a function returns: "bool", "number", "string", "array", or None (it depends)."""


@dataclass(frozen=True)
class Function:
    """A function whose arguments are all evaluated before the call."""

    name: str
    minimum: int
    maximum: int | None
    returns: Kind
    call: Callable[[Sequence[Value], Meter], Value]


@dataclass(frozen=True)
class Iteration:
    """A function over an array whose second argument is a predicate (``all(result, # < 1000)``),
    evaluated per element with ``#`` bound to it."""

    name: str
    returns: Kind
    call: Callable[[Value, PredicateFunction | None, Meter], Value]
    predicate_optional: bool = False
    """Whether the array alone is a call too: ``count(result)`` counts its true elements, ``sum(result)`` adds
    them up (expr-lang's forms without a predicate)."""

    @property
    def minimum(self) -> int:
        """Fewest arguments: the array, and the predicate unless it is optional."""
        return 1 if self.predicate_optional else 2

    @property
    def maximum(self) -> int:
        """Most arguments: the array and the predicate."""
        return 2


Builtin = Function | Iteration


# --- helpers ------------------------------------------------------------------------------------------------


def _elements(name: str, value: Value, meter: Meter) -> list[Value]:
    if not isinstance(value, list):
        raise OperationError(f"{name}() expects an array, got {type_name(value)}")
    meter.charge(len(value))
    return value


def _truth(name: str, value: Value) -> bool:
    if not isinstance(value, bool):
        raise OperationError(f"the predicate of {name}() must return a bool, got {type_name(value)}")
    return value


def _number(name: str, value: Value) -> int | float:
    if not is_number(value):
        raise OperationError(f"{name}() expects a number, got {type_name(value)}")
    return value


def _text(name: str, value: Value) -> str:
    if not isinstance(value, str):
        raise OperationError(f"{name}() expects a string, got {type_name(value)}")
    return value


def _count(name: str, value: Value) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise OperationError(f"{name}() expects an int, got {type_name(value)}")


_GO_INT = re.compile(r"[+-]?[0-9]+\Z")
_GO_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)\Z", re.IGNORECASE
)


def parse_int(name: str, text: str) -> int:
    """Go's ``strconv.ParseInt(text, 10, 64)``: optional sign and decimal digits, nothing else."""
    if not _GO_INT.match(text):
        raise OperationError(f'{name}(): invalid syntax: "{text[:64]}" is not an integer')
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise OperationError(f'{name}(): value out of range: "{text[:64]}"')
    return value


def parse_float(name: str, text: str) -> float:
    """Go's ``strconv.ParseFloat(text, 64)`` for decimal text, ``Inf`` and ``NaN``; no spaces."""
    if not _GO_FLOAT.match(text):
        raise OperationError(f'{name}(): invalid syntax: "{text[:64]}" is not a number')
    value = float(text)
    if math.isinf(value) and "inf" not in text.lower():
        raise OperationError(f'{name}(): value out of range: "{text[:64]}"')
    return value


def _to_int(name: str, value: Value) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OperationError(f"{name}() cannot convert {go_string(value)} to an int")
        return checked_int(int(value))
    if isinstance(value, str):
        return parse_int(name, value)
    raise OperationError(f"{name}() not supported on {type_name(value)}")


def _to_float(name: str, value: Value) -> float:
    if is_number(value):
        return to_float(value)
    if isinstance(value, str):
        return parse_float(name, value)
    raise OperationError(f"{name}() not supported on {type_name(value)}")


def _numbers(name: str, arguments: Sequence[Value], meter: Meter) -> list[int | float]:
    """The numbers of ``max(1, 2)``, ``max([1, 2])`` or a mix: arrays among the arguments are opened."""
    found: list[int | float] = []
    for argument in arguments:
        items = argument if isinstance(argument, list) else [argument]
        meter.charge(len(items))
        found.extend(_number(name, item) for item in items)
    if not found:
        raise OperationError(f"{name}() of an empty array", empty_access=True)
    return found


def _float_function(name: str, operation: Callable[[float], float]) -> Callable[[Sequence[Value], Meter], Value]:
    def call(arguments: Sequence[Value], meter: Meter) -> Value:
        number = to_float(_number(name, arguments[0]))
        # ceil/floor/round of NaN or ±Inf is the value itself, as in Go.
        return operation(number) if math.isfinite(number) else number

    return call


# --- iterations ---------------------------------------------------------------------------------------------


def _required(name: str, predicate: PredicateFunction | None) -> PredicateFunction:
    # The parser enforces the arity; this keeps a missing predicate an evaluation error even so.
    if predicate is None:
        raise OperationError(f"{name}() needs a predicate")
    return predicate


def _all(items: Value, predicate: PredicateFunction | None, meter: Meter) -> Value:
    test = _required("all", predicate)
    return all(_truth("all", test(item, index)) for index, item in enumerate(_elements("all", items, meter)))


def _any(items: Value, predicate: PredicateFunction | None, meter: Meter) -> Value:
    test = _required("any", predicate)
    return any(_truth("any", test(item, index)) for index, item in enumerate(_elements("any", items, meter)))


def _none(items: Value, predicate: PredicateFunction | None, meter: Meter) -> Value:
    test = _required("none", predicate)
    elements = _elements("none", items, meter)
    return not any(_truth("none", test(item, index)) for index, item in enumerate(elements))


def _one(items: Value, predicate: PredicateFunction | None, meter: Meter) -> Value:
    test = _required("one", predicate)
    matched = 0
    for index, item in enumerate(_elements("one", items, meter)):
        if _truth("one", test(item, index)):
            matched += 1
            if matched > 1:
                return False
    return matched == 1


def _filter(items: Value, predicate: PredicateFunction | None, meter: Meter) -> Value:
    test = _required("filter", predicate)
    elements = _elements("filter", items, meter)
    return [item for index, item in enumerate(elements) if _truth("filter", test(item, index))]


def _map(items: Value, predicate: PredicateFunction | None, meter: Meter) -> Value:
    transform = _required("map", predicate)
    return [transform(item, index) for index, item in enumerate(_elements("map", items, meter))]


def _count_matching(items: Value, predicate: PredicateFunction | None, meter: Meter) -> Value:
    elements = _elements("count", items, meter)
    if predicate is None:
        # Without a predicate expr-lang counts the elements that are true.
        return sum(1 for item in elements if _truth("count", item))
    return sum(1 for index, item in enumerate(elements) if _truth("count", predicate(item, index)))


def _sum(items: Value, predicate: PredicateFunction | None, meter: Meter) -> Value:
    elements = _elements("sum", items, meter)
    values = elements if predicate is None else [predicate(item, index) for index, item in enumerate(elements)]
    numbers = [_number("sum", value) for value in values]
    if all(isinstance(number, int) for number in numbers):
        return checked_int(sum(numbers))  # type: ignore[arg-type]
    return math.fsum(to_float(number) for number in numbers)


def _finder(name: str, *, last: bool, index_only: bool) -> Callable[[Value, PredicateFunction | None, Meter], Value]:
    def call(items: Value, predicate: PredicateFunction | None, meter: Meter) -> Value:
        test = _required(name, predicate)
        elements = _elements(name, items, meter)
        order = range(len(elements) - 1, -1, -1) if last else range(len(elements))
        for index in order:
            if _truth(name, test(elements[index], index)):
                return index if index_only else elements[index]
        return -1 if index_only else None

    return call


# --- functions ----------------------------------------------------------------------------------------------


def _len(arguments: Sequence[Value], meter: Meter) -> Value:
    value = arguments[0]
    if isinstance(value, str | list | dict):
        return len(value)
    raise OperationError(f"invalid argument for len (type {type_name(value)})")


def _abs(arguments: Sequence[Value], meter: Meter) -> Value:
    number = _number("abs", arguments[0])
    return checked_int(abs(number)) if isinstance(number, int) else abs(number)


def _round(number: float) -> float:
    # Half away from zero, as Go's math.Round; Decimal holds the float exactly, so 0.49999999999999994
    # does not round up the way floor(x + 0.5) would.
    return float(Decimal(number).to_integral_value(rounding=ROUND_HALF_UP))


def _max(arguments: Sequence[Value], meter: Meter) -> Value:
    numbers = _numbers("max", arguments, meter)
    best = numbers[0]
    for number in numbers[1:]:
        if number > best:
            best = number
    return best


def _min(arguments: Sequence[Value], meter: Meter) -> Value:
    numbers = _numbers("min", arguments, meter)
    best = numbers[0]
    for number in numbers[1:]:
        if number < best:
            best = number
    return best


def _mean(arguments: Sequence[Value], meter: Meter) -> Value:
    numbers = _numbers("mean", arguments, meter)
    return math.fsum(to_float(number) for number in numbers) / len(numbers)


def _median(arguments: Sequence[Value], meter: Meter) -> Value:
    numbers = sorted(to_float(number) for number in _numbers("median", arguments, meter))
    middle = len(numbers) // 2
    if len(numbers) % 2:
        return numbers[middle]
    return (numbers[middle - 1] + numbers[middle]) / 2


def _first(arguments: Sequence[Value], meter: Meter) -> Value:
    items = _elements("first", arguments[0], meter)
    return items[0] if items else None


def _last(arguments: Sequence[Value], meter: Meter) -> Value:
    items = _elements("last", arguments[0], meter)
    return items[-1] if items else None


def _trim(arguments: Sequence[Value], meter: Meter) -> Value:
    text = _text("trim", arguments[0])
    meter.charge(text_cost(text))
    if len(arguments) == 1:
        return text.strip()
    return text.strip(_text("trim", arguments[1]))


def _split(arguments: Sequence[Value], meter: Meter) -> Value:
    text = _text("split", arguments[0])
    separator = _text("split", arguments[1])
    limit = _count("split", arguments[2]) if len(arguments) > 2 else -1
    meter.charge(text_cost(text))
    if limit == 0:
        return []
    if separator == "":
        # Go splits into characters; with a limit the last part keeps the rest.
        pieces = list(text) if limit < 0 or limit > len(text) else [*text[: limit - 1], text[limit - 1 :]]
    else:
        pieces = text.split(separator, limit - 1 if limit > 0 else -1)
    checked_items(len(pieces))
    return list(pieces)


def _replace(arguments: Sequence[Value], meter: Meter) -> Value:
    text, old, new = (_text("replace", argument) for argument in arguments)
    occurrences = text.count(old)
    # Size the result before building it, so "replace(s, '', big)" cannot allocate first and fail after.
    if len(text) + occurrences * (len(new) - len(old)) > MAX_STRING_LENGTH:
        raise OperationError(f"replace() would build a string longer than {MAX_STRING_LENGTH} characters")
    replaced = text.replace(old, new)
    meter.charge(text_cost(replaced))
    return replaced


def _repeat(arguments: Sequence[Value], meter: Meter) -> Value:
    text = _text("repeat", arguments[0])
    times = _count("repeat", arguments[1])
    if times < 0:
        raise OperationError("repeat() count must not be negative")
    if len(text) * times > MAX_STRING_LENGTH:
        raise OperationError(f"repeat() would build a string longer than {MAX_STRING_LENGTH} characters")
    meter.charge((len(text) * times) // TEXT_CHARACTERS_PER_STEP + 1)
    return text * times


def _join(arguments: Sequence[Value], meter: Meter) -> Value:
    items = _elements("join", arguments[0], meter)
    separator = _text("join", arguments[1]) if len(arguments) > 1 else ""
    joined = checked_string(separator.join(_text("join", item) for item in items))
    meter.charge(text_cost(joined))
    return joined


def _map_argument(name: str, value: Value, meter: Meter) -> dict[str, Value]:
    """The map argument of `name`(), charged one step per entry."""
    if not isinstance(value, dict):
        raise OperationError(f"{name}() expects a map, got {type_name(value)}")
    meter.charge(len(value))
    return value


def _keys(arguments: Sequence[Value], meter: Meter) -> Value:
    names: list[Value] = list(_map_argument("keys", arguments[0], meter))
    return names


def _values(arguments: Sequence[Value], meter: Meter) -> Value:
    return list(_map_argument("values", arguments[0], meter).values())


def _is_nan(arguments: Sequence[Value], meter: Meter) -> Value:
    number = _number("isNaN", arguments[0])
    return isinstance(number, float) and math.isnan(number)


def _is_inf(arguments: Sequence[Value], meter: Meter) -> Value:
    number = _number("isInf", arguments[0])
    return isinstance(number, float) and math.isinf(number)


def _default(arguments: Sequence[Value], meter: Meter) -> Value:
    # Argo's default() always tests the metric result whatever its first argument says; testing the
    # argument gives the same answer for the documented default(result, x) and a sensible one otherwise.
    return arguments[1] if arguments[0] is None else arguments[0]


def _string_function(name: str, operation: Callable[[str, str], Value]) -> Callable[[Sequence[Value], Meter], Value]:
    def call(arguments: Sequence[Value], meter: Meter) -> Value:
        text = _text(name, arguments[0])
        meter.charge(text_cost(text))
        return operation(text, _text(name, arguments[1]))

    return call


def _unary(operation: Callable[[Value], Value]) -> Callable[[Sequence[Value], Meter], Value]:
    def call(arguments: Sequence[Value], meter: Meter) -> Value:
        value = operation(arguments[0])
        if isinstance(value, str):
            # string(), lower(), upper() build text as long as their input (or longer).
            meter.charge(text_cost(value))
        return value

    return call


def _time_parse(arguments: Sequence[Value], meter: Meter) -> Value:
    """``time.Parse(text)``: an RFC 3339 time (Go's ``time.Parse(time.RFC3339, text)``) as seconds since the epoch,
    a number that ``.Before``/``.After`` compare; Argo CD's notification triggers use it."""
    text = _text("time.Parse", arguments[0])
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise OperationError(f"time.Parse: {text!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None or "T" not in text.upper():
        raise OperationError(f"time.Parse: {text!r} is not an RFC 3339 time (it needs a date, a time and a zone)")
    return moment.timestamp()


def _time_order(name: str, test: Callable[[float, float], bool]) -> Callable[[Sequence[Value], Meter], Value]:
    def call(arguments: Sequence[Value], meter: Meter) -> Value:
        return test(_number(name, arguments[0]), _number(name, arguments[1]))

    return call


_ITERATIONS = (
    Iteration("all", "bool", _all),
    Iteration("any", "bool", _any),
    Iteration("none", "bool", _none),
    Iteration("one", "bool", _one),
    Iteration("filter", "array", _filter),
    Iteration("map", "array", _map),
    Iteration("count", "number", _count_matching, predicate_optional=True),
    Iteration("sum", "number", _sum, predicate_optional=True),
    Iteration("find", None, _finder("find", last=False, index_only=False)),
    Iteration("findIndex", "number", _finder("findIndex", last=False, index_only=True)),
    Iteration("findLast", None, _finder("findLast", last=True, index_only=False)),
    Iteration("findLastIndex", "number", _finder("findLastIndex", last=True, index_only=True)),
)

_FUNCTIONS = (
    # Argo's additions to the environment.
    Function("asInt", 1, 1, "number", _unary(lambda value: _to_int("asInt", value))),
    Function("asFloat", 1, 1, "number", _unary(lambda value: _to_float("asFloat", value))),
    Function("isNaN", 1, 1, "bool", _is_nan),
    Function("isInf", 1, 1, "bool", _is_inf),
    Function("isNil", 1, 1, "bool", _unary(lambda value: value is None)),
    Function("default", 2, 2, None, _default),
    # expr-lang's built-ins.
    Function("len", 1, 1, "number", _len),
    Function("abs", 1, 1, "number", _abs),
    Function("ceil", 1, 1, "number", _float_function("ceil", lambda number: float(math.ceil(number)))),
    Function("floor", 1, 1, "number", _float_function("floor", lambda number: float(math.floor(number)))),
    Function("round", 1, 1, "number", _float_function("round", _round)),
    Function("max", 1, None, "number", _max),
    Function("min", 1, None, "number", _min),
    Function("mean", 1, None, "number", _mean),
    Function("median", 1, None, "number", _median),
    Function("first", 1, 1, None, _first),
    Function("last", 1, 1, None, _last),
    Function("int", 1, 1, "number", _unary(lambda value: _to_int("int", value))),
    Function("float", 1, 1, "number", _unary(lambda value: _to_float("float", value))),
    Function("string", 1, 1, "string", _unary(lambda value: checked_string(go_string(value)))),
    Function("type", 1, 1, "string", _unary(type_name)),
    Function("lower", 1, 1, "string", _unary(lambda value: _text("lower", value).lower())),
    Function("upper", 1, 1, "string", _unary(lambda value: _text("upper", value).upper())),
    Function("trim", 1, 2, "string", _trim),
    Function("trimPrefix", 2, 2, "string", _string_function("trimPrefix", str.removeprefix)),
    Function("trimSuffix", 2, 2, "string", _string_function("trimSuffix", str.removesuffix)),
    Function("hasPrefix", 2, 2, "bool", _string_function("hasPrefix", str.startswith)),
    Function("hasSuffix", 2, 2, "bool", _string_function("hasSuffix", str.endswith)),
    Function("indexOf", 2, 2, "number", _string_function("indexOf", str.find)),
    Function("lastIndexOf", 2, 2, "number", _string_function("lastIndexOf", str.rfind)),
    Function("split", 2, 3, "array", _split),
    Function("replace", 3, 3, "string", _replace),
    Function("repeat", 2, 2, "string", _repeat),
    Function("join", 1, 2, "string", _join),
    Function("keys", 1, 1, "array", _keys),
    # The time functions of Argo's notification triggers: ``time.Parse(a).Before(time.Parse(b))``.
    Function("time.Parse", 1, 1, "number", _time_parse),
    Function(".Before", 2, 2, "bool", _time_order("Before", lambda left, right: left < right)),
    Function(".After", 2, 2, "bool", _time_order("After", lambda left, right: left > right)),
    Function("values", 1, 1, "array", _values),
)

BUILTINS: dict[str, Builtin] = {builtin.name: builtin for builtin in (*_ITERATIONS, *_FUNCTIONS)}
"""Every function a condition may call, by name."""
