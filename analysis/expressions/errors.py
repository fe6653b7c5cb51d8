"""The two ways a condition can go wrong: it does not parse, or it cannot be evaluated against a result."""

from __future__ import annotations


class ConditionSyntaxError(ValueError):
    """A condition that is not valid in the language; the message names the position, e.g.
    ``unexpected ')' at column 12``.

    ``reason`` is the message without the position, ``offset`` the 0-based character offset into the text
    (None when the problem is the whole text, such as its length) and ``line``/``column`` the 1-based
    position people read.
    """

    def __init__(self, reason: str, text: str, offset: int | None) -> None:
        self.reason = reason
        self.text = text
        self.offset = offset
        self.line: int | None = None
        self.column: int | None = None
        if offset is not None:
            self.line, self.column = line_and_column(text, offset)
        super().__init__(f"{reason} at {self.position}" if self.position else reason)

    @property
    def position(self) -> str:
        """``column 12``, or ``line 2, column 3`` for a condition written over several lines."""
        return describe_position(self.text, self.offset) if self.offset is not None else ""


class ConditionEvaluationError(ValueError):
    """A condition that parsed but could not be evaluated against a result, or that did not yield a bool.

    Argo records either as a measurement in phase Error, which is retried; it never counts as a failure.
    """


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a 0-based offset, counting characters."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def describe_position(text: str, offset: int) -> str:
    """``column 12`` for a one-line condition (what people write), ``line 2, column 3`` otherwise."""
    line, column = line_and_column(text, offset)
    return f"line {line}, column {column}" if "\n" in text else f"column {column}"
