"""Chart version selection from a Helm repository index, with Helm's (Masterminds semver) constraint rules."""

from __future__ import annotations

import pytest

from gitops.sources.semver_ranges import ConstraintError, satisfies, select_version

VERSIONS = ["0.2.3", "0.2.9", "0.3.0", "1.0.0", "1.2.0", "1.2.5", "1.3.0", "1.10.1", "2.0.0", "2.1.0-rc.1"]

# (constraint, expected) — the highest version meeting the constraint, worked out by hand from Helm's docs
# ("Chart versions": ~ patch-level, ^ major-level, x wildcards, pre-releases only when asked for).
SELECTIONS = [
    ("1.2.0", "1.2.0"),  # an exact version is taken as written
    ("*", "2.0.0"),  # any, but not the pre-release
    ("", "2.0.0"),  # an empty targetRevision means the latest
    (">=1.2 <2", "1.10.1"),
    (">=1.2, <2", "1.10.1"),
    ("^1.2", "1.10.1"),
    ("^0.2.3", "0.2.9"),  # ^ keeps the left-most non-zero part
    ("~1.2", "1.2.5"),
    ("~1", "1.10.1"),
    ("1.2.x", "1.2.5"),
    ("1.x", "1.10.1"),
    ("1.2 - 1.3", "1.3.0"),
    (">1.2", "2.0.0"),
    ("<=1.2", "1.2.5"),  # a partial upper bound includes its patch versions
    ("<1.2", "1.0.0"),
    ("!=2.0.0", "1.10.1"),
    ("<1 || >=2", "2.0.0"),
    (">=2.1.0-rc.0", "2.1.0-rc.1"),  # a constraint naming a pre-release admits them
    ("2.1.0-rc.1", "2.1.0-rc.1"),
    (">=3", None),
]


@pytest.mark.parametrize(("constraint", "expected"), SELECTIONS)
def test_highest_version_meeting_the_constraint(constraint: str, expected: str | None) -> None:
    assert select_version(VERSIONS, constraint) == expected


def test_versions_with_a_v_prefix_are_read() -> None:
    assert select_version(["v1.0.0", "v1.1.0"], "^1") == "v1.1.0"


def test_unparsable_versions_in_the_index_are_passed_over() -> None:
    assert select_version(["latest", "1.0.0"], "*") == "1.0.0"


def test_an_unreadable_constraint_is_an_error() -> None:
    with pytest.raises(ConstraintError, match="invalid"):
        satisfies("1.0.0", ">=one")
