"""The condition language: what Argo's documented conditions and our own evaluate to, the errors (with
positions) for what does not parse or cannot be evaluated, the messages, and Argo's measurement rules."""

from __future__ import annotations

import math
from typing import Any

import pytest

from analysis.expressions import (
    EMPTY_RESULT_MESSAGE,
    ConditionEvaluationError,
    ConditionSyntaxError,
    assess_measurement,
    check_condition,
    evaluate_condition,
    format_value,
    parse_condition,
)
from analysis.expressions.evaluator import Evaluator
from analysis.expressions.regex import RegexError, compile_pattern
from analysis.expressions.values import sanitize
from analysis.models import AnalysisPhase

NAN = math.nan
INF = math.inf

# (condition, result, expected)
TRUE_OR_FALSE: list[tuple[str, Any, bool]] = [
    # --- Argo's documentation and examples ---
    ("result[0] >= 0.95", [0.99], True),
    ("result[0] >= 0.95", [0.71], False),
    ("result[0] >= 0.95", [0.95, 0.1], True),
    ("result == 'It worked!'", "It worked!", True),
    ("len(result) > 0 && result[0] < 100", [50.0], True),
    ("len(result) > 0 && result[0] < 100", [150.0], False),
    ("len(result) > 0 && result[0] < 100", [], False),  # short-circuits: never indexes the empty result
    ("all(result, # < 1000)", [1.0, 999.0], True),
    ("all(result, # < 1000)", [1.0, 1000.0], False),
    ("all(result, # < 1000)", [], True),
    ("any(result, # > 5)", [1, 6], True),
    ("any(result, # > 5)", [], False),
    ("isNaN(result)", NAN, True),
    ("isNaN(result)", 0.5, False),
    ("isNaN(result[0])", [NAN], True),
    ("isInf(result)", INF, True),
    ("isInf(result)", -INF, True),
    ("isInf(result)", 1e308, False),
    ("asFloat(result) > 0.5", "0.75", True),
    ("asFloat(result) > 0.5", 0.25, False),
    ("asInt(result) == 3", "3", True),
    ('asInt("3") == 3', None, True),
    ("asInt(result) == 3", 3.9, True),
    ("asInt(result) == -3", -3.9, True),
    ("result.successful == true", {"successful": True}, True),
    ("result.successful == true", {"successful": False}, False),
    ("result.data.count > 5", {"data": {"count": 7}}, True),
    ('result["data"]["count"] == 7', {"data": {"count": 7}}, True),
    ("result.missing == nil", {}, True),
    ("default(result, 0) > 1", None, False),
    ("default(result, 5) > 1", None, True),
    ("default(result, 0) > 1", 2, True),
    ("isNil(result)", None, True),
    ("isNil(result)", [], False),
    ("result == nil", None, True),
    ("result != nil", 0, True),
    # --- NaN, infinities, nil ---
    ("result >= 0.95", NAN, False),
    ("result < 0.95", NAN, False),
    ("result == result", NAN, False),
    ("result != result", NAN, True),
    ("result > 1e308", INF, True),
    ("result < -1e308", -INF, True),
    ("1 / 0 == result", INF, True),
    ("isNaN(0.0 / 0)", None, True),
    ("nil == nil", None, True),
    ("nil != 0", None, True),
    ("[result] == [result]", NAN, False),  # element-wise, so NaN spoils it (Python's list == would not)
    # --- predicates and array functions ---
    ("filter(result, # > 1) == [2.0, 3.0]", [1.0, 2.0, 3.0], True),
    ("map(result, # * 2) == [2, 4, 6]", [1, 2, 3], True),
    ("len(filter(result, # > 1)) == 2", [1, 2, 3], True),
    ("count(result, # > 1) == 2", [1, 2, 3], True),
    ("count([true, false, true]) == 2", None, True),
    ("one(result, # > 2)", [1, 2, 3], True),
    ("one(result, # > 1)", [1, 2, 3], False),
    ("none(result, # > 5)", [1, 2, 3], True),
    ("sum(result) == 6", [1, 2, 3], True),
    ("sum(result, # * 2) == 12", [1, 2, 3], True),
    ("mean(result) == 2", [1, 2, 3], True),
    ("median(result) == 2.5", [4, 1, 2, 3], True),
    ("max(result) == 3 && min(result) == 1", [2, 3, 1], True),
    ("max(1, 2.5, 2) == 2.5", None, True),
    ("first(result) == 1 && last(result) == 3", [1, 2, 3], True),
    ("first(result) == nil", [], True),
    ("find(result, # > 1) == 2", [1, 2, 3], True),
    ("findIndex(result, # > 1) == 1", [1, 2, 3], True),
    ("findLast(result, # > 1) == 3", [1, 2, 3], True),
    ("findLastIndex(result, # > 5) == -1", [1, 2, 3], True),
    ("all(result, {# > 0})", [1, 2], True),
    ("all(result, #.ok)", [{"ok": True}, {"ok": True}], True),
    ("all(result, .ok)", [{"ok": True}, {"ok": False}], False),
    ("filter(result, .code >= 500) | len() == 1", [{"code": 200}, {"code": 503}], True),
    ("map(result, #index) == [0, 1]", [5, 6], True),
    ("all(result, any(#, # > 1))", [[1, 2], [3]], True),  # the innermost # is the inner element
    ("result | all(# < 10)", [1, 2], True),
    # --- boolean logic ---
    ("true and false or true", None, True),
    ("true or false and false", None, True),  # and binds tighter than or
    ("true && !false", None, True),
    ("not false", None, True),
    ("!true || true", None, True),
    ("!(1 > 2)", None, True),
    ("not (result > 2)", 1, True),
    ("false and result[5] > 0", [], False),  # short-circuit: the right side is never evaluated
    ("true or result[5] > 0", [], True),
    # --- precedence ---
    ("1 + 2 * 3 == 7", None, True),
    ("(1 + 2) * 3 == 9", None, True),
    ("2 ** 3 ** 2 == 512", None, True),  # right-associative
    ("2 ^ 10 == 1024", None, True),
    ("-2 ** 2 == -4", None, True),  # ** binds tighter than unary minus
    ("10 - 2 - 3 == 5", None, True),
    ("100 / 10 / 5 == 2", None, True),
    ("7 % 3 == 1", None, True),
    ("-7 % 3 == -1", None, True),  # Go's remainder keeps the dividend's sign
    ("7 / 2 == 3.5", None, True),  # / always divides as floats
    ("1 < 2 < 3", None, True),  # comparisons chain: 1 < 2 && 2 < 3
    ("3 > 2 > 2", None, False),
    ("1 < 2 == true", None, False),  # … so this is 1 < 2 && 2 == true
    ("result > 0 ? result < 10 : false", 5, True),
    ("result > 0 ? false : true", -1, True),
    ("(result ?? 0) > 1", None, False),
    ("(result ?? 5) > 1", None, True),
    ("result?.a?.b == nil", None, True),
    ("result?.a.b == nil", None, True),  # the whole chain is nil when result is
    ("result?.a.b == 1", {"a": {"b": 1}}, True),
    ("result?.[0] == nil", None, True),
    # --- strings ---
    ("'abc' + 'def' == 'abcdef'", None, True),
    ("'Hello' startsWith 'He'", None, True),
    ("'Hello' endsWith 'lo'", None, True),
    ("'Hello' contains 'ell'", None, True),
    ("'Hello' not contains 'x'", None, True),
    ("'Hello' not startsWith 'x' and 'Hello' not endsWith 'x'", None, True),
    ("lower('ABC') == 'abc' && upper('abc') == 'ABC'", None, True),
    ("trim('  a  ') == 'a' && trim('__a__', '_') == 'a'", None, True),
    ("trimPrefix('v1.2', 'v') == '1.2' && trimSuffix('a.yaml', '.yaml') == 'a'", None, True),
    ("split('a,b,c', ',') == ['a', 'b', 'c']", None, True),
    ("join(['a', 'b'], '-') == 'a-b'", None, True),
    ("replace('a-b-c', '-', '+') == 'a+b+c'", None, True),
    ("repeat('ab', 3) == 'ababab'", None, True),
    ("indexOf('abcabc', 'c') == 2 && lastIndexOf('abcabc', 'c') == 5", None, True),
    ("hasPrefix('abc', 'a') && hasSuffix('abc', 'c')", None, True),
    ("'a\\tb' == \"a\\tb\"", None, True),
    ('"\\u00e9" == "é" && "\\x41" == "A" && "\\101" == "A"', None, True),
    ("`raw\\n` == 'raw\\\\n'", None, True),
    ("'abc'[1] == 'b' && 'abc'[-1] == 'c'", None, True),
    ("'abc'[1:] == 'bc'", None, True),
    ("len('héllo') == 5", None, True),
    ("'b' > 'a'", None, True),
    ("string(1.5) == '1.5' && string(2.0) == '2' && string(nil) == '<nil>' && string(true) == 'true'", None, True),
    ("result matches '^\\\\d{4}-\\\\d{2}$'", "2024-01", True),
    ("result matches '(?i)^ok$'", "OK", True),
    ("result not matches 'error'", "all good", True),
    ("result matches '^(?:ab)+$' && result matches '^(ab|cd)*$' && result matches '^[[:alpha:]]{4}$'", "abab", True),
    ("result matches 'abc$'", "abc\n", False),  # $ is the end of the text, as in Go
    ("type(result) == 'array' && type(1) == 'int' && type(1.5) == 'float' && type(nil) == 'nil'", [], True),
    # --- membership ---
    ("'x' in ['x', 'y']", None, True),
    ("2 in [1, 2.0]", None, True),
    ("'k' in {'k': 1}", None, True),
    ("'k' in result", None, False),  # nothing is in nil
    ("3 not in [1, 2]", None, True),
    ("result.status in ['ok', 'degraded']", {"status": "ok"}, True),
    ("[1, 2] in [[1, 2]]", None, True),
    # --- numbers ---
    ("1 == 1.0", None, True),
    ("true != 1", None, True),
    ("'1' != 1", None, True),
    ("1e3 == 1000 && 1.5e-3 == 0.0015", None, True),
    ("0x10 == 16 && 0o17 == 15 && 0b101 == 5 && 1_000 == 1000 && .5 == 0.5", None, True),
    ("abs(-2) == 2 && abs(-2.5) == 2.5", None, True),
    ("ceil(1.2) == 2 && floor(-1.2) == -2", None, True),
    ("round(2.5) == 3 && round(-2.5) == -3 && round(0.49999999999999994) == 0", None, True),
    ("int(3.9) == 3 && int('42') == 42 && float('1.5') == 1.5 && float(2) == 2.0", None, True),
    ("9223372036854775807 > 0", None, True),
    ("2 ** 0.5 > 1.41", None, True),
    ("10 ** 400 == result", INF, True),  # floats saturate instead of growing
    # --- indexing and slicing ---
    ("result[-1] == 3", [1, 2, 3], True),
    ("result[1:3] == [2, 3]", [1, 2, 3], True),
    ("result[:2] == [1, 2] && result[1:] == [2, 3] && result[:] == result", [1, 2, 3], True),
    ("result[5:] == [] && result[-10:1] == [1] && result[2:1] == []", [1, 2, 3], True),
    ("result[len(result) / 2] == 2", [1, 2, 3], True),  # a float index truncates, as in Go
    ("result[0][1] == 'b'", [["a", "b"]], True),
    ("result.items[0].value > 1", {"items": [{"value": 2}]}, True),
    # --- literals ---
    ("[1, 2] == [1, 2] && [1, 2] != [2, 1]", None, True),
    ("{'a': 1} == {'a': 1.0}", None, True),
    ("{a: 1}.a == 1 && {1: 'x'}['1'] == 'x' && {('k' + 'ey'): 2}.key == 2", None, True),
    ("[1, [2, 3]][1][0] == 2", None, True),
    ("len({}) == 0 && len([]) == 0", None, True),
    ("[1, 2,] == [1, 2] && {a: 1,} == {a: 1}", None, True),
    ("1..3 == [1, 2, 3] && 3..1 == []", None, True),
    # --- comments and whitespace ---
    ("result > 1 // the threshold", 2, True),
    ("result /* the value */ > 1", 2, True),
    ("result[0] >= 0.95\n  && result[0] <= 1", [0.97], True),
]


