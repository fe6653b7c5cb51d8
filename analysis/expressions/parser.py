"""A Pratt parser for the condition language, with expr-lang's operators, precedence and quirks.

Precedence, loosest first: ``|`` (pipe) · ``or ||`` · ``and &&`` · the comparisons ``== != < <= > >= in
matches contains startsWith endsWith`` (and their ``not in`` … forms) · ``..`` · ``+ -`` · ``* / %`` ·
unary ``not !`` · unary ``- +`` · ``** ^`` (right-associative) · ``??``. The ternary ``c ? a : b`` wraps a
whole expression. As in expr-lang, a unary ``not`` binds tighter than a comparison (``not a == b`` is
``(not a) == b``), comparisons chain (``0 < x < 1`` is ``0 < x && x < 1``), and ``??`` cannot be mixed with
another operator without parentheses.

The parser also enforces what makes evaluation safe: a closed set of callable functions, ``#`` only inside a
predicate, and bounds on the length of the text and on how deeply it nests.
"""

from __future__ import annotations

from analysis.expressions.builtins import BUILTINS, Iteration
from analysis.expressions.errors import ConditionSyntaxError
from analysis.expressions.lexer import WORD_OPERATORS, Token, tokenize
from analysis.expressions.nodes import (
    ArrayLiteral,
    Binary,
    Call,
    Chain,
    Conditional,
    Literal,
    MapLiteral,
    Member,
    Name,
    Node,
    Pointer,
    Predicate,
    Slice,
    Unary,
    depth,
    reads_data,
)
from analysis.expressions.regex import RegexError, compile_pattern

MAX_CONDITION_LENGTH = 4096
"""Longest condition accepted, in characters; Argo's own are a line or two."""
MAX_NESTING = 64
"""Deepest nesting of parentheses, brackets, calls and operands the parser follows."""
MAX_TREE_DEPTH = 100
"""Deepest syntax tree accepted (``a + b + c …`` grows one level per operator); evaluation recurses per
level, so this bound keeps it far from Python's stack limit."""

# operator → (precedence, right-associative)
BINARY: dict[str, tuple[int, bool]] = {
    "|": (0, False),
    "or": (10, False),
    "||": (10, False),
    "and": (15, False),
    "&&": (15, False),
    "==": (20, False),
    "!=": (20, False),
    "<": (20, False),
    ">": (20, False),
    "<=": (20, False),
    ">=": (20, False),
    "in": (20, False),
    "matches": (20, False),
    "contains": (20, False),
    "startsWith": (20, False),
    "endsWith": (20, False),
    "..": (25, False),
    "+": (30, False),
    "-": (30, False),
    "*": (60, False),
    "/": (60, False),
    "%": (60, False),
    "**": (100, True),
    "^": (100, True),
    "??": (500, False),
}
COMPARISON = 20
UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
NEGATABLE = frozenset({"in", "matches", "contains", "startsWith", "endsWith"})
CANONICAL = {"&&": "and", "||": "or", "^": "**", "!": "not"}
COMPARISONS = frozenset(
    {"==", "!=", "<", "<=", ">", ">=", *NEGATABLE, *(f"not {op}" for op in NEGATABLE)}
)
"""The operators whose outcome a message explains with the value they looked at."""


def parse(text: str) -> Node:
    """The syntax tree of a condition; raises :class:`ConditionSyntaxError` naming the position."""
    if len(text) > MAX_CONDITION_LENGTH:
        raise ConditionSyntaxError(f"condition is longer than {MAX_CONDITION_LENGTH} characters", text, None)
    tokens = tokenize(text)
    try:
        tree = _Parser(text, tokens).parse()
    except RecursionError:
        # Only reachable when the caller is already deep in the stack; the nesting bound stops the rest.
        raise ConditionSyntaxError("condition is nested too deeply", text, None) from None
    if depth(tree) > MAX_TREE_DEPTH:
        raise ConditionSyntaxError(
            f"condition is nested too deeply (more than {MAX_TREE_DEPTH} levels); split it up", text, None
        )
    return tree


