"""Evaluation of a parsed condition against an environment of plain values.

A tree walk over the immutable syntax tree. Everything it touches is one of the language's values (see
:mod:`analysis.expressions.values`), names resolve only in the environment it is given, and functions only
in the closed built-in table, so there is no path from a condition to a Python object. Work is bounded by a
budget of steps: each node evaluated and each element a function or operator walks costs one, and running
out is an evaluation error rather than a stuck controller.

While evaluating, the evaluator notes what each top-level comparison looked at, so that a message can say
"0.71 does not satisfy result[0] >= 0.95" rather than print the whole result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from analysis.expressions import nodes
from analysis.expressions.builtins import BUILTINS, Function, PredicateFunction
from analysis.expressions.regex import RegexError, compile_pattern
from analysis.expressions.values import (
    OperationError,
    Value,
    arithmetic,
    checked_items,
    compare,
    equal,
    fetch,
    member_of,
    negate,
    positive,
    slice_of,
    string_test,
    text_cost,
    type_name,
)

MAX_STEPS = 1_000_000
"""Work one evaluation may do, about a second of CPU at worst. ``all(result, # < 1000)`` costs some four steps
per sample, so a result of 200 000 samples still fits, while a condition that nests predicates to multiply
the work (or matches a regex against megabytes of text) stops with an error instead of holding up a
controller."""

OBSERVED_CALLS = frozenset({"all", "any", "none", "one"})
"""Predicate functions that count as a comparison of their array for messages."""


class EvaluationFailure(Exception):
    """Evaluation stopped at a node: ``reason`` says why, ``offset`` where (0-based)."""

    def __init__(self, reason: str, offset: int, *, empty_access: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset
        self.empty_access = empty_access


class _NilChain(Exception):
    """An optional access met nil: the enclosing chain evaluates to nil."""


@dataclass(frozen=True)
class Observation:
    """A value a comparison looked at (wrapped, so that an observed nil differs from no observation)."""

    value: Value


CLOCK_STEPS = 4096
"""How many steps pass between two readings of the clock, when the evaluation has a time budget."""


class Evaluator:
    """Evaluates one condition once; create one per evaluation (it holds the budget and the observations).

    ``time_budget`` (seconds of ``clock``, by default the evaluating thread's CPU time) bounds the evaluation in
    time as ``budget`` does in steps: a step costs different time for different operations, and the caller may
    need a bound it can rely on (the analysis runner evaluates conditions on a thread beside the event loop).
    """

    def __init__(
        self,
        environment: Mapping[str, Value],
        budget: int = MAX_STEPS,
        *,
        time_budget: float | None = None,
        clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.environment = environment
        self.budget = budget
        self.spent = 0
        self.elements: list[tuple[Value, int]] = []
        self.first_true: Observation | None = None
        self.first_false: Observation | None = None
        self.time_budget = time_budget
        self.clock = clock
        self.started = clock() if time_budget is not None else 0.0
        self.next_reading = CLOCK_STEPS

    def charge(self, units: int) -> None:
        self.spent += units
        if self.spent > self.budget:
            raise OperationError(f"evaluation needs more than {self.budget} steps; simplify the condition")
        if self.time_budget is not None and self.spent >= self.next_reading:
            self.next_reading = self.spent + CLOCK_STEPS
            if self.clock() - self.started > self.time_budget:
                raise OperationError(
                    f"evaluation took more than {self.time_budget:g}s (the time budget of a condition); "
                    "simplify the condition"
                )

    def run(self, tree: nodes.Node) -> Value:
        try:
            return self.evaluate(tree)
        except _NilChain:  # pragma: no cover - the parser wraps every optional access in a chain
            return None

    def observed(self, outcome: bool) -> Observation | None:
        """What the comparison that decided the outcome looked at: the first top-level comparison whose own
        outcome matches the condition's (for ``a && b`` false, the first false one; for ``a || b`` true,
        the first true one), else whichever was noted; None when no comparison read any data."""
        chosen = self.first_true if outcome else self.first_false
        return chosen or self.first_true or self.first_false

    def note(self, outcome: bool, value: Value) -> None:
        # Comparisons inside a predicate run once per element; the predicate function notes its array.
        if self.elements:
            return
        if outcome and self.first_true is None:
            self.first_true = Observation(value)
        elif not outcome and self.first_false is None:
            self.first_false = Observation(value)

    # --- nodes --------------------------------------------------------------------------------------------

    def evaluate(self, node: nodes.Node) -> Value:
        try:
            self.charge(1)
            return self.dispatch(node)
        except OperationError as problem:
            # The innermost node that failed names the position; outer nodes let the failure through.
            raise EvaluationFailure(problem.reason, node.offset, empty_access=problem.empty_access) from None

    def dispatch(self, node: nodes.Node) -> Value:
        if isinstance(node, nodes.Literal):
            return node.value
        if isinstance(node, nodes.Name):
            if node.name not in self.environment:
                raise OperationError(f"unknown name {node.name}")
            return self.environment[node.name]
        if isinstance(node, nodes.Pointer):
            if not self.elements:  # pragma: no cover - the parser allows # only inside predicates
                raise OperationError("# used outside a predicate")
            element, index = self.elements[-1]
            return index if node.name == "index" else element
        if isinstance(node, nodes.Binary):
            return self.binary(node)
        if isinstance(node, nodes.Member):
            target = self.evaluate(node.target)
            if target is None and node.optional:
                raise _NilChain
            return fetch(target, self.evaluate(node.key))
        if isinstance(node, nodes.Chain):
            try:
                return self.evaluate(node.inner)
            except _NilChain:
                return None
        if isinstance(node, nodes.Call):
            return self.call(node)
        if isinstance(node, nodes.Unary):
            return self.unary(node)
        if isinstance(node, nodes.Conditional):
            test = self.evaluate(node.test)
            if not isinstance(test, bool):
                raise OperationError(f"the condition of ?: must be a bool, got {type_name(test)}")
            return self.evaluate(node.then if test else node.otherwise)
        if isinstance(node, nodes.Slice):
            target = self.evaluate(node.target)
            if target is None and node.optional:
                raise _NilChain
            start = None if node.start is None else self.evaluate(node.start)
            stop = None if node.stop is None else self.evaluate(node.stop)
            part = slice_of(target, start, stop)
            # A slice is a copy: charged by its size, so copies kept in a literal cannot pile up.
            self.charge(text_cost(part) if isinstance(part, str) else len(part) if isinstance(part, list) else 0)
            return part
        if isinstance(node, nodes.ArrayLiteral):
            return [self.evaluate(item) for item in node.items]
        if isinstance(node, nodes.MapLiteral):
            mapping: dict[str, Value] = {}
            for key_node, value_node in node.entries:
                key = self.evaluate(key_node)
                if not isinstance(key, str):
                    raise OperationError(f"map keys must be strings, got {type_name(key)}")
                mapping[key] = self.evaluate(value_node)
            return mapping
        raise OperationError(f"cannot evaluate {type(node).__name__}")  # pragma: no cover - Predicate only

    def unary(self, node: nodes.Unary) -> Value:
        operand = self.evaluate(node.operand)
        if node.op == "not":
            if not isinstance(operand, bool):
                raise OperationError(f"invalid operation: not {type_name(operand)}")
            return not operand
        return negate(operand) if node.op == "-" else positive(operand)

    def binary(self, node: nodes.Binary) -> Value:
        op = node.op
        if op in ("and", "or"):
            left = self.evaluate(node.left)
            if not isinstance(left, bool):
                raise OperationError(f"{op} needs bool operands, got {type_name(left)}")
            # Short-circuit, so "len(result) > 0 && result[0] < 100" never indexes an empty result.
            if left is (op == "or"):
                return left
            right = self.evaluate(node.right)
            if not isinstance(right, bool):
                raise OperationError(f"{op} needs bool operands, got {type_name(right)}")
            return right
        if op == "??":
            left = self.evaluate(node.left)
            return self.evaluate(node.right) if left is None else left
        left = self.evaluate(node.left)
        right = self.evaluate(node.right)
        if op in ("+", "-", "*", "/", "%", "**"):
            value = arithmetic(op, left, right)
            if isinstance(value, str):
                self.charge(text_cost(value))
            return value
        if op == "..":
            return self.range(left, right)
        outcome = self.comparison(op, left, right)
        if node.watch:
            self.note(outcome, left if node.watch == 1 else right)
        return outcome

    def comparison(self, op: str, left: Value, right: Value) -> bool:
        negated = op.startswith("not ")
        base = op.removeprefix("not ")
        if base in ("==", "!="):
            return equal(left, right, self) == (base == "==")
        if base in ("<", "<=", ">", ">="):
            return compare(base, left, right)
        if base == "in":
            outcome = member_of(left, right, self)
        elif base == "matches":
            outcome = self.matches(left, right)
        else:
            outcome = string_test(base, left, right)
        return outcome != negated

    def matches(self, text: Value, pattern: Value) -> bool:
        if not (isinstance(text, str) and isinstance(pattern, str)):
            raise OperationError(f"invalid operation: {type_name(text)} matches {type_name(pattern)}")
        try:
            program = compile_pattern(pattern)
        except RegexError as problem:
            raise OperationError(str(problem)) from None
        return program.search(text, self)

    def range(self, low: Value, high: Value) -> Value:
        if not (isinstance(low, int) and isinstance(high, int)) or isinstance(low, bool) or isinstance(high, bool):
            raise OperationError(f"invalid operation: {type_name(low)}..{type_name(high)}: a range needs ints")
        size = max(high - low + 1, 0)
        checked_items(size)
        self.charge(size)
        return list(range(low, high + 1))

    def call(self, node: nodes.Call) -> Value:
        builtin = BUILTINS[node.name]
        if isinstance(builtin, Function):
            return builtin.call([self.evaluate(argument) for argument in node.args], self)
        collection = self.evaluate(node.args[0])
        predicate = self.predicate(node.args[1]) if len(node.args) > 1 else None
        value = builtin.call(collection, predicate, self)
        if node.name in OBSERVED_CALLS and isinstance(value, bool):
            self.note(value, collection)
        return value

    def predicate(self, argument: nodes.Node) -> PredicateFunction:
        body = argument.body if isinstance(argument, nodes.Predicate) else argument

        def apply(element: Value, index: int) -> Value:
            self.elements.append((element, index))
            try:
                return self.evaluate(body)
            finally:
                self.elements.pop()

        return apply


