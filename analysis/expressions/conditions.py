"""Conditions as the runner and lint use them: parse once, evaluate against a measurement, and assess the
measurement with Argo's rules, with messages that say which value failed which condition."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from analysis.expressions.errors import ConditionEvaluationError, ConditionSyntaxError, describe_position
from analysis.expressions.evaluator import EvaluationFailure, Evaluator
from analysis.expressions.nodes import Call, Name, Node, walk
from analysis.expressions.parser import parse
from analysis.expressions.values import OperationError, Value, sanitize, type_name
from analysis.expressions.values import format_value as format_plain_value
from analysis.models import AnalysisPhase

EMPTY_RESULT_MESSAGE = "metric result is empty: no data returned by the query"
"""The error for a condition that indexes a result with nothing in it (an empty Prometheus vector), the
commonest surprise with Argo (#1466, #2101); its own message says "index out of range"."""

RESULT = "result"

_SHOWN_LENGTH = 200


@dataclass(frozen=True)
class Condition:
    """A parsed condition; immutable and shared between evaluations through :func:`parse_condition`."""

    text: str
    tree: Node
    names: frozenset[str]
    """The variables it reads (``result``, or names a caller supplies)."""
    functions: frozenset[str]
    """The built-in functions it calls."""

    def check(
        self,
        result: Any,
        *,
        extra: Mapping[str, Any] | None = None,
        time_budget: float | None = None,
        clock: Callable[[], float] = time.thread_time,
    ) -> ConditionOutcome:
        """Evaluates the condition; see :func:`check_condition`."""
        try:
            environment = {name: sanitize(value, f'variable "{name}"') for name, value in (extra or {}).items()}
            environment[RESULT] = sanitize(result)
        except OperationError as problem:
            raise ConditionEvaluationError(f"cannot evaluate condition {_shown_text(self.text)}: {problem}") from None
        evaluator = Evaluator(environment, time_budget=time_budget, clock=clock)
        try:
            value = evaluator.run(self.tree)
        except EvaluationFailure as failure:
            if failure.empty_access and environment[RESULT] in (None, []):
                raise ConditionEvaluationError(EMPTY_RESULT_MESSAGE) from None
            where = describe_position(self.text, failure.offset)
            raise ConditionEvaluationError(
                f"cannot evaluate condition {_shown_text(self.text)}: {failure.reason} at {where}"
            ) from None
        except RecursionError:
            # The depth bounds keep evaluation far from the limit; this only fires for a caller that is
            # itself close to it, and must not escape as anything but an evaluation error.
            raise ConditionEvaluationError(
                f"cannot evaluate condition {_shown_text(self.text)}: nested too deeply"
            ) from None
        if not isinstance(value, bool):
            raise ConditionEvaluationError(
                f"condition {_shown_text(self.text)} did not return a bool: "
                f"got {shown_value(value)} ({type_name(value)})"
            )
        observation = evaluator.observed(value)
        observed = observation.value if observation is not None else environment[RESULT]
        return ConditionOutcome(value, observed)

    def evaluate(self, result: Any, *, extra: Mapping[str, Any] | None = None) -> bool:
        return self.check(result, extra=extra).satisfied


@dataclass(frozen=True)
class ConditionOutcome:
    """What a condition said about a result, and the value a message should show as measured."""

    satisfied: bool
    observed: Value
    """The value the deciding comparison looked at — ``result[0]``'s 0.71 for ``result[0] >= 0.95`` — or the
    whole result when the condition compares nothing that reads it."""


@lru_cache(maxsize=1024)
def parse_condition(text: str) -> Condition:
    """The parsed condition, cached by text; raises :class:`ConditionSyntaxError`, e.g.
    ``unexpected ')' at column 12``."""
    tree = parse(text)
    nodes = list(walk(tree))
    return Condition(
        text,
        tree,
        frozenset(node.name for node in nodes if isinstance(node, Name)),
        frozenset(node.name for node in nodes if isinstance(node, Call)),
    )


def check_condition(
    text: str,
    result: Any,
    *,
    extra: Mapping[str, Any] | None = None,
    time_budget: float | None = None,
    clock: Callable[[], float] = time.thread_time,
) -> ConditionOutcome:
    """Evaluates a condition with ``result`` (and any ``extra`` variables) bound.

    ``time_budget``: seconds of ``clock`` (the thread's CPU time) the evaluation may take, besides its step budget.

    ``result`` may hold None, bools, numbers, strings, lists/tuples and string-keyed mappings, nested; other
    types are refused. Raises :class:`ConditionSyntaxError` when the text does not parse and
    :class:`ConditionEvaluationError` when evaluation fails or yields anything but a bool — with the message
    :data:`EMPTY_RESULT_MESSAGE` when it failed reading an element of an empty result.
    """
    return parse_condition(text).check(result, extra=extra, time_budget=time_budget, clock=clock)


def evaluate_condition(text: str, result: Any, *, extra: Mapping[str, Any] | None = None) -> bool:
    """Whether a condition holds for a result; raises as :func:`check_condition` does."""
    return check_condition(text, result, extra=extra).satisfied


def assess_measurement(
    value: Any,
    success_condition: str | None,
    failure_condition: str | None,
    *,
    time_budget: float | None = None,
    clock: Callable[[], float] = time.thread_time,
) -> tuple[str, str]:
    """The phase of one measurement and the reason for it, by Argo's rules.

    Only a success condition: Successful when it holds, else Failed. Only a failure condition: Failed when
    it holds, else Successful. Both: Failed when the failure condition holds, else Successful when the
    success condition does, else Inconclusive. Neither: Successful. A condition that does not parse or
    cannot be evaluated, or runs out of its step or ``time_budget``: Error (Argo retries those). An empty string
    counts as no condition, as in Argo.

    The message is empty for Successful and otherwise explains the phase without the metric's name, which
    the caller prefixes: ``0.71 does not satisfy result[0] >= 0.95``,
    ``0.71 satisfies failure condition result[0] < 0.9``. The phase is an :class:`AnalysisPhase`, a str.
    """
    success = success_condition or None
    failure = failure_condition or None
    try:
        succeeded = check_condition(success, value, time_budget=time_budget, clock=clock) if success else None
        failed = check_condition(failure, value, time_budget=time_budget, clock=clock) if failure else None
    except ConditionSyntaxError as problem:
        return AnalysisPhase.ERROR, f"cannot parse condition {_shown_text(problem.text)}: {problem}"
    except ConditionEvaluationError as problem:
        return AnalysisPhase.ERROR, str(problem)
    if failed is not None and failed.satisfied:
        return AnalysisPhase.FAILED, f"{shown_value(failed.observed)} satisfies failure condition {failure}"
    if succeeded is None or succeeded.satisfied:
        return AnalysisPhase.SUCCESSFUL, ""
    if failed is None:
        return AnalysisPhase.FAILED, f"{shown_value(succeeded.observed)} does not satisfy {success}"
    return (
        AnalysisPhase.INCONCLUSIVE,
        f"{shown_value(succeeded.observed)} satisfies neither success condition {success} "
        f"nor failure condition {failure}",
    )


def format_value(value: Any) -> str:
    """A measured value as Argo shows it in ``measurements[].value``: ``0.99`` (no float noise, no ``.0``),
    ``NaN``, ``+Inf``, a string as it is, arrays and maps as compact JSON (``[0.99,0.98]``,
    ``{"a":1}``, keys sorted). A value outside the language's types, which no condition could read either,
    shows as its Python type name in angle brackets."""
    try:
        return format_plain_value(sanitize(value))
    except OperationError:
        return f"<{type(value).__name__}>"


def shown_value(value: Value) -> str:
    """A value inside a message: strings quoted, the rest as :func:`format_value`, cut to a readable
    length."""
    text = format_plain_value([value])[1:-1] if isinstance(value, str) else format_plain_value(value)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 3] + "..."


def _shown_text(text: str) -> str:
    """A condition inside a message: quoted, on one line, cut to a readable length."""
    flat = " ".join(text.split())
    if len(flat) > _SHOWN_LENGTH:
        flat = flat[: _SHOWN_LENGTH - 3] + "..."
    return f'"{flat}"'
