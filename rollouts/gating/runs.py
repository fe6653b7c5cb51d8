"""The AnalysisRun a Rollout creates: its templates merged as Argo merges them, its arguments resolved against the
Rollout, and its name, labels, annotations and owner.

Pure: the Rollout manifest, one of its analyses (plain data, as the spec writes it), the templates the controller's
cache resolved, and the facts of the revision in; a run body — or an :class:`AnalysisProblem` saying why none can
be built — out. ``analysis_issues`` runs the same construction over every analysis of a spec, so that a Rollout
naming a template that does not exist is reported as InvalidSpec before anything moves (as Argo does), instead of
failing later at the step that needs it.

Argo's rules (utils/analysis/helpers.go, rollout/analysis.go):

* Templates by name — ``clusterScope: true`` for a ClusterAnalysisTemplate — with the templates they nest
  (``spec.templates``), each once; the AnalysisTemplates' metrics first, then the ClusterAnalysisTemplates'.
* Metrics are concatenated; two of the same name are an error. ``dryRun`` and ``measurementRetention`` rules are
  concatenated, the Rollout's first; two rules for the same metric name are an error.
* Arguments: the templates' declarations merged (one declaration with a value wins over one without; two different
  values are an error); the Rollout's arguments then set the value of those the templates declare (others are
  ignored); every argument must end with a value or a ``secretKeyRef`` the analysis controller reads.
* ``valueFrom.podTemplateHashValue`` is the stable (``Stable``) or the new (``Latest``) pod-template hash;
  ``valueFrom.fieldRef.fieldPath`` a field of the Rollout (``metadata.name``, ``metadata.labels['app']``,
  ``spec.template.spec.containers[0].image``).
* Name ``<rollout>-<podHash>-<revision>`` with ``-<stepIndex>``, ``-pre`` or ``-post`` for the step and
  promotion runs, and ``.1``, ``.2``… when a run of that name exists already (a retry, a re-run after an
  inconclusive verdict: runs are never reused). Labels ``rollouts-pod-template-hash``, ``rollout-type``,
  ``step-index``, the analysis' ``analysisRunMetadata`` labels and the Rollout's selector; annotations
  ``rollout.argoproj.io/revision`` and the metadata's; a controller ownerReference to the Rollout.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from kube.issues import FieldIssue
from kube.json_data import JsonObject
from kube.object_meta import candidate_names, controller_owner_reference
from kube.resources import ANALYSIS_RUNS, ROLLOUTS
from rollouts.hashing import HASH_LABEL
from rollouts.replicasets import REVISION_ANNOTATION

ROLLOUT_TYPE_LABEL: Final = "rollout-type"
STEP_INDEX_LABEL: Final = "step-index"


class RunKind(StrEnum):
    """Why a Rollout runs an analysis; the value is the run's ``rollout-type`` label."""

    STEP = "Step"
    BACKGROUND = "Background"
    PRE_PROMOTION = "PrePromotion"
    POST_PROMOTION = "PostPromotion"


_TITLES: Final = {
    RunKind.STEP: "Step-based analysis",
    RunKind.BACKGROUND: "Background analysis",
    RunKind.PRE_PROMOTION: "Pre-promotion analysis",
    RunKind.POST_PROMOTION: "Post-promotion analysis",
}


@dataclass(frozen=True)
class RunRole:
    """One analysis of a Rollout: a step's (with its index), the background one, or a promotion gate's."""

    kind: RunKind
    step_index: int | None = None

    @property
    def title(self) -> str:
        """How messages name it: ``Step-based analysis``, ``Background analysis``, …"""
        return _TITLES[self.kind]

    @property
    def name_suffix(self) -> str | None:
        if self.kind is RunKind.STEP:
            return str(self.step_index)
        if self.kind is RunKind.PRE_PROMOTION:
            return "pre"
        if self.kind is RunKind.POST_PROMOTION:
            return "post"
        return None

    def labels(self, pod_hash: str) -> dict[str, str]:
        labels = {HASH_LABEL: pod_hash, ROLLOUT_TYPE_LABEL: self.kind.value}
        if self.kind is RunKind.STEP:
            labels[STEP_INDEX_LABEL] = str(self.step_index)
        return labels

    def labelled_on(self, run: Mapping[str, Any]) -> bool:
        """Whether a run's labels say it is this role's (any revision)."""
        labels = (run.get("metadata") or {}).get("labels") or {}
        if labels.get(ROLLOUT_TYPE_LABEL) != self.kind.value:
            return False
        return self.kind is not RunKind.STEP or labels.get(STEP_INDEX_LABEL) == str(self.step_index)