@pytest.mark.parametrize(("text", "result", "expected"), TRUE_OR_FALSE, ids=[row[0] for row in TRUE_OR_FALSE])
def test_condition_evaluates_to(text: str, result: Any, expected: bool) -> None:
    assert evaluate_condition(text, result) is expected


def test_extra_variables_are_in_scope_and_result_wins() -> None:
    assert evaluate_condition("result > threshold", 1.0, extra={"threshold": 0.5})
    assert not evaluate_condition("result == 1", 2, extra={"result": 1})


def test_provider_values_are_converted_to_plain_data() -> None:
    assert evaluate_condition("result == [1, 2] && result[0] == 1", (1, 2))
    # A str subclass (here a StrEnum member) compares as the plain string it holds.
    phase = {"phase": AnalysisPhase.FAILED}
    assert evaluate_condition("result.phase == 'Failed' && type(result.phase) == 'string'", phase)


# --- errors -------------------------------------------------------------------------------------------------

# (condition, result, fragment of the message)
EVALUATION_ERRORS: list[tuple[str, Any, str]] = [
    ("result[5] > 1", [1], "index out of range: 5 (array length is 1) at column 7"),
    ("result > 1", "a", "invalid operation: string > int at column 8"),
    ("result.x > 1", {"x": "a"}, "invalid operation: string > int at column 10"),
    ("result.x.y == 1", {"x": None}, "cannot fetch y from nil"),
    ("unknown > 1", 1, "unknown name unknown at column 1"),
    ("not result == 2", 1, "invalid operation: not int"),  # not binds tighter than ==, as in expr-lang
    ("1 % 0 == 0", None, "integer divide by zero"),
    ("1.5 % 1 == 0", None, "invalid operation: float % int"),
    ("asInt(result) == 1", "1.5", 'asInt(): invalid syntax: "1.5" is not an integer'),
    ("asInt(result) == 1", " 1", "invalid syntax"),
    ("asFloat(result) > 0", "0.5s", "invalid syntax"),
    ("asFloat(result) > 0", True, "asFloat() not supported on bool"),
    ("isNaN(result)", [0.5], "isNaN() expects a number, got array"),
    ("len(result) > 0", 1, "invalid argument for len (type int)"),
    ("all(result, # + 1)", [1], "the predicate of all() must return a bool, got int"),
    ("all(result, # > 0)", None, "all() expects an array, got nil"),
    ("result && true", 1, "and needs bool operands, got int at column 8"),
    ("false || result", 1, "or needs bool operands, got int at column 7"),
    ("result ? true : false", 1, "the condition of ?: must be a bool, got int"),
    ("9223372036854775807 + 1 > 0", None, "integer overflow"),
    ("repeat('a', 2000000) == ''", None, "longer than 1048576 characters"),
    ("len(0..1000000) > 0", None, "more than 100000 elements"),
    ("'a' matches result", "(a", "missing ) in regular expression '(a'"),
    ("'a' matches result", "(a)\\1", "backreferences are not supported"),
    ("result['a'] == 1", [1], "cannot fetch a from array"),
    ("result.append == nil", [1], "cannot fetch append from array"),
    ("result[1] == nil", {"a": 1}, "cannot use int as a map key"),
    ("{(1): 2} == nil", None, "map keys must be strings, got int"),
    ("'a' < 1", None, "invalid operation: string < int"),
    ("[1] + [2] == [1, 2]", None, "invalid operation: array + array"),
    ("'a' in 'abc'", None, 'operator "in" not defined on string'),
    ("map(0..99999, map(0..99999, #)) == []", None, "needs more than 1000000 steps"),
]


