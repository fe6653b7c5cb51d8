"""The glob patterns Argo CD matches with, in the three dialects it uses (pure), compiled to regular expressions.

- ``glob_match`` — gobwas/glob without separators (Argo CD's ``glob.Match``): project fields (repositories,
  destinations, kinds, window targets), ``ignoreDifferences`` group/kind, and a Directory source's ``include`` /
  ``exclude`` (matched against the path relative to the source path). ``*`` and ``?`` also cross ``/``, so
  ``https://github.com/org/*`` matches every repository below ``org``; ``[abc]``, ``[a-z]``, ``[!abc]`` classes and
  ``{a,b}`` alternatives (nestable). A pattern that does not compile matches nothing, as in Argo CD.
- ``path_match`` — Go's ``path.Match`` (the ApplicationSet Git directories generator): ``*`` and ``?`` never cross
  ``/``, classes negate with ``^`` (or ``!``), no alternatives.
- ``file_glob_match`` — doublestar (the Git files generator and the repo server's file reads): as ``path_match``,
  plus ``**`` spanning any number of segments (``a/**/b`` also matches ``a/b``) and ``{a,b}`` alternatives.

In every dialect ``\\`` escapes the next character. ``compile_glob`` raises :class:`PatternError` for an unclosed
``[`` or ``{`` or a reversed range such as ``[z-a]`` (for fields where a clear error beats silently matching nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


class PatternError(ValueError):
    """A glob that cannot be compiled (an unclosed ``[`` or ``{``)."""


@dataclass(frozen=True)
class GlobSyntax:
    """What a dialect's special characters mean."""

    separator: str  # "" when ``*`` and ``?`` cross everything
    double_star: bool  # ``**`` crosses separators, and ``**/`` may stand for no directory at all
    braces: bool  # ``{a,b}`` alternatives
    negations: str  # the characters that negate a ``[...]`` class when they come first


GOBWAS = GlobSyntax(separator="", double_star=False, braces=True, negations="!")
GO_PATH = GlobSyntax(separator="/", double_star=False, braces=False, negations="^!")
DOUBLESTAR = GlobSyntax(separator="/", double_star=True, braces=True, negations="^!")


def _star(pattern: str, position: int, syntax: GlobSyntax, not_sep: str) -> tuple[str, int]:
    """The regex for the ``*`` run at ``position`` and the index after it."""
    if not (syntax.double_star and pattern.startswith("**", position)):
        return f"{not_sep}*", position + 1
    position += 2
    at_segment_start = position == 2 or pattern[position - 3] == syntax.separator
    if at_segment_start and pattern.startswith(syntax.separator, position):
        return f"(?:.*{re.escape(syntax.separator)})?", position + 1
    return ".*", position


def _char_class(pattern: str, position: int, syntax: GlobSyntax) -> tuple[str, int]:
    """The regex for the ``[...]`` class at ``position`` and the index after it."""
    end = pattern.find("]", position + 2)
    if end < 0:
        raise PatternError(f"unclosed '[' in pattern {pattern!r}")
    body = pattern[position + 1 : end]
    negate = bool(body) and body[0] in syntax.negations
    body = body[1:] if negate else body
    escaped = "".join("\\" + c if c in "\\^[]" else c for c in body)
    return f"[{'^' if negate else ''}{escaped}]", end + 1


def _translate(pattern: str, position: int, syntax: GlobSyntax, closing: str) -> tuple[str, int]:
    """Regex for ``pattern[position:]`` up to an unnested character of ``closing``; returns it and the stop index."""
    parts: list[str] = []
    not_sep = f"[^{re.escape(syntax.separator)}]" if syntax.separator else "."
    while position < len(pattern):
        char = pattern[position]
        if char in closing:
            return "".join(parts), position
        if char == "\\" and position + 1 < len(pattern):
            parts.append(re.escape(pattern[position + 1]))
            position += 2
        elif char == "*":
            regex, position = _star(pattern, position, syntax, not_sep)
            parts.append(regex)
        elif char == "?":
            parts.append(not_sep)
            position += 1
        elif char == "[":
            regex, position = _char_class(pattern, position, syntax)
            parts.append(regex)
        elif char == "{" and syntax.braces:
            alternatives: list[str] = []
            position += 1
            while True:
                regex, position = _translate(pattern, position, syntax, ",}")
                alternatives.append(regex)
                if position >= len(pattern):
                    raise PatternError(f"unclosed '{{' in pattern {pattern!r}")
                position += 1
                if pattern[position - 1] == "}":
                    break
            parts.append("(?:" + "|".join(alternatives) + ")")
        else:
            parts.append(re.escape(char))
            position += 1
    return "".join(parts), position


@lru_cache(maxsize=4096)
def compile_glob(pattern: str, syntax: GlobSyntax = GOBWAS) -> re.Pattern[str]:
    """The compiled form of ``pattern`` in ``syntax`` (match it whole). Raises PatternError when unreadable."""
    regex, _ = _translate(pattern, 0, syntax, "")
    try:
        return re.compile(f"(?s:{regex})\\Z")
    except re.error as error:  # a class such as [z-a]
        raise PatternError(f"invalid pattern {pattern!r}: {error.msg}") from None


def _lenient(pattern: str, value: str, syntax: GlobSyntax) -> bool:
    try:
        compiled = compile_glob(pattern, syntax)
    except PatternError:
        return False
    return compiled.match(value) is not None


def glob_match(pattern: str, value: str) -> bool:
    """Argo CD's ``glob.Match``: whether ``value`` matches ``pattern`` as a whole (False when it does not compile)."""
    if pattern == "*":
        return True
    return _lenient(pattern, value, GOBWAS)


def path_match(pattern: str, path: str) -> bool:
    """Go's ``path.Match``: ``*`` and ``?`` never cross ``/`` (False when the pattern does not compile)."""
    return _lenient(pattern, path, GO_PATH)


def file_glob_match(pattern: str, path: str) -> bool:
    """A doublestar glob: like ``path_match``, with ``**`` spanning segments and ``{a,b}`` alternatives."""
    return _lenient(pattern, path, DOUBLESTAR)


def is_deny_pattern(pattern: str) -> bool:
    """A ``!``-prefixed pattern: the field is permitted only when the rest does not match."""
    return pattern.startswith("!")


def glob_match_negatable(pattern: str, value: str) -> bool:
    """Argo CD's ``globMatch(pattern, value, allowNegation=true)``: a deny pattern is true when its rest misses."""
    if is_deny_pattern(pattern):
        return not glob_match(pattern[1:], value)
    return glob_match(pattern, value)
