"""The project's CRDs and `kubectl get` output as test data, beside the kubectl runner (``tests.kubectl_runner``)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.kubectl_runner import KUBECTL as KUBECTL
from tests.kubectl_runner import Kubectl as Kubectl
from tests.kubectl_runner import kubectl_for as kubectl_for

REPO = Path(__file__).resolve().parents[3]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _crd_text(file_name: str) -> str:
    # Parsed once per session: the generated CRDs are large, and pure-Python YAML takes a second for them.
    loaded = yaml.load((REPO / "crds" / file_name).read_text(), Loader=_LOADER)
    return json.dumps(loaded)


def crd_manifest(file_name: str) -> dict[str, Any]:
    """A fresh copy of one of the project's committed CRDs (``argoproj.io_rollouts.yaml``)."""
    loaded: dict[str, Any] = json.loads(_crd_text(file_name))
    return loaded


def argo_crd_files() -> list[str]:
    """The file names of the project's CRDs in ``crds/``."""
    return sorted(path.name for path in (REPO / "crds").glob("argoproj.io_*.yaml"))


def table_rows(output: str) -> list[list[str]]:
    """``kubectl get`` output split into header and rows on runs of two or more spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.strip().splitlines()]
