"""Argo CD's directory include/exclude globs (gobwas/glob syntax, no separator) and the Git files generator's
path globs (``/`` as separator)."""

from __future__ import annotations

import pytest

from gitops.render.directory import selected
from gitops.render.errors import RenderError
from gitops.render.globs import GlobError, glob_match

# (pattern, path, matches) — Argo CD matches the path relative to the source path with no separator, so `*`
# reaches into subdirectories (its docs: `include: '*.yaml'` with recurse picks up nested YAML).
NO_SEPARATOR = [
    ("*.yaml", "deploy.yaml", True),
    ("*.yaml", "sub/deploy.yaml", True),
    ("*.yaml", "deploy.json", False),
    ("{*.yml,*.yaml}", "a.yml", True),
    ("{*.yml,*.yaml}", "a.yaml", True),
    ("{*.yml,*.yaml}", "a.json", False),
    ("config/{dev,prod}/*.yaml", "config/prod/app.yaml", True),
    ("config/{dev,prod}/*.yaml", "config/test/app.yaml", False),
    ("{a,b{1,2}}.yaml", "b2.yaml", True),
    ("{a,b{1,2}}.yaml", "b3.yaml", False),
    ("deploy?.yaml", "deploy1.yaml", True),
    ("deploy?.yaml", "deploy12.yaml", False),
    ("[ab].yaml", "a.yaml", True),
    ("[!ab].yaml", "a.yaml", False),
    ("[!ab].yaml", "c.yaml", True),
    ("[a-c]x.yaml", "bx.yaml", True),
    (r"\*.yaml", "*.yaml", True),
    (r"\*.yaml", "a.yaml", False),
    ("deploy.yaml", "deploy.yaml", True),
    ("deploy.yaml", "xdeploy.yaml", False),
]


@pytest.mark.parametrize(("pattern", "path", "matches"), NO_SEPARATOR)
def test_directory_globs_match_as_argo_cd(pattern: str, path: str, matches: bool) -> None:
    assert glob_match(pattern, path) is matches


WITH_SEPARATOR = [
    ("apps/*/config.json", "apps/a/config.json", True),
    ("apps/*/config.json", "apps/a/b/config.json", False),
    ("apps/**/config.json", "apps/a/b/config.json", True),
    ("*.json", "sub/x.json", False),
    ("{apps,infra}/*.json", "infra/x.json", True),
]


@pytest.mark.parametrize(("pattern", "path", "matches"), WITH_SEPARATOR)
def test_single_star_stays_within_a_segment_when_slash_separates(pattern: str, path: str, matches: bool) -> None:
    assert glob_match(pattern, path, "/") is matches


def test_exclude_wins_over_include() -> None:
    """Argo CD docs (Directory): a file matched by both include and exclude is excluded."""
    assert not selected("secret.yaml", include="*.yaml", exclude="secret*")
    assert selected("deploy.yaml", include="*.yaml", exclude="secret*")


def test_empty_patterns_select_everything() -> None:
    assert selected("anything/at/all.yaml", include="", exclude="")


@pytest.mark.parametrize("pattern", ["{a,b", "[ab"])
def test_unclosed_pattern_is_an_error(pattern: str) -> None:
    with pytest.raises(GlobError, match="unclosed"):
        glob_match(pattern, "a")


def test_unreadable_pattern_in_a_source_names_the_field() -> None:
    with pytest.raises(RenderError, match=r"spec\.source\.directory: unclosed"):
        selected("a.yaml", include="{a,b", exclude="")
