"""The custom resource kinds the rollouts package serves: for CRD generation, lint and the catalogue."""

from __future__ import annotations

from kube import resources
from kube.kinds import KindSpec, PrinterColumn, ScaleSubresource
from rollouts.advice import rollout_advice
from rollouts.experiments.kinds import EXPERIMENT_KIND
from rollouts.models import Rollout
from rollouts.validation import validate_rollout


def _column(name: str, json_path: str, type_: str, description: str) -> PrinterColumn:
    return PrinterColumn(name=name, json_path=json_path, type=type_, description=description)


# Columns, short name (the ResourceKind's) and scale paths as in Argo's own CRD, so `kubectl get ro` and HPAs
# behave the same.
ROLLOUT_KIND = KindSpec.for_resource(
    resources.ROLLOUTS,
    model=Rollout,
    validate=validate_rollout,
    advise=rollout_advice,
    printer_columns=(
        _column("Desired", ".spec.replicas", "integer", "Number of desired pods"),
        _column("Current", ".status.replicas", "integer", "Pods of this rollout that are not terminated"),
        _column("Up-to-date", ".status.updatedReplicas", "integer", "Pods running the current pod template"),
        _column(
            "Available", ".status.availableReplicas", "integer", "Pods ready for at least minReadySeconds"
        ),
        _column("Age", ".metadata.creationTimestamp", "date", "Time since the rollout was created"),
    ),
    scale=ScaleSubresource(
        spec_replicas_path=".spec.replicas",
        status_replicas_path=".status.HPAReplicas",
        label_selector_path=".status.selector",
    ),
    description="Rollout replaces a Deployment with canary or blue-green delivery of new versions.",
)

KINDS: tuple[KindSpec, ...] = (ROLLOUT_KIND, EXPERIMENT_KIND)
