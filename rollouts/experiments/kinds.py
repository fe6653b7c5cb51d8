"""The Experiment kind, for CRD generation, lint and the catalogue."""

from __future__ import annotations

from kube import resources
from kube.kinds import KindSpec, phase_columns
from rollouts.experiments.models import Experiment
from rollouts.experiments.validation import validate_experiment

# Columns as in Argo's own CRD; the short name comes from the ResourceKind, the description from the model.
EXPERIMENT_KIND = KindSpec.for_resource(
    resources.EXPERIMENTS,
    model=Experiment,
    validate=validate_experiment,
    printer_columns=phase_columns("Experiment"),
)

KINDS: tuple[KindSpec, ...] = (EXPERIMENT_KIND,)