def _is_op(token: Token, *texts: str) -> bool:
    return token.kind == "op" and token.text in texts


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0
        self.nesting = 0
        self.predicates = 0

    # --- tokens -------------------------------------------------------------------------------------------

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.current
        if token.kind != "eof":
            self.index += 1
        return token

    def error(self, reason: str, token: Token | None = None) -> ConditionSyntaxError:
        return ConditionSyntaxError(reason, self.text, (token or self.current).offset)

    def unexpected(self, token: Token | None = None) -> ConditionSyntaxError:
        token = token or self.current
        reason = f"unexpected {token.describe()}"
        if _is_op(token, "="):
            reason += " (compare with ==)"
        return self.error(reason, token)

    def expect(self, text: str) -> Token:
        if not _is_op(self.current, text):
            raise self.unexpected()
        return self.advance()

    # --- expressions --------------------------------------------------------------------------------------

    def parse(self) -> Node:
        tree = self.expression(0)
        if self.current.kind != "eof":
            raise self.unexpected()
        return tree

    def expression(self, precedence: int) -> Node:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.error(f"condition is nested too deeply (more than {MAX_NESTING} levels)")
        try:
            left = self.prefix()
            previous = ""
            while self.current.kind == "op":
                token = self.current
                op = token.text
                negated = False
                if op == "not":
                    following = self.peek()
                    if not (
                        following.kind == "op"
                        and following.text in NEGATABLE
                        and BINARY[following.text][0] >= precedence
                    ):
                        break
                    self.advance()
                    token, op, negated = self.current, self.current.text, True
                rule = BINARY.get(op)
                if rule is None or rule[0] < precedence:
                    break
                if previous == "??" and op != "??":
                    raise self.error(f"operators ?? and {op} cannot be mixed: add parentheses", token)
                self.advance()
                if op == "|":
                    left = self.pipe(left)
                elif rule[0] == COMPARISON:
                    left = self.comparison(left, token, negated)
                else:
                    right = self.expression(rule[0] if rule[1] else rule[0] + 1)
                    left = self.binary(token, op, left, right)
                previous = op
            if precedence == 0:
                left = self.conditional(left)
            return left
        finally:
            self.nesting -= 1

    def comparison(self, left: Node, token: Token, negated: bool) -> Node:
        """One comparison, or a chain of them joined with ``and`` (``a < b < c``)."""
        root: Node | None = None
        while True:
            op = f"not {token.text}" if negated else token.text
            right = self.expression(COMPARISON + 1)
            node = self.binary(token, op, left, right)
            root = node if root is None else Binary(token.offset, "and", root, node)
            left = right
            following = self.current
            if _is_op(following, "not") and self.peek().kind == "op" and self.peek().text in NEGATABLE:
                self.advance()
                token, negated = self.advance(), True
            elif following.kind == "op" and BINARY.get(following.text, (-1, False))[0] == COMPARISON:
                token, negated = self.advance(), False
            else:
                return root

    def binary(self, token: Token, op: str, left: Node, right: Node) -> Binary:
        op = CANONICAL.get(op, op)
        watch = 0
        if op in COMPARISONS:
            watch = 1 if reads_data(left) else 2 if reads_data(right) else 0
        if op.endswith("matches") and isinstance(right, Literal) and isinstance(right.value, str):
            # A constant pattern is checked now, as expr-lang compiles it with the expression.
            try:
                compile_pattern(right.value)
            except RegexError as problem:
                raise ConditionSyntaxError(str(problem), self.text, right.offset) from None
        return Binary(token.offset, op, left, right, watch)

    def conditional(self, test: Node) -> Node:
        while _is_op(self.current, "?"):
            question = self.advance()
            then = self.expression(0)
            self.expect(":")
            otherwise = self.expression(0)
            test = Conditional(question.offset, test, then, otherwise)
        return test

    def pipe(self, left: Node) -> Node:
        """``x | f(a)`` is ``f(x, a)``."""
        name = self.current
        if name.kind != "name" or not _is_op(self.peek(), "("):
            raise self.error("a pipe | must be followed by a function call", name)
        self.advance()
        return self.call(name, [left])

    def prefix(self) -> Node:
        token = self.current
        if token.kind == "op" and token.text in UNARY:
            self.advance()
            operand = self.expression(UNARY[token.text])
            return self.postfix(Unary(token.offset, CANONICAL.get(token.text, token.text), operand))
        if _is_op(token, "("):
            self.advance()
            inner = self.expression(0)
            self.expect(")")
            return self.postfix(inner)
        if token.kind == "pointer" or _is_op(token, "."):
            if not self.predicates:
                raise self.error(
                    f"{token.text or '.'} can only be used inside a predicate, as in all(result, # < 1)", token
                )
            name = str(token.value or "")
            if name not in ("", "index"):
                raise self.error(f"unknown predicate variable #{name}: use # or #index", token)
            if token.kind == "pointer":
                self.advance()
            return self.postfix(Pointer(token.offset, name))
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind == "name":
            self.advance()
            # As in expr-lang, true/false/nil take no postfix: "nil.x" is a syntax error, not a runtime one.
            if token.text in ("true", "false"):
                return Literal(token.offset, token.text == "true")
            if token.text == "nil":
                return Literal(token.offset, None)
            if _is_op(self.current, "("):
                return self.postfix(self.call(token, []))
            return self.postfix(Name(token.offset, token.text))
        if token.kind == "number":
            self.advance()
            return Literal(token.offset, token.value)
        if token.kind == "string":
            self.advance()
            return self.postfix(Literal(token.offset, token.value))
        if _is_op(token, "["):
            return self.postfix(self.array())
        if _is_op(token, "{"):
            return self.postfix(self.mapping())
        raise self.unexpected()

    def call(self, name: Token, piped: list[Node]) -> Node:
        builtin = BUILTINS.get(name.text)
        if builtin is None:
            raise self.error(f"unknown function {name.text}", name)
        self.expect("(")
        arguments = list(piped)
        predicate_at = 1 if isinstance(builtin, Iteration) else -1
        parsed = 0
        while not _is_op(self.current, ")"):
            if parsed:
                self.expect(",")
                if _is_op(self.current, ")"):
                    break
            arguments.append(self.predicate() if len(arguments) == predicate_at else self.expression(0))
            parsed += 1
        self.expect(")")
        count = len(arguments)
        if count < builtin.minimum or (builtin.maximum is not None and count > builtin.maximum):
            raise self.error(f"{name.text}() takes {_arity(builtin.minimum, builtin.maximum)}, got {count}", name)
        return Call(name.offset, name.text, tuple(arguments))

    def method(self, target: Node, field: Token) -> Node:
        """``time.Parse(x)`` (a function of a namespace, when ``time.Parse`` is a built-in) or ``x.Before(y)`` (a
        method, when ``.Before`` is one: a call with the receiver first); any other method is refused."""
        if isinstance(target, Name) and f"{target.name}.{field.text}" in BUILTINS:
            return self.call(Token(field.kind, f"{target.name}.{field.text}", target.offset), [])
        if f".{field.text}" in BUILTINS:
            return self.call(Token(field.kind, f".{field.text}", field.offset), [target])
        raise self.error("methods cannot be called; use a built-in function", field)

    def predicate(self) -> Node:
        start = self.current
        braced = _is_op(start, "{")
        if braced:
            self.advance()
        self.predicates += 1
        try:
            body = self.expression(0)
        finally:
            self.predicates -= 1
        if braced:
            self.expect("}")
        return Predicate(start.offset, body)

    def postfix(self, node: Node) -> Node:
        chained = False
        while True:
            token = self.current
            if _is_op(token, ".", "?."):
                optional = token.text == "?."
                self.advance()
                chained = chained or optional
                if optional and _is_op(self.current, "["):
                    node = self.subscript(node, optional=True)
                    continue
                field = self.current
                if not (field.kind == "name" or (field.kind == "op" and field.text in WORD_OPERATORS)):
                    raise self.error(f"expected a field name after {token.text!r}", field)
                self.advance()
                if _is_op(self.current, "("):
                    node = self.method(node, field)
                    continue
                node = Member(field.offset, node, Literal(field.offset, field.text), optional)
            elif _is_op(token, "["):
                node = self.subscript(node, optional=False)
            else:
                break
        # The extent of an optional chain: "a?.b.c" is nil as a whole when a is nil.
        return Chain(node.offset, node) if chained else node

    def subscript(self, target: Node, *, optional: bool) -> Node:
        bracket = self.expect("[")
        start: Node | None = None
        if not _is_op(self.current, ":"):
            start = self.expression(0)
            if not _is_op(self.current, ":"):
                self.expect("]")
                assert start is not None
                return Member(bracket.offset, target, start, optional)
        self.expect(":")
        stop = None if _is_op(self.current, "]") else self.expression(0)
        self.expect("]")
        return Slice(bracket.offset, target, start, stop, optional)

    def array(self) -> Node:
        bracket = self.expect("[")
        items: list[Node] = []
        while not _is_op(self.current, "]"):
            if items:
                self.expect(",")
                if _is_op(self.current, "]"):
                    break
            items.append(self.expression(0))
        self.expect("]")
        return ArrayLiteral(bracket.offset, tuple(items))

    def mapping(self) -> Node:
        brace = self.expect("{")
        entries: list[tuple[Node, Node]] = []
        while not _is_op(self.current, "}"):
            if entries:
                self.expect(",")
                if _is_op(self.current, "}"):
                    break
            key_token = self.current
            key: Node
            if key_token.kind in ("name", "number", "string"):
                # A bare word or a number is the key's text, as in expr-lang: {a: 1} is {"a": 1}.
                self.advance()
                text = key_token.value if key_token.kind == "string" else key_token.text
                key = Literal(key_token.offset, str(text))
            elif _is_op(key_token, "("):
                key = self.expression(0)
            else:
                raise self.error(
                    f"a map key must be a name, a number, a quoted string or an expression in parentheses, "
                    f"not {key_token.describe()}",
                    key_token,
                )
            self.expect(":")
            entries.append((key, self.expression(0)))
        self.expect("}")
        return MapLiteral(brace.offset, tuple(entries))


def _arity(minimum: int, maximum: int | None) -> str:
    if maximum is None:
        return f"at least {minimum} argument{'s' if minimum != 1 else ''}"
    if minimum == maximum:
        return f"{minimum} argument{'s' if minimum != 1 else ''}"
    return f"{minimum} to {maximum} arguments"
