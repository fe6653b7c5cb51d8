"""The Go text/template subset ApplicationSets use (goTemplate: true), checked against what Go and Sprig print."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.appset.go_template import TemplateError, parse_options, render

DATA: dict[str, Any] = {
    "path": {"path": "apps/web", "basename": "web", "segments": ["apps", "web"]},
    "name": "Guest-Book",
    "env": "prod",
    "replicas": 3,
    "labels": {"team": "a", "tier": "web"},
    "empty": "",
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param("{{.path.basename}}", "web", id="field-access"),
        pytest.param("{{ .path.path }}", "apps/web", id="spaces-inside-braces"),
        pytest.param("{{index .path.segments 1}}", "web", id="index-into-a-list"),
        pytest.param('{{index .labels "team"}}', "a", id="index-into-a-map"),
        pytest.param("{{ .name | lower }}", "guest-book", id="pipeline-into-lower"),
        pytest.param("{{ upper .env }}", "PROD", id="upper"),
        pytest.param('{{ printf "%s-%d" .env .replicas }}', "prod-3", id="printf"),
        pytest.param('{{ default "dev" .missing }}', "dev", id="default-for-a-missing-key"),
        pytest.param('{{ default "dev" .empty }}', "dev", id="default-for-an-empty-string"),
        pytest.param('{{ default "dev" .env }}', "prod", id="default-keeps-a-value"),
        # Sprig's replace takes (old, new, source), so the piped value comes last.
        pytest.param('{{ .name | replace "-" "_" }}', "Guest_Book", id="replace"),
        pytest.param("{{ trunc 5 .name }}", "Guest", id="trunc"),
        pytest.param('{{ normalize "Team_A Web" }}', "team-a-web", id="normalize"),
        pytest.param("{{ toYaml .labels }}", "team: a\ntier: web", id="toYaml"),
        pytest.param('{{ if eq .env "prod" }}big{{ else }}small{{ end }}', "big", id="if-else"),
        pytest.param('{{ if eq .env "dev" }}d{{ else if eq .env "prod" }}p{{ end }}', "p", id="else-if"),
        pytest.param("{{- range $k, $v := .labels }}{{ $k }}={{ $v }};{{ end -}}", "team=a;tier=web;",
                     id="range-over-a-map-in-key-order"),
        pytest.param("a {{- .env -}} b", "aprodb", id="trim-markers"),
        pytest.param("{{/* a comment */}}x", "x", id="comment"),
        pytest.param("{{ .replicas }}", "3", id="an-integer-prints-as-go-prints-it"),
        pytest.param("{{ .labels }}", "map[team:a tier:web]", id="a-map-prints-as-go-prints-it"),
        pytest.param("no actions", "no actions", id="plain-text"),
    ],
)
def test_rendering(template: str, expected: str) -> None:
    assert render(template, DATA) == expected


def test_a_missing_key_prints_no_value_by_default_as_go_does() -> None:
    assert render("{{ .nope }}", DATA) == "<no value>"


def test_missingkey_error_names_the_key() -> None:
    with pytest.raises(TemplateError, match=r'map has no entry for key "nope"'):
        render("{{ .nope }}", DATA, missing_is_error=parse_options(["missingkey=error"]))


@pytest.mark.parametrize(
    ("template", "message"),
    [
        pytest.param("{{ .x", "unclosed action", id="unclosed"),
        pytest.param("{{ nope .x }}", 'function "nope" not defined', id="unknown-function"),
        pytest.param("{{ if .env }}x", "has no {{end}}", id="if-without-end"),
        pytest.param("{{ end }}", "unexpected {{end}}", id="end-without-block"),
        pytest.param("{{ index .path.segments 9 }}", "index out of range", id="index-out-of-range"),
    ],
)
def test_errors_say_what_is_wrong(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("{", r"\{").replace("}", r"\}")):
        render(template, DATA)


def test_an_unknown_template_option_is_refused() -> None:
    with pytest.raises(TemplateError, match="unrecognized goTemplateOptions"):
        parse_options(["missingkey=explode"])
