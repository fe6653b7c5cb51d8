"""The Helm renderer, on helm-python-sdk (Helm's own Go code, no ``helm`` binary): the chart's templates rendered
with the composed values, plus its CRDs unless ``skipCrds``, as Argo CD's ``helm template --include-crds`` gives
them. Helm hooks stay in the output with their ``helm.sh/hook`` annotations (the sync layer maps them).

Dependencies declared in ``Chart.yaml`` but absent from ``charts/`` are put there first, as Argo CD's
``helm dependency build`` would: ``file://`` ones from the repository, ``http(s)://`` ones from their Helm repository
through ``fetch_chart``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import helm_python

from gitops.render.documents import yaml_objects
from gitops.render.errors import RenderError
from gitops.render.helm_values import FIELD, compose_values, merge_values
from gitops.resources import JsonObject

# (repository URL, chart name, version constraint) → the unpacked chart directory.
ChartFetcher = Callable[[str, str, str], Path]


class DependencyUnavailable(RenderError):
    """A chart dependency that lives in a remote repository this render may not reach (see ``fetch_chart``)."""


def _no_remote_charts(repository: str, name: str, version: str) -> Path:
    raise DependencyUnavailable(f"dependency {name} {version} from {repository} is not in charts/")


def _label(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _inside(path: Path, root: Path, what: str) -> Path:
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise RenderError(f"{what}: {path} is outside the repository")
    return resolved


def _vendor_dependencies(chart_dir: Path, repo_root: Path, fetch_chart: ChartFetcher, scratch: Path) -> Path:
    """``chart_dir`` itself when every dependency is in ``charts/``, else a copy with the missing ones added."""
    try:
        dependencies = helm_python.dependency_list(chart_dir)
    except helm_python.HelmError as error:
        raise RenderError(f"{_label(chart_dir, repo_root)}/Chart.yaml: {error}") from None
    missing = [dep for dep in dependencies if dep.get("status") == "missing"]
    if not missing:
        return chart_dir
    copy = scratch / chart_dir.name
    shutil.copytree(chart_dir, copy, symlinks=True, copy_function=shutil.copyfile)
    (copy / "charts").mkdir(exist_ok=True)
    for dep in missing:
        name, version = str(dep.get("name")), str(dep.get("version") or "")
        repository = str(dep.get("repository") or "")
        what = f"{_label(chart_dir, repo_root)}/Chart.yaml: dependency {name}"
        if repository.startswith("file://"):
            source = _inside(chart_dir / repository.removeprefix("file://"), repo_root, what)
            if not (source / "Chart.yaml").is_file():
                raise RenderError(f"{what}: {repository} holds no chart")
        elif repository.startswith(("http://", "https://")):
            source = fetch_chart(repository, name, version)
        else:
            raise RenderError(f"{what}: repository {repository or '(none)'!r} is not supported (use http(s):// or file://)")
        shutil.copytree(source, copy / "charts" / name, symlinks=True, copy_function=shutil.copyfile)
    return copy


def _is_test_hook(obj: JsonObject) -> bool:
    hooks = ((obj.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", "")
    return any(hook.strip() in ("test", "test-success", "test-failure") for hook in str(hooks).split(","))


def render_helm(
    chart_dir: Path,
    repo_root: Path,
    options: Mapping[str, Any] | None,
    *,
    release_name: str,
    namespace: str,
    fetch_chart: ChartFetcher = _no_remote_charts,
    ref_roots: Mapping[str, Path] | None = None,
) -> list[JsonObject]:
    """The manifests of the chart at ``chart_dir`` (inside ``repo_root``, against which value files are checked).

    ``ref_roots`` maps a multi-source ``ref`` name to that source's checkout, for ``$ref/path`` value files.
    """
    options = options or {}
    label = _label(chart_dir, repo_root) or "."

    def read_value_file(position: int, name: str) -> str | None:
        what = f"{FIELD}.valueFiles[{position}]"
        if name.startswith(("http://", "https://")):
            raise RenderError(f"{what}: {name}: value files from URLs are not supported")
        if name.startswith("$"):
            ref, _, rest = name[1:].partition("/")
            root = (ref_roots or {}).get(ref)
            if root is None:
                raise RenderError(f"{what}: {name}: no source with ref '{ref}'")
            path = _inside(root / rest, root, what)
        else:
            path = _inside(chart_dir / name, repo_root, what)
        if not path.is_file():
            return None
        try:
            return path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise RenderError(f"{what}: {name}: cannot read the file: {error}") from None

    values = compose_values(options, read_value_file)
    for position, parameter in enumerate(options.get("fileParameters") or []):
        name, path_text = str(parameter.get("name") or ""), str(parameter.get("path") or "")
        path = _inside(chart_dir / path_text, repo_root, f"{FIELD}.fileParameters[{position}]")
        try:
            text = path.read_text(encoding="utf-8")
            values = merge_values(values, helm_python.parse_set_literal(f"{name}={text}"))
        except (OSError, UnicodeDecodeError) as error:
            raise RenderError(f"{FIELD}.fileParameters[{position}]: {path_text}: {error}") from None
        except helm_python.HelmError as error:
            raise RenderError(f"{FIELD}.fileParameters[{position}]: {error}") from None

    with tempfile.TemporaryDirectory(prefix="rollouts-helm-") as scratch:
        loadable = _vendor_dependencies(chart_dir, repo_root, fetch_chart, Path(scratch))
        try:
            chart = helm_python.Chart.load(loadable)
        except helm_python.HelmError as error:
            raise RenderError(f"{label}/Chart.yaml: cannot load the chart: {error}") from None
        with chart:
            try:
                rendered = chart.render(values=values, name=release_name, namespace=namespace)
                crds = [] if options.get("skipCrds") else chart.crds
            except helm_python.HelmValuesError as error:
                raise RenderError(f"{label}: helm values: {error}") from None
            except helm_python.HelmError as error:
                raise RenderError(f"{label}: helm template failed: {error}") from None
    manifests: list[JsonObject] = []
    for crd in crds:
        manifests.extend(yaml_objects(crd["data"], crd.get("filename") or crd["name"], strict=True))
    for template in sorted(rendered):
        base = template.rsplit("/", 1)[-1]
        if base == "NOTES.txt" or base.startswith("_"):
            continue
        manifests.extend(yaml_objects(rendered[template], template, strict=True))
    if options.get("skipTests"):
        manifests = [obj for obj in manifests if not _is_test_hook(obj)]
    return manifests
