"""Custom resources against their CRD's structural schema: pruning, defaulting, then validation, as upstream.

On every write of a custom resource a real API server first drops what the schema does not declare
(``pruning``: unknown fields, unless ``x-kubernetes-preserve-unknown-fields`` keeps them; nulls in fields that
are not ``nullable``), fills absent fields that have a ``default`` (inside objects that are present), then
validates the rest: types, ``required``, ``enum``, bounds, lengths, patterns and
item counts, reporting each violation as a field error in the apiextensions wording
(``spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"``).
The root ``apiVersion``, ``kind`` and ``metadata`` are the API machinery's, never the schema's.
Pure functions over plain dicts.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sized
from dataclasses import dataclass, field
from typing import Any

from kube.json_data import json_type_name
from sandbox.emulator import status
from sandbox.emulator.resources import ResourceSpec
from sandbox.emulator.store import Obj

_ROOT_FIELDS = ("apiVersion", "kind", "metadata")
_EMBEDDED_FIELDS = ("apiVersion", "kind", "metadata")


@dataclass(frozen=True, slots=True)
class FieldError:
    """One violation, as a ``StatusCause``: ``reason`` (FieldValueInvalid, …), the field path, the detail."""

    reason: str
    field: str
    detail: str

    def __str__(self) -> str:
        return f"{self.field}: {self.detail}"


@dataclass(slots=True)
class Admission:
    """The object as it would be stored, what pruning dropped (``spec.foo``) and what is invalid."""

    value: Any
    pruned: list[str] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)


def _has_type(value: Any, expected: str) -> bool:
    actual = json_type_name(value)
    if expected == "number":
        return actual in ("integer", "number")
    if expected == "integer" and isinstance(value, float):
        return value.is_integer()  # JSON has one number type; 3.0 decodes as an integer upstream
    return actual == expected


def _shown(value: Any) -> str:
    """A value as Go's field errors print it: strings quoted, numbers and booleans bare."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _invalid(path: str, value: Any, problem: str) -> FieldError:
    return FieldError("FieldValueInvalid", path, f"Invalid value: {_shown(value)}: {problem}")


def _type_error(path: str, expected: str, value: Any) -> FieldError:
    actual = json_type_name(value)
    return _invalid(path, actual, f"{path} in body must be of type {expected}: {json.dumps(actual)}")


@dataclass(frozen=True)
class _SizeLimit:
    """The schema keywords that bound the size of one JSON type, and the API server's words for a breach."""

    kind: type[Sized]
    minimum: str
    maximum: str
    too_big: str  # the field error's type; its message gets {size} and {limit}
    too_big_message: str
    too_small_message: str  # gets {path} and {limit}


_SIZE_LIMITS = (
    _SizeLimit(str, "minLength", "maxLength", "FieldValueTooLong",
               "Too long: may not be more than {limit} bytes", "{path} in body should be at least {limit} chars long"),
    _SizeLimit(list, "minItems", "maxItems", "FieldValueTooMany",
               "Too many: {size}: must have at most {limit} items",
               "{path} in body should have at least {limit} items"),
    _SizeLimit(dict, "minProperties", "maxProperties", "FieldValueTooMany",
               "Too many: {size}: must have at most {limit} items",
               "{path} in body should have at least {limit} properties"),
)


def _size_errors(schema: Mapping[str, Any], value: Any, path: str) -> list[FieldError]:
    """A string's length, an array's items or an object's properties beyond the schema's bounds."""
    errors: list[FieldError] = []
    for bounds in _SIZE_LIMITS:
        if not isinstance(value, bounds.kind):
            continue
        minimum, maximum = schema.get(bounds.minimum), schema.get(bounds.maximum)
        if isinstance(maximum, int) and len(value) > maximum:
            message = bounds.too_big_message.format(size=len(value), limit=maximum)
            errors.append(FieldError(bounds.too_big, path, message))
        if isinstance(minimum, int) and len(value) < minimum:
            errors.append(_invalid(path, value, bounds.too_small_message.format(path=path, limit=minimum)))
    return errors