@pytest.mark.parametrize(
    ("text", "result", "fragment"), EVALUATION_ERRORS, ids=[row[0] for row in EVALUATION_ERRORS]
)
def test_evaluation_error_names_the_problem(text: str, result: Any, fragment: str) -> None:
    with pytest.raises(ConditionEvaluationError) as raised:
        evaluate_condition(text, result)
    assert fragment in str(raised.value)


def test_evaluation_error_quotes_the_condition_and_the_position() -> None:
    with pytest.raises(ConditionEvaluationError) as raised:
        evaluate_condition("result.x > 1", {"x": "a"})
    assert str(raised.value) == 'cannot evaluate condition "result.x > 1": invalid operation: string > int at column 10'


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("result[0] >= 0.95", []),
        ("result[0] >= 0.95", None),
        ("result[-1] < 100", []),
        ("result.successful == true", None),
        ("result[0] > 1 || false", []),
        ("max(result) < 1", []),
        ("mean(result) < 1", []),
    ],
)
def test_an_empty_result_gets_one_plain_message(text: str, result: Any) -> None:
    with pytest.raises(ConditionEvaluationError) as raised:
        evaluate_condition(text, result)
    assert str(raised.value) == EMPTY_RESULT_MESSAGE == "metric result is empty: no data returned by the query"


