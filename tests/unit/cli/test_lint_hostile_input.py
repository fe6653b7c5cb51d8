"""`rollouts lint` on hostile input (issue #15 item 6): no traceback, bounded memory, and an error that names the
file and says what is wrong — deep nesting, a NUL byte, an alias bomb, an oversized file, a number too long to
read — and, as Argo's lint (strict decoding) does, unknown fields and a Rollout without containers."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import cli.crds  # noqa: F401  (a second command keeps `lint` a subcommand, as in the real CLI)
from cli.main import app
from kube.manifests import MAX_ALIAS_EXPANSION, MAX_DEPTH, MAX_MANIFEST_BYTES, load_text
from tests.unit.cli.test_lint import VALID_ROLLOUT, write

runner = CliRunner()


def lint(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, ["lint", *args], input=stdin)


def _no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def _alias_bomb(levels: int) -> str:
    """The billion-laughs shape inside a web metric's jsonBody: each level lists the previous nine times."""
    lines = ['          l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        previous = f"*l{level - 1}"
        lines.append(f"          l{level}: &l{level} [{','.join([previous] * 9)}]")
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: bomb}\nspec:\n  metrics:\n"
        "  - name: m\n    provider:\n      web:\n        url: http://x\n        jsonBody:\n" + "\n".join(lines) + "\n"
    )


@pytest.mark.parametrize(("depth", "flow"), [(900, True), (900, False), (MAX_DEPTH + 1, True)])
def test_nesting_beyond_the_limit_is_a_finding_with_its_line_not_a_traceback(
    tmp_path: Path, depth: int, flow: bool
) -> None:
    if flow:
        body = "data: " + "[" * depth + "]" * depth + "\n"
    else:
        body = "data:\n" + "".join("  " * level + "-\n" for level in range(depth))
    path = write(tmp_path, "deep.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\n" + body)
    result = lint(str(path))
    _no_traceback(result)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{path}:0: line ")
    assert f"nested deeper than {MAX_DEPTH} levels" in result.stdout


def test_nesting_within_the_limit_is_read() -> None:
    depth = MAX_DEPTH - 10
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + "[" * depth + "]" * depth + "\n"
    (document,) = load_text(text)
    assert document.problem is None


def test_a_nul_byte_is_a_finding_naming_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "nul.yaml"
    path.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\x00b\n")
    result = lint(str(path))
    _no_traceback(result)
    assert result.exit_code == 1
    assert result.stdout == (
        f"{path}:0: line 4, column 10: invalid YAML: unacceptable character #x0000: "
        "special characters are not allowed\n"
    )


def test_an_alias_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    # 9 levels: about 645 bytes that expand to 9^9 (387 million) strings if followed.
    path = write(tmp_path, "bomb.yaml", _alias_bomb(9))
    assert path.stat().st_size < 1000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = lint(str(path))
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    _no_traceback(result)
    assert result.exit_code == 1
    assert f"{path}:0: line " in result.stdout
    assert f"aliases expand the document beyond {MAX_ALIAS_EXPANSION} values" in result.stdout
    assert grown_kib < 100 * 1024  # the peak of the whole process grew by less than 100 MiB


def test_modest_reuse_of_an_anchor_is_read() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: env}\n"
        "data:\n  a: &shared {x: '1', y: '2'}\n  b: *shared\n  c: *shared\n"
    )
    (document,) = load_text(text)
    assert document.manifest is not None
    assert document.manifest["data"]["c"] == {"x": "1", "y": "2"}


def test_an_alias_to_its_own_ancestor_is_refused() -> None:
    (document,) = load_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loop}\ndata: &loop {self: *loop}\n")
    assert document.manifest is None
    assert "an alias refers to a value that contains it" in str(document.problem)


def test_a_file_beyond_the_size_limit_is_unreadable_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w") as out:
        out.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  x: '")
        out.truncate(MAX_MANIFEST_BYTES + 1)  # a sparse file: no need to write the bytes
    result = lint(str(path))
    _no_traceback(result)
    assert result.exit_code == 2
    assert f"rollouts lint: {path}: larger than {MAX_MANIFEST_BYTES // 2**20} MiB" in result.stderr


def test_stdin_beyond_the_size_limit_is_refused() -> None:
    result = lint("-", stdin="#" * (MAX_MANIFEST_BYTES + 1))
    _no_traceback(result)
    assert result.exit_code == 2
    assert "<stdin>: larger than" in result.stderr


def test_an_integer_too_long_to_read_is_a_finding(tmp_path: Path) -> None:
    path = write(tmp_path, "long.yaml", VALID_ROLLOUT.replace("replicas: 3", "replicas: " + "9" * 5000))
    result = lint(str(path))
    _no_traceback(result)
    assert result.exit_code == 1
    assert f"{path}:0: line 6, column 13: invalid YAML: integer of 5000 digits" in result.stdout


