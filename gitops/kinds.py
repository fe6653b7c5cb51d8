"""The Argo CD kinds the project serves: Application, ApplicationSet and AppProject."""

from __future__ import annotations

from gitops.models import Application, ApplicationSet, AppProject
from gitops.validation import validate_app_project, validate_application, validate_application_set
from kube import resources
from kube.kinds import KindSpec, PrinterColumn


def _argo_cd_root_required() -> dict[str, object]:
    # Argo CD's CRDs require metadata and spec at the root; mirror them rather than derive from the models.
    return {"crd_required": ["metadata", "spec"]}


APPLICATION = KindSpec.for_resource(
    resources.APPLICATIONS,
    model=Application,
    validate=validate_application,
    printer_columns=(
        PrinterColumn("Sync Status", ".status.sync.status"),
        PrinterColumn("Health Status", ".status.health.status"),
        PrinterColumn("Revision", ".status.sync.revision", priority=10),
        PrinterColumn("Project", ".spec.project", priority=10),
    ),
    # Like Argo CD's CRD: no status subresource. Argo CD's controller writes status (and clears `operation`)
    # through the main resource, so a status subresource would silently drop those writes.
    has_status=False,
    description="An Application: manifests from a Git or Helm source, synced to a destination cluster.",
    extra=_argo_cd_root_required(),
)

APPLICATION_SET = KindSpec.for_resource(
    resources.APPLICATION_SETS,
    model=ApplicationSet,
    validate=validate_application_set,
    # Unlike the other two, Argo CD's ApplicationSet CRD has a status subresource.
    has_status=True,
    description="An ApplicationSet: Applications generated from a template and the parameters of generators.",
    extra=_argo_cd_root_required(),
)

APP_PROJECT = KindSpec.for_resource(
    resources.APP_PROJECTS,
    model=AppProject,
    validate=validate_app_project,
    has_status=False,
    description="An AppProject: the repositories, destinations and kinds its Applications may use, and when.",
    extra=_argo_cd_root_required(),
)

KINDS: tuple[KindSpec, ...] = (APPLICATION, APPLICATION_SET, APP_PROJECT)
