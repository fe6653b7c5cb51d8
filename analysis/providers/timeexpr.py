"""The time expressions of a Prometheus ``rangeQuery``: ``now()``, ``now() - duration("5m")``, and the like.

Argo evaluates ``start`` and ``end`` with expr-lang, of which range queries use only a sliver: ``now()``,
``duration("…")`` (a Go duration) and ``date("…")`` (an RFC 3339 time), joined by ``+`` and ``-``, with
parentheses. That sliver is parsed here on its own, so that the condition evaluator stays free to change and a
range expression can never run arbitrary code. Types are checked as expr-lang does: time ± duration is a time,
duration ± duration a duration, time − time a duration, and the whole expression must be a time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from kube import durations

_TOKEN: Final = re.compile(
    r"""\s*(?:
        (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<symbol>[-+()])
    )""",
    re.VERBOSE,
)


class TimeExpressionError(ValueError):
    """A ``rangeQuery`` expression that cannot be evaluated; the message says where and why."""


def parse_go_duration(text: str) -> timedelta:
    """A Go ``time.ParseDuration`` string: ``5m``, ``1h30m``, ``-1.5h``, ``300ms``; ``0`` alone needs no unit."""
    try:
        return timedelta(seconds=durations.parse_go_duration(text))
    except durations.DurationError as error:
        raise TimeExpressionError(str(error)) from None


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "string", "symbol", "end"
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            tokens.append(_Token("end", "", position))
            return tokens
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            hint = '; write durations as duration("5m")' if text[position].isdigit() else ""
            raise TimeExpressionError(f"unexpected {text[position]!r} at position {position + 1} in {text!r}{hint}")
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup), match.start(match.lastgroup)))
        position = match.end()


def _unquote(literal: str) -> str:
    # expr-lang strings take backslash escapes; \" and \\ are all a duration or a date could need.
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


class _Parser:
    def __init__(self, text: str, now: datetime) -> None:
        self.text = text
        self.now = now
        self.tokens = _tokens(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def fail(self, expected: str) -> TimeExpressionError:
        token = self.current
        found = "the end" if token.kind == "end" else repr(token.text)
        return TimeExpressionError(
            f"expected {expected} at position {token.position + 1} in {self.text!r}, found {found}"
        )

    def take(self, kind: str, text: str | None = None) -> _Token:
        token = self.current
        if token.kind != kind or (text is not None and token.text != text):
            raise self.fail(repr(text) if text else kind)
        self.index += 1
        return token

    def expression(self) -> datetime | timedelta:
        value = self.operand()
        while self.current.kind == "symbol" and self.current.text in "+-":
            operator = self.take("symbol")
            right = self.operand()
            value = _combine(value, operator.text, right, self.text)
        return value

    def operand(self) -> datetime | timedelta:
        token = self.current
        if token.kind == "symbol" and token.text == "(":
            self.take("symbol", "(")
            value = self.expression()
            self.take("symbol", ")")
            return value
        if token.kind == "symbol" and token.text == "-":
            self.take("symbol", "-")
            value = self.operand()
            if isinstance(value, datetime):
                raise TimeExpressionError(f"a time cannot be negated (position {token.position + 1} in {self.text!r})")
            return -value
        if token.kind != "name":
            raise self.fail('now(), duration("…") or date("…")')
        self.index += 1
        self.take("symbol", "(")
        if token.text == "now":
            self.take("symbol", ")")
            return self.now
        if token.text in ("duration", "date"):
            literal = _unquote(self.take("string").text)
            self.take("symbol", ")")
            if token.text == "duration":
                return parse_go_duration(literal)
            return _parse_date(literal)
        raise TimeExpressionError(
            f"unknown function {token.text}() at position {token.position + 1} in {self.text!r}; "
            "a range query may use now(), duration(\"…\") and date(\"…\")"
        )


def _combine(
    left: datetime | timedelta, operator: str, right: datetime | timedelta, text: str
) -> datetime | timedelta:
    if isinstance(left, datetime) and isinstance(right, timedelta):
        return left + right if operator == "+" else left - right
    if isinstance(left, timedelta) and isinstance(right, timedelta):
        return left + right if operator == "+" else left - right
    if isinstance(left, timedelta) and isinstance(right, datetime) and operator == "+":
        return right + left
    if isinstance(left, datetime) and isinstance(right, datetime) and operator == "-":
        return left - right
    kinds = f"{type(left).__name__.replace('timedelta', 'duration').replace('datetime', 'time')} {operator} " + (
        type(right).__name__.replace("timedelta", "duration").replace("datetime", "time")
    )
    raise TimeExpressionError(f"cannot compute {kinds} in {text!r}")


def _parse_date(literal: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(literal)
    except ValueError:
        raise TimeExpressionError(
            f"invalid date {literal!r}: expected RFC 3339, such as 2024-05-01T12:00:00Z"
        ) from None
    # A time without a zone is UTC, as expr-lang's date() reads it.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def evaluate_time(text: str, *, now: datetime) -> datetime:
    """The time a ``rangeQuery.start``/``end`` expression denotes, ``now`` being the moment of measurement."""
    if not text.strip():
        raise TimeExpressionError("the expression is empty")
    parser = _Parser(text, now)
    value = parser.expression()
    if parser.current.kind != "end":
        raise parser.fail("'+', '-' or the end")
    if not isinstance(value, datetime):
        raise TimeExpressionError(
            f"{text!r} is a duration, not a time; write it relative to now(), e.g. now() - {text}"
        )
    return value


def parse_step(text: str) -> float:
    """A ``rangeQuery.step`` in seconds: a Go duration (``1m``, ``30s``) or a number of seconds."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = parse_go_duration(value).total_seconds()
    if not (math.isfinite(seconds) and seconds > 0):
        raise TimeExpressionError(f"step {text!r} must be a positive duration")
    return seconds
