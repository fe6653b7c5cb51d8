"""The Experiment kind, for CRD generation, lint and the catalogue."""

from __future__ import annotations

from kube import resources
from kube.kinds import AGE_COLUMN, KindSpec, PrinterColumn
from rollouts.experiments.models import Experiment
from rollouts.experiments.validation import validate_experiment

# Columns and short name as in Argo's own CRD.
EXPERIMENT_KIND = KindSpec.for_resource(
    resources.EXPERIMENTS,
    model=Experiment,
    validate=validate_experiment,
    printer_columns=(
        PrinterColumn(name="Status", json_path=".status.phase", description="Experiment status"),
        AGE_COLUMN,
    ),
    description="Experiment runs ReplicaSets side by side for a while, with the AnalysisRuns that judge them.",
)

KINDS: tuple[KindSpec, ...] = (EXPERIMENT_KIND,)
