"""Regular expressions for the ``matches`` operator, matched in time linear in the text.

Python's ``re`` backtracks: ``"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!" matches "(a+)+$"`` would keep a controller
busy for hours, and a condition is text anyone who can write an AnalysisTemplate controls. Go's ``regexp``
(RE2), which Argo uses, never backtracks, so this module does the same: the pattern is compiled to a small
automaton that is simulated over the text one character at a time with every possible state at once
(Thompson's construction, simulated the way Pike's VM does it), and each step is charged to the
evaluation's budget.

The syntax is the RE2 subset conditions need: literals and escapes, ``.``, classes (``[a-z]``, ``[^…]``,
``\\d \\w \\s`` and their negations, ``[[:alpha:]]``), groups (capturing, ``(?:…)``, named), alternation,
the repetitions ``* + ? {n} {n,} {n,m}`` (lazy forms too), the anchors ``^ $ \\A \\z \\b \\B`` and the flags
``i m s U`` as ``(?i)`` or ``(?i:…)``. What RE2 also refuses — backreferences and lookaround — is refused
here; Unicode classes (``\\pL``) and ``\\Q…\\E`` are refused for want of need. Only whether the pattern
matches somewhere is computed, so capturing and greediness change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from analysis.expressions.values import Meter

MAX_PATTERN_LENGTH = 1024
MAX_REPEAT = 1000
"""RE2's own limit on a counted repetition."""
MAX_PROGRAM = 10_000
"""Most instructions a pattern may compile to (``(a{1000}){1000}`` would need a million)."""

_LAST_CODE_POINT = 0x10FFFF

_CHAR, _SPLIT, _JUMP, _ASSERT, _MATCH = range(5)


class RegexError(ValueError):
    """A pattern this engine does not accept, with the reason."""


# --- character sets -----------------------------------------------------------------------------------------

Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class CharSet:
    """The characters one step may consume: inclusive code-point ranges, possibly negated, and with case
    folded when the ``i`` flag was on."""

    ranges: Ranges
    negated: bool = False
    fold: bool = False

    def matches(self, char: str) -> bool:
        inside = self._contains(char)
        if not inside and self.fold:
            inside = any(len(other) == 1 and self._contains(other) for other in (char.lower(), char.upper()))
        return inside != self.negated

    def _contains(self, char: str) -> bool:
        code = ord(char)
        return any(low <= code <= high for low, high in self.ranges)


def _complement(ranges: Ranges) -> Ranges:
    result: list[tuple[int, int]] = []
    next_low = 0
    for low, high in sorted(ranges):
        if low > next_low:
            result.append((next_low, low - 1))
        next_low = max(next_low, high + 1)
    if next_low <= _LAST_CODE_POINT:
        result.append((next_low, _LAST_CODE_POINT))
    return tuple(result)


def _span(first: str, last: str) -> tuple[int, int]:
    return (ord(first), ord(last))


