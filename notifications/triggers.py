"""Triggers evaluated as notifications-engine evaluates them, in the project's safe expression language.

A condition's ``when`` is an expr-lang expression over the object (``app`` or ``rollout``); a condition whose
``when`` is empty never holds for a level-triggered kind (the engine compiles it as ``false``), and always holds for
an Event-keyed one (Argo Rollouts sends on an empty condition). ``oncePer`` is evaluated only when the condition
holds; its value joins the state key, so the notification goes once per value.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.expressions import ConditionEvaluationError, ConditionSyntaxError, check_condition
from analysis.expressions.conditions import parse_condition
from analysis.expressions.evaluator import EvaluationFailure, Evaluator
from analysis.expressions.values import OperationError, go_string, sanitize
from notifications.config import TriggerCondition

_FIRST_CAPITAL = re.compile(r"(.)([A-Z][a-z]+)")
_ALL_CAPITALS = re.compile(r"([a-z0-9])([A-Z])")

CONDITION_TIME_BUDGET = 0.5
"""Seconds of CPU one condition may take: a notification condition never holds up the controller."""


def trigger_for_reason(reason: str) -> str:
    """The trigger an Event reason fires in Argo Rollouts: ``RolloutStepCompleted`` → ``on-rollout-step-completed``,
    ``AnalysisRunFailed`` → ``on-analysis-run-failed`` (its ``translateReasonToTrigger``)."""
    spaced = _ALL_CAPITALS.sub(r"\1-\2", _FIRST_CAPITAL.sub(r"\1-\2", reason))
    return "on-" + spaced.lower()


def condition_key(index: int, when: str) -> str:
    """The engine's key of a trigger's ``index``-th condition: ``[0].<base64url(sha1(when))>``, so that editing a
    condition starts its state afresh."""
    digest = base64.urlsafe_b64encode(hashlib.sha1(when.encode()).digest()).rstrip(b"=").decode()
    return f"[{index}].{digest}"


@dataclass(frozen=True)
class ConditionResult:
    """What one condition said about the object."""

    key: str
    templates: tuple[str, ...]
    triggered: bool
    once_per: str = ""
    error: str = ""
    """Why the condition (or its ``oncePer``) could not be evaluated; it then counts as not holding."""


def run_trigger(
    conditions: tuple[TriggerCondition, ...], variables: Mapping[str, Any], *, empty_holds: bool = False
) -> list[ConditionResult]:
    """Each condition's result for ``variables`` (``{"app": ...}`` or ``{"rollout": ...}``)."""
    results = []
    for index, condition in enumerate(conditions):
        key = condition_key(index, condition.when)
        if not condition.when.strip():
            results.append(ConditionResult(key, condition.send, empty_holds))
            continue
        try:
            holds = check_condition(condition.when, None, extra=variables, time_budget=CONDITION_TIME_BUDGET).satisfied
        except (ConditionSyntaxError, ConditionEvaluationError) as error:
            results.append(ConditionResult(key, condition.send, False, error=f"when: {error}"))
            continue
        once_per = ""
        if holds and condition.once_per:
            try:
                once_per = evaluate_value(condition.once_per, variables)
            except (ConditionSyntaxError, ConditionEvaluationError) as error:
                results.append(ConditionResult(key, condition.send, False, error=f"oncePer: {error}"))
                continue
        results.append(ConditionResult(key, condition.send, holds, once_per))
    return results


def evaluate_value(expression: str, variables: Mapping[str, Any]) -> str:
    """An ``oncePer`` expression's value as Go's ``fmt.Sprintf("%v")`` prints it (``<nil>`` for nil)."""
    parsed = parse_condition(expression)
    try:
        environment = {name: sanitize(value, f'variable "{name}"') for name, value in variables.items()}
        value = Evaluator(environment).run(parsed.tree)
    except OperationError as error:
        raise ConditionEvaluationError(f"cannot evaluate {expression!r}: {error}") from None
    except EvaluationFailure as failure:
        raise ConditionEvaluationError(f"cannot evaluate {expression!r}: {failure.reason}") from None
    return go_string(value)
