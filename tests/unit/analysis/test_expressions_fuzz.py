"""Property tests of the condition language: whatever the text and the result, evaluation ends in a bool, a
ConditionSyntaxError or a ConditionEvaluationError — never another exception, never a Python object — and the
pieces agree with the semantics they copy (IEEE comparisons, RE2-style regexes, JSON).

That evaluation ends is the step budget's doing (``Evaluator.spent`` never passes ``Evaluator.budget``), which is
checked here instead of a wall-clock limit that a loaded machine would trip."""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.expressions import (
    ConditionEvaluationError,
    ConditionSyntaxError,
    check_condition,
    evaluate_condition,
    format_value,
    parse_condition,
)
from analysis.expressions.evaluator import EvaluationFailure, Evaluator
from analysis.expressions.regex import compile_pattern
from analysis.expressions.values import sanitize

FUZZ = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])

# --- data ---------------------------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


def assert_plain(value: Any) -> None:
    """Only the language's own values: exactly these types, nothing a Python attribute could be read from."""
    stack = [value]
    while stack:
        item = stack.pop()
        assert type(item) in (type(None), bool, int, float, str, list, dict), type(item)
        if type(item) is list:
            stack.extend(item)
        elif type(item) is dict:
            assert all(type(key) is str for key in item)
            stack.extend(item.values())


def assert_contained(text: str, result: Any) -> None:
    try:
        outcome = check_condition(text, result)
    except (ConditionSyntaxError, ConditionEvaluationError):
        return
    assert type(outcome.satisfied) is bool
    assert_plain(outcome.observed)


# --- random token sequences ---------------------------------------------------------------------------------

TOKENS = [
    *("result", "result[0]", "result.a", "result?.b", "#", "#index", "#.a", ".a", "#acc", "$env"),
    *("(", ")", "[", "]", "{", "}", ",", ":", "?", "??", "?.", ".", ".."),
    *("+", "-", "*", "/", "%", "**", "^", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "!", "|", "=", "&"),
    *("and", "or", "not", "in", "contains", "startsWith", "endsWith", "matches", "let", "if"),
    *("0", "1", "-1", "0.5", "1e3", ".5", "0x1F", "1_000", "9223372036854775807", "1e400", "12ab"),
    *("'a'", '"b c"', "'(a+)+$'", "'['", "`raw`", "'\\n'", "'\\x41'", "'\\u00e9'", "'", '"'),
    *("true", "false", "nil", "NaN", "Inf"),
    *("len", "all", "any", "none", "one", "filter", "map", "count", "sum", "find", "default", "isNaN", "isNil"),
    *("asInt", "asFloat", "abs", "max", "min", "mean", "int", "float", "string", "repeat", "split", "upper"),
    *("__class__", "__import__", "__subclasses__", "lambda", "eval", "exec", "os", "self", "getattr"),
    *(";", "@", "\\", "/*", "*/", "//", "\n", "é", "\x00"),
]


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=30), json_values)
def test_token_sequences_with_spaces_are_contained(tokens: list[str], result: Any) -> None:
    assert_contained(" ".join(tokens), result)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=30), json_values)
def test_token_sequences_glued_together_are_contained(tokens: list[str], result: Any) -> None:
    assert_contained("".join(tokens), result)


@FUZZ
@given(st.text(max_size=80), json_values)
def test_arbitrary_text_is_contained(text: str, result: Any) -> None:
    assert_contained(text, result)


# --- random well-formed expressions -------------------------------------------------------------------------

