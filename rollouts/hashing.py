"""Deterministic hashes of a Rollout's pod template and canary steps, encoded the way Kubernetes names things.

Argo hashes Go's JSON encoding of the typed template; plain dicts have no such canonical form, so we hash the
canonical JSON (sorted keys, compact separators) instead. The values therefore differ from Argo's, but they have
the properties that matter: the same template always gives the same hash, any change gives a new one, and the
hash label a ReplicaSet's template carries does not feed back into its own hash.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

HASH_LABEL = "rollouts-pod-template-hash"

# apimachinery's SafeEncodeString alphabet: no vowels (no words), no 0/1/3 (no look-alikes).
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

_FNV_OFFSET_BASIS = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv32a(data: bytes) -> int:
    """The 32-bit FNV-1a hash of ``data`` (Go's hash/fnv New32a)."""
    value = _FNV_OFFSET_BASIS
    for byte in data:
        value ^= byte
        value = (value * _FNV_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """Each character mapped into :data:`SAFE_ALPHABET`, as apimachinery's SafeEncodeString does."""
    return "".join(SAFE_ALPHABET[ord(character) % len(SAFE_ALPHABET)] for character in text)


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def pod_template_hash(template: Mapping[str, Any], collision_count: int | None = None) -> str:
    """The ``rollouts-pod-template-hash`` of a pod template.

    The template's own hash label is left out, so a template copied back from a ReplicaSet (``undo``) hashes to the
    ReplicaSet it came from. ``collision_count`` is mixed in like Kubernetes does (little-endian, eight bytes) so a
    collision can be escaped by bumping it.
    """
    stripped = _without_hash_label(template)
    data = canonical_json(stripped)
    if collision_count is not None:
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4)
    return safe_encode(str(fnv32a(data)))


def collision_escaping_count(
    template: Mapping[str, Any], observed: int | None, rollout_name: str, taken: Collection[str]
) -> int | None:
    """The collision count that makes the new ReplicaSet's name ``<rollout>-<hash>`` free of ``taken`` names (those
    of ReplicaSets the Rollout does not own), starting from the ``observed`` ``status.collisionCount``.

    As in Argo (and Kubernetes' Deployments), a name already held by someone else's ReplicaSet (a Deployment of the
    same name running the same template, say) bumps the count, which changes the hash: 1 after none, then +1.
    """
    count = observed
    while f"{rollout_name}-{pod_template_hash(template, count)}" in taken:
        count = 1 if count is None else count + 1
    return count


def steps_hash(steps: Any) -> str:
    """``status.currentStepHash``: changes whenever the canary steps change, which restarts the steps."""
    return safe_encode(str(fnv32a(canonical_json(steps if steps is not None else []))))


def _without_hash_label(template: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(template)
    metadata = copy.get("metadata")
    if isinstance(metadata, dict):
        labels = metadata.get("labels")
        if isinstance(labels, dict) and HASH_LABEL in labels:
            copy["metadata"] = {
                **metadata,
                "labels": {key: value for key, value in labels.items() if key != HASH_LABEL},
            }
    return copy
