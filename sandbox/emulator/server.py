"""The Kubernetes API emulator: a kmock handler serving the API's REST semantics over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import aiohttp.web
import attrs
import kmock

from kube.merge_patch import json_copy
from sandbox.emulator import (
    discovery,
    field_labels,
    openapi,
    protobuf,
    request_bodies,
    schema_validation,
    status,
    tables,
)
from sandbox.emulator.authentication import authentication_error
from sandbox.emulator.faults import FaultInjector
from sandbox.emulator.kmock_adapter import KmockEntry
from sandbox.emulator.lifecycle import (
    DeleteOptions,
    ListResult,
    ObjectApi,
    PatchType,
    Propagation,
    UpdateOptions,
    apply_patch,
)
from sandbox.emulator.resources import ResourceRegistry, ResourceSpec, ScalePaths, builtin_specs
from sandbox.emulator.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from sandbox.emulator.status import ApiError
from sandbox.emulator.store import CLUSTER, HistoryExpired, Obj, ObjectStore
from sandbox.emulator.watching import Watcher, WatchFilter, WatchOptions, serve_watch, stream_error
from sandbox.emulator.write_options import WriteOptions, dry_run_requested, write_options

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})

_PATCH_TYPES: dict[str, PatchType] = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
}
_APPLY_PATCH = "application/apply-patch+yaml"  # server-side apply; its YAML body may be JSON
_ACCEPTED_PATCHES_SCALE = ["application/json-patch+json", "application/merge-patch+json",
                           "application/strategic-merge-patch+json"]
_ACCEPTED_PATCHES_BUILTIN = [*_ACCEPTED_PATCHES_SCALE, _APPLY_PATCH]
_ACCEPTED_PATCHES_CUSTOM = ["application/json-patch+json", "application/merge-patch+json", _APPLY_PATCH]
_ACCEPTED_BODIES = ["application/json", "application/yaml"]
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_BUILT_IN_GROUPS = frozenset(spec.group for spec in builtin_specs())


@dataclass(slots=True)
class RequestRecord:
    """One served request, in Kubernetes' authorization vocabulary.

    ``verb`` is get, list, watch, create, update, patch, delete or deletecollection for resource URLs, and
    the lowercase HTTP method for others (discovery, /version); ``resource`` is "" for those.
    ``code`` is the HTTP status, filled in once the response starts (0 until then).
    """

    verb: str
    group: str
    version: str
    resource: str
    subresource: str | None
    namespace: str | None
    name: str | None
    code: int = 0
    path: str = ""


@dataclass(frozen=True, slots=True)
class ApiPath:
    group: str
    version: str
    plural: str
    namespace: str | None
    name: str | None
    subresource: str | None
    legacy_watch: bool = False  # /api/v1/watch/... URLs of old clients


def parse_api_path(path: str) -> ApiPath | None:
    """Split a resource URL; None for anything else (discovery, /version, unknown)."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    legacy_watch = rest[0] == "watch"
    if legacy_watch:
        rest = rest[1:]
        if not rest:
            return None
    namespace: str | None = None
    # /api/v1/namespaces/<ns>/status is the namespace's own subresource, not a resource inside it.
    own_subresource = group == "" and len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES
    if rest[0] == "namespaces" and len(rest) >= 3 and not own_subresource:
        namespace, rest = rest[1], rest[2:]
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    subresource = "/".join(rest[2:]) or None
    return ApiPath(group, version, plural, namespace, name, subresource, legacy_watch)


def _verb_for(method: str, path: ApiPath, params: Mapping[str, str]) -> str:
    watching = path.legacy_watch or params.get("watch") in ("true", "1")
    if method == "GET":
        if watching:
            return "watch"
        return "get" if path.name else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if path.name else "deletecollection"
    return method.lower()


def _json_response(payload: Any, code: int = 200) -> aiohttp.web.Response:
    return aiohttp.web.Response(
        body=json.dumps(payload, separators=(",", ":")).encode(), status=code, content_type="application/json"
    )


def _with_warnings(response: aiohttp.web.Response, warnings: list[str]) -> aiohttp.web.Response:
    for warning in warnings:  # RFC 7234 warn-code 299, as the API server sends them; kubectl prints each
        response.headers.add("Warning", f"299 - {json.dumps(warning)}")
    return response


def _error_response(error: ApiError) -> aiohttp.web.Response:
    return _json_response(error.to_status(), error.code)