def test_an_index_error_on_a_result_with_data_keeps_its_own_message() -> None:
    with pytest.raises(ConditionEvaluationError) as raised:
        evaluate_condition("result[0][0] > 1", [[]])
    assert "index out of range: 0 (array length is 0)" in str(raised.value)


@pytest.mark.parametrize(
    ("text", "result", "message"),
    [
        ("result[0]", [0.5], 'condition "result[0]" did not return a bool: got 0.5 (float)'),
        ("result", "yes", 'condition "result" did not return a bool: got "yes" (string)'),
        ("result", None, 'condition "result" did not return a bool: got null (nil)'),
        ("len(result)", [1, 2], 'condition "len(result)" did not return a bool: got 2 (int)'),
        ("result[0] + 1", [0.5], 'condition "result[0] + 1" did not return a bool: got 1.5 (float)'),
        (
            "map(result, # > 1)",
            [1, 2],
            'condition "map(result, # > 1)" did not return a bool: got [false,true] (array)',
        ),
        ("true ? 1 : 2", None, 'condition "true ? 1 : 2" did not return a bool: got 1 (int)'),
    ],
)
def test_a_condition_must_return_a_bool(text: str, result: Any, message: str) -> None:
    with pytest.raises(ConditionEvaluationError) as raised:
        evaluate_condition(text, result)
    assert str(raised.value) == message


