"""`rollouts lint`: one line per finding, a summary on stderr, and exit status 0 / 1 / 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

# Importing a command module registers it; a second command keeps `lint` a subcommand, as in the real CLI.
import cli.crds  # noqa: F401
from cli.lint import LintReport, lint_documents
from cli.main import app
from kube.manifests import load_text
from rollouts.kinds import ROLLOUT_KIND

VALID_ROLLOUT = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: reviews
spec:
  replicas: 3
  selector:
    matchLabels: {app: reviews}
  template:
    metadata:
      labels: {app: reviews}
    spec:
      containers: [{name: reviews, image: "reviews:v2"}]
  strategy:
    canary:
      steps:
        - setWeight: 20
        - pause: {duration: 5m}
"""

MISMATCHED_SELECTOR = VALID_ROLLOUT.replace("matchLabels: {app: reviews}", "matchLabels: {app: ratings}")

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: reviews
spec:
  selector: {app: reviews}
  ports: [{port: 80}]
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: not-a-number
"""

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: wf
spec:
  anything: [goes]
"""
EXPERIMENT = """\
apiVersion: argoproj.io/v1alpha1
kind: Experiment
metadata:
  name: exp
spec:
  templates:
  - name: canary
    selector: {matchLabels: {app: a}}
    template: {metadata: {labels: {app: b}}}
"""

runner = CliRunner()


def lint(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, ["lint", *args], input=stdin)


def write(directory: Path, name: str, *documents: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n".join(documents))
    return path


def test_clean_file_exits_zero_and_prints_only_the_summary(tmp_path: Path) -> None:
    path = write(tmp_path, "rollout.yaml", VALID_ROLLOUT)
    result = lint(str(path))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "1 document checked, 0 with errors\n"


def test_finding_names_file_document_object_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "rollouts.yaml", VALID_ROLLOUT, MISMATCHED_SELECTOR)
    result = lint(str(path))
    assert result.exit_code == 1
    assert (
        result.stdout
        == f"{path}:1: Rollout/reviews: spec.selector: selector does not match template labels\n"
    )
    assert result.stderr == "2 documents checked, 1 with errors\n"


def test_what_argo_accepts_but_is_doubtful_is_a_warning_and_the_document_stays_valid(tmp_path: Path) -> None:
    """Argo validates no analysis.startingStep; one past the steps never starts the background run."""
    background = "      analysis:\n        templates: [{templateName: success-rate}]\n        startingStep: 3\n"
    late = VALID_ROLLOUT.replace("      steps:\n", background + "      steps:\n")
    path = write(tmp_path, "rollout.yaml", late)
    result = lint(str(path))
    assert result.exit_code == 0
    assert result.stdout == (
        f"{path}:0: Rollout/reviews: warning: spec.strategy.canary.analysis.startingStep: 3 is past the last step "
        "(the canary has 2 steps): the background analysis never starts; 2 starts it once every step is done\n"
    )
    assert result.stderr == "1 document checked, 0 with errors, 1 warning\n"


def test_every_finding_gets_its_own_line(tmp_path: Path) -> None:
    broken = VALID_ROLLOUT.replace("replicas: 3", "replicas: -1").replace(
        "- setWeight: 20", "- setWeight: 120\n        - {}"
    )
    path = write(tmp_path, "broken.yaml", broken)
    result = lint(str(path))
    assert result.exit_code == 1
    prefix = f"{path}:0: Rollout/reviews: "
    assert result.stdout.splitlines() == [
        f"{prefix}spec.replicas: must not be negative, got -1",
        f"{prefix}spec.strategy.canary.steps[0].setWeight: must be between 0 and 100, got 120",
        f"{prefix}spec.strategy.canary.steps[1]: a step must set exactly one of setWeight, pause, analysis, "
        "experiment, setCanaryScale, setHeaderRoute, setMirrorRoute, plugin; found none",
    ]
    assert result.stderr == "1 document checked, 1 with errors\n"


def test_structural_errors_are_reported_at_their_field(tmp_path: Path) -> None:
    path = write(tmp_path, "rollout.yaml", VALID_ROLLOUT.replace("duration: 5m", "duration: soon"))
    result = lint(str(path))
    assert result.exit_code == 1
    assert result.stdout.startswith(
        f"{path}:0: Rollout/reviews: spec.strategy.canary.steps[1].pause.duration: invalid duration 'soon'"
    )


def test_other_kinds_are_counted_but_not_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "app.yaml", SERVICE, DEPLOYMENT, WORKFLOW, VALID_ROLLOUT)
    result = lint(str(path))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "4 documents checked, 0 with errors\n"


def test_an_experiment_is_checked_and_its_finding_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, "exp.yaml", EXPERIMENT)
    result = lint(str(path))
    assert result.exit_code == 1
    assert "spec.templates[0].selector: does not match the template's labels (app=a)" in result.stdout