def _media_type(headers: Mapping[str, str]) -> str:
    for key, value in headers.items():
        if key.lower() == "content-type":
            return value.split(";", 1)[0].strip().lower()
    return ""


def _decode(body: bytes, media_type: str) -> Any:
    if media_type == "application/vnd.kubernetes.protobuf":
        try:
            return protobuf.decode(body)
        except protobuf.ProtobufError as exc:
            raise status.unsupported_media_type(f"{media_type}: {exc}", _ACCEPTED_BODIES) from None
    if "protobuf" in media_type or "cbor" in media_type:
        raise status.unsupported_media_type(media_type, _ACCEPTED_BODIES)
    try:
        if "yaml" in media_type:
            return request_bodies.decode_yaml(body)
        return request_bodies.decode_json(body)
    except request_bodies.BodyError as exc:
        raise status.bad_request(f"the request body could not be decoded: {exc}") from None


def _table_request(headers: Mapping[str, str], params: Mapping[str, str]) -> tables.TableRequest | None:
    accept = next((value for key, value in headers.items() if key.lower() == "accept"), "")
    try:
        return tables.table_request(accept, params)
    except tables.TableRequestError as exc:
        raise status.bad_request(str(exc)) from None


def _selectors(params: Mapping[str, str], spec: ResourceSpec) -> tuple[LabelSelector, FieldSelector]:
    try:
        labels = parse_label_selector(params.get("labelSelector"))
        fields = parse_field_selector(params.get("fieldSelector"))
    except SelectorError as exc:
        raise status.bad_request(str(exc)) from None
    if (label := field_labels.unsupported_field(spec, fields)) is not None:
        raise status.bad_request(f"field label not supported: {label}")
    return labels, fields


_Number = TypeVar("_Number", int, float)


def _number_param(params: Mapping[str, str], name: str, parse: Callable[[str], _Number]) -> _Number | None:
    """A numeric query parameter, None when absent; a malformed one is a 400 naming it."""
    raw = params.get(name)
    if not raw:
        return None
    try:
        return parse(raw)
    except ValueError:
        raise status.bad_request(f"invalid {name} {raw!r}") from None


def _versioned(obj: Obj, spec: ResourceSpec) -> Obj:
    if obj.get("apiVersion") == spec.api_version:
        return obj
    return {**obj, "apiVersion": spec.api_version}


@dataclass(frozen=True, slots=True)
class _ResourceCall:
    """One request to a resource URL, with what the emulator made of it."""

    request: kmock.Request
    spec: ResourceSpec
    namespace: str | None
    path: ApiPath
    params: Mapping[str, str]
    writing: WriteOptions

    @property
    def name(self) -> str:
        """The object's name; the URLs of every verb that reads it have one."""
        return cast(str, self.path.name)

    def update_options(self) -> UpdateOptions:
        """How a replace or patch of this call writes: to the URL's subresource, with the request's options."""
        return UpdateOptions(subresource=self.path.subresource, dry_run=self.writing.dry_run,
                             manager=self.writing.manager)


