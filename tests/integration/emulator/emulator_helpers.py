"""Bodies and helpers shared by the emulator's conformance tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

GROUP, VERSION = "sandbox.test", "v1"

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.sandbox.test"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"],
                  "categories": ["gadgets"]},
        "versions": [{
            "name": VERSION,
            "served": True,
            "storage": True,
            "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            "subresources": {
                "status": {},
                "scale": {"specReplicasPath": ".spec.size", "statusReplicasPath": ".status.ready",
                          "labelSelectorPath": ".status.selector"},
            },
        }],
    },
}


def widget(name: str, size: int = 1, **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget", "metadata": {"name": name, **metadata},
            "spec": {"size": size}}


def configmap(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def deployment(name: str, image: str = "app:1", replicas: int = 2) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [
                    {"name": "app", "image": image, "env": [{"name": "MODE", "value": "a"}],
                     "ports": [{"containerPort": 8080}]},
                    {"name": "sidecar", "image": "proxy:1"},
                ]},
            },
        },
    }


def patch_headers(kind: str) -> dict[str, str]:
    return {"Content-Type": {
        "merge": "application/merge-patch+json",
        "strategic": "application/strategic-merge-patch+json",
        "json": "application/json-patch+json",
        "apply": "application/apply-patch+yaml",
    }[kind]}


def read_events(response: httpx.Response, count: int | None = None) -> list[dict[str, Any]]:
    """Watch events from a streamed response, up to ``count`` (or until the server ends the stream)."""
    events: list[dict[str, Any]] = []
    for line in response.iter_lines():
        if not line:
            continue
        events.append(json.loads(line))
        if count is not None and len(events) >= count:
            break
    return events


def eventually(check: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