# (condition, message)
SYNTAX_ERRORS: list[tuple[str, str]] = [
    ("len(result)) > 0", "unexpected ')' at column 12"),
    ("result[0] >= 0.95)", "unexpected ')' at column 18"),
    ("len(result) > 0 &&", "unexpected end of expression at column 19"),
    ("result[0] >= ", "unexpected end of expression at column 14"),
    ("", "unexpected end of expression at column 1"),
    ("   ", "unexpected end of expression at column 4"),
    ("(result[0] >= 0.95", "unexpected end of expression at column 19"),
    ("result[0 >= 0.95", "unexpected end of expression at column 17"),
    ("result[0] = 0.95", "unexpected '=' (compare with ==) at column 11"),
    ("result[0] >= 0.95 0.9", "unexpected '0.9' at column 19"),
    ("result[0] >== 0.95", "unexpected '=' (compare with ==) at column 13"),
    ("foo(result)", "unknown function foo at column 1"),
    ("len(result, 1) > 0", "len() takes 1 argument, got 2 at column 1"),
    ("all(result) ", "all() takes 2 arguments, got 1 at column 1"),
    ("max() > 1", "max() takes at least 1 argument, got 0 at column 1"),
    ("'abc", "unterminated string at column 1"),
    ("'a\\qb' == ''", "invalid escape in string at column 3"),
    ("result @ 1", "unexpected character '@' at column 8"),
    ("# > 1", "# can only be used inside a predicate, as in all(result, # < 1) at column 1"),
    ("all(result, #acc > 1)", "unknown predicate variable #acc: use # or #index at column 13"),
    ("1 ?? 2 + 3", "operators ?? and + cannot be mixed: add parentheses at column 8"),
    ("12ab > 1", "invalid number '12ab' at column 1"),
    ("1.2.3 > 1", "invalid number '1.2.3' at column 1"),
    ("99999999999999999999 > 1", "integer literal is too large at column 1"),
    ("result matches '('", "missing ) in regular expression '(' at column 16"),
    ("result matches '(?=a)'", "lookaround is not supported in regular expression '(?=a)' at column 16"),
    ("result.__class__()", "methods cannot be called; use a built-in function at column 8"),
    ("result. > 1", "expected a field name after '.' at column 9"),
    ("true.x", "unexpected '.' at column 5"),
    ("{1 + 2: 3}", "unexpected '+' at column 4"),
    (
        "{[1]: 3}",
        "a map key must be a name, a number, a quoted string or an expression in parentheses, not '[' at column 2",
    ),
    ("result /* unclosed", "unclosed comment at column 8"),
    ("result[0] >= 0.95 &&\n  )", "unexpected ')' at line 2, column 3"),
    ("result ?: 1", "unexpected ':' at column 9"),
]