_DIGIT: Ranges = (_span("0", "9"),)
_WORD: Ranges = (_span("0", "9"), _span("A", "Z"), _span("_", "_"), _span("a", "z"))
_SPACE: Ranges = ((9, 10), (12, 13), (32, 32))
_PERL_CLASSES: dict[str, tuple[Ranges, bool]] = {
    "d": (_DIGIT, False),
    "D": (_DIGIT, True),
    "w": (_WORD, False),
    "W": (_WORD, True),
    "s": (_SPACE, False),
    "S": (_SPACE, True),
}
_POSIX_CLASSES: dict[str, Ranges] = {
    "alnum": (_span("0", "9"), _span("A", "Z"), _span("a", "z")),
    "alpha": (_span("A", "Z"), _span("a", "z")),
    "ascii": ((0, 0x7F),),
    "blank": ((9, 9), (32, 32)),
    "cntrl": ((0, 31), (0x7F, 0x7F)),
    "digit": _DIGIT,
    "graph": ((0x21, 0x7E),),
    "lower": (_span("a", "z"),),
    "print": ((0x20, 0x7E),),
    "punct": ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)),
    "space": ((9, 13), (32, 32)),
    "upper": (_span("A", "Z"),),
    "word": _WORD,
    "xdigit": (_span("0", "9"), _span("A", "F"), _span("a", "f")),
}
_CONTROL_ESCAPES = {"a": "\a", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


# --- pattern syntax -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Char:
    chars: CharSet


@dataclass(frozen=True, slots=True)
class _Concat:
    items: tuple[_Pattern, ...]


@dataclass(frozen=True, slots=True)
class _Alternation:
    branches: tuple[_Pattern, ...]


@dataclass(frozen=True, slots=True)
class _Repeat:
    item: _Pattern
    minimum: int
    maximum: int | None


@dataclass(frozen=True, slots=True)
class _Assert:
    kind: str
    """``text-start``, ``text-end``, ``line-start``, ``line-end``, ``word`` or ``not-word``."""


_Pattern = _Char | _Concat | _Alternation | _Repeat | _Assert


class _PatternParser:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.position = 0
        self.fold = False
        self.multiline = False
        self.dot_all = False
        self.depth = 0

    def error(self, reason: str) -> RegexError:
        return RegexError(f"{reason} in regular expression {self.pattern!r}")

    def peek(self, ahead: int = 0) -> str:
        index = self.position + ahead
        return self.pattern[index] if index < len(self.pattern) else ""

    def take(self) -> str:
        char = self.peek()
        if not char:
            raise self.error("unexpected end")
        self.position += 1
        return char

    def parse(self) -> _Pattern:
        tree = self.alternation()
        if self.position < len(self.pattern):
            raise self.error("unexpected )")
        return tree

    def alternation(self) -> _Pattern:
        branches = [self.concatenation()]
        while self.peek() == "|":
            self.position += 1
            branches.append(self.concatenation())
        return branches[0] if len(branches) == 1 else _Alternation(tuple(branches))

    def concatenation(self) -> _Pattern:
        items: list[_Pattern] = []
        while self.peek() and self.peek() not in "|)":
            atom = self.atom()
            if atom is not None:
                items.append(self.repetition(atom))
        return items[0] if len(items) == 1 else _Concat(tuple(items))

    def repetition(self, atom: _Pattern) -> _Pattern:
        bounds = self.repeat_bounds()
        if bounds is None:
            return atom
        if self.peek() == "?":
            self.position += 1  # lazy: the same set of matches
        if self.repeat_bounds(consume=False) is not None:
            raise self.error("invalid nested repetition operator")
        if isinstance(atom, _Assert):
            # RE2 accepts "^*"; repeating an assertion changes nothing, so keep it once (or drop it).
            return atom if bounds[0] > 0 else _Concat(())
        return _Repeat(atom, *bounds)

    def repeat_bounds(self, consume: bool = True) -> tuple[int, int | None] | None:
        start = self.position
        char = self.peek()
        bounds: tuple[int, int | None] | None = None
        if char in ("*", "+", "?") and char:
            self.position += 1
            bounds = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        elif char == "{":
            close = self.pattern.find("}", start)
            body = self.pattern[start + 1 : close] if close != -1 else ""
            low, comma, high = body.partition(",")
            if close != -1 and low.isdigit() and (not high or high.isdigit()) and low.isascii() and high.isascii():
                minimum = int(low)
                maximum = minimum if not comma else (int(high) if high else None)
                if minimum > MAX_REPEAT or (maximum is not None and (maximum > MAX_REPEAT or maximum < minimum)):
                    raise self.error(f"invalid repeat count {{{body}}}")
                self.position = close + 1
                bounds = (minimum, maximum)
        if not consume:
            self.position = start
        return bounds

    def atom(self) -> _Pattern | None:
        if self.repeat_bounds(consume=False) is not None:
            raise self.error("missing argument to repetition operator")
        char = self.take()
        if char == "(":
            return self.group()
        if char == "[":
            return _Char(self.char_class())
        if char == ".":
            newline = ord("\n")
            return _Char(CharSet(((0, _LAST_CODE_POINT),) if self.dot_all else ((newline, newline),), not self.dot_all))
        if char == "^":
            return _Assert("line-start" if self.multiline else "text-start")
        if char == "$":
            return _Assert("line-end" if self.multiline else "text-end")
        if char == "\\":
            return self.escape()
        return self.literal(char)

    def literal(self, char: str) -> _Char:
        code = ord(char)
        return _Char(CharSet(((code, code),), fold=self.fold))

    def group(self) -> _Pattern | None:
        saved = (self.fold, self.multiline, self.dot_all)
        if self.peek() == "?":
            self.position += 1
            if self.peek() in ("=", "!") or (self.peek() == "<" and self.peek(1) in ("=", "!")):
                raise self.error("lookaround is not supported")
            if self.peek() == "P" or self.peek() == "<":
                self.position += 2 if self.peek() == "P" else 1
                if self.pattern[self.position - 1] != "<":
                    raise self.error("invalid named group")
                close = self.pattern.find(">", self.position)
                name = self.pattern[self.position : close] if close != -1 else ""
                if not name or not all(c.isalnum() or c == "_" for c in name):
                    raise self.error("invalid named group")
                self.position = close + 1
            elif self.peek() == ":":
                self.position += 1
            elif self.flags():
                # "(?i)": the flags hold until the end of the enclosing group; nothing to match.
                return None
        self.depth += 1
        if self.depth > 50:
            # Parsing recurses per group; a bound keeps a hostile pattern away from Python's stack limit.
            raise self.error("groups nested too deeply")
        inner = self.alternation()
        if self.peek() != ")":
            raise self.error("missing )")
        self.position += 1
        self.depth -= 1
        self.fold, self.multiline, self.dot_all = saved
        return inner

    def flags(self) -> bool:
        """Reads ``i-s)`` or ``i:`` after ``(?``; True for a bare flag setting, False when a group follows."""
        enable = True
        seen = False
        while True:
            char = self.take()
            if char in ("i", "m", "s", "U"):
                seen = True
                if char == "i":
                    self.fold = enable
                elif char == "m":
                    self.multiline = enable
                elif char == "s":
                    self.dot_all = enable
            elif char == "-" and enable:
                enable = False
            elif char in (")", ":") and seen:
                return char == ")"
            else:
                raise self.error("invalid or unsupported group flags")

    def escape(self) -> _Pattern:
        char = self.take()
        if char in _PERL_CLASSES:
            ranges, negated = _PERL_CLASSES[char]
            return _Char(CharSet(ranges, negated))
        kinds = {"b": "word", "B": "not-word", "A": "text-start", "z": "text-end"}
        if char in kinds:
            return _Assert(kinds[char])
        return self.literal(self.escaped_char(char))

    def escaped_char(self, char: str) -> str:
        """The character an escape outside the Perl classes and assertions stands for."""
        if char in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[char]
        if char == "x":
            if self.peek() == "{":
                close = self.pattern.find("}", self.position)
                digits = self.pattern[self.position + 1 : close] if close != -1 else ""
                self.position = close + 1 if close != -1 else self.position
            else:
                digits = self.pattern[self.position : self.position + 2]
                self.position += 2
            if not digits or len(digits) > 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise self.error("invalid escape \\x")
            code = int(digits, 16)
            if code > _LAST_CODE_POINT:
                raise self.error("invalid escape \\x")
            return chr(code)
        if char.isdigit():
            raise self.error("backreferences are not supported")
        if char in ("p", "P", "Q", "E", "C"):
            raise self.error(f"\\{char} is not supported")
        if char.isalnum():
            raise self.error(f"invalid escape \\{char}")
        return char

    def char_class(self) -> CharSet:
        negated = self.peek() == "^"
        if negated:
            self.position += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            char = self.peek()
            if not char:
                raise self.error("missing closing ]")
            if char == "]" and not first:
                self.position += 1
                break
            first = False
            if char == "[" and self.peek(1) == ":":
                close = self.pattern.find(":]", self.position + 2)
                name = self.pattern[self.position + 2 : close] if close != -1 else ""
                if name not in _POSIX_CLASSES:
                    raise self.error("invalid character class")
                ranges.extend(_POSIX_CLASSES[name])
                self.position = close + 2
                continue
            self.position += 1
            if char == "\\":
                escaped = self.take()
                if escaped in _PERL_CLASSES:
                    perl, perl_negated = _PERL_CLASSES[escaped]
                    ranges.extend(_complement(perl) if perl_negated else perl)
                    continue
                low = self.escaped_char(escaped)
            else:
                low = char
            high = low
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.position += 1
                end = self.take()
                high = self.escaped_char(self.take()) if end == "\\" else end
                if ord(high) < ord(low):
                    raise self.error("invalid character class range")
            ranges.append((ord(low), ord(high)))
        return CharSet(tuple(ranges), negated, fold=self.fold)


# --- compiled program ---------------------------------------------------------------------------------------

Instruction = tuple[int, object, object]


@dataclass(frozen=True, slots=True)
class Program:
    """A compiled pattern: ``search`` tells whether it matches anywhere in a text."""

    pattern: str
    instructions: tuple[Instruction, ...]

    def search(self, text: str, meter: Meter) -> bool:
        program = self.instructions
        marks = [0] * len(program)
        generation = 1
        threads: list[int] = []
        # Every instruction visited is charged, not only the consuming ones: a pattern made of empty
        # alternatives and anchors does its work in the closures.
        visited = _closure(program, 0, text, 0, marks, generation, threads)
        for position in range(len(text) + 1):
            meter.charge(visited + len(threads) + 1)
            if any(program[pc][0] == _MATCH for pc in threads):
                return True
            if position == len(text):
                break
            char = text[position]
            generation += 1
            following: list[int] = []
            visited = 0
            for pc in threads:
                chars = program[pc][1]
                if isinstance(chars, CharSet) and chars.matches(char):
                    visited += _closure(program, pc + 1, text, position + 1, marks, generation, following)
            # A match may also start at the next position: the search is unanchored, as Go's MatchString.
            visited += _closure(program, 0, text, position + 1, marks, generation, following)
            threads = following
        return False


def _closure(
    program: tuple[Instruction, ...],
    start: int,
    text: str,
    position: int,
    marks: list[int],
    generation: int,
    out: list[int],
) -> int:
    """Adds to ``out`` every consuming (or matching) instruction reachable from ``start`` without consuming
    a character, and returns how many instructions it visited; ``marks`` keeps each instruction to one visit
    per position, so empty loops end."""
    visited = 0
    stack = [start]
    while stack:
        pc = stack.pop()
        if marks[pc] == generation:
            continue
        marks[pc] = generation
        visited += 1
        op, first, second = program[pc]
        if op == _JUMP:
            stack.append(first)  # type: ignore[arg-type]
        elif op == _SPLIT:
            stack.append(second)  # type: ignore[arg-type]
            stack.append(first)  # type: ignore[arg-type]
        elif op == _ASSERT:
            if _holds(str(first), text, position):
                stack.append(pc + 1)
        else:
            out.append(pc)
    return visited


def _is_word(text: str, index: int) -> bool:
    return 0 <= index < len(text) and (text[index].isascii() and (text[index].isalnum() or text[index] == "_"))


def _holds(kind: str, text: str, position: int) -> bool:
    if kind == "text-start":
        return position == 0
    if kind == "text-end":
        return position == len(text)
    if kind == "line-start":
        return position == 0 or text[position - 1] == "\n"
    if kind == "line-end":
        return position == len(text) or text[position] == "\n"
    boundary = _is_word(text, position - 1) != _is_word(text, position)
    return boundary if kind == "word" else not boundary


class _Compiler:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.code: list[list[object]] = []

    def emit(self, op: int, first: object = None, second: object = None) -> int:
        if len(self.code) >= MAX_PROGRAM:
            raise RegexError(f"regular expression {self.pattern!r} is too large")
        self.code.append([op, first, second])
        return len(self.code) - 1

    def compile(self, tree: _Pattern) -> None:
        if isinstance(tree, _Char):
            self.emit(_CHAR, tree.chars)
        elif isinstance(tree, _Assert):
            self.emit(_ASSERT, tree.kind)
        elif isinstance(tree, _Concat):
            for item in tree.items:
                self.compile(item)
        elif isinstance(tree, _Alternation):
            jumps: list[int] = []
            for branch in tree.branches[:-1]:
                split = self.emit(_SPLIT)
                self.code[split][1] = split + 1
                self.compile(branch)
                jumps.append(self.emit(_JUMP))
                self.code[split][2] = len(self.code)
            self.compile(tree.branches[-1])
            for jump in jumps:
                self.code[jump][1] = len(self.code)
        else:
            self.repeat(tree)

    def repeat(self, tree: _Repeat) -> None:
        for _ in range(tree.minimum):
            self.compile(tree.item)
        if tree.maximum is None:
            split = self.emit(_SPLIT)
            self.code[split][1] = split + 1
            self.compile(tree.item)
            self.emit(_JUMP, split)
            self.code[split][2] = len(self.code)
            return
        exits: list[int] = []
        for _ in range(tree.maximum - tree.minimum):
            split = self.emit(_SPLIT)
            self.code[split][1] = split + 1
            exits.append(split)
            self.compile(tree.item)
        for split in exits:
            self.code[split][2] = len(self.code)


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Program:
    """The compiled form of a pattern, cached; raises :class:`RegexError` for a pattern it does not accept."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RegexError(f"regular expression is longer than {MAX_PATTERN_LENGTH} characters")
    tree = _PatternParser(pattern).parse()
    compiler = _Compiler(pattern)
    compiler.compile(tree)
    compiler.emit(_MATCH)
    instructions = tuple((cast(int, op), first, second) for op, first, second in compiler.code)
    return Program(pattern, instructions)
