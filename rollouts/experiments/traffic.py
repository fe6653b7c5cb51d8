"""The traffic an experiment step's templates take (Argo's ``experiment.templates[].weight`` with traffic routing).

While the step's Experiment is Running, each template that sets a ``weight`` and whose Service exists is an
additional destination for the router: its Service (named in ``status.templateStatuses[].serviceName``) gets that
share, the canary keeps the weight of the last ``setWeight``, and the stable takes what is left (Argo's
``calculateWeightDestinationsFromExperiment``). Before the Experiment runs and once it has finished, there are none,
so the router drops those destinations again. ``status.canary.weights.additional`` records them.

Pure: functions of the step and the observed Experiment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from kube.json_data import JsonObject
from rollouts.models import CanaryStep
from rollouts.traffic.router import WeightDestination

RUNNING: Final = "Running"


def experiment_destinations(
    step: CanaryStep | None, experiment: Mapping[str, Any] | None
) -> tuple[WeightDestination, ...]:
    """The additional destinations of the step's Experiment: one per weighted template whose Service exists, in the
    order of the Experiment's template statuses; none unless the Experiment is Running."""
    if step is None or step.experiment is None or experiment is None:
        return ()
    status = experiment.get("status")
    status = status if isinstance(status, Mapping) else {}
    if status.get("phase") != RUNNING:
        return ()
    weights = {template.name: template.weight for template in step.experiment.templates}
    destinations: list[WeightDestination] = []
    for entry in status.get("templateStatuses") or ():
        if not isinstance(entry, Mapping):
            continue
        weight = weights.get(str(entry.get("name") or ""))
        service = entry.get("serviceName")
        # A template without weight takes no traffic; one whose Service is not created yet has nothing to route to.
        if weight is None or not isinstance(service, str) or not service:
            continue
        pod_hash = entry.get("podTemplateHash")
        destinations.append(
            WeightDestination(
                service_name=service,
                pod_template_hash=pod_hash if isinstance(pod_hash, str) and pod_hash else None,
                weight=weight,
            )
        )
    return tuple(destinations)


def weights_with_additional(weights: JsonObject, additional: Sequence[WeightDestination]) -> JsonObject:
    """``status.canary.weights`` with the additional destinations: listed under ``additional``, their shares taken
    from the stable's (Argo's calculateWeightStatus). Unchanged without any."""
    if not additional:
        return weights
    stable = dict(weights.get("stable") or {})
    stable["weight"] = int(stable.get("weight") or 0) - sum(destination.weight for destination in additional)
    entries: list[JsonObject] = []
    for destination in additional:
        entry: JsonObject = {"weight": destination.weight, "serviceName": destination.service_name}
        if destination.pod_template_hash:
            entry["podTemplateHash"] = destination.pod_template_hash
        entries.append(entry)
    return {**weights, "stable": stable, "additional": entries}


__all__ = ["experiment_destinations", "weights_with_additional"]