@dataclass(frozen=True)
class AnalysisProblem:
    """Why no run can be built for an analysis; the message is what InvalidSpec says after the field path."""

    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class RevisionFacts:
    """What a run's arguments and name are made of besides the spec."""

    current_hash: str
    """The new revision's pod-template hash (``Latest``)."""
    stable_hash: str | None
    """The stable revision's (``Stable``); None before the first promotion."""
    revision: int


# --- which analyses a spec has ------------------------------------------------------------------------------


def analyses_of(manifest: Mapping[str, Any]) -> list[tuple[str, JsonObject]]:
    """Every analysis a Rollout's spec asks for, with its field path, in spec order."""
    strategy = (manifest.get("spec") or {}).get("strategy") or {}
    found: list[tuple[str, JsonObject]] = []
    canary = strategy.get("canary")
    if isinstance(canary, Mapping):
        for index, step in enumerate(canary.get("steps") or ()):
            if isinstance(step, Mapping) and isinstance(step.get("analysis"), Mapping):
                found.append((f"spec.strategy.canary.steps[{index}].analysis", dict(step["analysis"])))
        if isinstance(canary.get("analysis"), Mapping):
            found.append(("spec.strategy.canary.analysis", dict(canary["analysis"])))
    blue_green = strategy.get("blueGreen")
    if isinstance(blue_green, Mapping):
        for key in ("prePromotionAnalysis", "postPromotionAnalysis"):
            if isinstance(blue_green.get(key), Mapping):
                found.append((f"spec.strategy.blueGreen.{key}", dict(blue_green[key])))
    return found


def analysis_issues(
    manifest: Mapping[str, Any], templates: Mapping[str, JsonObject], cluster_templates: Mapping[str, JsonObject]
) -> list[FieldIssue]:
    """Each analysis of the spec that no run could be built for, at its field path (the InvalidSpec issues)."""
    # The hashes only fill in podTemplateHashValue arguments, which cannot fail.
    facts = RevisionFacts(current_hash="latest", stable_hash="stable", revision=0)
    issues: list[FieldIssue] = []
    for path, analysis in analyses_of(manifest):
        spec = run_spec(manifest, analysis, templates, cluster_templates, facts)
        if isinstance(spec, AnalysisProblem):
            issues.append(FieldIssue(f"{path}.templates", spec.message))
    return issues


# --- templates ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Template:
    kind: str
    name: str
    spec: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.kind} '{self.name}'"


def resolve_templates(
    references: Any, templates: Mapping[str, JsonObject], cluster_templates: Mapping[str, JsonObject]
) -> list[_Template] | AnalysisProblem:
    """The templates an analysis' ``templates`` list names and those they nest, each once: AnalysisTemplates in
    the order found, then ClusterAnalysisTemplates (Argo's order); a problem naming the first that is missing."""
    namespaced: list[_Template] = []
    cluster_scoped: list[_Template] = []
    seen: set[tuple[bool, str]] = set()

    def visit(found: Any) -> AnalysisProblem | None:
        for reference in found if isinstance(found, list) else ():
            if not isinstance(reference, Mapping):
                continue
            name = str(reference.get("templateName") or "")
            cluster = reference.get("clusterScope") is True
            if (cluster, name) in seen:
                continue  # named twice, or a template nesting one of its ancestors
            seen.add((cluster, name))
            kind = "ClusterAnalysisTemplate" if cluster else "AnalysisTemplate"
            template = (cluster_templates if cluster else templates).get(name)
            if template is None:
                return AnalysisProblem(f"{kind} '{name}' not found")
            spec = template.get("spec")
            resolved = _Template(kind, name, spec if isinstance(spec, Mapping) else {})
            (cluster_scoped if cluster else namespaced).append(resolved)
            problem = visit(resolved.spec.get("templates"))
            if problem is not None:
                return problem
        return None

    problem = visit(references)
    if problem is not None:
        return problem
    return namespaced + cluster_scoped


