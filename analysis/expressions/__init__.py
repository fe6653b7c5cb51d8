"""Argo's ``successCondition`` / ``failureCondition`` language (expr-lang), evaluated safely in Python.

A real parser (lexer → Pratt parser → immutable syntax tree) and a tree-walking evaluator over JSON-like
values only: no ``eval``, no attribute access on Python objects, a closed set of functions, and bounds on the
length and nesting of a condition and on the work and memory one evaluation may use. See
``docs/analysis-conditions.md`` for the language.

    >>> evaluate_condition("result[0] >= 0.95", [0.99])
    True
    >>> assess_measurement([0.71], "result[0] >= 0.95", None)
    (<AnalysisPhase.FAILED: 'Failed'>, '0.71 does not satisfy result[0] >= 0.95')
"""

from analysis.expressions.conditions import (
    EMPTY_RESULT_MESSAGE,
    Condition,
    ConditionOutcome,
    assess_measurement,
    check_condition,
    evaluate_condition,
    format_value,
    parse_condition,
)
from analysis.expressions.errors import ConditionEvaluationError, ConditionSyntaxError
from analysis.expressions.lint import condition_problems

__all__ = [
    "EMPTY_RESULT_MESSAGE",
    "Condition",
    "ConditionEvaluationError",
    "ConditionOutcome",
    "ConditionSyntaxError",
    "assess_measurement",
    "check_condition",
    "condition_problems",
    "evaluate_condition",
    "format_value",
    "parse_condition",
]