LEAVES = [
    *("0", "1", "-1", "2.5", "1e3", "0.0", "9223372036854775807"),
    *("'a'", '"b c"', "''", "'(a+)+$'"),
    *("true", "false", "nil"),
    *("result", "result[0]", "result[-1]", "result.a", "result?.a", "result['a']", "result[1:]"),
    *("[1, 2.5]", "[]", "{'a': 1}", "{}"),
]
PREDICATE_LEAVES = ["#", "#index", "#.a", ".a", "#?.a"]
BINARY = [
    *("+", "-", "*", "/", "%", "**", "^", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "and", "or"),
    *("in", "not in", "contains", "not contains", "startsWith", "endsWith", "matches", "??", ".."),
]
UNARY = ["!", "-", "+", "not "]
ONE_ARGUMENT = ["len", "abs", "ceil", "floor", "round", "int", "float", "string", "lower", "isNaN", "isInf"]
ONE_ARGUMENT += ["isNil", "asInt", "asFloat", "first", "last", "max", "min", "mean", "median", "type", "keys"]
TWO_ARGUMENTS = ["default", "repeat", "split", "join", "trimPrefix", "hasSuffix", "indexOf", "max", "min"]
PREDICATE_FUNCTIONS = ["all", "any", "none", "one", "filter", "map", "count", "sum", "find", "findIndex"]


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0, in_predicate: bool = False) -> str:
    """The text of a random expression that parses: every operator application is parenthesised (so the
    generator need not know precedence), calls have valid arities, and # appears only in predicates."""
    leaves = LEAVES + PREDICATE_LEAVES if in_predicate else LEAVES
    if depth >= 4 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(leaves))

    def sub() -> str:
        return draw(expressions(depth + 1, in_predicate))

    form = draw(st.integers(0, 10))
    if form == 0:
        return f"({sub()} {draw(st.sampled_from(BINARY))} {sub()})"
    if form == 1:
        return f"({draw(st.sampled_from(UNARY))}{sub()})"
    if form == 2:
        return f"({sub()} ? {sub()} : {sub()})"
    if form == 3:
        return f"{draw(st.sampled_from(ONE_ARGUMENT))}({sub()})"
    if form == 4:
        return f"{draw(st.sampled_from(TWO_ARGUMENTS))}({sub()}, {sub()})"
    if form == 5:
        # A body in braces or parentheses: a bare map literal there would read as predicate braces.
        body = draw(expressions(depth + 1, True))
        wrapped = draw(st.sampled_from(["({})", "{{{}}}"])).format(body)
        return f"{draw(st.sampled_from(PREDICATE_FUNCTIONS))}({sub()}, {wrapped})"
    if form == 6:
        return f"({sub()})[{sub()}]"
    if form == 7:
        return f"({sub()}).{draw(st.sampled_from(['a', 'b', '__class__']))}"
    if form == 8:
        return "[" + ", ".join(sub() for _ in range(draw(st.integers(0, 3)))) + "]"
    if form == 9:
        return f"{{'k': {sub()}, ('x' + 'y'): {sub()}}}"
    return f"({sub()} | {draw(st.sampled_from(['len()', 'upper()', 'string()']))})"


well_formed = expressions()


@FUZZ
@given(well_formed, json_values)
def test_well_formed_expressions_parse_and_evaluate_to_plain_values(text: str, result: Any) -> None:
    condition = parse_condition(text)  # a generated expression always parses
    environment = {"result": sanitize(result)}
    outcomes = []
    for _ in range(2):
        evaluator = Evaluator(environment)
        try:
            value = evaluator.run(condition.tree)
        except EvaluationFailure as failure:
            outcomes.append(("failure", failure.reason))
        else:
            assert_plain(value)
            assert evaluator.spent <= evaluator.budget, text  # a value only ever comes within the budget
            outcomes.append(("value", repr(value)))
    assert outcomes[0] == outcomes[1], text  # deterministic
    assert_contained(text, result)


@FUZZ
@given(well_formed, json_values)
def test_comparisons_of_well_formed_expressions_yield_bools(text: str, result: Any) -> None:
    assert_contained(f"({text}) == ({text})", result)
    assert_contained(f"all([{text}], # != nil) || len([{text}]) > 0", result)


# --- escapes ------------------------------------------------------------------------------------------------

DUNDERS = [
    "__class__", "__dict__", "__globals__", "__builtins__", "__import__", "__subclasses__", "__bases__", "__mro__",
    "__getattribute__", "__init__", "__code__", "__reduce__", "__module__", "mro", "keys", "get", "append", "upper",
    "real", "format", "f_globals", "gi_frame",
]  # fmt: skip

ESCAPE_TEMPLATES = [
    "result.{name}",
    "result.{name}.{name}",
    'result["{name}"]',
    "result?.{name}",
    "{name}",
    "{name}()",
    '{name}("os")',
    "result.{name}()",
    "().{name}",
    "[].{name}",
    "{{}}.{name}",
    "''.{name}",
    "(1).{name}",
    "lambda: result.{name}",
    "lambda x: x.{name}",
    "[x.{name} for x in result]",
    "result.{name} if True else 1",
    "all(result, #.{name})",
    "map(result, #.{name})",
    "map(result, .{name})",
    "{name} == nil",
]