def _merged_template_args(resolved: Sequence[_Template]) -> list[JsonObject] | AnalysisProblem:
    """The templates' argument declarations as one list (Argo's flattenArgs)."""
    merged: list[JsonObject] = []
    origin: dict[str, str] = {}
    for template, name, argument in _named_entries(resolved, "args"):
        index = next((i for i, known in enumerate(merged) if known.get("name") == name), None)
        if index is None:
            merged.append(copy.deepcopy(dict(argument)))
            origin[name] = template.label
            continue
        known = merged[index]
        if known.get("value") is not None and argument.get("value") is not None:
            if str(known["value"]) != str(argument["value"]):
                return AnalysisProblem(
                    f"argument '{name}' has different values in {origin[name]} ('{known['value']}') and "
                    f"{template.label} ('{argument['value']}')"
                )
        elif known.get("value") is None:
            merged[index] = copy.deepcopy(dict(argument))
            origin[name] = template.label
    return merged


def _merged_metrics(resolved: Sequence[_Template]) -> list[JsonObject] | AnalysisProblem:
    metrics: list[JsonObject] = []
    origin: dict[str, str] = {}
    for template, name, metric in _named_entries(resolved, "metrics"):
        if name in origin:
            where = origin[name] if origin[name] == template.label else f"{origin[name]} and {template.label}"
            return AnalysisProblem(f"two metrics have the same name '{name}' ({where})")
        origin[name] = template.label
        metrics.append(copy.deepcopy(dict(metric)))
    return metrics


def _named_entries(resolved: Sequence[_Template], key: str) -> Iterator[tuple[_Template, str, Mapping[str, Any]]]:
    """Each template's ``key`` entries (args, metrics) in order, with their names; malformed entries passed over."""
    for template in resolved:
        for entry in template.spec.get(key) or ():
            if isinstance(entry, Mapping):
                yield template, str(entry.get("name", "")), entry


def _merged_rules(
    key: str, analysis: Mapping[str, Any], resolved: Sequence[_Template], what: str
) -> list[JsonObject] | AnalysisProblem:
    """dryRun or measurementRetention: the Rollout's rules, then the templates'; one rule per metric name."""
    rules: list[JsonObject] = []
    seen: set[str] = set()
    for source in (analysis, *(template.spec for template in resolved)):
        for rule in source.get(key) or ():
            if not isinstance(rule, Mapping):
                continue
            metric_name = str(rule.get("metricName", ""))
            if metric_name in seen:
                return AnalysisProblem(f"two {what} rules have the same metricName '{metric_name}'")
            seen.add(metric_name)
            rules.append(copy.deepcopy(dict(rule)))
    return rules


# --- arguments ----------------------------------------------------------------------------------------------


def run_arguments(
    manifest: Mapping[str, Any],
    rollout_args: Any,
    template_args: Sequence[JsonObject],
    facts: RevisionFacts,
) -> list[JsonObject] | AnalysisProblem:
    """The run's arguments: the templates' declarations with the Rollout's values set (Argo's MergeArgs), every
    ``podTemplateHashValue`` and ``fieldRef`` resolved to a value; ``secretKeyRef`` is left for the runner."""
    merged = [copy.deepcopy(argument) for argument in template_args]
    by_name = {str(argument.get("name", "")): argument for argument in merged}
    for argument in rollout_args if isinstance(rollout_args, list) else ():
        if not isinstance(argument, Mapping):
            continue
        declared = by_name.get(str(argument.get("name", "")))
        if declared is None:
            continue  # as in Argo, an argument no template declares is not passed on
        if argument.get("value") is not None:
            declared["value"] = str(argument["value"])
            declared.pop("valueFrom", None)
        elif isinstance(argument.get("valueFrom"), Mapping):
            declared["valueFrom"] = copy.deepcopy(dict(argument["valueFrom"]))
            declared.pop("value", None)
    for argument in merged:
        name = str(argument.get("name", ""))
        value_from = argument.get("valueFrom")
        if argument.get("value") is not None:
            argument["value"] = str(argument["value"])
            continue
        if not isinstance(value_from, Mapping):
            return AnalysisProblem(
                f"args.{name} was not resolved: the template declares it without a value and the Rollout's "
                "analysis does not set it"
            )
        if value_from.get("secretKeyRef") is not None:
            continue
        value = _argument_value(manifest, name, value_from, facts)
        if isinstance(value, AnalysisProblem):
            return value
        argument["value"] = value
        del argument["valueFrom"]
    return merged


