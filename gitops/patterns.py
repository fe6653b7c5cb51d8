"""Argo CD's glob patterns (gobwas/glob without separators): ``*``, ``?``, ``[abc]``, ``[!a-z]`` and ``{a,b}``.

Argo CD matches project fields (repositories, destinations, kinds, window targets) with these globs; without
separators ``*`` also crosses ``/``, so ``https://github.com/org/*`` matches every repository below ``org``.
A pattern that does not compile matches nothing, as in Argo CD.
"""

from __future__ import annotations

import re
from functools import lru_cache


class PatternError(ValueError):
    """A glob that cannot be compiled (an unclosed ``[`` or ``{``)."""


def _translate(pattern: str) -> str:
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise PatternError(f"unclosed '[' in pattern {pattern!r}")
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = end
        elif char == "{":
            depth += 1
            out.append("(?:")
        elif char == "}" and depth:
            depth -= 1
            out.append(")")
        elif char == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(char))
        i += 1
    if depth:
        raise PatternError(f"unclosed '{{' in pattern {pattern!r}")
    return "".join(out)


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(_translate(pattern), re.DOTALL)
    except (PatternError, re.error):
        return None


def glob_match(pattern: str, value: str) -> bool:
    """Whether ``value`` matches ``pattern`` as a whole."""
    if pattern == "*":
        return True
    compiled = _compiled(pattern)
    return compiled is not None and compiled.fullmatch(value) is not None


def is_deny_pattern(pattern: str) -> bool:
    """A ``!``-prefixed pattern: the field is permitted only when the rest does not match."""
    return pattern.startswith("!")


def glob_match_negatable(pattern: str, value: str) -> bool:
    """Argo CD's ``globMatch(pattern, value, allowNegation=true)``: a deny pattern is true when its rest misses."""
    if is_deny_pattern(pattern):
        return not glob_match(pattern[1:], value)
    return glob_match(pattern, value)
