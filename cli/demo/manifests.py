"""The demo's manifests: the `examples/canary-analysis/` documents, made to run on the sandbox at a chosen speed.

Two changes, both on copies: every pause, analysis interval and initial delay is divided by `speed` (never below
what the sandbox's Prometheus needs to have a value: it scrapes every second and `rate()` wants two samples), and
the Prometheus address of every AnalysisTemplate metric becomes the sandbox's own Prometheus.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from kube.durations import parse_duration
from kube.json_data import JsonObject
from kube.manifests import ManifestReadError, load_manifests

# cli/demo/manifests.py → the repository root, where examples/ lives (the package is installed editable).
EXAMPLES_DIR: Final = Path(__file__).resolve().parents[2] / "examples"
DEMO_EXAMPLE: Final = EXAMPLES_DIR / "canary-analysis"

# An interval shorter than two scrapes would measure a window that has not changed since the last measurement.
MIN_INTERVAL_SECONDS: Final = 2.0
# The canary's first requests need two scrapes (1 s apart, up to 1 s late) before rate() returns anything; an
# empty result is an Error measurement, retried only 10 s later whatever the speed.
MIN_INITIAL_DELAY_SECONDS: Final = 3.0
MIN_PAUSE_SECONDS: Final = 1.0


class DemoManifestError(Exception):
    """The example manifests cannot be read or are not what the demo expects."""


def load_documents(directory: Path = DEMO_EXAMPLE) -> list[JsonObject]:
    """Every document of the example directory, in file order."""
    if not directory.is_dir():
        raise DemoManifestError(f"the demo's example directory {directory} does not exist")
    documents: list[JsonObject] = []
    try:
        for loaded in load_manifests([directory]):
            if loaded.problem is not None or loaded.manifest is None:
                raise DemoManifestError(f"{loaded.path}: document {loaded.doc_index + 1}: {loaded.problem}")
            documents.append(loaded.manifest)
    except ManifestReadError as error:
        raise DemoManifestError(str(error)) from error
    return documents


def scaled_duration(value: str | int | float, speed: float, minimum: float = 0.0) -> str:
    """An Argo duration divided by `speed`, not below `minimum` seconds (unless it was shorter already),
    written in whole milliseconds: ``"10s"`` at speed 4 is ``"2500ms"``."""
    seconds = parse_duration(value)
    scaled = max(seconds / speed, min(minimum, seconds))
    return f"{round(scaled * 1000)}ms"


def prepare(documents: Sequence[Mapping[str, Any]], *, speed: float, prometheus_url: str) -> list[JsonObject]:
    """Copies of `documents` scaled to `speed` and pointed at `prometheus_url`."""
    if speed <= 0:
        raise ValueError(f"speed must be positive, not {speed}")
    prepared = [copy.deepcopy(dict(document)) for document in documents]
    for document in prepared:
        kind = document.get("kind")
        if kind == "Rollout":
            _scale_rollout(document, speed)
        elif kind in ("AnalysisTemplate", "ClusterAnalysisTemplate"):
            _prepare_template(document, speed, prometheus_url)
    return prepared


def _scale_rollout(rollout: JsonObject, speed: float) -> None:
    canary = ((rollout.get("spec") or {}).get("strategy") or {}).get("canary") or {}
    for step in canary.get("steps") or []:
        pause = step.get("pause") if isinstance(step, dict) else None
        # A pause without a duration waits for a person; there is nothing to scale.
        if isinstance(pause, dict) and pause.get("duration") is not None:
            pause["duration"] = scaled_duration(pause["duration"], speed, MIN_PAUSE_SECONDS)


def _prepare_template(template: JsonObject, speed: float, prometheus_url: str) -> None:
    for metric in (template.get("spec") or {}).get("metrics") or []:
        if not isinstance(metric, dict):
            continue
        if metric.get("interval") is not None:
            metric["interval"] = scaled_duration(metric["interval"], speed, MIN_INTERVAL_SECONDS)
        if metric.get("initialDelay") is not None:
            metric["initialDelay"] = scaled_duration(metric["initialDelay"], speed, MIN_INITIAL_DELAY_SECONDS)
        prometheus = (metric.get("provider") or {}).get("prometheus")
        if isinstance(prometheus, dict):
            prometheus["address"] = prometheus_url


@dataclass(frozen=True)
class RolloutShape:
    """What the demo needs to know about the example's Rollout."""

    name: str
    container: str
    image: str
    canary_service: str
    virtual_service: str
    pauses_seconds: float


def rollout_shape(rollout: JsonObject) -> RolloutShape:
    spec = rollout.get("spec") or {}
    container = ((spec.get("template") or {}).get("spec") or {}).get("containers", [{}])[0]
    canary = (spec.get("strategy") or {}).get("canary") or {}
    services = ((canary.get("trafficRouting") or {}).get("istio") or {}).get("virtualServices") or [{}]
    pauses = sum(
        parse_duration(step["pause"]["duration"])
        for step in canary.get("steps") or []
        if isinstance(step.get("pause"), dict) and step["pause"].get("duration") is not None
    )
    return RolloutShape(
        name=str((rollout.get("metadata") or {}).get("name", "")),
        container=str(container.get("name", "")),
        image=str(container.get("image", "")),
        canary_service=str(canary.get("canaryService", "")),
        virtual_service=str(services[0].get("name", "")),
        pauses_seconds=pauses,
    )


def rollout_of(documents: Iterable[Mapping[str, Any]]) -> JsonObject:
    """The one Rollout among the documents."""
    rollouts = [dict(d) for d in documents if d.get("kind") == "Rollout"]
    if len(rollouts) != 1:
        raise DemoManifestError(f"the demo expects exactly one Rollout in its example, found {len(rollouts)}")
    return rollouts[0]
