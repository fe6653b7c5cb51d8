"""Every custom resource kind the project serves, gathered from the packages that own them."""

from __future__ import annotations

from analysis.kinds import KINDS as ANALYSIS_KINDS
from gitops.kinds import KINDS as GITOPS_KINDS
from kube.kinds import KindSpec
from rollouts.kinds import KINDS as ROLLOUT_KINDS

ALL_KINDS: tuple[KindSpec, ...] = (*ROLLOUT_KINDS, *ANALYSIS_KINDS, *GITOPS_KINDS)


def kind_for(api_version: str, kind: str) -> KindSpec | None:
    """The project's spec for a manifest's apiVersion and kind, or None for kinds it passes through."""
    for spec in ALL_KINDS:
        if spec.kind == kind and spec.api_version == api_version:
            return spec
    return None
