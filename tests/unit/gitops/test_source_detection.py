"""Which tool renders a source: named by the Application, else discovered from its files as Argo CD does."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.render.detection import discovered_source_type, source_type
from gitops.render.errors import RenderError


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["deploy.yaml"], "Directory"),
        (["kustomization.yaml", "deploy.yaml"], "Kustomize"),
        (["kustomization.yml"], "Kustomize"),
        (["Kustomization"], "Kustomize"),
        (["Chart.yaml", "values.yaml"], "Helm"),
        (["Chart.yaml", "kustomization.yaml"], "Kustomize"),  # the later file in Argo CD's walk wins
    ],
)
def test_files_decide_the_tool(tmp_path: Path, files: list[str], expected: str) -> None:
    for name in files:
        (tmp_path / name).write_text("{}\n")
    assert discovered_source_type(tmp_path) == expected


def test_a_chart_in_a_subdirectory_does_not_make_the_source_helm(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Chart.yaml").write_text("{}\n")
    assert discovered_source_type(tmp_path) == "Directory"


def test_the_source_may_name_the_tool(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("{}\n")
    assert source_type({"directory": {"recurse": True}}, tmp_path) == "Directory"


def test_a_chart_from_a_helm_repository_is_helm(tmp_path: Path) -> None:
    assert source_type({"chart": "nginx"}, tmp_path) == "Helm"


def test_naming_two_tools_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="multiple application sources defined"):
        source_type({"helm": {}, "kustomize": {}}, tmp_path)
