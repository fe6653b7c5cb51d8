"""`rollouts lint` over source directories: Kustomize and Helm directories are rendered as the sync engine renders
them and their output is checked; their inputs (kustomization.yaml, Chart.yaml, values, templates) are not read as
manifests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import cli.crds
import cli.lint  # noqa: F401 - importing a command module registers it
from cli.lint_sources import source_roots
from cli.main import app

ROLLOUT = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: {name}
spec:
  replicas: 3
  selector:
    matchLabels: {{app: {selector}}}
  template:
    metadata:
      labels: {{app: reviews}}
    spec:
      containers: [{{name: reviews, image: "reviews:v2"}}]
  strategy:
    canary:
      steps: [{{setWeight: 20}}]
"""

SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports: [{port: 80}]\n"
SELECTOR_FINDING = "spec.selector: selector does not match template labels"

needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None and shutil.which("kustomize") is None, reason="needs kubectl or kustomize"
)

runner = CliRunner()


def lint(*args: str) -> Result:
    return runner.invoke(app, ["lint", *args])


def write(files: dict[str, str], root: Path) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: reviews\nversion: 0.1.0\n",
    "chart/values.yaml": "selector: reviews\n",
    "chart/values-prod.yaml": "selector: other\n",
    "chart/templates/rollout.yaml": ROLLOUT.format(name="{{ .Release.Name }}", selector="{{ .Values.selector }}"),
    "chart/templates/service.yaml": SERVICE,
}


def test_a_helm_chart_is_rendered_and_its_inputs_are_not_documents(tmp_path: Path) -> None:
    write(CHART, tmp_path)
    result = lint(str(tmp_path))
    assert result.exit_code == 0, result.stdout
    assert result.stderr == "2 documents checked, 0 with errors\n"


def test_a_finding_in_rendered_output_names_the_directory_tool_and_document(tmp_path: Path) -> None:
    write({**CHART, "chart/values.yaml": "selector: other\n"}, tmp_path)
    result = lint(str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout == f"{tmp_path / 'chart'} (Helm):0: Rollout/chart: {SELECTOR_FINDING}\n"


def test_a_helm_template_error_is_one_finding_naming_the_template(tmp_path: Path) -> None:
    write({**CHART, "chart/templates/broken.yaml": "kind: {{ .Values.x.y }\n"}, tmp_path)
    result = lint(str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{tmp_path / 'chart'} (Helm):0: cannot render as Helm: ")
    assert "templates/broken.yaml" in result.stdout


def test_a_chart_yaml_given_as_a_file_stands_for_its_chart(tmp_path: Path) -> None:
    write(CHART, tmp_path)
    result = lint(str(tmp_path / "chart" / "Chart.yaml"))
    assert result.exit_code == 0
    assert result.stderr == "2 documents checked, 0 with errors\n"


def test_a_remote_chart_dependency_is_a_note_not_an_error(tmp_path: Path) -> None:
    chart_yaml = (
        "apiVersion: v2\nname: umbrella\nversion: 0.1.0\n"
        "dependencies:\n- name: redis\n  version: 1.0.0\n  repository: https://charts.example.invalid\n"
    )
    write({"umbrella/Chart.yaml": chart_yaml}, tmp_path)
    result = lint(str(tmp_path))
    assert result.exit_code == 0
    assert "note: " in result.stderr and "redis 1.0.0 from https://charts.example.invalid" in result.stderr
    assert result.stderr.endswith("0 documents checked, 0 with errors\n")


@needs_kubectl
def test_a_kustomization_is_built_and_its_output_checked(tmp_path: Path) -> None:
    write(
        {
            "base/kustomization.yaml": "resources: [rollout.yaml]\n",
            "base/rollout.yaml": ROLLOUT.format(name="reviews", selector="other"),
            "overlay/kustomization.yaml": "resources: [../base]\nnamePrefix: dev-\n",
        },
        tmp_path,
    )
    result = lint(str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'base'} (Kustomize):0: Rollout/reviews: {SELECTOR_FINDING}",
        f"{tmp_path / 'overlay'} (Kustomize):0: Rollout/dev-reviews: {SELECTOR_FINDING}",
    ]


@needs_kubectl
def test_a_kustomize_build_error_is_a_finding(tmp_path: Path) -> None:
    write({"k/kustomization.yaml": "resources: [missing.yaml]\n"}, tmp_path)
    result = lint(str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{tmp_path / 'k'} (Kustomize):0: cannot render as Kustomize: ")
    assert "missing.yaml" in result.stdout


def test_a_resource_generated_by_a_plugin_is_a_note(tmp_path: Path) -> None:
    """Argo CD's kustomized-helm example: all.yaml is written by a plugin at render time and ignored by Git."""
    write({"p/kustomization.yaml": "resources: [./all.yaml]\n", "p/.gitignore": "all.yaml\n"}, tmp_path)
    result = lint(str(tmp_path))
    assert result.exit_code == 0
    assert "note: " in result.stderr and "./all.yaml is made at render time" in result.stderr


def test_plain_files_beside_source_directories_are_still_linted(tmp_path: Path) -> None:
    write({**CHART, "plain/rollout.yaml": ROLLOUT.format(name="plain", selector="other")}, tmp_path)
    result = lint(str(tmp_path))
    assert result.stdout == f"{tmp_path / 'plain' / 'rollout.yaml'}:0: Rollout/plain: {SELECTOR_FINDING}\n"


def test_subcharts_are_rendered_with_their_chart_not_alone(tmp_path: Path) -> None:
    write({**CHART, "chart/charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n"}, tmp_path)
    assert source_roots(tmp_path) == [tmp_path / "chart"]


def test_the_gitops_platform_example_lints_clean_with_its_chart_rendered() -> None:
    example = Path(__file__).resolve().parents[3] / "examples" / "gitops-platform"
    result = lint(str(example))
    assert result.exit_code == 0, result.output
    # root, AppProject, ApplicationSet, three Helm Applications, the edge cluster's Secret, the guestbook's three,
    # the chart's Deployment+Service
    assert "12 documents checked, 0 with errors" in result.output
