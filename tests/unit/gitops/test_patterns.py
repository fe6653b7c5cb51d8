"""Argo CD's globs (gobwas/glob without separators), as its project and generator fields use them."""

from __future__ import annotations

import pytest

from gitops.patterns import glob_match, glob_match_negatable


@pytest.mark.parametrize(
    ("pattern", "value", "matched"),
    [
        ("*", "anything/at/all", True),
        ("https://github.com/org/*", "https://github.com/org/a/b", True),  # no separators: * crosses /
        ("team-?", "team-a", True),
        ("team-?", "team-ab", False),
        ("{dev,prod}-*", "prod-eu", True),
        ("{dev,prod}-*", "test-eu", False),
        ("[a-c]x", "bx", True),
        ("[!a-c]x", "bx", False),
        ("a.b", "axb", False),  # a dot is literal
        ("[unclosed", "[unclosed", False),  # a pattern that does not compile matches nothing
    ],
)
def test_glob_match(pattern: str, value: str, matched: bool) -> None:
    assert glob_match(pattern, value) is matched


def test_a_deny_pattern_is_true_when_its_rest_misses() -> None:
    assert glob_match_negatable("!kube-*", "apps") is True
    assert glob_match_negatable("!kube-*", "kube-system") is False
