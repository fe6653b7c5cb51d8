"""Glob patterns as Argo CD matches them (the gobwas/glob syntax), compiled to regular expressions (pure).

``*`` any run of characters, ``?`` one character, ``[abc]``/``[a-z]``/``[!abc]`` a class, ``{a,b}`` alternatives
(nestable), ``\\`` escapes the next character. Argo CD's directory ``include``/``exclude`` match the path relative to
the source path with no separator, so ``*`` crosses ``/`` there; with ``separator="/"`` (the ApplicationSet Git files
generator) ``*`` stays within one path segment and ``**`` crosses segments.
"""

from __future__ import annotations

import re
from functools import lru_cache


class GlobError(ValueError):
    """A pattern that cannot be read (an unclosed ``[`` or ``{``)."""


def _translate(pattern: str, position: int, separator: str, closing: str) -> tuple[str, int]:
    """Regex for ``pattern[position:]`` up to an unnested character of ``closing``; returns it and the stop index."""
    parts: list[str] = []
    not_sep = f"[^{re.escape(separator)}]" if separator else "."
    while position < len(pattern):
        char = pattern[position]
        if char in closing:
            return "".join(parts), position
        if char == "\\" and position + 1 < len(pattern):
            parts.append(re.escape(pattern[position + 1]))
            position += 2
            continue
        if char == "*":
            if pattern.startswith("**", position):
                parts.append(".*")
                position += 2
            else:
                parts.append(f"{not_sep}*")
                position += 1
            continue
        if char == "?":
            parts.append(not_sep)
            position += 1
            continue
        if char == "[":
            end = pattern.find("]", position + 2)
            if end < 0:
                raise GlobError(f"unclosed '[' in pattern {pattern!r}")
            body = pattern[position + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            escaped = "".join("\\" + c if c in "\\^]" else c for c in body)
            parts.append(f"[{'^' if negate else ''}{escaped}]")
            position = end + 1
            continue
        if char == "{":
            alternatives: list[str] = []
            position += 1
            while True:
                regex, position = _translate(pattern, position, separator, ",}")
                alternatives.append(regex)
                if position >= len(pattern):
                    raise GlobError(f"unclosed '{{' in pattern {pattern!r}")
                if pattern[position] == "}":
                    position += 1
                    break
                position += 1  # past ','
            parts.append("(?:" + "|".join(alternatives) + ")")
            continue
        parts.append(re.escape(char))
        position += 1
    return "".join(parts), position


@lru_cache(maxsize=512)
def compile_glob(pattern: str, separator: str = "") -> re.Pattern[str]:
    """The compiled form of ``pattern``. Raises GlobError for an unreadable pattern."""
    regex, position = _translate(pattern, 0, separator, "")
    if position != len(pattern):  # pragma: no cover - _translate stops early only on a closing character
        raise GlobError(f"unexpected {pattern[position]!r} in pattern {pattern!r}")
    return re.compile(f"(?s:{regex})\\Z")


def glob_match(pattern: str, path: str, separator: str = "") -> bool:
    """Whether ``path`` matches ``pattern`` as a whole."""
    return compile_glob(pattern, separator).match(path) is not None
