"""The Argo CD kinds the project serves: Application, ApplicationSet and AppProject."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Unpack

from gitops.models import Application, ApplicationSet, AppProject
from gitops.validation import validate_app_project, validate_application, validate_application_set
from kube import resources
from kube.issues import FieldIssue
from kube.kinds import KindPresentation, KindSpec, PrinterColumn
from kube.modeling import KubeObject
from kube.resources import ResourceKind


def _argo_cd_kind(
    resource: ResourceKind,
    *,
    model: type[KubeObject],
    validate: Callable[[Any], list[FieldIssue]],
    **presentation: Unpack[KindPresentation],
) -> KindSpec:
    """A kind as Argo CD's CRDs declare it: metadata and spec required at the root (mirrored rather than derived
    from the models) and, unless ``has_status=True`` is given, no status subresource."""
    presentation.setdefault("has_status", False)
    presentation["extra"] = {"crd_required": ["metadata", "spec"]}
    return KindSpec.for_resource(resource, model=model, validate=validate, **presentation)


# Like Argo CD's CRD: no status subresource. Argo CD's controller writes status (and clears `operation`) through
# the main resource, so a status subresource would silently drop those writes.
APPLICATION = _argo_cd_kind(
    resources.APPLICATIONS,
    model=Application,
    validate=validate_application,
    printer_columns=(
        PrinterColumn("Sync Status", ".status.sync.status"),
        PrinterColumn("Health Status", ".status.health.status"),
        PrinterColumn("Revision", ".status.sync.revision", priority=10),
        PrinterColumn("Project", ".spec.project", priority=10),
    ),
    description="An Application: manifests from a Git or Helm source, synced to a destination cluster.",
)

APPLICATION_SET = _argo_cd_kind(
    resources.APPLICATION_SETS,
    model=ApplicationSet,
    validate=validate_application_set,
    # Unlike the other two, Argo CD's ApplicationSet CRD has a status subresource.
    has_status=True,
    description="An ApplicationSet: Applications generated from a template and the parameters of generators.",
)

APP_PROJECT = _argo_cd_kind(
    resources.APP_PROJECTS,
    model=AppProject,
    validate=validate_app_project,
    description="An AppProject: the repositories, destinations and kinds its Applications may use, and when.",
)

KINDS: tuple[KindSpec, ...] = (APPLICATION, APPLICATION_SET, APP_PROJECT)
