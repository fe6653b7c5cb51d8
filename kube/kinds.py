"""What the project knows about each custom resource kind: model, validation, and CRD presentation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypedDict, Unpack

from pydantic import ValidationError

from kube.issues import FieldIssue, issues_from_validation_error
from kube.modeling import KubeObject
from kube.resources import ResourceKind
from kube.unknown_fields import unknown_fields

ARGO_GROUP = "argoproj.io"
ARGO_VERSION = "v1alpha1"


@dataclass(frozen=True)
class PrinterColumn:
    """One of a CRD's ``additionalPrinterColumns``: what ``kubectl get`` shows for the kind."""

    name: str
    json_path: str
    type: str = "string"
    """The column's OpenAPI type: ``integer``, ``number``, ``string``, ``boolean`` or ``date`` (which kubectl shows
    as an age)."""
    description: str = ""
    priority: int = 0
    """0 puts the column in kubectl's standard view; a higher number shows it only with ``-o wide``."""


# The Age column of a custom resource (the one kubectl shows for a kind without columns of its own).
AGE_COLUMN: Final = PrinterColumn(
    name="Age",
    json_path=".metadata.creationTimestamp",
    type="date",
    description="Time since resource was created",
)


def phase_columns(kind: str) -> tuple[PrinterColumn, ...]:
    """The columns Argo's CRDs give a kind whose status has a phase (AnalysisRun, Experiment): Status, then Age."""
    return (PrinterColumn(name="Status", json_path=".status.phase", description=f"{kind} status"), AGE_COLUMN)


@dataclass(frozen=True)
class ScaleSubresource:
    spec_replicas_path: str
    status_replicas_path: str
    label_selector_path: str | None = None


class ResourceNames(TypedDict):
    """The KindSpec fields of those names that a ``ResourceKind`` holds (``resource_names``)."""

    kind: str
    plural: str
    namespaced: bool
    group: str
    version: str
    short_names: Sequence[str]


class KindPresentation(TypedDict, total=False):
    """The KindSpec fields of those names that say how a kind is presented (``KindSpec.for_resource``'s keywords)."""

    categories: Sequence[str]
    printer_columns: Sequence[PrinterColumn]
    scale: ScaleSubresource | None
    has_status: bool
    description: str
    extra: dict[str, Any]
    advise: Callable[[Any], list[FieldIssue]] | None


@dataclass(frozen=True)
class KindSpec:
    """A custom resource kind served by the project."""

    kind: str
    plural: str
    model: type[KubeObject]
    validate: Callable[[Any], list[FieldIssue]]
    namespaced: bool = True
    group: str = ARGO_GROUP
    version: str = ARGO_VERSION
    short_names: Sequence[str] = ()
    categories: Sequence[str] = ()
    printer_columns: Sequence[PrinterColumn] = ()
    scale: ScaleSubresource | None = None
    has_status: bool = True
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    advise: Callable[[Any], list[FieldIssue]] | None = None
    """What lint warns about in a valid object (accepted, but probably not what was meant)."""

    @classmethod
    def for_resource(
        cls,
        resource: ResourceKind,
        *,
        model: type[KubeObject],
        validate: Callable[[Any], list[FieldIssue]],
        **presentation: Unpack[KindPresentation],
    ) -> KindSpec:
        """The kind ``resource`` names (see :func:`resource_names`), with its model, validation and the CRD
        presentation fields given as keywords."""
        return cls(**resource_names(resource), model=model, validate=validate, **presentation)

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    def advice(self, manifest: dict[str, Any]) -> list[FieldIssue]:
        """The warnings about a manifest that ``check`` finds valid (none for one it does not, or that fails to
        parse)."""
        if self.advise is None:
            return []
        try:
            parsed = self.model.from_dict(manifest)
        except ValidationError:
            return []
        return self.advise(parsed)

    def check(self, manifest: dict[str, Any], *, strict: bool = False) -> list[FieldIssue]:
        """Every issue with a manifest: structural first; semantic only when the structure parses.

        ``strict`` (lint) also reports fields the kind does not have, as Argo's lint does by strict decoding;
        the controllers keep them, as the API server does.
        """
        try:
            parsed = self.model.from_dict(manifest)
        except ValidationError as error:
            return issues_from_validation_error(error)
        unknown = unknown_fields(parsed) if strict else []
        return [*unknown, *self.validate(parsed)]


def resource_names(resource: ResourceKind) -> ResourceNames:
    """The KindSpec fields a ResourceKind already holds: names, group, version, scope and short names."""
    return {
        "kind": resource.kind,
        "plural": resource.plural,
        "namespaced": resource.namespaced,
        "group": resource.group,
        "version": resource.version,
        "short_names": resource.short_names,
    }