def test_yaml_syntax_error_is_a_finding_with_its_position(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", SERVICE, "apiVersion: v1\nkind: ConfigMap\ndata: {a: 1\n")
    result = lint(str(path))
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    # The parser notices the unclosed mapping at the end of the stream, after the last line (11).
    assert line.startswith(f"{path}:1: line 12, column 1: ")
    assert "invalid YAML" in line
    assert result.stderr == "2 documents checked, 1 with errors\n"


def test_document_without_kind_is_a_finding(tmp_path: Path) -> None:
    path = write(tmp_path, "values.yaml", "replicaCount: 2\n")
    result = lint(str(path))
    assert result.exit_code == 1
    assert result.stdout == f"{path}:0: line 1: document has no apiVersion and no kind\n"


def test_missing_file_exits_two_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = lint(str(missing))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"rollouts lint: {missing}: no such file or directory\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unreadable_input_wins_over_findings(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", MISMATCHED_SELECTOR)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    result = lint(str(bad), str(binary))
    assert result.exit_code == 2
    assert "selector does not match template labels" in result.stdout
    assert f"rollouts lint: {binary}: not UTF-8" in result.stderr


def test_directories_are_linted_recursively(tmp_path: Path) -> None:
    write(tmp_path, "base/rollout.yaml", VALID_ROLLOUT)
    write(tmp_path, "base/service.yml", SERVICE)
    bad = write(tmp_path, "overlays/prod/rollout.yaml", MISMATCHED_SELECTOR)
    write(tmp_path, "README.md", "# not a manifest")
    result = lint(str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{bad}:0: Rollout/reviews: spec.selector")
    assert result.stderr == "3 documents checked, 1 with errors\n"


def test_quiet_leaves_out_the_summary(tmp_path: Path) -> None:
    path = write(tmp_path, "rollout.yaml", MISMATCHED_SELECTOR)
    result = lint("--quiet", str(path))
    assert result.exit_code == 1
    assert result.stderr == ""
    assert "spec.selector" in result.stdout


def test_stdin_is_read_for_a_dash() -> None:
    result = lint("-", stdin=MISMATCHED_SELECTOR)
    assert result.exit_code == 1
    assert result.stdout.startswith("<stdin>:0: Rollout/reviews: spec.selector")


def test_no_paths_is_a_usage_error() -> None:
    assert lint().exit_code == 2


@pytest.mark.parametrize(
    ("kind", "api_version"),
    [("AnalysisTemplate", "argoproj.io/v1alpha1"), ("Application", "argoproj.io/v1alpha1")],
)
def test_kinds_of_the_other_packages_are_checked(tmp_path: Path, kind: str, api_version: str) -> None:
    # A spec that is a list is wrong for every kind the catalogue knows.
    path = write(
        tmp_path, "x.yaml", f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: x}}\nspec: []\n"
    )
    result = lint(str(path))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{path}:0: {kind}/x: spec")


def test_lint_documents_uses_the_kind_lookup_it_is_given() -> None:
    text = "---\n".join([VALID_ROLLOUT, MISMATCHED_SELECTOR, SERVICE, "- not an object\n"])
    list_line = text.splitlines().index("- not an object") + 1
    report = LintReport()
    lint_documents(
        load_text(text, "mixed.yaml"),
        lambda api_version, kind: ROLLOUT_KIND if kind == "Rollout" else None,
        report,
    )
    assert (report.documents, report.invalid_documents, report.passed_through) == (4, 2, 1)
    assert [str(finding) for finding in report.findings] == [
        "mixed.yaml:1: Rollout/reviews: spec.selector: selector does not match template labels",
        f"mixed.yaml:3: line {list_line}: document is a list, not a mapping with apiVersion and kind",
    ]
    assert report.summary == "4 documents checked, 2 with errors"


HEADER_ROUTED = VALID_ROLLOUT.replace(
    "      steps:\n",
    """      canaryService: reviews-canary
      stableService: reviews-stable
      trafficRouting:
        managedRoutes: [{name: beta}]
        ROUTER
      steps:
        - setHeaderRoute: {name: ROUTE, match: [{headerName: x-beta, headerValue: {exact: "1"}}]}
""",
)


def test_a_header_route_not_in_managed_routes_is_an_error_naming_the_step(tmp_path: Path) -> None:
    rollout = HEADER_ROUTED.replace("ROUTER", "istio: {virtualService: {name: reviews}}").replace("ROUTE", "gamma")
    path = write(tmp_path, "rollout.yaml", rollout)
    result = lint(str(path))
    assert result.exit_code == 1
    assert result.stdout == (
        f"{path}:0: Rollout/reviews: spec.strategy.canary.steps[0].setHeaderRoute.name: "
        "no route named 'gamma' in spec.strategy.canary.trafficRouting.managedRoutes\n"
    )


def test_a_router_this_project_does_not_drive_is_an_error_naming_its_field(tmp_path: Path) -> None:
    rollout = HEADER_ROUTED.replace("ROUTER", "traefik: {weightedTraefikServiceName: reviews}").replace("ROUTE", "beta")
    path = write(tmp_path, "rollout.yaml", rollout)
    result = lint(str(path))
    assert result.exit_code == 1
    assert result.stdout.startswith(
        f"{path}:0: Rollout/reviews: spec.strategy.canary.trafficRouting.traefik: is not supported yet (supported: "
    )