@pytest.mark.parametrize("tag", ["!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]", "!!python/name:os.system"])
def test_a_value_json_cannot_hold_is_a_finding(tmp_path: Path, tag: str) -> None:
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: t}}\ndata:\n  x: {tag}\n"
    path = write(tmp_path, "tagged.yaml", text)
    result = lint(str(path))
    _no_traceback(result)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{path}:0: line 5")


# --- what Argo's lint refuses and ours once passed -------------------------------------------------------------


def test_an_unknown_field_is_a_finding_with_the_nearest_known_name(tmp_path: Path) -> None:
    # Argo's lint decodes with DisallowUnknownFields (testdata/invalid-unknown-field.yml).
    typo = VALID_ROLLOUT.replace("  replicas: 3", "  replicas: 3\n  progressDeadlineSecond: 60")
    path = write(tmp_path, "typo.yaml", typo)
    result = lint(str(path))
    assert result.exit_code == 1
    assert result.stdout == (
        f'{path}:0: Rollout/reviews: spec.progressDeadlineSecond: unknown field "progressDeadlineSecond"; '
        'did you mean "progressDeadlineSeconds"?\n'
    )


def test_an_unknown_field_deep_in_a_step_names_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.yaml", VALID_ROLLOUT.replace("pause: {duration: 5m}", "pause: {durations: 5m}"))
    result = lint(str(path))
    assert result.exit_code == 1
    assert 'spec.strategy.canary.steps[1].pause.durations: unknown field "durations"' in result.stdout


def test_an_unknown_strategy_is_a_finding(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.yaml", VALID_ROLLOUT.replace("    canary:\n", "    unknown-strategy:\n"))
    result = lint(str(path))
    assert result.exit_code == 1
    assert 'spec.strategy.unknown-strategy: unknown field "unknown-strategy"' in result.stdout


def test_metadata_and_status_fields_the_models_do_not_name_are_not_unknown(tmp_path: Path) -> None:
    live = VALID_ROLLOUT.replace(
        "  name: reviews\n", "  name: reviews\n  managedFields: []\n  selfLink: /x\n"
    ) + "status:\n  someFutureField: 1\n"
    result = lint(str(write(tmp_path, "live.yaml", live)))
    assert result.exit_code == 0, result.stdout


def test_the_controller_keeps_unknown_fields_rather_than_refusing_them() -> None:
    from rollouts.kinds import ROLLOUT_KIND
    from tests.unit.rollouts.test_validation import VALID_CANARY

    manifest = {**VALID_CANARY, "spec": {**VALID_CANARY["spec"], "progressDeadlineSecond": 60}}
    assert ROLLOUT_KIND.check(manifest) == []
    assert [issue.path for issue in ROLLOUT_KIND.check(manifest, strict=True)] == ["spec.progressDeadlineSecond"]


@pytest.mark.parametrize(
    ("containers", "path", "message"),
    [
        ("[]", "spec.template.spec.containers", "must list at least one container"),
        (None, "spec.template.spec.containers", "must list at least one container"),
        ("[{image: 'reviews:v2'}]", "spec.template.spec.containers[0].name", "is required"),
        ("[{name: reviews}]", "spec.template.spec.containers[0].image", "is required"),
        ("[reviews]", "spec.template.spec.containers[0]", "must be an object with name and image"),
    ],
)
def test_a_rollout_without_usable_containers_is_a_finding(
    tmp_path: Path, containers: str | None, path: str, message: str
) -> None:
    line = "      containers: [{name: reviews, image: \"reviews:v2\"}]\n"
    replacement = f"      containers: {containers}\n" if containers is not None else "      hostname: x\n"
    manifest = VALID_ROLLOUT.replace(line, replacement)
    assert manifest != VALID_ROLLOUT
    result = lint(str(write(tmp_path, "empty.yaml", manifest)))
    assert result.exit_code == 1
    assert f"Rollout/reviews: {path}: {message}" in result.stdout


@pytest.mark.parametrize(
    ("key", "shown"),
    [("\ufeffselector", '"\\ufeffselector"'), ("met[0]", '"met[0]"'), ("a b", '"a b"'), ("a:b", '"a:b"')],
)
def test_an_unknown_key_that_could_be_misread_is_shown_quoted(tmp_path: Path, key: str, shown: str) -> None:
    text = VALID_ROLLOUT.replace("  replicas: 3", f"  replicas: 3\n  {json.dumps(key)}: 1")
    result = lint(str(write(tmp_path, "odd.yaml", text)))
    assert result.exit_code == 1
    assert f"Rollout/reviews: spec.{shown}: unknown field " in result.stdout