@pytest.mark.parametrize(("text", "message"), SYNTAX_ERRORS, ids=[row[0] for row in SYNTAX_ERRORS])
def test_syntax_error_names_the_position(text: str, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as raised:
        parse_condition(text)
    assert str(raised.value) == message


def test_syntax_error_carries_its_parts() -> None:
    with pytest.raises(ConditionSyntaxError) as raised:
        parse_condition("len(result)) > 0")
    error = raised.value
    assert (error.reason, error.offset, error.line, error.column) == ("unexpected ')'", 11, 1, 12)
    assert isinstance(error, ValueError)


def test_evaluating_an_unparsable_condition_raises_the_syntax_error() -> None:
    with pytest.raises(ConditionSyntaxError):
        evaluate_condition("result >", 1)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1 == 1 && " * 500 + "true", "condition is longer than 4096 characters"),
        ("(" * 80 + "1" + ")" * 80 + " == 1", "condition is nested too deeply (more than 64 levels)"),
        ("[" * 80 + "]" * 80, "condition is nested too deeply (more than 64 levels)"),
        ("2 ** " * 80 + "2 > 1", "condition is nested too deeply (more than 64 levels)"),
        (" + ".join(["1"] * 150) + " > 1", "condition is nested too deeply (more than 100 levels); split it up"),
        ("result" + "[0]" * 120 + " > 1", "condition is nested too deeply (more than 100 levels)"),
    ],
)
def test_size_and_nesting_are_bounded(text: str, fragment: str) -> None:
    with pytest.raises(ConditionSyntaxError) as raised:
        parse_condition(text)
    assert fragment in str(raised.value)


def test_parsing_is_cached_by_text() -> None:
    assert parse_condition("result[0] >= 0.95") is parse_condition("result[0] >= 0.95")
    condition = parse_condition("len(result) > 0 && all(result, # < x)")
    assert condition.names == {"result", "x"}
    assert condition.functions == {"len", "all"}


# --- no way out to Python -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "result", "expected"),
    [
        ("result.__class__ == nil", {"a": 1}, True),
        ('result["__class__"] == nil', {}, True),
        ("result.__dict__ == nil && result.keys == nil && result.get == nil", {}, True),
        ("{}.__class__ == nil", None, True),
        ("result.__class__", {"__class__": True}, True),  # only ever the data's own key
    ],
)
def test_member_access_reads_dict_keys_only(text: str, result: Any, expected: bool) -> None:
    assert evaluate_condition(text, result) is expected


@pytest.mark.parametrize(
    "text",
    [
        "().__class__",
        '__import__("os").system("true")',
        "lambda: result",
        "result.__class__.__bases__[0].__subclasses__()",
        "eval('1')",
        "getattr(result, 'x')",
        "result; 1",
        "exec",
        "[x for x in result]",
    ],
)
def test_python_escapes_are_errors(text: str) -> None:
    with pytest.raises((ConditionSyntaxError, ConditionEvaluationError)):
        evaluate_condition(text, {"a": 1})


@pytest.mark.parametrize(
    ("text", "result", "fragment"),
    [
        ("result.__class__.__name__ == 'dict'", {}, "cannot fetch __name__ from nil"),
        ("result.upper == nil", "abc", "cannot fetch upper from string"),
        ("result.real == 1", 1, "cannot fetch real from int"),
    ],
)
def test_attributes_of_values_are_not_reachable(text: str, result: Any, fragment: str) -> None:
    with pytest.raises(ConditionEvaluationError) as raised:
        evaluate_condition(text, result)
    assert fragment in str(raised.value)


def test_a_result_holding_python_objects_is_refused() -> None:
    with pytest.raises(ConditionEvaluationError) as raised:
        evaluate_condition("result != nil", [object()])
    assert "metric result holds a value of unsupported type object" in str(raised.value)
    with pytest.raises(ConditionEvaluationError):
        evaluate_condition("result != nil", {1: "a"})


def regex_steps(pattern: str, text: str) -> int:
    """The work (in metered steps) one ``matches`` takes, and that it did not match."""
    evaluator = Evaluator({"result": sanitize(text)})
    assert evaluator.run(parse_condition(f"result matches '{pattern}'").tree) is False
    return evaluator.spent


@pytest.mark.parametrize(("pattern", "tail"), [("^(a+)+$", "!"), ("(a|a)*b", "")])
def test_hostile_regex_runs_in_linear_time(pattern: str, tail: str) -> None:
    """Patterns that make a backtracking engine take exponential time: doubling the text at most doubles the
    work (counted by the step meter, not by a clock)."""
    short, long = regex_steps(pattern, "a" * 2500 + tail), regex_steps(pattern, "a" * 5000 + tail)
    assert long <= 2 * short + 10, (short, long)


