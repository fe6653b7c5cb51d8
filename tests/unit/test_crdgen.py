"""CRD generation from pydantic models: the schemas must be structural and keep what the models accept."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

import pytest
import yaml
from kubernetes.client.models import V1CustomResourceDefinition
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kube.crdgen import (
    HEADER,
    KUSTOMIZATION_FILE,
    CrdGenerationError,
    crd_filename,
    crd_for,
    render_crd_files,
    render_crd_yaml,
    structural_schema,
)
from kube.durations import Duration
from kube.kinds import KindSpec, PrinterColumn, ScaleSubresource
from kube.modeling import KubeModel, KubeObject
from kube.quantities import IntOrPercent

PRESERVE = "x-kubernetes-preserve-unknown-fields"
INT_OR_STRING = "x-kubernetes-int-or-string"
INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]

# The fields of apiextensions.k8s.io/v1 JSONSchemaProps this generator may emit (a subset of the server's).
ALLOWED_KEYS = {
    "type",
    "description",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "enum",
    "format",
    "maximum",
    "minimum",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "multipleOf",
    "maxLength",
    "minLength",
    "maxItems",
    "minItems",
    "maxProperties",
    "minProperties",
    "nullable",
    "anyOf",
}
TYPES = {"string", "integer", "number", "boolean", "object", "array"}


def structural_problems(schema: Any, path: str = "") -> list[str]:
    """Everything that makes an openAPIV3Schema non-structural (or invalid in a v1 CRD), by schema path."""
    at = path or "<root>"
    if not isinstance(schema, dict):
        return [f"{at}: a schema must be a mapping, got {schema!r}"]
    problems = [
        f"{at}: {key!r} is not allowed in a CRD schema"
        for key in schema
        if key not in ALLOWED_KEYS and not key.startswith("x-kubernetes-")
    ]
    kind = schema.get("type")
    if kind is not None and kind not in TYPES:
        problems.append(f"{at}: unknown type {kind!r}")
    if kind is None and not (schema.get(INT_OR_STRING) or schema.get(PRESERVE)):
        problems.append(f"{at}: no type (and neither int-or-string nor preserve-unknown-fields)")
    if schema.get(INT_OR_STRING):
        if kind is not None:
            problems.append(f"{at}: int-or-string must not have a type")
        if schema.get("anyOf", INT_OR_STRING_ANY_OF) != INT_OR_STRING_ANY_OF:
            problems.append(f"{at}: int-or-string anyOf must be exactly integer, string")
    elif "anyOf" in schema:
        problems.append(f"{at}: anyOf is only allowed in the int-or-string pattern")
    if "nullable" in schema and kind is None:
        problems.append(f"{at}: nullable without a type")
    if "properties" in schema and "additionalProperties" in schema:
        problems.append(f"{at}: properties and additionalProperties together")
    if schema.get("additionalProperties") is False or schema.get("additionalProperties") is True:
        problems.append(f"{at}: additionalProperties must be a schema")
    if ("properties" in schema or "additionalProperties" in schema) and kind != "object":
        problems.append(f"{at}: properties on a non-object")
    if kind == "array" and not isinstance(schema.get("items"), dict):
        problems.append(f"{at}: an array needs a single items schema")
    if "items" in schema and kind != "array":
        problems.append(f"{at}: items on a non-array")
    for exclusive in ("exclusiveMinimum", "exclusiveMaximum"):
        if exclusive in schema and not isinstance(schema[exclusive], bool):
            problems.append(f"{at}: {exclusive} must be a boolean in OpenAPI v3.0")
    for name in schema.get("required", []):
        if name not in schema.get("properties", {}):
            problems.append(f"{at}: required {name!r} is not a property")
    for name, child in schema.get("properties", {}).items():
        problems.extend(structural_problems(child, f"{path}.{name}"))
    if isinstance(schema.get("additionalProperties"), dict):
        problems.extend(structural_problems(schema["additionalProperties"], f"{path}.*"))
    if "items" in schema:
        problems.extend(structural_problems(schema["items"], f"{path}[]"))
    return problems


def root_problems(root: dict[str, Any]) -> list[str]:
    """The extra rules for the root: object, metadata left alone, no additionalProperties."""
    problems = structural_problems(root)
    if root.get("type") != "object":
        problems.append("<root>: must be type object")
    if "additionalProperties" in root:
        problems.append("<root>: additionalProperties is not allowed")
    if root.get("properties", {}).get("metadata") != {"type": "object"}:
        problems.append("<root>.metadata: must be exactly {type: object}")
    return problems


# --- toy models ---------------------------------------------------------------------------------------------


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Limits(KubeModel):
    """Resource limits."""

    replicas: int = Field(0, ge=0, le=10)
    weight: int = Field(1, gt=0)


class Step(KubeModel):
    set_weight: int | None = None
    pause: dict[str, Any] | None = None


class TreeNode(KubeModel):
    name: str = ""
    children: list[TreeNode] = Field(default_factory=list)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    flag: bool = False


class Web(KubeModel):
    provider: Literal["web"] = "web"
    url: str = ""


class Prom(KubeModel):
    provider: Literal["prometheus"]
    query: str


class ToySpec(KubeModel):
    """The toy spec."""

    replicas: int = 1
    timeout: Duration = "30s"
    optional_timeout: Duration | None = None
    max_surge: IntOrPercent = "25%"
    port: int | str = 80
    labels: dict[str, str] = Field(default_factory=dict)
    values: dict[str, Any] = Field(default_factory=dict)
    anything: Any = None
    steps: list[Step] = Field(default_factory=list)
    matrix: list[list[Limits]] = Field(default_factory=list)
    limits: Limits | None = None
    mode: Literal["canary", "blueGreen"] = "canary"
    colour: Colour | None = None
    hpa_replicas: int | None = Field(None, alias="HPAReplicas")
    tree: TreeNode | None = None
    strict: Strict | None = None
    tags: set[str] = Field(default_factory=set)
    provider: Annotated[Web | Prom, Field(discriminator="provider")] | None = None
    ratio: float | None = None
    flag_or_text: bool | str = False
    started_at: str | None = Field(None, json_schema_extra={"format": "date-time"})
    name_pattern: str = Field("x", pattern=r"^[a-z]+$", description="Lower-case letters only.")


class ToyStatus(KubeModel):
    phase: str = ""
    replicas: int = 0
    selector: str = ""


class Toy(KubeObject):
    spec: ToySpec
    status: ToyStatus = Field(default_factory=ToyStatus)


class Template(KubeObject):
    spec: dict[str, Any] = Field(default_factory=dict)


def toy_kind(**overrides: Any) -> KindSpec:
    fields: dict[str, Any] = {
        "kind": "Toy",
        "plural": "toys",
        "model": Toy,
        "validate": lambda parsed: [],
        "short_names": ("ty",),
        "categories": ("all", "argoproj"),
        "printer_columns": (
            PrinterColumn("Desired", ".spec.replicas", "integer", "Number of desired pods"),
            PrinterColumn("Phase", ".status.phase", priority=1),
        ),
        "scale": ScaleSubresource(".spec.replicas", ".status.replicas", ".status.selector"),
        "description": "A toy kind.",
    }
    fields.update(overrides)
    return KindSpec(**fields)


def spec_properties() -> dict[str, Any]:
    root = crd_for(toy_kind())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    properties: dict[str, Any] = root["properties"]["spec"]["properties"]
    return properties


def walk(schema: Any) -> list[dict[str, Any]]:
    """Every mapping in a schema tree, depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        found.append(schema)
        for value in schema.values():
            found.extend(walk(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(walk(value))
    return found


# --- the schema is structural -------------------------------------------------------------------------------


def test_toy_schema_is_structural() -> None:
    root = crd_for(toy_kind())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert root_problems(root) == []


def test_toy_crd_decodes_as_an_apiextensions_v1_object() -> None:
    V1CustomResourceDefinition.model_validate(crd_for(toy_kind()))


def test_apiextensions_model_rejects_json_schema_only_keywords() -> None:
    crd = crd_for(toy_kind())
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["const"] = "x"
    with pytest.raises(ValidationError):
        V1CustomResourceDefinition.model_validate(crd)


def test_checker_rejects_what_pydantic_emits() -> None:
    raw = Toy.model_json_schema(by_alias=True, mode="validation")
    problems = structural_problems(raw)
    assert any("'$defs'" in problem for problem in problems)
    assert any("'title'" in problem for problem in problems)


def test_no_references_titles_or_defaults_survive() -> None:
    root = crd_for(toy_kind())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for node in walk(root):
        assert not {"$ref", "$defs", "title", "default", "const", "oneOf", "discriminator"} & set(node)


# --- field by field -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["timeout", "optionalTimeout", "maxSurge", "port"])
def test_int_or_string_fields_use_the_int_or_string_extension(field: str) -> None:
    assert spec_properties()[field] == {"anyOf": INT_OR_STRING_ANY_OF, INT_OR_STRING: True}


def test_string_map_keeps_its_value_type() -> None:
    assert spec_properties()["labels"] == {"type": "object", "additionalProperties": {"type": "string"}}


def test_free_form_map_is_an_object_that_keeps_unknown_fields() -> None:
    assert spec_properties()["values"] == {"type": "object", PRESERVE: True}


def test_any_may_be_a_scalar_so_it_has_no_type() -> None:
    assert spec_properties()["anything"] == {PRESERVE: True}


def test_nested_lists_keep_their_item_schemas() -> None:
    matrix = spec_properties()["matrix"]
    assert matrix["type"] == "array"
    assert matrix["items"]["type"] == "array"
    inner = matrix["items"]["items"]
    assert inner["type"] == "object"
    assert set(inner["properties"]) == {"replicas", "weight"}


def test_optional_model_is_inlined_without_nullable() -> None:
    limits = spec_properties()["limits"]
    assert limits["type"] == "object"
    assert limits["description"] == "Resource limits."
    assert "nullable" not in limits


def test_optional_scalar_drops_the_null_branch() -> None:
    assert spec_properties()["ratio"] == {"type": "number"}


def test_literal_becomes_an_enum() -> None:
    assert spec_properties()["mode"] == {"type": "string", "enum": ["canary", "blueGreen"]}


def test_enum_class_becomes_an_enum() -> None:
    assert spec_properties()["colour"] == {"type": "string", "enum": ["red", "blue"]}


def test_explicit_alias_is_the_property_name() -> None:
    properties = spec_properties()
    assert "HPAReplicas" in properties
    assert "hpaReplicas" not in properties


def test_models_that_keep_unknown_fields_are_not_pruned() -> None:
    assert spec_properties()["steps"]["items"][PRESERVE] is True


def test_models_that_forbid_unknown_fields_are_pruned() -> None:
    strict = spec_properties()["strict"]
    assert strict == {"type": "object", "properties": {"flag": {"type": "boolean"}}}


def test_recursion_is_cut_with_preserve_unknown_fields() -> None:
    tree = spec_properties()["tree"]
    assert tree["properties"]["children"]["items"] == {"type": "object", PRESERVE: True}


def test_set_drops_unique_items() -> None:
    assert spec_properties()["tags"] == {"type": "array", "items": {"type": "string"}}


def test_exclusive_bounds_become_openapi_flags() -> None:
    limits = spec_properties()["limits"]["properties"]
    assert limits["weight"] == {"type": "integer", "minimum": 0, "exclusiveMinimum": True}
    assert limits["replicas"] == {"type": "integer", "minimum": 0, "maximum": 10}


def test_discriminated_union_merges_the_variants() -> None:
    provider = spec_properties()["provider"]
    assert provider["type"] == "object"
    assert set(provider["properties"]) == {"provider", "url", "query"}
    assert provider["properties"]["provider"] == {"type": "string", "enum": ["web", "prometheus"]}
    assert "required" not in provider  # only what every variant requires


def test_union_of_unrelated_scalars_accepts_either() -> None:
    assert spec_properties()["flagOrText"] == {PRESERVE: True}


def test_known_format_is_kept_and_pattern_dropped() -> None:
    properties = spec_properties()
    assert properties["startedAt"] == {"type": "string", "format": "date-time"}
    assert properties["namePattern"] == {"type": "string", "description": "Lower-case letters only."}


def test_kubernetes_hints_from_the_model_are_kept() -> None:
    class Hinted(KubeModel):
        items: list[str] = Field(default_factory=list, json_schema_extra={"x-kubernetes-list-type": "set"})

    schema = structural_schema(Hinted.model_json_schema(by_alias=True, mode="validation"))
    assert schema["properties"]["items"]["x-kubernetes-list-type"] == "set"


def test_descriptions_lose_their_restructuredtext_markup() -> None:
    class Documented(KubeModel):
        """Steps, see :data:`STEPS`; ``count`` is optional."""

    class Holder(KubeModel):
        documented: Documented | None = None

    schema = structural_schema(Holder.model_json_schema(by_alias=True, mode="validation"))
    assert schema["properties"]["documented"]["description"] == "Steps, see STEPS; `count` is optional."


def test_unresolvable_reference_is_an_error() -> None:
    with pytest.raises(CrdGenerationError, match="unresolvable"):
        structural_schema({"type": "object", "properties": {"x": {"$ref": "#/$defs/Missing"}}})


# --- the root -----------------------------------------------------------------------------------------------


def test_root_leaves_the_api_servers_fields_generic() -> None:
    root = crd_for(toy_kind())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    properties = root["properties"]
    assert properties["apiVersion"] == {"type": "string"}
    assert properties["kind"] == {"type": "string"}
    assert properties["metadata"] == {"type": "object"}
    assert set(properties) == {"apiVersion", "kind", "metadata", "spec", "status"}
    assert root["description"] == "A toy kind."


def test_root_requires_spec_when_the_model_does() -> None:
    root = crd_for(toy_kind())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert root["required"] == ["spec"]


def test_root_requires_nothing_when_spec_has_a_default() -> None:
    root = crd_for(toy_kind(model=Template, has_status=False, scale=None))["spec"]["versions"][0]
    assert "required" not in root["schema"]["openAPIV3Schema"]


def test_kind_can_state_its_root_requirements() -> None:
    kind = toy_kind(extra={"crd_required": ["metadata", "spec"]})
    root = crd_for(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert root["required"] == ["metadata", "spec"]


# --- the CRD around the schema ------------------------------------------------------------------------------


def test_crd_names_and_scope() -> None:
    crd = crd_for(toy_kind())
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"] == {"name": "toys.argoproj.io"}
    assert crd["spec"]["group"] == "argoproj.io"
    assert crd["spec"]["scope"] == "Namespaced"
    assert crd["spec"]["names"] == {
        "kind": "Toy",
        "listKind": "ToyList",
        "plural": "toys",
        "singular": "toy",
        "shortNames": ["ty"],
        "categories": ["all", "argoproj"],
    }


def test_cluster_scoped_kind() -> None:
    crd = crd_for(toy_kind(namespaced=False, short_names=(), categories=()))
    assert crd["spec"]["scope"] == "Cluster"
    assert "shortNames" not in crd["spec"]["names"]
    assert "categories" not in crd["spec"]["names"]


def test_single_served_storage_version() -> None:
    (version,) = crd_for(toy_kind())["spec"]["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)


def test_status_and_scale_subresources() -> None:
    (version,) = crd_for(toy_kind())["spec"]["versions"]
    assert version["subresources"] == {
        "status": {},
        "scale": {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        },
    }


def test_no_subresources_without_status_or_scale() -> None:
    (version,) = crd_for(toy_kind(has_status=False, scale=None))["spec"]["versions"]
    assert "subresources" not in version


def test_printer_columns_carry_priority_only_when_positive() -> None:
    (version,) = crd_for(toy_kind())["spec"]["versions"]
    assert version["additionalPrinterColumns"] == [
        {
            "name": "Desired",
            "type": "integer",
            "jsonPath": ".spec.replicas",
            "description": "Number of desired pods",
        },
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase", "priority": 1},
    ]


# --- rendering ----------------------------------------------------------------------------------------------


def test_rendering_is_deterministic_and_round_trips() -> None:
    crd = crd_for(toy_kind())
    text = render_crd_yaml(crd)
    assert text == render_crd_yaml(crd_for(toy_kind()))
    assert text.startswith(HEADER)
    assert yaml.safe_load(text) == crd


def test_rendering_uses_block_style_without_anchors() -> None:
    text = render_crd_yaml(crd_for(toy_kind()))
    assert "&id" not in text
    assert "*id" not in text
    assert "{type:" not in text


def test_crd_files_are_named_after_group_and_plural() -> None:
    files = render_crd_files([toy_kind(), toy_kind(kind="Template", plural="templates", model=Template)])
    assert list(files) == ["argoproj.io_templates.yaml", "argoproj.io_toys.yaml", KUSTOMIZATION_FILE]
    assert crd_filename(toy_kind()) == "argoproj.io_toys.yaml"


def test_kustomization_lists_every_crd() -> None:
    files = render_crd_files([toy_kind(), toy_kind(kind="Template", plural="templates", model=Template)])
    kustomization = yaml.safe_load(files[KUSTOMIZATION_FILE])
    assert kustomization == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["argoproj.io_templates.yaml", "argoproj.io_toys.yaml"],
    }


def test_two_kinds_with_one_file_name_is_an_error() -> None:
    with pytest.raises(CrdGenerationError, match="share"):
        render_crd_files([toy_kind(), toy_kind(kind="Other")])


# --- the project's own kinds --------------------------------------------------------------------------------


def project_kinds() -> list[KindSpec]:
    try:
        from cli.catalogue import ALL_KINDS
    except ImportError:  # the model packages are still being written
        return []
    return list(ALL_KINDS)


@pytest.mark.parametrize("kind_spec", project_kinds(), ids=lambda spec: spec.kind)
def test_project_kind_schema_is_structural(kind_spec: KindSpec) -> None:
    root = crd_for(kind_spec)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert root_problems(root) == []