def _scalar_checks(schema: Mapping[str, Any], value: Any, path: str) -> list[FieldError]:
    """Everything but type and structure: enum, bounds, lengths, pattern, item and property counts."""
    errors: list[FieldError] = []
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        supported = ", ".join(_shown(v) for v in enum)
        errors.append(FieldError("FieldValueNotSupported", path,
                                 f"Unsupported value: {_shown(value)}: supported values: {supported}"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        minimum, maximum = schema.get("minimum"), schema.get("maximum")
        if isinstance(minimum, (int, float)):
            if schema.get("exclusiveMinimum") is True and value <= minimum:
                errors.append(_invalid(path, value, f"{path} in body should be greater than {minimum}"))
            elif value < minimum:
                errors.append(_invalid(path, value, f"{path} in body should be greater than or equal to"
                                                    f" {minimum}"))
        if isinstance(maximum, (int, float)):
            if schema.get("exclusiveMaximum") is True and value >= maximum:
                errors.append(_invalid(path, value, f"{path} in body should be less than {maximum}"))
            elif value > maximum:
                errors.append(_invalid(path, value, f"{path} in body should be less than or equal to {maximum}"))
        multiple = schema.get("multipleOf")
        if isinstance(multiple, (int, float)) and multiple and (value / multiple) % 1:
            errors.append(_invalid(path, value, f"{path} in body should be a multiple of {multiple}"))
    errors.extend(_size_errors(schema, value, path))
    if isinstance(value, str):
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and re.search(pattern, value) is None:
            errors.append(_invalid(path, value, f"{path} in body should match '{pattern}'"))
    unique = schema.get("uniqueItems") is True
    if isinstance(value, list) and unique and len({_shown(v) for v in value}) != len(value):
        errors.append(FieldError("FieldValueDuplicate", path, "Duplicate value"))
    return errors


def _value_branch_errors(schema: Mapping[str, Any], value: Any, path: str) -> list[FieldError]:
    """A value-validation branch (anyOf/allOf/oneOf/not): its type if any, its checks, its properties."""
    expected = schema.get("type")
    if isinstance(expected, str) and not _has_type(value, expected):
        return [_type_error(path, expected, value)]
    errors = _scalar_checks(schema, value, path)
    if isinstance(value, dict):
        for name, child in (schema.get("properties") or {}).items():
            if name in value and isinstance(child, Mapping):
                errors.extend(_value_branch_errors(child, value[name], _join(path, name)))
        for name in schema.get("required") or ():
            if name not in value:
                errors.append(FieldError("FieldValueRequired", _join(path, name), "Required value"))
    return errors


def _combinator_errors(schema: Mapping[str, Any], value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for branch in schema.get("allOf") or ():
        errors.extend(_value_branch_errors(branch, value, path))
    any_of = schema.get("anyOf")
    int_or_string = schema.get("x-kubernetes-int-or-string")
    if any_of and not int_or_string and all(_value_branch_errors(b, value, path) for b in any_of):
        errors.append(_invalid(path, value, "must validate at least one schema (anyOf)"))
    one_of = schema.get("oneOf")
    if one_of:
        passing = sum(1 for branch in one_of if not _value_branch_errors(branch, value, path))
        if passing != 1:
            errors.append(_invalid(path, value, "must validate one and only one schema (oneOf)"))
    negated = schema.get("not")
    if isinstance(negated, Mapping) and not _value_branch_errors(negated, value, path):
        errors.append(FieldError("FieldValueForbidden", path, "Forbidden: must not validate the schema (not)"))
    return errors


_ABSENT: Any = object()  # no old value to compare with: a create, or a field the old object lacked


def _admit(schema: Mapping[str, Any], value: Any, path: str, result: Admission, *, root: bool = False,
           old: Any = _ABSENT) -> Any:
    # Ratcheting (on by default since Kubernetes 1.30): an update may keep a value that is unchanged from the
    # stored object even if it no longer validates (the CRD's schema was tightened since), as upstream.
    unchanged = old is not _ABSENT and old == value
    errors: list[FieldError] = []
    if value is None and schema.get("nullable") is True:
        return value
    expected = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if json_type_name(value) not in ("integer", "string"):
            errors.append(_type_error(path, "integer or string", value))
    elif isinstance(expected, str) and not _has_type(value, expected):
        errors.append(_type_error(path, expected, value))
    if errors:
        if not unchanged:
            result.errors.extend(errors)
        return value
    if isinstance(value, dict):
        value = _admit_object(schema, value, path, result, root=root, old=old, unchanged=unchanged)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            # Items are compared by position only when the whole list is unchanged (lists are atomic by default).
            value = [_admit(items, item, f"{path}[{index}]", result, old=old[index] if unchanged else _ABSENT)
                     for index, item in enumerate(value)]
    if not unchanged:
        result.errors.extend(_scalar_checks(schema, value, path))
        result.errors.extend(_combinator_errors(schema, value, path))
    return value


def _admit_object(schema: Mapping[str, Any], value: dict[str, Any], path: str, result: Admission, *,
                  root: bool, old: Any, unchanged: bool) -> dict[str, Any]:
    old_fields: dict[str, Any] = old if isinstance(old, dict) else {}
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    additional = schema.get("additionalProperties")
    preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
    kept_as_is = _ROOT_FIELDS if root else _EMBEDDED_FIELDS if schema.get("x-kubernetes-embedded-resource") else ()
    admitted: dict[str, Any] = {}
    for name, child in value.items():
        child_path = _join(path, name)
        if name in kept_as_is and name not in properties:
            admitted[name] = child
            continue
        if root and name == "metadata":
            admitted[name] = child  # ObjectMeta is validated by the API machinery, not the CRD's schema
            continue
        child_schema = properties.get(name)
        if child_schema is None and isinstance(additional, Mapping):
            child_schema = additional
            child_path = f"{path}[{name}]" if path else name
        if child_schema is not None and not isinstance(child_schema, Mapping):
            admitted[name] = child  # a malformed schema node validates nothing rather than failing the write
            continue
        if child_schema is None:
            if preserve or additional is True:
                admitted[name] = child
            else:
                result.pruned.append(child_path)
            continue
        if child is None and not child_schema.get("nullable"):
            continue  # nulls in fields that are not nullable are dropped, as upstream does before defaulting
        admitted[name] = _admit(child_schema, child, child_path, result, old=old_fields.get(name, _ABSENT))
    for name, child_schema in properties.items():
        # Defaults fill fields absent from an object that is present, before validation (so they count as set).
        if name not in admitted and isinstance(child_schema, Mapping) and "default" in child_schema:
            admitted[name] = _admit(child_schema, copy.deepcopy(child_schema["default"]), _join(path, name), result,
                                    old=old_fields.get(name, _ABSENT))
    for name in schema.get("required") or ():
        if name not in admitted and not unchanged:
            result.errors.append(FieldError("FieldValueRequired", _join(path, name), "Required value"))
    return admitted


def admit(schema: Mapping[str, Any], obj: Mapping[str, Any], old: Mapping[str, Any] | None = None) -> Admission:
    """Prune ``obj`` by ``schema`` and validate what remains; the object itself is not modified.

    ``old`` is the stored object an update replaces: values unchanged from it are not validated again.
    """
    result = Admission(value=None)
    result.value = _admit(schema, dict(obj), "", result, root=True, old=_ABSENT if old is None else dict(old))
    return result


def invalid_message(kind: str, group: str, name: str, errors: list[FieldError]) -> str:
    """The ``Status.message`` of a 422: one error inline, several in brackets, as the API server joins them."""
    subject = f'{kind}.{group} "{name}"' if group else f'{kind} "{name}"'
    details = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    return f"{subject} is invalid: {details}"


def admit_custom_resource(spec: ResourceSpec, obj: Obj, old: Obj | None = None) -> Obj:
    """``obj`` as the API server would store it under its CRD's schema; 422 ``Invalid`` naming every field.

    ``old``: the stored object, on updates (for ratcheting). Resources without a schema (registered in-process,
    or CRDs without one) are stored as they are.
    """
    if spec.schema is None:
        return obj
    result = admit(spec.schema, obj, old)
    if result.errors:
        name = str((obj.get("metadata") or {}).get("name", ""))
        causes = [{"reason": e.reason, "message": e.detail, "field": e.field} for e in result.errors]
        raise status.ApiError(422, "Invalid", invalid_message(spec.kind, spec.group, name, result.errors),
                              name=name, group=spec.group, kind=spec.kind, causes=causes)
    pruned: Obj = result.value
    return pruned


def unknown_fields(spec: ResourceSpec, obj: Any) -> list[str]:
    """The fields of ``obj`` its CRD's schema would prune (``spec.foo``); [] without a schema."""
    if spec.schema is None or not isinstance(obj, Mapping):
        return []
    return admit(spec.schema, obj).pruned


def unknown_field_warnings(spec: ResourceSpec, directive: str | None, obj: Any) -> list[str]:
    """What ``fieldValidation`` makes of the fields the schema would prune from ``obj``.

    ``Strict``: 400 naming every one, as the API server words it; ``Warn`` (upstream's default): one warning
    each (``unknown field "spec.x"``), for the ``Warning`` response header; ``Ignore``: nothing.
    """
    if directive == "Ignore":
        return []
    unknown = unknown_fields(spec, obj)
    if unknown and directive == "Strict":
        listed = ", ".join(f'unknown field "{path}"' for path in unknown)
        raise status.bad_request(f'{spec.kind} in version "{spec.version}" cannot be handled as a {spec.kind}:'
                                 f" strict decoding error: {listed}")
    return [f'unknown field "{path}"' for path in unknown]
