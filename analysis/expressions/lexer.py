"""Tokens of the condition language, cut the way expr-lang's lexer cuts them.

Numbers follow Go's literal syntax (``1_000``, ``0x2A``, ``0o52``, ``0b101``, ``.5``, ``1e3``), strings take
single or double quotes with Go's escapes or backticks for raw text, ``//`` and ``/* */`` are comments, and
the word operators (``and``, ``or``, ``not``, ``in``, ``contains``, ``startsWith``, ``endsWith``,
``matches``) are operators rather than names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from analysis.expressions.errors import ConditionSyntaxError

TokenKind = Literal["number", "string", "name", "op", "pointer", "eof"]

WORD_OPERATORS = frozenset({"and", "or", "not", "in", "contains", "startsWith", "endsWith", "matches"})

# Longest first, so that "**" is not read as two "*" and "?." not as "?" and ".".
_SYMBOLS = (
    "??", "?.", "**", "==", "!=", "<=", ">=", "&&", "||", "..",
    "?", "*", "!", "<", ">", "+", "-", "/", "%", "^", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "=",
)  # fmt: skip

_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"',
}  # fmt: skip

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    """The source text of the token (for strings, with the quotes)."""
    offset: int
    value: int | float | str | None = None
    """The number or the unescaped string; for a pointer, the name after ``#`` ("" for ``#`` alone)."""

    def describe(self) -> str:
        """How an error message shows the token."""
        if self.kind == "eof":
            return "end of expression"
        return repr(self.text if len(self.text) <= 20 else self.text[:17] + "...")


def is_name_start(char: str) -> bool:
    return char.isalpha() or (char != "" and char in "_$")


def is_name_part(char: str) -> bool:
    return char.isalnum() or (char != "" and char in "_$")


def tokenize(text: str) -> list[Token]:
    """The tokens of a condition, ending with an ``eof`` token; raises :class:`ConditionSyntaxError`."""
    return _Lexer(text).run()


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.tokens: list[Token] = []

    def error(self, reason: str, offset: int) -> ConditionSyntaxError:
        return ConditionSyntaxError(reason, self.text, offset)

    def peek(self, ahead: int = 0) -> str:
        index = self.position + ahead
        return self.text[index] if index < len(self.text) else ""

    def run(self) -> list[Token]:
        text = self.text
        while self.position < len(text):
            char = text[self.position]
            start = self.position
            if char.isspace():
                self.position += 1
            elif text.startswith("//", start):
                end = text.find("\n", start)
                self.position = len(text) if end == -1 else end
            elif text.startswith("/*", start):
                end = text.find("*/", start + 2)
                if end == -1:
                    raise self.error("unclosed comment", start)
                self.position = end + 2
            elif char in "'\"":
                self.string(char)
            elif char == "`":
                end = text.find("`", start + 1)
                if end == -1:
                    raise self.error("unterminated string", start)
                self.position = end + 1
                self.emit("string", start, text[start + 1 : end])
            elif "0" <= char <= "9" or (char == "." and "0" <= self.peek(1) <= "9"):
                self.number()
            elif char == "#":
                self.position += 1
                while is_name_part(self.peek()):
                    self.position += 1
                self.emit("pointer", start, text[start + 1 : self.position])
            elif is_name_start(char):
                while is_name_part(self.peek()):
                    self.position += 1
                word = text[start : self.position]
                self.emit("op" if word in WORD_OPERATORS else "name", start, word)
            else:
                for symbol in _SYMBOLS:
                    if text.startswith(symbol, start):
                        self.position += len(symbol)
                        self.emit("op", start)
                        break
                else:
                    raise self.error(f"unexpected character {char!r}", start)
        self.tokens.append(Token("eof", "", len(text)))
        return self.tokens

    def emit(self, kind: TokenKind, start: int, value: int | float | str | None = None) -> None:
        self.tokens.append(Token(kind, self.text[start : self.position], start, value))

    def number(self) -> None:
        text = self.text
        start = self.position
        digits = "0123456789_"
        decimal = True
        is_float = False
        if text.startswith(("0x", "0X", "0o", "0O", "0b", "0B"), start):
            digits = {"x": "0123456789abcdefABCDEF_", "o": "01234567_", "b": "01_"}[text[start + 1].lower()]
            decimal = False
            self.position += 2
        self.accept_run(digits)
        # "1..3" is a range, not the float "1." followed by ".3".
        if decimal and self.peek() == "." and self.peek(1) != ".":
            is_float = True
            self.position += 1
            self.accept_run(digits)
        if decimal and self.peek() in ("e", "E"):
            is_float = True
            self.position += 1
            if self.peek() in ("+", "-"):
                self.position += 1
            self.accept_run(digits)
        if is_name_part(self.peek()) or (self.peek() == "." and "0" <= self.peek(1) <= "9"):
            # "12ab", "1.2.3": something glued to a number that cannot be one.
            while is_name_part(self.peek()) or (self.peek() == "." and "0" <= self.peek(1) <= "9"):
                self.position += 1
            raise self.error(f"invalid number {text[start : self.position]!r}", start)
        literal = text[start : self.position]
        self.emit("number", start, self.convert(literal, start, is_float))

    def accept_run(self, allowed: str) -> None:
        while self.peek() and self.peek() in allowed:
            self.position += 1

    def convert(self, literal: str, start: int, is_float: bool) -> int | float:
        cleaned = literal.replace("_", "")
        try:
            if is_float:
                number = float(cleaned)
                if number == float("inf"):
                    raise self.error("float literal is too large", start)
                return number
            lowered = cleaned.lower()
            base = {"0x": 16, "0o": 8, "0b": 2}.get(lowered[:2], 10)
            value = int(lowered[2:] if base != 10 else lowered, base)
        except ValueError:
            raise self.error(f"invalid number {literal!r}", start) from None
        if value > 2**63 - 1:
            # Go's int is 64 bits; expr-lang refuses a literal that does not fit.
            raise self.error("integer literal is too large", start)
        return value

    def string(self, quote: str) -> None:
        start = self.position
        self.position += 1
        parts: list[str] = []
        while True:
            char = self.peek()
            if char == "" or char == "\n":
                raise self.error("unterminated string", start)
            if char == quote:
                self.position += 1
                break
            if char != "\\":
                parts.append(char)
                self.position += 1
                continue
            parts.append(self.escape(quote))
        self.emit("string", start, "".join(parts))

    def escape(self, quote: str) -> str:
        start = self.position
        kind = self.peek(1)
        self.position += 2
        if kind in _SIMPLE_ESCAPES and (kind not in "'\"" or kind == quote):
            return _SIMPLE_ESCAPES[kind]
        if kind in "01234567" and kind:
            return self.code_point(start, kind + self.take(2, "01234567"), 8, 3)
        if kind == "x":
            return self.code_point(start, self.take(2, _HEX_DIGITS), 16, 2)
        if kind == "u":
            return self.code_point(start, self.take(4, _HEX_DIGITS), 16, 4)
        if kind == "U":
            return self.code_point(start, self.take(8, _HEX_DIGITS), 16, 8)
        raise self.error("invalid escape in string", start)

    def take(self, count: int, allowed: str | frozenset[str]) -> str:
        taken = ""
        while len(taken) < count and self.peek() and self.peek() in allowed:
            taken += self.peek()
            self.position += 1
        return taken

    def code_point(self, start: int, digits: str, base: int, width: int) -> str:
        if len(digits) != width:
            raise self.error("invalid escape in string", start)
        value = int(digits, base)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF or (base == 8 and value > 255):
            raise self.error("invalid escape in string", start)
        return chr(value)