BIG = list(range(300_000))


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("[" + ", ".join(["result[1:]"] * 100) + "] == []", BIG),  # copies kept alive in a literal
        (" && ".join(["[result] == [result]"] * 50), BIG),  # deep comparisons, each walking the result
        ("[" + ", ".join(["result + result"] * 100) + "] == []", "a" * 500_000),  # strings kept alive
        ("all(result, all(result, all(result, true)))", list(range(2000))),  # nested predicates
        (" && ".join(["string(result) != ''"] * 50), BIG),
        ("len(repeat(repeat('ab', 1000), 500)) > 0 && len(split(repeat('a,', 400000), ',')) > 0", None),
        ("result matches '(?:a|b|c|d){300}!'", "abcd" * 50_000),
    ],
)
def test_hostile_conditions_stop_with_an_error(text: str, result: Any) -> None:
    """The step and memory budgets stop them (an error, not a hang)."""
    with pytest.raises(ConditionEvaluationError):
        evaluate_condition(text, result)


def test_regex_engine_refuses_what_re2_refuses_and_what_would_be_too_large() -> None:
    for pattern in ["a**", "(?<=a)b", "(?P=n)", "\\pL", "a{1001}", "(a{1000}){1000}", "[z-a]", "*"]:
        with pytest.raises(RegexError):
            compile_pattern(pattern)


def test_deep_input_is_refused_not_walked() -> None:
    deep: Any = 1
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ConditionEvaluationError) as raised:
        evaluate_condition("result != nil", deep)
    assert "nested more than 64 levels deep" in str(raised.value)


# --- the value a message shows ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "result", "observed"),
    [
        ("result[0] >= 0.95", [0.71, 0.99], 0.71),
        ("0.95 <= result[0]", [0.71], 0.71),
        ("len(result) > 0 && result[0] < 100", [150.0], 150.0),  # the first comparison that was false
        ("result[0] < 0.5 || result[1] < 0.5", [0.7, 0.2], 0.2),  # the first that was true
        ("all(result, # < 1000)", [1500.0, 20.0], [1500.0, 20.0]),  # a predicate function shows its array
        ("result.status == 'ok'", {"status": "down"}, "down"),
        ("1 > 2", [0.5], [0.5]),  # nothing read the data: the whole result
        ("isNaN(result[0])", [0.5], [0.5]),
    ],
)
def test_the_observed_value_is_what_the_deciding_comparison_looked_at(text: str, result: Any, observed: Any) -> None:
    assert check_condition(text, result).observed == observed


# --- Argo's rules for one measurement -----------------------------------------------------------------------

SUCCESS = "result[0] >= 0.95"
FAILURE = "result[0] < 0.9"

# (value, successCondition, failureCondition, phase, message)
ASSESSMENTS: list[tuple[str, Any, str | None, str | None, str, str]] = [
    ("success-only-met", [0.99], SUCCESS, None, "Successful", ""),
    ("success-only-unmet", [0.71], SUCCESS, None, "Failed", "0.71 does not satisfy result[0] >= 0.95"),
    ("failure-only-met", [0.71], None, FAILURE, "Failed", "0.71 satisfies failure condition result[0] < 0.9"),
    ("failure-only-unmet", [0.95], None, FAILURE, "Successful", ""),
    ("both-success", [0.99], SUCCESS, FAILURE, "Successful", ""),
    ("both-failure", [0.5], SUCCESS, FAILURE, "Failed", "0.5 satisfies failure condition result[0] < 0.9"),
    (
        "both-neither",
        [0.92],
        SUCCESS,
        FAILURE,
        "Inconclusive",
        "0.92 satisfies neither success condition result[0] >= 0.95 nor failure condition result[0] < 0.9",
    ),
    ("neither-condition", [0.1], None, None, "Successful", ""),
    ("empty-strings-are-unset", [0.1], "", "", "Successful", ""),
    ("empty-result", [], SUCCESS, None, "Error", EMPTY_RESULT_MESSAGE),
    ("empty-result-in-failure", [], None, FAILURE, "Error", EMPTY_RESULT_MESSAGE),
    ("nan", [NAN], SUCCESS, None, "Failed", "NaN does not satisfy result[0] >= 0.95"),
    (
        "syntax-error",
        [0.5],
        "result[0] >=",
        None,
        "Error",
        'cannot parse condition "result[0] >=": unexpected end of expression at column 13',
    ),
    ("not-a-bool", [0.5], "result[0]", None, "Error", 'condition "result[0]" did not return a bool: got 0.5 (float)'),
    ("error-in-failure", [0.99], SUCCESS, "result[0] < ", "Error", "cannot parse condition"),
    ("string", "ok", 'result == "healthy"', None, "Failed", '"ok" does not satisfy result == "healthy"'),
    (
        "web-json",
        {"status": "down"},
        'result.status == "up"',
        None,
        "Failed",
        '"down" does not satisfy result.status == "up"',
    ),
    (
        "vector",
        [1500.0, 20.0],
        "all(result, # < 1000)",
        None,
        "Failed",
        "[1500,20] does not satisfy all(result, # < 1000)",
    ),
    (
        "and",
        [150.0],
        "len(result) > 0 && result[0] < 100",
        None,
        "Failed",
        "150 does not satisfy len(result) > 0 && result[0] < 100",
    ),
    ("constant", [0.5], "1 > 2", None, "Failed", "[0.5] does not satisfy 1 > 2"),
]


