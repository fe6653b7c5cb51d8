"""The `web` canary Rollout the traffic-router tests route (Services `web-canary` and `web-stable`)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any


def web_canary(traffic_routing: dict[str, Any], *, namespace: str | None = None, uid: str | None = None,
               steps: Sequence[dict[str, Any]] = ({"setWeight": 10},), replicas: int | None = None) -> dict[str, Any]:
    """The Rollout manifest, routed by ``traffic_routing``; metadata and replicas only where given."""
    metadata: dict[str, Any] = {"name": "web"}
    if namespace is not None:
        metadata["namespace"] = namespace
    if uid is not None:
        metadata["uid"] = uid
    spec: dict[str, Any] = {} if replicas is None else {"replicas": replicas}
    spec.update({
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "web:v1"}]},
        },
        "strategy": {
            "canary": {
                "canaryService": "web-canary",
                "stableService": "web-stable",
                "trafficRouting": traffic_routing,
                "steps": copy.deepcopy(list(steps)),
            }
        },
    })
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": metadata, "spec": spec}
