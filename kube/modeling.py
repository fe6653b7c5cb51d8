"""Base classes for models of Kubernetes objects: camelCase aliases, unknown fields kept, round-trip dumps."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from kube.label_selectors import selector_matches


class KubeModel(BaseModel):
    """A part of a Kubernetes manifest.

    Field names are snake_case in Python and camelCase on the wire; fields the model does not know are kept,
    so ``parse → dump`` returns what was read.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        validate_assignment=False,
        ser_json_inf_nan="constants",
    )

    def to_dict(self) -> dict[str, Any]:
        """The manifest form: camelCase keys, only the fields that were set."""
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")

    def present_fields(self, wire_names: Iterable[str] | None = None) -> list[str]:
        """The wire (camelCase) names, among ``wire_names`` (default: every field, in declaration order), of the
        fields that hold a value, in that order: which of its mutually exclusive options a manifest chose."""
        attributes = _attributes_by_wire_name(type(self))
        names = attributes if wire_names is None else wire_names
        return [name for name in names if getattr(self, attributes[name]) is not None]


@cache
def _attributes_by_wire_name(model: type[KubeModel]) -> dict[str, str]:
    return {field.alias or name: name for name, field in model.model_fields.items()}


class OwnerReference(KubeModel):
    """An object this one belongs to. Kubernetes' garbage collector deletes the object once every owner is gone;
    ``controller`` marks the one owner that manages it, as a Rollout manages its ReplicaSets and AnalysisRuns."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectMeta(KubeModel):
    """The ``metadata`` every Kubernetes object has, with the fields the controllers read; the others (such as
    ``managedFields``) are kept as they came, like any unknown field."""

    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    """Opaque; the API server changes it on every write, and a write that carries it fails with 409 Conflict when the
    object has changed since it was read."""
    generation: int | None = None
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    finalizers: list[str] = Field(default_factory=list)
    owner_references: list[OwnerReference] = Field(default_factory=list)


class LabelSelectorRequirement(KubeModel):
    key: str
    operator: str
    values: list[str] = Field(default_factory=list)


class LabelSelector(KubeModel):
    match_labels: dict[str, str] = Field(default_factory=dict)
    match_expressions: list[LabelSelectorRequirement] = Field(default_factory=list)

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether an object with these labels is selected."""
        return selector_matches(self.model_dump(by_alias=True), labels)


class KubeObject(KubeModel):
    """A whole top-level object: apiVersion, kind, metadata."""

    api_version: str
    kind: str
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Parse a manifest; raises pydantic.ValidationError whose locations are camelCase field paths."""
        return cls.model_validate(data)

    @property
    def name(self) -> str:
        return self.metadata.name or ""

    @property
    def namespace(self) -> str:
        return self.metadata.namespace or ""
