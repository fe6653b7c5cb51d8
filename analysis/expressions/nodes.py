"""The syntax tree of a condition: immutable nodes, each carrying the offset of the text it came from so that
evaluation errors can point at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

Scalar = None | bool | int | float | str
"""What a literal in the text can be."""


@dataclass(frozen=True, slots=True)
class Node:
    offset: int
    """0-based character offset of the token that starts (or, for operators, names) this node."""


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """``true``, ``false``, ``nil``, a number or a string as written in the text; also the key of a member
    access (``result.code`` reads the key ``"code"``)."""

    value: Scalar


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A variable of the environment: ``result``, or a name the caller supplied."""

    name: str


@dataclass(frozen=True, slots=True)
class Pointer(Node):
    """``#`` (the current element of a predicate) or ``#index`` (its position); ``.field`` inside a
    predicate is ``#.field``."""

    name: str


@dataclass(frozen=True, slots=True)
class ArrayLiteral(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLiteral(Node):
    entries: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True, slots=True)
class Member(Node):
    """``target.name``, ``target[key]`` and their optional forms ``?.name`` / ``?.[key]``."""

    target: Node
    key: Node
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Slice(Node):
    """``target[start:stop]``, either bound optional, and ``target?.[start:stop]``."""

    target: Node
    start: Node | None
    stop: Node | None
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Chain(Node):
    """The extent of an optional chain: ``a?.b.c`` is nil as a whole when ``a`` is nil, as in expr-lang,
    rather than failing at ``.c``."""

    inner: Node


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str
    """``not`` (also written ``!``), ``-`` or ``+``."""
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str
    """The operator as the evaluator knows it: ``&&`` and ``and`` are both ``and``, ``||`` is ``or``,
    ``^`` is ``**``; the negated forms are ``not in``, ``not contains`` and so on."""
    left: Node
    right: Node
    watch: int = 0
    """For a comparison, which operand a message shows as the measured value: 1 the left, 2 the right, 0
    neither (both are constants). Decided when parsing: the left-most operand that reads data."""


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    """``test ? then : otherwise``: only the chosen branch is evaluated, and ``test`` must be a bool."""

    test: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Predicate(Node):
    """The second argument of ``all``, ``filter``, ``map`` …, in braces or not: ``all(result, {# < 1000})`` is
    ``all(result, # < 1000)``."""

    body: Node
    """Evaluated once per element, with ``#`` bound to the element and ``#index`` to its position."""


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A call of a built-in function; the parser admits no other."""

    name: str
    args: tuple[Node, ...]


def children(node: Node) -> Iterator[Node]:
    """The direct sub-nodes of a node, left to right."""
    if isinstance(node, ArrayLiteral):
        yield from node.items
    elif isinstance(node, MapLiteral):
        for key, value in node.entries:
            yield key
            yield value
    elif isinstance(node, Member):
        yield node.target
        yield node.key
    elif isinstance(node, Slice):
        yield node.target
        if node.start is not None:
            yield node.start
        if node.stop is not None:
            yield node.stop
    elif isinstance(node, Chain):
        yield node.inner
    elif isinstance(node, Unary):
        yield node.operand
    elif isinstance(node, Binary):
        yield node.left
        yield node.right
    elif isinstance(node, Conditional):
        yield node.test
        yield node.then
        yield node.otherwise
    elif isinstance(node, Predicate):
        yield node.body
    elif isinstance(node, Call):
        yield from node.args


def walk(node: Node) -> Iterator[Node]:
    """Every node of a tree, the root first. Iterative, so a deep tree cannot exhaust Python's stack."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))


def depth(node: Node) -> int:
    """The number of levels of a tree (a lone literal is 1), computed without recursion."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children(current))
    return deepest


def reads_data(node: Node) -> bool:
    """Whether a sub-expression depends on the environment (a name or a predicate's element), as opposed to
    being made of constants only."""
    return any(isinstance(item, Name | Pointer) for item in walk(node))