@pytest.mark.parametrize(
    ("value", "success", "failure", "phase", "message"),
    [row[1:] for row in ASSESSMENTS],
    ids=[row[0] for row in ASSESSMENTS],
)
def test_assess_measurement_follows_argo(
    value: Any, success: str | None, failure: str | None, phase: str, message: str
) -> None:
    got_phase, got_message = assess_measurement(value, success, failure)
    assert got_phase == phase
    assert isinstance(got_phase, AnalysisPhase)
    assert got_message == message if phase != "Error" or message == EMPTY_RESULT_MESSAGE else message in got_message


def test_a_long_value_is_cut_in_messages() -> None:
    _, message = assess_measurement(list(range(1000)), "all(result, # < 10)", None)
    assert message.endswith("... does not satisfy all(result, # < 10)")
    assert len(message) < 260


# --- measured values as text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ([0.99, 0.98], "[0.99,0.98]"),
        (0.99, "0.99"),
        (1.0, "1"),
        (100.0, "100"),
        (-0.0, "0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (12345678.9, "12345678.9"),
        (1e-7, "1e-07"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (NAN, "NaN"),
        (INF, "+Inf"),
        (-INF, "-Inf"),
        ([NAN, 1], "[NaN,1]"),
        (3, "3"),
        (True, "true"),
        (None, "null"),
        ("text", "text"),
        ([], "[]"),
        (["a", None], '["a",null]'),
        ({"b": 1, "a": True}, '{"a":true,"b":1}'),
        ({"nested": {"x": [0.5]}}, '{"nested":{"x":[0.5]}}'),
        ((1, 2), "[1,2]"),
        (object(), "<object>"),
    ],
)
def test_format_value(value: Any, text: str) -> None:
    assert format_value(value) == text


# --- issue #15 item 2: a budget in time as well as in steps -----------------------------------------------


def ticking(seconds_per_reading: float) -> Any:
    """A clock that moves ``seconds_per_reading`` each time it is read: the evaluator's work, made visible."""
    readings = iter(range(1_000_000))
    return lambda: next(readings) * seconds_per_reading


def test_a_condition_over_its_time_budget_is_an_evaluation_error_naming_the_budget() -> None:
    """``all`` over 10 000 samples is some 40 000 steps, well inside the step budget; the clock is read every few
    thousand steps, and at 10 ms a reading the 0.05 s budget is spent long before the end."""
    with pytest.raises(ConditionEvaluationError, match=r"took more than 0\.05s \(the time budget of a condition\)"):
        check_condition("all(result, # >= 0)", [1.0] * 10_000, time_budget=0.05, clock=ticking(0.01))


def test_a_cheap_condition_never_reaches_its_time_budget() -> None:
    outcome = check_condition("result[0] >= 0.95", [0.99], time_budget=0.05, clock=ticking(0.01))
    assert outcome.satisfied


def test_a_measurement_whose_condition_runs_out_of_time_is_an_error() -> None:
    phase, message = assess_measurement(
        [1.0] * 10_000, "all(result, # >= 0)", None, time_budget=0.05, clock=ticking(0.01)
    )
    assert phase is AnalysisPhase.ERROR
    assert "took more than 0.05s (the time budget of a condition)" in message
