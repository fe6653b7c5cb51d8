"""Argo CD's custom resources (argoproj.io/v1alpha1): Application, ApplicationSet and AppProject.

Fields mirror Argo CD's types. A field Argo defaults when absent carries that default here
(``automated.prune`` is false, ``retry.backoff.duration`` is ``"5s"``, ``revisionHistoryLimit`` is 10), so
code reads the effective value without re-implementing Argo's defaulting; ``to_dict()`` still writes back only
what the manifest said. Plain Go strings are ``str = ""`` (Argo treats absent and empty alike); Go pointers to
structs are ``X | None``.

Integers and booleans are strict: the API server rejects ``prune: "true"``, and so do we, instead of quietly
turning it into ``True`` and breaking the round trip. Enumerations (sync options, ``applicationsSync``, sync
window kinds) are plain strings here, checked in :mod:`gitops.validation`, so one pass reports every problem.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, StrictBool, StrictInt

from kube.durations import Duration
from kube.modeling import KubeModel, KubeObject, LabelSelector, LabelSelectorRequirement
from kube.quantities import IntOrString

DEFAULT_PROJECT = "default"
DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_BACKOFF_DURATION = "5s"
DEFAULT_BACKOFF_FACTOR = 2
DEFAULT_BACKOFF_MAX_DURATION = "3m"

# The finalizer that makes deleting an Application cascade to its resources.
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"


class SyncStatusCode(StrEnum):
    SYNCED = "Synced"
    OUT_OF_SYNC = "OutOfSync"
    UNKNOWN = "Unknown"


class HealthStatusCode(StrEnum):
    """Ordered from best to worst, the order in which an app's health is the worst of its resources'."""

    HEALTHY = "Healthy"
    SUSPENDED = "Suspended"
    PROGRESSING = "Progressing"
    MISSING = "Missing"
    DEGRADED = "Degraded"
    UNKNOWN = "Unknown"


class OperationPhase(StrEnum):
    RUNNING = "Running"
    TERMINATING = "Terminating"
    FAILED = "Failed"
    ERROR = "Error"
    SUCCEEDED = "Succeeded"


class ResultCode(StrEnum):
    """The outcome of one resource in a sync."""

    SYNCED = "Synced"
    SYNC_FAILED = "SyncFailed"
    PRUNED = "Pruned"
    PRUNE_SKIPPED = "PruneSkipped"


class HookType(StrEnum):
    PRE_SYNC = "PreSync"
    SYNC = "Sync"
    POST_SYNC = "PostSync"
    SYNC_FAIL = "SyncFail"
    SKIP = "Skip"
    POST_DELETE = "PostDelete"


class ApplicationConditionType(StrEnum):
    INVALID_SPEC_ERROR = "InvalidSpecError"
    COMPARISON_ERROR = "ComparisonError"
    SYNC_ERROR = "SyncError"
    SHARED_RESOURCE_WARNING = "SharedResourceWarning"
    ORPHANED_RESOURCE_WARNING = "OrphanedResourceWarning"
    UNKNOWN_ERROR = "UnknownError"


# --- Application: source -------------------------------------------------------------------------


class JsonnetVar(KubeModel):
    """A Jsonnet top-level argument or external variable; `code` passes the value as Jsonnet code."""

    name: str
    value: str
    code: StrictBool = False


class ApplicationSourceJsonnet(KubeModel):
    ext_vars: list[JsonnetVar] = Field(default_factory=list)
    tlas: list[JsonnetVar] = Field(default_factory=list)
    libs: list[str] = Field(default_factory=list)


class ApplicationSourceDirectory(KubeModel):
    """Plain manifests (and Jsonnet) in a directory; `include`/`exclude` are globs, and exclude wins."""

    recurse: StrictBool = False
    include: str = ""
    exclude: str = ""
    jsonnet: ApplicationSourceJsonnet = Field(default_factory=ApplicationSourceJsonnet)


class HelmParameter(KubeModel):
    """`--set name=value` (`--set-string` with `forceString`)."""

    name: str = ""
    value: str = ""
    force_string: StrictBool = False


class HelmFileParameter(KubeModel):
    """`--set-file name=path`."""

    name: str = ""
    path: str = ""


class ApplicationSourceHelm(KubeModel):
    """Helm options. `valueFiles` are relative to the source path, or `$ref/...` into another source."""

    value_files: list[str] = Field(default_factory=list)
    values: str = ""
    # Wins over `values` when both are set, as in Argo CD.
    values_object: dict[str, Any] | None = None
    parameters: list[HelmParameter] = Field(default_factory=list)
    file_parameters: list[HelmFileParameter] = Field(default_factory=list)
    # Empty means the Application's name.
    release_name: str = ""
    ignore_missing_value_files: StrictBool = False
    skip_crds: StrictBool = False
    skip_schema_validation: StrictBool = False
    skip_tests: StrictBool = False
    pass_credentials: StrictBool = False
    version: str = ""
    # Empty means the destination namespace.
    namespace: str = ""
    kube_version: str = ""
    """The Kubernetes version templates see as ``.Capabilities.KubeVersion`` (Argo CD's default: the destination
    cluster's); accepted, but not passed to this engine's renderer."""
    api_versions: list[str] = Field(default_factory=list)


class KustomizeReplica(KubeModel):
    name: str
    count: IntOrString
    """Replicas to set on the workload called ``name`` (``kustomize edit set replicas``); an int-or-string in Argo
    CD, kept as written."""


class ApplicationSourceKustomize(KubeModel):
    name_prefix: str = ""
    name_suffix: str = ""
    # `image:tag`, `name=image:tag` or `image@digest`, as `kustomize edit set image` takes them.
    images: list[str] = Field(default_factory=list)
    common_labels: dict[str, str] = Field(default_factory=dict)
    common_annotations: dict[str, str] = Field(default_factory=dict)
    common_annotations_envsubst: StrictBool = False
    force_common_labels: StrictBool = False
    force_common_annotations: StrictBool = False
    label_without_selector: StrictBool = False
    """Write ``commonLabels`` as a kustomize ``labels`` entry that leaves selectors alone (and, with
    ``labelIncludeTemplates``, reaches pod templates too) instead of as ``commonLabels``."""
    label_include_templates: StrictBool = False
    namespace: str = ""
    replicas: list[KustomizeReplica] = Field(default_factory=list)
    # Kustomize patches ({path | patch, target, options}); passed through to kustomize untouched.
    patches: list[dict[str, Any]] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)
    ignore_missing_components: StrictBool = False
    version: str = ""
    kube_version: str = ""
    api_versions: list[str] = Field(default_factory=list)


class EnvEntry(KubeModel):
    name: str
    value: str


class PluginParameter(KubeModel):
    """A config management plugin parameter: a string, an array or a map."""

    name: str = ""
    string: str | None = None
    array: list[str] | None = None
    map: dict[str, str] | None = None


class ApplicationSourcePlugin(KubeModel):
    name: str = ""
    env: list[EnvEntry] = Field(default_factory=list)
    parameters: list[PluginParameter] = Field(default_factory=list)


class ApplicationSource(KubeModel):
    """Where an Application's manifests come from: a path in a Git repository or a chart in a Helm repo."""

    repo_url: str = Field(alias="repoURL")
    # A Git ref (empty means HEAD) or, for a Helm repository chart, the chart version (then required).
    target_revision: str = ""
    path: str = ""
    chart: str = ""
    # In multi-source Applications: the name other sources use as `$ref/...` in Helm value files.
    ref: str = ""
    name: str = ""
    directory: ApplicationSourceDirectory | None = None
    helm: ApplicationSourceHelm | None = None
    kustomize: ApplicationSourceKustomize | None = None
    plugin: ApplicationSourcePlugin | None = None

    @property
    def is_helm_chart(self) -> bool:
        """Whether this is a chart from a Helm (or OCI) repository rather than a path in Git."""
        return bool(self.chart)


class ApplicationDestination(KubeModel):
    """A cluster (by API server URL or registered name) and the default namespace for namespaced objects."""

    server: str = ""
    """The cluster's API server URL (``https://kubernetes.default.svc``: the cluster the controller runs in); exactly
    one of ``server`` and ``name`` is set."""
    name: str = ""
    namespace: str = ""


# --- Application: sync policy --------------------------------------------------------------------


class SyncPolicyAutomated(KubeModel):
    prune: StrictBool = False
    self_heal: StrictBool = False
    allow_empty: StrictBool = False
    # Newer Argo CD can switch automation off while keeping its settings; absent means on.
    enabled: StrictBool | None = None


class Backoff(KubeModel):
    """Wait `duration × factor^attempt` between sync retries, at most `maxDuration`."""

    duration: Duration = DEFAULT_BACKOFF_DURATION
    factor: StrictInt = DEFAULT_BACKOFF_FACTOR
    max_duration: Duration = DEFAULT_BACKOFF_MAX_DURATION


class RetryStrategy(KubeModel):
    # Zero means no retries and a negative limit retries forever, as in Argo CD.
    limit: StrictInt = 0
    backoff: Backoff = Field(default_factory=Backoff)
    # Retry with the latest revision instead of the one the failed sync used.
    refresh: StrictBool = False


class ManagedNamespaceMetadata(KubeModel):
    """Labels and annotations put on the namespace that `CreateNamespace=true` creates."""

    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class SyncPolicy(KubeModel):
    automated: SyncPolicyAutomated | None = None
    # "Key=value" strings; see gitops.validation for the keys Argo CD knows.
    sync_options: list[str] = Field(default_factory=list)
    managed_namespace_metadata: ManagedNamespaceMetadata | None = None
    retry: RetryStrategy | None = None


class ResourceIgnoreDifferences(KubeModel):
    """Fields of matching live objects left out of the diff."""

    group: str = ""
    kind: str
    name: str = ""
    namespace: str = ""
    json_pointers: list[str] = Field(default_factory=list)
    jq_path_expressions: list[str] = Field(default_factory=list)
    managed_fields_managers: list[str] = Field(default_factory=list)


class Info(KubeModel):
    name: str
    value: str


class ApplicationSpec(KubeModel):
    source: ApplicationSource | None = None
    sources: list[ApplicationSource] = Field(default_factory=list)
    destination: ApplicationDestination
    # Argo CD reads an empty project as "default".
    project: str = DEFAULT_PROJECT
    sync_policy: SyncPolicy | None = None
    ignore_differences: list[ResourceIgnoreDifferences] = Field(default_factory=list)
    info: list[Info] = Field(default_factory=list)
    revision_history_limit: StrictInt = DEFAULT_REVISION_HISTORY_LIMIT
    # Newer Argo CD renders ("hydrates") manifests into Git itself; kept as written, not interpreted yet.
    source_hydrator: dict[str, Any] | None = None

    @property
    def project_name(self) -> str:
        return self.project or DEFAULT_PROJECT

    @property
    def has_multiple_sources(self) -> bool:
        """Multi-source mode: a non-empty `sources` wins over `source`, as in Argo CD."""
        return bool(self.sources)

    def effective_sources(self) -> list[ApplicationSource]:
        """The sources that are rendered: `sources` when set, else `[source]`, else none."""
        if self.sources:
            return list(self.sources)
        return [self.source] if self.source is not None else []


# --- Application: operation ----------------------------------------------------------------------


class SyncStrategyApply(KubeModel):
    force: StrictBool = False


class SyncStrategyHook(KubeModel):
    force: StrictBool = False


class SyncStrategy(KubeModel):
    """`apply` syncs with kubectl apply only; `hook` (Argo's default) also runs hooks."""

    apply: SyncStrategyApply | None = None
    hook: SyncStrategyHook | None = None


class SyncOperationResource(KubeModel):
    group: str = ""
    kind: str
    name: str
    namespace: str = ""


class SyncOperation(KubeModel):
    # Empty means the revision in the spec.
    revision: str = ""
    revisions: list[str] = Field(default_factory=list)
    prune: StrictBool = False
    dry_run: StrictBool = False
    sync_strategy: SyncStrategy | None = None
    # A selective sync: only these resources (hooks are skipped).
    resources: list[SyncOperationResource] = Field(default_factory=list)
    sync_options: list[str] = Field(default_factory=list)
    source: ApplicationSource | None = None
    """Set by a rollback: the history entry's source, rendered instead of the spec's (``sources`` for an entry of a
    multi-source Application)."""
    sources: list[ApplicationSource] = Field(default_factory=list)
    manifests: list[str] = Field(default_factory=list)
    auto_heal_attempts_count: StrictInt | None = None


class OperationInitiator(KubeModel):
    username: str = ""
    automated: StrictBool = False


class Operation(KubeModel):
    sync: SyncOperation | None = None
    initiated_by: OperationInitiator = Field(default_factory=OperationInitiator)
    info: list[Info] = Field(default_factory=list)
    retry: RetryStrategy = Field(default_factory=RetryStrategy)


# --- Application: status -------------------------------------------------------------------------
# Status is written by the controller, so every field is optional: a partial status must still parse.


class ComparedTo(KubeModel):
    """The spec the last comparison used, so a spec change shows as needing a new comparison."""

    source: ApplicationSource | None = None
    sources: list[ApplicationSource] = Field(default_factory=list)
    destination: ApplicationDestination | None = None
    ignore_differences: list[ResourceIgnoreDifferences] = Field(default_factory=list)


class SyncStatus(KubeModel):
    status: str = ""
    revision: str = ""
    revisions: list[str] = Field(default_factory=list)
    compared_to: ComparedTo | None = None


class HealthStatus(KubeModel):
    status: str = ""
    message: str = ""
    last_transition_time: str | None = None


class ResourceRef(KubeModel):
    """A resource as an Application's status names it: group, version, kind, namespace and name."""

    group: str = ""
    version: str = ""
    kind: str = ""
    namespace: str = ""
    name: str = ""


class ResourceStatus(ResourceRef):
    """One resource of an Application as the last comparison saw it."""

    status: str = ""
    health: HealthStatus | None = None
    hook: StrictBool = False
    requires_pruning: StrictBool = False
    requires_deletion_confirmation: StrictBool = False
    sync_wave: StrictInt = 0


class ResourceResult(ResourceRef):
    """One task of a sync operation; the resumable sync rebuilds its progress from these."""

    status: str = ""
    message: str = ""
    hook_type: str = ""
    hook_phase: str = ""
    """Where the task stands, for plain resources as well as hooks (as gitops-engine records it): ``Running`` while
    in flight, then ``Succeeded``, ``Failed`` or ``Error``."""
    sync_phase: str = ""
    images: list[str] = Field(default_factory=list)


class SyncOperationResult(KubeModel):
    resources: list[ResourceResult] = Field(default_factory=list)
    revision: str = ""
    revisions: list[str] = Field(default_factory=list)
    source: ApplicationSource | None = None
    sources: list[ApplicationSource] = Field(default_factory=list)
    managed_namespace_metadata: ManagedNamespaceMetadata | None = None


class OperationState(KubeModel):
    operation: Operation = Field(default_factory=Operation)
    phase: str = ""
    message: str = ""
    sync_result: SyncOperationResult | None = None
    started_at: str = ""
    finished_at: str | None = None
    retry_count: StrictInt = 0


class RevisionHistory(KubeModel):
    id: StrictInt = 0
    revision: str = ""
    revisions: list[str] = Field(default_factory=list)
    deployed_at: str = ""
    deploy_started_at: str | None = None
    source: ApplicationSource | None = None
    sources: list[ApplicationSource] = Field(default_factory=list)
    initiated_by: OperationInitiator | None = None


class OrphanedResource(ResourceRef):
    """An object of the destination namespace no Application manages (Argo CD's resource tree orphanedNodes)."""


class ApplicationCondition(KubeModel):
    type: str
    message: str = ""
    last_transition_time: str | None = None


class ApplicationSummary(KubeModel):
    images: list[str] = Field(default_factory=list)
    external_urls: list[str] = Field(default_factory=list, alias="externalURLs")


class ApplicationStatus(KubeModel):
    sync: SyncStatus = Field(default_factory=SyncStatus)
    health: HealthStatus = Field(default_factory=HealthStatus)
    resources: list[ResourceStatus] = Field(default_factory=list)
    operation_state: OperationState | None = None
    history: list[RevisionHistory] = Field(default_factory=list)
    conditions: list[ApplicationCondition] = Field(default_factory=list)
    reconciled_at: str | None = None
    observed_at: str | None = None
    source_type: str = ""
    source_types: list[str] = Field(default_factory=list)
    # Beyond Argo CD's status (it keeps them in the resource tree): the orphans when the project monitors them.
    orphaned_resources: list[OrphanedResource] = Field(default_factory=list)
    summary: ApplicationSummary = Field(default_factory=ApplicationSummary)
    resource_health_source: str = ""
    controller_namespace: str = ""


class Application(KubeObject):
    spec: ApplicationSpec
    operation: Operation | None = None
    status: ApplicationStatus = Field(default_factory=ApplicationStatus)


# --- ApplicationSet ------------------------------------------------------------------------------
# Generator-level `template` overrides are kept as plain data: they are partial templates merged into the main
# one, and, like the main template's spec, may hold "{{...}}" anywhere.


class ListGenerator(KubeModel):
    # Each element is a parameter set: any JSON object (nested values allowed with goTemplate).
    elements: list[Any] = Field(default_factory=list)
    # The same elements as a YAML string, usually templated from an outer matrix generator.
    elements_yaml: str = ""
    template: dict[str, Any] | None = None


class ClusterGenerator(KubeModel):
    """One parameter set per registered cluster (the selector matches cluster Secret labels)."""

    selector: LabelSelector = Field(default_factory=LabelSelector)
    values: dict[str, str] = Field(default_factory=dict)
    flat_list: StrictBool = False
    template: dict[str, Any] | None = None


class GitGeneratorItem(KubeModel):
    """A glob of directories or of files; `exclude: true` removes matches, and exclusion wins over inclusion."""

    path: str
    exclude: StrictBool = False


class GitGenerator(KubeModel):
    repo_url: str = Field(alias="repoURL")
    revision: str = ""
    # None and [] differ: Argo CD picks the directories mode when `directories` is present at all.
    directories: list[GitGeneratorItem] | None = None
    files: list[GitGeneratorItem] | None = None
    path_param_prefix: str = ""
    values: dict[str, str] = Field(default_factory=dict)
    requeue_after_seconds: StrictInt | None = None
    template: dict[str, Any] | None = None


class MatrixGenerator(KubeModel):
    """The cartesian product of exactly two child generators."""

    generators: list[ApplicationSetGenerator] = Field(default_factory=list)
    template: dict[str, Any] | None = None


class MergeGenerator(KubeModel):
    """The first child's parameter sets, overridden by later children's sets with equal `mergeKeys`."""

    merge_keys: list[str] = Field(default_factory=list)
    generators: list[ApplicationSetGenerator] = Field(default_factory=list)
    template: dict[str, Any] | None = None


# Wire names of the generator types in the order Argo CD declares them; a generator sets exactly one.
GENERATOR_TYPES = (
    "list",
    "clusters",
    "git",
    "scmProvider",
    "clusterDecisionResource",
    "pullRequest",
    "matrix",
    "merge",
    "plugin",
)


class ApplicationSetGenerator(KubeModel):
    """One generator. The same shape serves as a top-level generator and as a matrix/merge child."""

    # `list` would shadow the builtin inside the class body, hence the trailing underscore.
    list_: ListGenerator | None = Field(default=None, alias="list")
    clusters: ClusterGenerator | None = None
    git: GitGenerator | None = None
    # Provider-specific and large; kept as written until the generators that read them exist.
    scm_provider: dict[str, Any] | None = None
    cluster_decision_resource: dict[str, Any] | None = None
    pull_request: dict[str, Any] | None = None
    matrix: MatrixGenerator | None = None
    merge: MergeGenerator | None = None
    plugin: dict[str, Any] | None = None
    # Filters this generator's parameter sets by their (flattened) keys and values.
    selector: LabelSelector | None = None

    def generator_types(self) -> list[str]:
        """Wire names of the generator types this entry sets (exactly one when valid)."""
        return self.present_fields(GENERATOR_TYPES)

    def template_override(self) -> dict[str, Any] | None:
        """The generator-level template, whichever generator type carries it."""
        for part in (self.list_, self.clusters, self.git, self.matrix, self.merge):
            if part is not None and part.template is not None:
                return part.template
        for loose in (self.scm_provider, self.cluster_decision_resource, self.pull_request, self.plugin):
            if loose is not None and isinstance(loose.get("template"), dict):
                template: dict[str, Any] = loose["template"]
                return template
        return None


MatrixGenerator.model_rebuild()
MergeGenerator.model_rebuild()


class ApplicationSetTemplateMeta(KubeModel):
    name: str = ""
    namespace: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    finalizers: list[str] = Field(default_factory=list)


class ApplicationSetTemplate(KubeModel):
    metadata: ApplicationSetTemplateMeta = Field(default_factory=ApplicationSetTemplateMeta)
    # An Application spec whose strings (and, through templatePatch, anything) may be "{{...}}" templates,
    # so it is kept as plain data; it becomes an ApplicationSpec only once rendered with a parameter set.
    spec: dict[str, Any]


class ApplicationSetSyncPolicy(KubeModel):
    # None means "sync": create, update and delete Applications.
    applications_sync: str | None = None
    preserve_resources_on_deletion: StrictBool = False


class ApplicationSetRolloutStep(KubeModel):
    match_expressions: list[LabelSelectorRequirement] = Field(default_factory=list)
    max_update: IntOrString | None = None


class ApplicationSetRolloutStrategy(KubeModel):
    steps: list[ApplicationSetRolloutStep] = Field(default_factory=list)


class ApplicationSetStrategy(KubeModel):
    # "AllAtOnce" (the default when empty) or "RollingSync".
    type: str = ""
    rolling_sync: ApplicationSetRolloutStrategy | None = None


class ApplicationPreservedFields(KubeModel):
    """Annotation and label keys on generated Applications that the controller leaves alone."""

    annotations: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)