def _argument_value(
    manifest: Mapping[str, Any], name: str, value_from: Mapping[str, Any], facts: RevisionFacts
) -> str | AnalysisProblem:
    hash_value = value_from.get("podTemplateHashValue")
    if hash_value == "Latest":
        return facts.current_hash
    if hash_value == "Stable":
        # Runs start only once a stable revision exists (an initial deploy runs no analysis).
        return facts.stable_hash or ""
    if hash_value is not None:
        return AnalysisProblem(f"args.{name}: podTemplateHashValue must be Stable or Latest, got {hash_value!r}")
    field_ref = value_from.get("fieldRef")
    path = field_ref.get("fieldPath") if isinstance(field_ref, Mapping) else None
    if isinstance(path, str) and path:
        value = field_value(manifest, path)
        if value is None:
            return AnalysisProblem(f"args.{name}: fieldRef {path!r} does not name a field of the Rollout")
        return value
    return AnalysisProblem(f"args.{name} was not resolved: valueFrom names no source")


_PATH_TOKEN: Final = re.compile(
    r"""(?P<dot>\.)?(?P<key>[A-Za-z0-9_-]+)|\[(?P<index>\d+)\]|\[\s*(?P<q>['"])(?P<quoted>[^'"]*)(?P=q)\s*\]"""
)
_METADATA_MAPS: Final = ("labels", "annotations")


def _path_parts(path: str) -> list[str | int] | None:
    """``metadata.labels['app']`` → ["metadata", "labels", "app"]; None when it is not a field path."""
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if match is None:
            return None
        if match.group("key") is not None:
            if bool(match.group("dot")) != bool(parts):
                return None  # a field name follows a dot, except the first
            parts.append(match.group("key"))
        elif match.group("index") is not None:
            parts.append(int(match.group("index")))
        else:
            parts.append(match.group("quoted"))
        position = match.end()
    return parts or None


def field_value(manifest: Mapping[str, Any], path: str) -> str | None:
    """A field of the Rollout as an argument value, the way Kubernetes' downward API writes it; None when the path
    names nothing. A missing label or annotation is "" (as Kubernetes has it); a whole ``metadata.labels`` or
    ``metadata.annotations`` map is ``key="value"`` lines; another map or a list is JSON."""
    parts = _path_parts(path)
    if parts is None:
        return None
    if len(parts) in (2, 3) and parts[0] == "metadata" and parts[1] in _METADATA_MAPS:
        found = (manifest.get("metadata") or {}).get(str(parts[1]))
        values = found if isinstance(found, Mapping) else {}
        if len(parts) == 3:
            return str(values.get(str(parts[2]), "")) if isinstance(parts[2], str) else None
        return "\n".join(f'{key}="{value}"' for key, value in sorted(values.items()))
    node: Any = manifest
    for part in parts:
        indexable = isinstance(part, int) and isinstance(node, list) and part < len(node)
        if not indexable and not (isinstance(part, str) and isinstance(node, Mapping) and part in node):
            return None
        node = node[part]
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, str):
        return node
    if isinstance(node, int | float | Mapping | list):
        return json.dumps(node, sort_keys=True, separators=(",", ":"))
    return None


# --- the run ------------------------------------------------------------------------------------------------


