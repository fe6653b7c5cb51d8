"""Argo CD's directory include/exclude globs (gobwas/glob syntax, no separator), the Git files generator's
doublestar globs and the Git directories generator's Go ``path.Match``."""

from __future__ import annotations

import pytest

from gitops.patterns import PatternError, compile_glob, file_glob_match, glob_match, path_match
from gitops.render.directory import selected
from gitops.render.errors import RenderError

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


# doublestar (Argo CD's git files generator): `*` within a segment, `**` any number of segments — zero included,
# so `apps/**/config.json` also finds `apps/config.json` (the doublestar README's `/**/` rule).
DOUBLESTAR = [
    ("apps/*/config.json", "apps/a/config.json", True),
    ("apps/*/config.json", "apps/a/b/config.json", False),
    ("apps/**/config.json", "apps/a/b/config.json", True),
    ("apps/**/config.json", "apps/config.json", True),
    ("**/config.json", "config.json", True),
    ("**/config.json", "a/b/config.json", True),
    ("apps/**", "apps/a/b", True),
    ("*.json", "sub/x.json", False),
    ("{apps,infra}/*.json", "infra/x.json", True),
    ("apps/[a-c]/x.json", "apps/b/x.json", True),
    ("apps/[^a-c]/x.json", "apps/b/x.json", False),
]


@pytest.mark.parametrize(("pattern", "path", "matches"), DOUBLESTAR)
def test_files_generator_globs_follow_doublestar(pattern: str, path: str, matches: bool) -> None:
    assert file_glob_match(pattern, path) is matches


# Go's path.Match (Argo CD's git directories generator): `*` and `?` stop at `/`, classes take ranges and `^`,
# `{` is an ordinary character.
GO_PATH_MATCH = [
    ("apps/*", "apps/web", True),
    ("apps/*", "apps/web/sub", False),
    ("apps/?eb", "apps/web", True),
    ("apps/[a-z]eb", "apps/web", True),
    ("apps/[a-c]eb", "apps/web", False),
    ("apps/[^a-c]eb", "apps/web", True),
    ("apps/**", "apps/web/sub", False),
    ("apps/{web,api}", "apps/web", False),
    ("apps/{web,api}", "apps/{web,api}", True),
]


@pytest.mark.parametrize(("pattern", "path", "matches"), GO_PATH_MATCH)
def test_directories_generator_globs_follow_go_path_match(pattern: str, path: str, matches: bool) -> None:
    assert path_match(pattern, path) is matches


def test_exclude_wins_over_include() -> None:
    """Argo CD docs (Directory): a file matched by both include and exclude is excluded."""
    assert not selected("secret.yaml", include="*.yaml", exclude="secret*")
    assert selected("deploy.yaml", include="*.yaml", exclude="secret*")


def test_empty_patterns_select_everything() -> None:
    assert selected("anything/at/all.yaml", include="", exclude="")


@pytest.mark.parametrize("pattern", ["{a,b", "[ab"])
def test_unclosed_pattern_is_an_error_when_compiled(pattern: str) -> None:
    with pytest.raises(PatternError, match="unclosed"):
        compile_glob(pattern)


@pytest.mark.parametrize("pattern", ["{a,b", "[ab"])
def test_unclosed_pattern_matches_nothing_in_argo_match(pattern: str) -> None:
    """Argo CD's glob.Match logs a pattern that does not compile and answers false."""
    assert glob_match(pattern, pattern) is False


def test_reversed_range_is_an_error_not_a_traceback() -> None:
    with pytest.raises(PatternError, match=r"invalid pattern '\[z-a\]\.yaml'"):
        compile_glob("[z-a].yaml")
    with pytest.raises(RenderError, match=r"spec\.source\.directory: invalid pattern"):
        selected("a.yaml", include="[z-a].yaml", exclude="")


def test_unreadable_pattern_in_a_source_names_the_field() -> None:
    with pytest.raises(RenderError, match=r"spec\.source\.directory: unclosed"):
        selected("a.yaml", include="{a,b", exclude="")