class ApplicationSetResourceIgnoreDifferences(KubeModel):
    name: str = ""
    json_pointers: list[str] = Field(default_factory=list)
    jq_path_expressions: list[str] = Field(default_factory=list)


class ApplicationSetSpec(KubeModel):
    generators: list[ApplicationSetGenerator]
    template: ApplicationSetTemplate
    go_template: StrictBool = False
    go_template_options: list[str] = Field(default_factory=list)
    # A Go template rendering to a patch applied to each generated Application; can set non-string fields.
    template_patch: str | None = None
    sync_policy: ApplicationSetSyncPolicy | None = None
    strategy: ApplicationSetStrategy | None = None
    preserved_fields: ApplicationPreservedFields | None = None
    ignore_application_differences: list[ApplicationSetResourceIgnoreDifferences] = Field(
        default_factory=list
    )
    apply_nested_selectors: StrictBool = False


class ApplicationSetCondition(KubeModel):
    type: str
    message: str = ""
    status: str = ""
    reason: str = ""
    last_transition_time: str | None = None


class ApplicationSetApplicationStatus(KubeModel):
    """Progress of one generated Application through a RollingSync strategy."""

    application: str
    message: str = ""
    status: str = ""
    step: str = ""
    target_revisions: list[str] = Field(default_factory=list)
    last_transition_time: str | None = None