def run_spec(
    manifest: Mapping[str, Any],
    analysis: Mapping[str, Any],
    templates: Mapping[str, JsonObject],
    cluster_templates: Mapping[str, JsonObject],
    facts: RevisionFacts,
) -> JsonObject | AnalysisProblem:
    """The spec of the run for one analysis: ``{metrics, args, dryRun, measurementRetention}`` (empty lists left
    out), or why it cannot be built."""
    resolved = resolve_templates(analysis.get("templates"), templates, cluster_templates)
    if isinstance(resolved, AnalysisProblem):
        return resolved
    metrics = _merged_metrics(resolved)
    if isinstance(metrics, AnalysisProblem):
        return metrics
    template_args = _merged_template_args(resolved)
    if isinstance(template_args, AnalysisProblem):
        return template_args
    args = run_arguments(manifest, analysis.get("args"), template_args, facts)
    if isinstance(args, AnalysisProblem):
        return args
    dry_run = _merged_rules("dryRun", analysis, resolved, "dryRun")
    if isinstance(dry_run, AnalysisProblem):
        return dry_run
    retention = _merged_rules("measurementRetention", analysis, resolved, "measurementRetention")
    if isinstance(retention, AnalysisProblem):
        return retention
    spec: JsonObject = {"metrics": metrics}
    if args:
        spec["args"] = args
    if dry_run:
        spec["dryRun"] = dry_run
    if retention:
        spec["measurementRetention"] = retention
    return spec


def run_name(rollout_name: str, role: RunRole, facts: RevisionFacts, taken: Collection[str]) -> str:
    """``<rollout>-<podHash>-<revision>[-<suffix>]``, or with ``.1``, ``.2``… the first that no run has."""
    parts = [rollout_name, facts.current_hash, str(facts.revision)]
    if role.name_suffix is not None:
        parts.append(role.name_suffix)
    base = "-".join(parts)
    return next(name for name in candidate_names(base, ".") if name not in taken)


def new_analysis_run(
    manifest: Mapping[str, Any],
    analysis: Mapping[str, Any],
    role: RunRole,
    templates: Mapping[str, JsonObject],
    cluster_templates: Mapping[str, JsonObject],
    facts: RevisionFacts,
    *,
    taken: Collection[str] = (),
) -> JsonObject | AnalysisProblem:
    """The AnalysisRun to create for ``analysis`` in its ``role``, named apart from the ``taken`` names."""
    spec = run_spec(manifest, analysis, templates, cluster_templates, facts)
    if isinstance(spec, AnalysisProblem):
        return spec
    metadata = manifest.get("metadata") or {}
    run_metadata = analysis.get("analysisRunMetadata") or {}
    labels = role.labels(facts.current_hash)
    labels.update({str(k): str(v) for k, v in (run_metadata.get("labels") or {}).items()})
    selector = ((manifest.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    labels.update({str(k): str(v) for k, v in selector.items()})
    annotations = {REVISION_ANNOTATION: str(facts.revision)}
    annotations.update({str(k): str(v) for k, v in (run_metadata.get("annotations") or {}).items()})
    rollout_name = str(metadata.get("name", ""))
    return {
        "apiVersion": ANALYSIS_RUNS.api_version,
        "kind": "AnalysisRun",
        "metadata": {
            "name": run_name(rollout_name, role, facts, taken),
            "namespace": str(metadata.get("namespace") or "default"),
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [
                controller_owner_reference(
                    api_version=ROLLOUTS.api_version,
                    kind="Rollout",
                    name=rollout_name,
                    uid=str(metadata.get("uid") or ""),
                )
            ],
        },
        "spec": spec,
    }


__all__ = [
    "ROLLOUT_TYPE_LABEL",
    "STEP_INDEX_LABEL",
    "AnalysisProblem",
    "RevisionFacts",
    "RunKind",
    "RunRole",
    "analyses_of",
    "analysis_issues",
    "field_value",
    "new_analysis_run",
    "resolve_templates",
    "run_arguments",
    "run_name",
    "run_spec",
]