@attrs.define(kw_only=True)
class ApiEmulator(KmockEntry):
    """An in-memory Kubernetes API server, served over HTTP by :class:`kmock.Server`.

    kmock parses and records every request; reactions added with kmock's DSL (``emulator['get /x'] << 500``)
    still take precedence, and everything they do not answer is served with the API's semantics here.
    """

    bookmark_interval: float = 5.0  # seconds between BOOKMARK events on watches that allow them
    history_limit: int = 10_000  # watch events retained per resource type; older resourceVersions get 410
    bearer_token: str | None = None  # when set, a request without `Authorization: Bearer <it>` gets 401
    requests: list[RequestRecord] = attrs.field(factory=list, init=False)
    faults: FaultInjector = attrs.field(factory=FaultInjector)  # rate 0: none until a policy is set
    registry: ResourceRegistry = attrs.field(factory=ResourceRegistry, init=False)
    store: ObjectStore = attrs.field(init=False)
    api: ObjectApi = attrs.field(init=False)
    _writes: int = attrs.field(default=0, init=False)
    _openapi: openapi.OpenApiDocuments = attrs.field(factory=openapi.OpenApiDocuments, init=False)

    def __attrs_post_init__(self) -> None:
        # kmock's own fallbacks (and its object tracking in _handle) are deliberately not installed.
        self.store = ObjectStore(history_limit=self.history_limit)
        self.api = ObjectApi(self.registry, self.store, on_registry_change=self._mirror_resources)
        for spec in builtin_specs():
            self.registry.register(spec)
        self._mirror_resources()
        namespaces = self._spec("", "v1", "namespaces")
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.api.create(namespaces, None, {"metadata": {"name": name}})

    # ------------------------------------------------------------------------------------ public API

    def register_resource(
        self,
        *,
        group: str,
        version: str,
        plural: str,
        kind: str,
        namespaced: bool,
        subresources: set[str] | None = None,
        short_names: list[str] | None = None,
        singular: str = "",
        categories: list[str] | None = None,
    ) -> None:
        subs = frozenset(subresources or ())
        custom = group not in _BUILT_IN_GROUPS
        scale = None
        if "scale" in subs:
            scale = ScalePaths(label_selector="" if custom else None)
        self.api.register(ResourceSpec(
            group=group, version=version, plural=plural, kind=kind, namespaced=namespaced,
            singular=singular or kind.lower(), short_names=tuple(short_names or ()),
            categories=tuple(categories or ()), subresources=subs, custom=custom, scale=scale,
            returns_deleted_object=custom,
        ))

    def register_crd(self, crd: dict[str, Any]) -> None:
        with self.store.lock:
            self.api.register_crd(crd)

    def write_count(self) -> int:
        return self._writes

    def get_object(self, group: str, version: str, plural: str, namespace: str | None,
                   name: str) -> dict[str, Any] | None:
        spec = self._spec(group, version, plural)
        obj = self.store.get(spec.storage_key, (namespace or CLUSTER) if spec.namespaced else CLUSTER, name)
        return None if obj is None else cast(dict[str, Any], json_copy(_versioned(obj, spec)))

    def list_objects(self, group: str, version: str, plural: str,
                     namespace: str | None = None) -> list[dict[str, Any]]:
        spec = self._spec(group, version, plural)
        namespace = namespace if spec.namespaced else None
        result = self.api.select(spec, namespace, LabelSelector(), FieldSelector())
        return [cast(dict[str, Any], json_copy(_versioned(obj, spec))) for obj in result.items]

    # In-process writes with the same rules as HTTP, for simulators that skip the network. Safe from any
    # thread; they are not requests, so write_count() does not count them.

    def create_object(self, group: str, version: str, plural: str, body: dict[str, Any],
                      namespace: str | None = None) -> dict[str, Any]:
        spec = self._spec(group, version, plural)
        obj = self.api.create(spec, namespace if spec.namespaced else None, json_copy(body))
        return cast(dict[str, Any], json_copy(_versioned(obj, spec)))

    def replace_object(self, group: str, version: str, plural: str, namespace: str | None, name: str,
                       body: dict[str, Any], *, subresource: str | None = None) -> dict[str, Any]:
        spec = self._spec(group, version, plural)
        self._check_subresource(spec, subresource)
        obj = self.api.replace(spec, namespace, name, json_copy(body), UpdateOptions(subresource=subresource))
        return cast(dict[str, Any], json_copy(_versioned(obj, spec)))

    def patch_object(self, group: str, version: str, plural: str, namespace: str | None, name: str,
                     patch: Any, *, patch_type: PatchType = "merge",
                     subresource: str | None = None) -> dict[str, Any]:
        spec = self._spec(group, version, plural)
        self._check_subresource(spec, subresource)
        if patch_type == "strategic" and spec.custom:
            raise status.unsupported_media_type(
                "application/strategic-merge-patch+json", _ACCEPTED_PATCHES_CUSTOM)
        options = UpdateOptions(subresource=subresource)
        obj = self.api.patch(spec, namespace, name, patch_type, json_copy(patch), options)
        return cast(dict[str, Any], json_copy(_versioned(obj, spec)))

    def delete_object(self, group: str, version: str, plural: str, namespace: str | None, name: str, *,
                      propagation: Propagation = "Background") -> dict[str, Any] | None:
        """Delete (or mark for deletion); returns the object if it still exists (finalizers), else None."""
        spec = self._spec(group, version, plural)
        obj, gone = self.api.delete(spec, namespace, name, DeleteOptions(propagation=propagation))
        return None if gone else cast(dict[str, Any], json_copy(_versioned(obj, spec)))

    def outage(self, seconds: float) -> None:
        """Refuse every request for ``seconds`` (503) and end the open watches, as an apiserver restart does."""
        self.faults.outage(seconds)
        # HTTP watches only: in-process subscribers (a test's change recorder) are no clients of the API.
        self.store.close_all_watches(lambda subscriber: isinstance(subscriber, Watcher))

    def close_watches(self) -> None:
        """End every open watch stream (their clients see a normal end of stream and may reconnect)."""
        self.store.close_all_watches()

    # --------------------------------------------------------------------------------------- helpers

    def _spec(self, group: str, version: str, plural: str) -> ResourceSpec:
        spec = self.registry.get(group, version, plural)
        if spec is None:
            raise status.unknown_resource()
        return spec

    @staticmethod
    def _check_subresource(spec: ResourceSpec, subresource: str | None) -> None:
        if subresource is not None and subresource not in spec.subresources:
            raise status.unknown_resource()

    def _mirror_resources(self) -> None:
        # Keep kmock's own view of the resources in step, for code that inspects ``emulator.resources``.
        self.resources.clear()
        for spec in self.registry:
            self.resources[kmock.resource(spec.group, spec.version, spec.plural)] = kmock.ResourceInfo(
                kind=spec.kind, singular=spec.singular_name, namespaced=spec.namespaced,
                verbs=set(spec.verbs), shortnames=set(spec.short_names), categories=set(spec.categories),
                subresources=set(spec.subresources),
            )

    # ------------------------------------------------------------------------------------ HTTP entry

    async def serve(self, request: kmock.Request, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        refused = authentication_error(raw.headers.get("Authorization"), self.bearer_token)
        if refused is not None:
            return _error_response(refused)
        path = parse_api_path(raw.path)
        params = dict(request.params)
        if path is None:
            record = self._record_non_resource(raw.method, raw.path)
        else:
            verb = _verb_for(raw.method, path, params)
            record = RequestRecord(verb, path.group, path.version, path.plural, path.subresource,
                                   path.namespace, path.name, path=raw.path)
            if verb in WRITE_VERBS:
                self._writes += 1
        self.requests.append(record)

        response = await self.react(request)
        if response is None:
            response = await self._inject_fault(record, params)
        if response is None:
            try:
                if path is None:
                    response = self._serve_non_resource(raw.method, raw.path)
                else:
                    response = await self._serve_resource(request, raw, path, record, params)
            except ApiError as error:
                response = _error_response(error)
        record.code = response.status
        return response

    async def _inject_fault(self, record: RequestRecord,
                            params: dict[str, str]) -> aiohttp.web.StreamResponse | None:
        """The refusal the fault policy picks for this request, or None to serve it (perhaps late, or a watch
        cut short through ``params``)."""
        fault = self.faults.decide(verb=record.verb, group=record.group, resource=record.resource,
                                   name=record.name)
        if fault is None:
            return None
        error = fault.error(resource=record.resource, group=record.group, name=record.name,
                            retry_after=self.faults.policy.retry_after)
        if error is not None:
            response = _error_response(error)
            if error.code == 429:
                response.headers["Retry-After"] = str(self.faults.policy.retry_after)
            return response
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        elif fault.kind == "drop-watch":
            asked = float(params["timeoutSeconds"]) if params.get("timeoutSeconds", "").isdigit() else None
            params["timeoutSeconds"] = str(fault.delay if asked is None else min(asked, fault.delay))
        return None

    def _record_non_resource(self, method: str, raw_path: str) -> RequestRecord:
        parts = [p for p in raw_path.strip("/").split("/") if p]
        group = version = ""
        if parts[:1] == ["api"] and len(parts) >= 2:
            version = parts[1]
        elif parts[:1] == ["apis"] and len(parts) >= 2:
            group = parts[1]
            version = parts[2] if len(parts) >= 3 else ""
        return RequestRecord(method.lower(), group, version, "", None, None, None, path=raw_path)

    def _serve_non_resource(self, method: str, raw_path: str) -> aiohttp.web.StreamResponse:
        if method != "GET":
            raise status.method_not_allowed()
        parts = [p for p in raw_path.strip("/").split("/") if p]
        document: dict[str, Any] | None = None
        if parts == ["api"]:
            document = discovery.api_versions()
        elif len(parts) == 2 and parts[0] == "api":
            document = discovery.api_resource_list(self.registry, "", parts[1])
            if parts[1] != "v1":
                document = None
        elif parts == ["apis"]:
            document = discovery.api_group_list(self.registry)
        elif len(parts) == 2 and parts[0] == "apis":
            document = discovery.api_group(self.registry, parts[1])
        elif len(parts) == 3 and parts[0] == "apis":
            document = discovery.api_resource_list(self.registry, parts[1], parts[2])
        elif parts == ["version"]:
            document = dict(discovery.SERVER_VERSION)
        elif parts[:2] == ["openapi", "v3"]:
            document = self._openapi_v3(parts[2:])
        elif parts and parts[0] in ("healthz", "livez", "readyz"):
            return aiohttp.web.Response(text="ok", content_type="text/plain")
        if document is None:
            raise status.unknown_resource()
        return _json_response(document)

    def _openapi_v3(self, parts: list[str]) -> dict[str, Any] | None:
        if not parts:
            return self._openapi.index(self.registry)
        if parts[0] == "api" and len(parts) == 2:
            return self._openapi.group_version(self.registry, "", parts[1])
        if parts[0] == "apis" and len(parts) == 3:
            return self._openapi.group_version(self.registry, parts[1], parts[2])
        return None

    async def _serve_resource(self, request: kmock.Request, raw: aiohttp.web.BaseRequest, path: ApiPath,
                              record: RequestRecord, params: dict[str, str]) -> aiohttp.web.StreamResponse:
        spec, namespace = self._addressed(path, record.verb)
        verb = record.verb
        applying = verb == "patch" and path.subresource != "scale" and _media_type(request.headers) == _APPLY_PATCH
        writing = WriteOptions(False, "", False)
        if verb in WRITE_VERBS:
            writing = write_options(verb, params, request.headers.get("User-Agent"), apply=applying)
        call = _ResourceCall(request, spec, namespace, path, params, writing)

        if verb == "watch":
            return await self._respond_watch(raw, spec, namespace, path.name, params, record,
                                             _table_request(request.headers, params))
        if verb == "list":
            return self._respond_list(spec, namespace, params, _table_request(request.headers, params))
        respond = {
            "get": self._respond_get,
            "create": self._respond_create,
            "update": self._respond_update,
            "patch": self._respond_apply if applying else self._respond_patch,
            "delete": self._respond_delete,
            "deletecollection": self._respond_delete_collection,
        }.get(verb)
        if respond is None:
            raise status.method_not_allowed()
        return respond(call)

    def _addressed(self, path: ApiPath, verb: str) -> tuple[ResourceSpec, str | None]:
        """The resource a URL names and its namespace (None: cluster-wide), once the verb is known to apply to it."""
        spec = self.registry.get(path.group, path.version, path.plural)
        if spec is None:
            raise status.unknown_resource()
        if spec.namespaced:
            namespace = path.namespace
        elif path.namespace is not None:
            raise status.unknown_resource()
        else:
            namespace = None
        if verb not in spec.verbs and not (path.subresource and verb in ("get", "update", "patch")):
            raise status.method_not_allowed()
        if path.subresource is not None and path.subresource not in spec.subresources:
            raise status.unknown_resource()
        if path.subresource is not None and path.subresource not in ("status", "scale"):
            raise status.method_not_allowed()  # exec, log, eviction, …: nothing runs behind this API
        if spec.namespaced and namespace is None and verb not in ("list", "watch"):
            raise status.method_not_allowed()
        return spec, namespace

    def _respond_get(self, call: _ResourceCall) -> aiohttp.web.StreamResponse:
        spec, path = call.spec, call.path
        if path.subresource == "scale":
            return _json_response(self.api.get_scale(spec, call.namespace, call.name))
        obj = _versioned(self.api.get(spec, call.namespace, call.name), spec)
        table = _table_request(call.request.headers, call.params) if path.subresource is None else None
        if table is not None:
            return _json_response(tables.build_table(spec, [obj], table, datetime.now(UTC)))
        return _json_response(obj)

    def _respond_create(self, call: _ResourceCall) -> aiohttp.web.StreamResponse:
        if call.path.name is not None:
            raise status.method_not_allowed()
        spec = call.spec
        body = _decode(call.request.body, _media_type(call.request.headers))
        warnings = schema_validation.unknown_field_warnings(spec, call.params.get("fieldValidation"), body)
        created = self.api.create(spec, call.namespace, body, dry_run=call.writing.dry_run,
                                  manager=call.writing.manager)
        return _with_warnings(_json_response(_versioned(created, spec), 201), warnings)

    def _respond_update(self, call: _ResourceCall) -> aiohttp.web.StreamResponse:
        spec, writing = call.spec, call.writing
        body = _decode(call.request.body, _media_type(call.request.headers))
        if call.path.subresource == "scale":
            scale = self.api.update_scale(spec, call.namespace, call.name, body=body, dry_run=writing.dry_run,
                                          manager=writing.manager)
            return _json_response(scale)
        warnings = schema_validation.unknown_field_warnings(spec, call.params.get("fieldValidation"), body)
        obj = self.api.replace(spec, call.namespace, call.name, body, call.update_options())
        return _with_warnings(_json_response(_versioned(obj, spec)), warnings)

    def _respond_apply(self, call: _ResourceCall) -> aiohttp.web.StreamResponse:
        spec, writing = call.spec, call.writing
        config = _decode(call.request.body, _APPLY_PATCH)
        warnings = schema_validation.unknown_field_warnings(spec, call.params.get("fieldValidation"), config)
        applied, was_created = self.api.apply(spec, call.namespace, call.name, config, manager=writing.manager,
                                              force=writing.force, subresource=call.path.subresource,
                                              dry_run=writing.dry_run)
        return _with_warnings(_json_response(_versioned(applied, spec), 201 if was_created else 200), warnings)

    def _respond_patch(self, call: _ResourceCall) -> aiohttp.web.StreamResponse:
        spec, namespace, name, writing = call.spec, call.namespace, call.name, call.writing
        patch_type = self._patch_type(spec, call.request.headers, scale=call.path.subresource == "scale")
        body = _decode(call.request.body, "application/json")
        if call.path.subresource == "scale":
            scale = self.api.update_scale(spec, namespace, name, patch_type=patch_type, body=body,
                                          dry_run=writing.dry_run, manager=writing.manager)
            return _json_response(scale)
        warnings = []
        field_validation = call.params.get("fieldValidation")
        if field_validation in ("Strict", "Warn") and spec.schema is not None:
            # Only when asked: checking a patch means applying it twice, and controllers patch often.
            patched = apply_patch(self.api.get(spec, namespace, name), patch_type, body)
            warnings = schema_validation.unknown_field_warnings(spec, field_validation, patched)
        obj = self.api.patch(spec, namespace, name, patch_type, body, call.update_options())
        return _with_warnings(_json_response(_versioned(obj, spec)), warnings)

    def _respond_delete(self, call: _ResourceCall) -> aiohttp.web.StreamResponse:
        spec, name = call.spec, call.name
        options = self._delete_options(call.request, call.params, call.writing.dry_run)
        obj, gone = self.api.delete(spec, call.namespace, name, options)
        if gone and not spec.returns_deleted_object:
            uid = str((obj.get("metadata") or {}).get("uid", ""))
            return _json_response(status.success_status(name=name, group=spec.group, resource=spec.plural, uid=uid))
        return _json_response(_versioned(obj, spec))

    def _respond_delete_collection(self, call: _ResourceCall) -> aiohttp.web.StreamResponse:
        spec = call.spec
        labels, fields = _selectors(call.params, spec)
        options = self._delete_options(call.request, call.params, call.writing.dry_run)
        items = self.api.delete_collection(spec, call.namespace, labels, fields, options)
        return _json_response({
            "kind": spec.list_kind, "apiVersion": spec.api_version,
            "metadata": {"resourceVersion": str(self.store.resource_version)},
            "items": [_versioned(obj, spec) for obj in items],
        })

    @staticmethod
    def _patch_type(spec: ResourceSpec, headers: Mapping[str, str], *, scale: bool) -> PatchType:
        media_type = _media_type(headers)
        # Scale is a built-in kind even for custom resources, so it takes strategic merge patches.
        if scale:
            accepted = _ACCEPTED_PATCHES_SCALE
        else:
            accepted = _ACCEPTED_PATCHES_CUSTOM if spec.custom else _ACCEPTED_PATCHES_BUILTIN
        if media_type not in accepted or media_type not in _PATCH_TYPES:
            raise status.unsupported_media_type(media_type, accepted)
        return _PATCH_TYPES[media_type]

    @staticmethod
    def _delete_options(request: kmock.Request, params: Mapping[str, str], dry_run: bool) -> DeleteOptions:
        body: dict[str, Any] = {}
        if request.body.strip():
            decoded = _decode(request.body, _media_type(request.headers))
            if isinstance(decoded, dict):
                body = decoded
        propagation = params.get("propagationPolicy") or body.get("propagationPolicy")
        orphan = params.get("orphanDependents", body.get("orphanDependents"))
        if propagation is None and orphan in (True, "true"):
            propagation = "Orphan"
        if propagation not in (None, "Background", "Foreground", "Orphan"):
            raise status.bad_request(
                f"propagationPolicy {propagation!r} is not one of Background, Foreground, Orphan")
        preconditions = body.get("preconditions") or {}
        body_dry_run = body.get("dryRun") or []
        dry_run = dry_run_requested(body_dry_run if isinstance(body_dry_run, list) else [body_dry_run],
                                    "delete") or dry_run
        return DeleteOptions(
            propagation=cast(Propagation, propagation or "Background"),
            precondition_uid=preconditions.get("uid"),
            precondition_rv=preconditions.get("resourceVersion"),
            dry_run=dry_run,
        )

    def _respond_list(self, spec: ResourceSpec, namespace: str | None, params: Mapping[str, str],
                      table: tables.TableRequest | None = None) -> aiohttp.web.StreamResponse:
        labels, fields = _selectors(params, spec)
        limit = _number_param(params, "limit", int)
        result: ListResult = self.api.select(spec, namespace, labels, fields, limit=limit,
                                           continue_token=params.get("continue"))
        list_meta: dict[str, Any] = {"resourceVersion": str(result.resource_version)}
        if result.continue_token:
            list_meta["continue"] = result.continue_token
        if result.remaining is not None:
            list_meta["remainingItemCount"] = result.remaining
        if table is not None:
            items = [_versioned(obj, spec) for obj in result.items]
            return _json_response(tables.build_table(spec, items, table, datetime.now(UTC), list_meta))
        return _json_response({
            "kind": spec.list_kind,
            "apiVersion": spec.api_version,
            "metadata": list_meta,
            "items": [_versioned(obj, spec) for obj in result.items],
        })

    async def _respond_watch(self, raw: aiohttp.web.BaseRequest, spec: ResourceSpec, namespace: str | None,
                           name: str | None, params: Mapping[str, str], record: RequestRecord,
                           table: tables.TableRequest | None = None) -> aiohttp.web.StreamResponse:
        labels, fields = _selectors(params, spec)
        timeout = _number_param(params, "timeoutSeconds", float)
        rv_param = params.get("resourceVersion") or None
        send_initial = params.get("sendInitialEvents") == "true"
        watcher = Watcher(asyncio.get_running_loop(), WatchFilter(namespace, name, labels, fields))
        key = spec.storage_key
        initial: list[Obj] = []
        with self.store.lock:
            if rv_param is None or rv_param == "0" or send_initial:
                initial = sorted(
                    (obj for obj in self.store.iter_objects(key, namespace) if watcher.filter.matches(obj)),
                    key=lambda obj: ((obj["metadata"].get("namespace") or ""), obj["metadata"]["name"]),
                )
                self.store.subscribe(key, watcher, None)
            else:
                try:
                    since = int(rv_param)
                except ValueError:
                    raise status.bad_request(f"invalid resourceVersion {rv_param!r}") from None
                try:
                    replay = self.store.subscribe(key, watcher, since)
                except HistoryExpired as exc:
                    return await stream_error(raw, status.expired(str(exc)))
                watcher.last_rv = since
                watcher.replay(replay)
            watcher.last_rv = max(watcher.last_rv, self.store.resource_version)
        options = WatchOptions(
            api_version=spec.api_version,
            kind=spec.kind,
            timeout=timeout,
            bookmarks=params.get("allowWatchBookmarks") == "true",
            bookmark_interval=self.bookmark_interval,
            initial_events_end=send_initial,
            render=None if table is None else (
                lambda obj: tables.build_table(spec, [obj], table, datetime.now(UTC))),
        )
        record.code = 200  # a stream may last long; its status is known as soon as it starts
        return await serve_watch(raw, self.store, watcher, initial, options,
                                 on_finish=lambda: self.store.unsubscribe(key, watcher))