class ApplicationSetStatus(KubeModel):
    conditions: list[ApplicationSetCondition] = Field(default_factory=list)
    application_status: list[ApplicationSetApplicationStatus] = Field(default_factory=list)
    resources: list[ResourceStatus] = Field(default_factory=list)
    resources_count: StrictInt | None = None
    health: HealthStatus | None = None


class ApplicationSet(KubeObject):
    spec: ApplicationSetSpec
    status: ApplicationSetStatus = Field(default_factory=ApplicationSetStatus)


# --- AppProject ----------------------------------------------------------------------------------


class GroupKind(KubeModel):
    """A resource kind pattern: `group` and `kind` are globs; the core group is `""`."""

    group: str = ""
    kind: str


class JWTToken(KubeModel):
    iat: StrictInt
    exp: StrictInt = 0
    id: str = ""


class ProjectRole(KubeModel):
    name: str
    description: str = ""
    # Casbin policy lines, e.g. "p, proj:team-a:ci, applications, sync, team-a/*, allow".
    policies: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    jwt_tokens: list[JWTToken] = Field(default_factory=list)


class SyncWindow(KubeModel):
    """A window that allows or denies syncs from each `schedule` start for `duration`."""

    kind: str = ""
    schedule: str = ""
    duration: str = ""
    applications: list[str] = Field(default_factory=list)
    namespaces: list[str] = Field(default_factory=list)
    clusters: list[str] = Field(default_factory=list)
    manual_sync: StrictBool = False
    # Empty means UTC.
    time_zone: str = ""
    # Match applications AND namespaces AND clusters instead of any of them.
    and_operator: StrictBool = False
    description: str = ""