ESCAPE_RESULTS: list[Any] = [{"a": 1}, [{"a": 1}], "text", 1, None]


@pytest.mark.parametrize("template", ESCAPE_TEMPLATES)
def test_escape_attempts_are_errors_or_nil(template: str) -> None:
    """One item per template: every name is tried in it, and a text that parses is evaluated against every kind of
    result (a text that does not parse is one case, not one per result)."""
    for name in DUNDERS:
        text = template.format(name=name)
        try:
            condition = parse_condition(text)
        except ConditionSyntaxError:
            continue
        for result in ESCAPE_RESULTS:
            try:
                value = Evaluator({"result": sanitize(result)}).run(condition.tree)
            except EvaluationFailure:
                continue
            # Whatever it reached was data: nil for a missing key, a built-in's plain result (upper("os")), or
            # values taken from the result itself.
            assert_plain(value)
            if template.startswith(("result.", 'result["', "result?.")) and isinstance(result, dict):
                assert value is None, (text, value)


@FUZZ
@given(st.sampled_from(DUNDERS), json_values)
def test_a_dunder_key_of_the_data_is_just_data(name: str, value: Any) -> None:
    assert evaluate_condition(f"result.{name} == nil", {name: value}) is (value is None)
    assert evaluate_condition(f"result['{name}'] == nil", {"other": value})


# --- semantics ----------------------------------------------------------------------------------------------

COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


numbers = st.floats() | st.integers(-(2**53), 2**53)


@FUZZ
@given(numbers, numbers, st.sampled_from(sorted(COMPARE)))
def test_number_comparisons_follow_ieee(left: float, right: float, op: str) -> None:
    assert evaluate_condition(f"result[0] {op} result[1]", [left, right]) is COMPARE[op](left, right)


@FUZZ
@given(st.integers(-(2**31), 2**31), st.integers(-(2**31), 2**31))
def test_int_arithmetic_is_exact(left: int, right: int) -> None:
    assert evaluate_condition("result[0] + result[1] == result[2]", [left, right, left + right])
    assert evaluate_condition("result[0] * result[1] == result[2]", [left, right, left * right])
    if right:
        remainder = math.fmod(left, right)
        assert evaluate_condition("result[0] % result[1] == result[2]", [left, right, int(remainder)])


# Patterns both engines read the same way: literals, classes, groups, alternation and repetition over a
# tiny alphabet, so that texts can hit every branch.
regex_atoms = st.sampled_from(["a", "b", "c", ".", "[ab]", "[^a]", "\\d", "x", "(?:a|b)", "[a-c]"])
patterns = st.recursive(
    regex_atoms,
    lambda children: st.one_of(
        st.tuples(children, children).map("".join),
        st.tuples(children, children).map(lambda t: f"(?:{t[0]}|{t[1]})"),
        st.tuples(children, st.sampled_from(["*", "+", "?", "{2}", "{1,3}", "*?", "{0,}"])).map(
            lambda t: f"(?:{t[0]}){t[1]}"
        ),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"^{c}"),
        children.map(lambda c: f"{c}$"),
    ),
    max_leaves=6,
)


@FUZZ
@given(patterns, st.text(alphabet="abcx1", max_size=12))
def test_regex_engine_agrees_with_python_re_on_the_common_subset(pattern: str, text: str) -> None:
    class Meter:
        def charge(self, units: int) -> None:
            pass

    assert compile_pattern(pattern).search(text, Meter()) is (re.search(pattern, text) is not None), pattern


json_safe = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(json_safe.filter(lambda value: isinstance(value, list | dict)))
def test_arrays_and_maps_format_as_json(value: Any) -> None:
    assert json.loads(format_value(value)) == value


@FUZZ
@given(st.floats())
def test_floats_format_readably_and_exactly(number: float) -> None:
    text = format_value(number)
    if math.isnan(number):
        assert text == "NaN"
    elif math.isinf(number):
        assert text == ("+Inf" if number > 0 else "-Inf")
    else:
        assert float(text) == number
        assert not text.endswith(".0")
