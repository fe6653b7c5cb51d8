"""Chart version selection as Helm does it (Masterminds semver constraints), over plain version strings (pure).

A constraint is alternatives separated by ``||``, each a list of comparisons separated by commas or spaces, all of
which must hold: ``=``, ``!=``, ``>``, ``<``, ``>=``, ``<=``, ``~`` (patch-level changes), ``^`` (changes that keep
the left-most non-zero part), wildcards (``*``, ``1.x``, ``1.2.X``), and hyphen ranges (``1.2 - 1.4.5``). A version
with a pre-release part is only chosen when the constraint itself names a pre-release, as in Helm.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import semver

_VERSION = re.compile(
    r"^v?(?P<major>0|[1-9]\d*|[xX*])(?:\.(?P<minor>0|[1-9]\d*|[xX*]))?(?:\.(?P<patch>0|[1-9]\d*|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)
_COMPARISON = re.compile(r"^(?P<op>!=|>=|<=|=>|=<|>|<|=|~>|~|\^)?\s*(?P<version>\S+)$")
_WILDCARDS = {"x", "X", "*"}


class ConstraintError(ValueError):
    """A constraint that cannot be read."""


def parse_version(text: str) -> semver.Version | None:
    """A chart version as Helm reads it (``v`` prefix and missing parts allowed), or None when it is not one."""
    match = _VERSION.match(text.strip())
    if not match or any(match.group(part) in _WILDCARDS for part in ("major", "minor", "patch")):
        return None
    return semver.Version(
        int(match.group("major")),
        int(match.group("minor") or 0),
        int(match.group("patch") or 0),
        match.group("pre"),
        match.group("build"),
    )


@dataclass(frozen=True)
class _Partial:
    """A version in a constraint, knowing how many of its parts were written (wildcards count as unwritten)."""

    major: int
    minor: int
    patch: int
    pre: str | None
    written: int  # 0 for `*`, 1 for `1`/`1.x`, 2 for `1.2`, 3 for `1.2.3`

    @property
    def version(self) -> semver.Version:
        return semver.Version(self.major, self.minor, self.patch, self.pre)


def _partial(text: str, constraint: str) -> _Partial:
    match = _VERSION.match(text)
    if not match:
        raise ConstraintError(f"invalid version {text!r} in constraint {constraint!r}")
    parts: list[int] = []
    for name in ("major", "minor", "patch"):
        value = match.group(name)
        if value is None or value in _WILDCARDS:
            break
        parts.append(int(value))
    written = len(parts)
    parts += [0] * (3 - written)
    return _Partial(parts[0], parts[1], parts[2], match.group("pre"), written)


def _next(partial: _Partial, level: int) -> semver.Version:
    """The first version past ``partial`` at ``level`` (1 = next major, 2 = next minor, 3 = next patch)."""
    if level <= 1:
        return semver.Version(partial.major + 1, 0, 0)
    if level == 2:
        return semver.Version(partial.major, partial.minor + 1, 0)
    return semver.Version(partial.major, partial.minor, partial.patch + 1)


Check = Callable[[semver.Version], bool]


def _comparison(op: str, partial: _Partial) -> Check:
    low = partial.version
    if partial.written == 0:  # `*`, `>=*`, …: any version
        return (lambda v: False) if op in ("!=", "<", ">") else (lambda v: True)
    high = _next(partial, partial.written)  # the end of the range a partial version names
    if op in ("", "="):
        return (lambda v: v == low) if partial.written == 3 else (lambda v: low <= v < high)
    if op == "!=":
        return (lambda v: v != low) if partial.written == 3 else (lambda v: not low <= v < high)
    if op == ">":
        return (lambda v: v > low) if partial.written == 3 else (lambda v: v >= high)
    if op in (">=", "=>"):
        return lambda v: v >= low
    if op == "<":
        return lambda v: v < low
    if op in ("<=", "=<"):
        return (lambda v: v <= low) if partial.written == 3 else (lambda v: v < high)
    if op in ("~", "~>"):
        upper = _next(partial, 1 if partial.written == 1 else 2)
        return lambda v: low <= v < upper
    if op == "^":
        if partial.major > 0 or partial.written == 1:
            upper = _next(partial, 1)
        elif partial.minor > 0 or partial.written == 2:
            upper = _next(partial, 2)
        else:
            upper = _next(partial, 3)
        return lambda v: low <= v < upper
    raise AssertionError(op)  # the pattern admits no other operator


def _and_group(text: str, constraint: str) -> tuple[list[Check], bool]:
    """The comparisons of one ``||`` alternative, and whether it names a pre-release."""
    text = re.sub(r"(!=|>=|<=|=>|=<|~>|[<>=~^])\s+", r"\1", text.strip())
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", text)
    if hyphen:
        low, high = _partial(hyphen.group(1), constraint), _partial(hyphen.group(2), constraint)
        return [_comparison(">=", low), _comparison("<=", high)], bool(low.pre or high.pre)
    checks: list[Check] = []
    pre = False
    for token in re.split(r"[,\s]+", text):
        if not token:
            continue
        match = _COMPARISON.match(token)
        if not match:
            raise ConstraintError(f"invalid comparison {token!r} in constraint {constraint!r}")
        partial = _partial(match.group("version"), constraint)
        pre = pre or bool(partial.pre)
        checks.append(_comparison(match.group("op") or "", partial))
    if not checks:
        raise ConstraintError(f"empty comparison in constraint {constraint!r}")
    return checks, pre


def satisfies(version: str, constraint: str) -> bool:
    """Whether ``version`` meets ``constraint``. Raises ConstraintError for an unreadable constraint."""
    parsed = parse_version(version)
    if parsed is None:
        return False
    for alternative in constraint.split("||"):
        checks, allows_pre = _and_group(alternative, constraint)
        if parsed.prerelease and not allows_pre:
            continue
        if all(check(parsed) for check in checks):
            return True
    return False


def select_version(versions: Iterable[str], constraint: str) -> str | None:
    """The highest of ``versions`` meeting ``constraint`` (an exact version string is taken as written), or None."""
    candidates = list(versions)
    wanted = constraint.strip() or "*"
    if wanted in candidates:
        return wanted
    best: tuple[semver.Version, str] | None = None
    for text in candidates:
        parsed = parse_version(text)
        if parsed is None or not satisfies(text, wanted):
            continue
        if best is None or parsed > best[0]:
            best = (parsed, text)
    return best[1] if best else None
