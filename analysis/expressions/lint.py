"""What can be known to be wrong with a condition before it runs: that it does not parse, that it reads a
name Argo does not define, or that it cannot yield a bool. Lint and the template validators report these
against the metric's ``successCondition`` / ``failureCondition`` field."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from analysis.arguments import Placeholder, scan_placeholders
from analysis.expressions.builtins import BUILTINS
from analysis.expressions.conditions import RESULT, parse_condition
from analysis.expressions.errors import ConditionSyntaxError, describe_position
from analysis.expressions.nodes import (
    ArrayLiteral,
    Binary,
    Call,
    Conditional,
    Literal,
    MapLiteral,
    Name,
    Node,
    Unary,
    walk,
)
from analysis.expressions.parser import COMPARISONS

# Each placeholder is replaced, character for character, by one of these before parsing: a number fits where
# a value goes (result[0] >= {{args.threshold}}), a name where a field goes (result.{{args.field}}). Keeping
# the length keeps every column in a message true to the text as written.
_FILLERS = ("0", "x")

_ARITHMETIC = frozenset({"-", "*", "/", "%", "**"})


def condition_problems(text: str, *, known_names: Collection[str] = (RESULT,)) -> list[str]:
    """Messages for what is wrong with a condition, in the order found; [] when nothing is.

    ``{{args.NAME}}`` placeholders are substituted with a dummy of the same length before parsing. A
    problem located inside a placeholder is not reported: the argument's value decides it (it may be a
    number, a field name or a whole sub-expression), and the run checks the condition once resolved. An
    unclosed ``{{`` is left to the placeholder checks, which report it already.
    """
    if not text:
        return []
    scan = scan_placeholders(text)
    if scan.unclosed_at is not None:
        return []
    placeholders = scan.placeholders
    first_error: ConditionSyntaxError | None = None
    for filler in _FILLERS if placeholders else ("",):
        try:
            condition = parse_condition(_filled(text, placeholders, filler))
        except ConditionSyntaxError as error:
            first_error = first_error or error
            continue

        def opaque(node: Node) -> bool:
            return any(placeholder.start <= node.offset < placeholder.end for placeholder in placeholders)

        return _meaning_problems(condition.tree, text, known_names, opaque)
    assert first_error is not None
    if first_error.offset is not None and any(
        placeholder.start <= first_error.offset < placeholder.end for placeholder in placeholders
    ):
        return []
    return [f"cannot parse condition: {first_error}"]


def _filled(text: str, placeholders: Sequence[Placeholder], filler: str) -> str:
    if not placeholders:
        return text
    parts: list[str] = []
    position = 0
    for placeholder in placeholders:
        parts.append(text[position : placeholder.start])
        parts.append(filler * (placeholder.end - placeholder.start))
        position = placeholder.end
    parts.append(text[position:])
    return "".join(parts)


def _meaning_problems(
    tree: Node, text: str, known_names: Collection[str], opaque: Callable[[Node], bool]
) -> list[str]:
    problems: list[str] = []
    reported: set[str] = set()
    for node in walk(tree):
        if (
            isinstance(node, Name)
            and node.name not in known_names
            and node.name not in reported
            and not opaque(node)
        ):
            reported.add(node.name)
            readable = ", ".join(sorted(known_names))
            problems.append(
                f'unknown name "{node.name}" at {describe_position(text, node.offset)}: '
                f"a condition can only read {readable}"
            )
    kind = static_kind(tree, opaque)
    if kind is not None and kind != "bool":
        problems.append(f"a condition must yield a bool, but this one yields {_article(kind)} {kind}")
    return problems


def static_kind(node: Node, opaque: Callable[[Node], bool] = lambda node: False) -> str | None:
    """What a sub-expression yields whatever the data: "bool", "number", "string", "array", "map" or "nil";
    None when it depends on the data (``result[0]``) or on a placeholder (``opaque``)."""
    if opaque(node):
        return None
    if isinstance(node, Literal):
        value = node.value
        if value is None:
            return "nil"
        if isinstance(value, bool):
            return "bool"
        return "string" if isinstance(value, str) else "number"
    if isinstance(node, ArrayLiteral):
        return "array"
    if isinstance(node, MapLiteral):
        return "map"
    if isinstance(node, Unary):
        return "bool" if node.op == "not" else "number"
    if isinstance(node, Call):
        return BUILTINS[node.name].returns
    if isinstance(node, Conditional):
        then = static_kind(node.then, opaque)
        return then if then == static_kind(node.otherwise, opaque) else None
    if isinstance(node, Binary):
        if node.op in ("and", "or") or node.op in COMPARISONS:
            return "bool"
        if node.op in _ARITHMETIC:
            return "number"
        if node.op == "..":
            return "array"
        if node.op == "+":
            left, right = static_kind(node.left, opaque), static_kind(node.right, opaque)
            return left if left in ("number", "string") else right if right in ("number", "string") else None
        if node.op == "??":
            left = static_kind(node.left, opaque)
            return left if left not in (None, "nil") else static_kind(node.right, opaque)
    return None


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"