class OrphanedResourceKey(KubeModel):
    group: str = ""
    kind: str = ""
    name: str = ""


class OrphanedResourcesMonitorSettings(KubeModel):
    # Argo CD warns unless told not to once orphanedResources is set.
    warn: StrictBool = True
    ignore: list[OrphanedResourceKey] = Field(default_factory=list)


class SignatureKey(KubeModel):
    key_id: str = Field(alias="keyID")


class ApplicationDestinationServiceAccount(KubeModel):
    server: str
    namespace: str = ""
    default_service_account: str


class AppProjectSpec(KubeModel):
    description: str = ""
    source_repos: list[str] = Field(default_factory=list)
    source_namespaces: list[str] = Field(default_factory=list)
    destinations: list[ApplicationDestination] = Field(default_factory=list)
    cluster_resource_whitelist: list[GroupKind] = Field(default_factory=list)
    cluster_resource_blacklist: list[GroupKind] = Field(default_factory=list)
    namespace_resource_whitelist: list[GroupKind] = Field(default_factory=list)
    namespace_resource_blacklist: list[GroupKind] = Field(default_factory=list)
    roles: list[ProjectRole] = Field(default_factory=list)
    sync_windows: list[SyncWindow] = Field(default_factory=list)
    orphaned_resources: OrphanedResourcesMonitorSettings | None = None
    signature_keys: list[SignatureKey] = Field(default_factory=list)
    permit_only_project_scoped_clusters: StrictBool = False
    destination_service_accounts: list[ApplicationDestinationServiceAccount] = Field(default_factory=list)


class JWTTokens(KubeModel):
    items: list[JWTToken] = Field(default_factory=list)


class AppProjectStatus(KubeModel):
    jwt_tokens_by_role: dict[str, JWTTokens] = Field(default_factory=dict)


class AppProject(KubeObject):
    spec: AppProjectSpec
    status: AppProjectStatus = Field(default_factory=AppProjectStatus)
