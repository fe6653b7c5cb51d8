"""`rollouts create analysisrun --from-template NAME [--arg NAME=VALUE]...`: start an analysis by hand.

The run is built the way Argo's plugin builds it (``kubectl argo rollouts create analysisrun --from …``): the
template's metrics, dryRun and measurementRetention rules and its arguments, with ``--arg`` values written over the
declared ones; its labels (plus the controller instance-id label with ``--instance-id``); named ``--name``, or
generated from ``--generate-name`` (default: ``<template>-``). Argo's flag names are accepted too (``--from``,
``--global``, ``-a/--argument``), as is ``--from-file`` for a template that is not in the cluster.

Where Argo's plugin would create a run that can only fail, this one refuses up front, with the reason:

- an argument that is not declared by the template (Argo ignores it silently, so a typo measures the default);
- a declared argument left without a value (Argo: "args.X was not resolved", but only when the run starts);
- a template that lists other templates (``spec.templates``): they are merged in, as the controller merges a
  Rollout's templates, rather than dropped (Argo's plugin copies the spec, and the run loses their metrics);
- a result the AnalysisRun validation rejects (the same checks as `rollouts lint`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from analysis.kinds import ANALYSIS_RUN
from cli.cluster_options import ClusterOptions
from cli.main import app
from cli.option_groups import OptionGroup, with_option_groups
from cli.options import CliError, Cluster, get_object, reported_errors
from kube.issues import summarize
from kube.json_data import as_json_object
from kube.manifests import ManifestReadError, load_file
from kube.resources import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, CLUSTER_ANALYSIS_TEMPLATES

if TYPE_CHECKING:
    from kube.json_data import JsonObject

INSTANCE_ID_LABEL: Final = "argo-rollouts.argoproj.io/controller-instance-id"
# Metadata that says how the *template* is managed. Copied onto the run it would mislead: `kubectl apply` would
# diff the run against the template's last-applied text, and Argo CD would count the run as an extraneous
# resource of the template's application — and prune it, with auto-prune, while it is measuring.
NOT_COPIED_ANNOTATIONS: Final = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    "argocd.argoproj.io/tracking-id",
})
NOT_COPIED_LABELS: Final = frozenset({"app.kubernetes.io/instance"})

create_app = typer.Typer(name="create", help="Create an AnalysisRun from a template.", no_args_is_help=True)
app.add_typer(create_app)


@dataclass(frozen=True)
class TemplateRef:
    name: str
    cluster_scope: bool

    @property
    def noun(self) -> str:
        return f'{"clusteranalysistemplate" if self.cluster_scope else "analysistemplate"} "{self.name}"'


TemplateLookup = Callable[[TemplateRef], "JsonObject"]
"""Fetches a template a template refers to; raises CliError when it does not exist."""


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


# -- arguments -----------------------------------------------------------------------------------------------


def parse_argument_flags(flags: Sequence[str]) -> dict[str, str]:
    """``NAME=VALUE`` flags as a mapping (the value may contain ``=``); CliError for a malformed or repeated one."""
    values: dict[str, str] = {}
    for flag in flags:
        name, separator, value = flag.partition("=")
        if not separator or not name:
            raise CliError(f"argument {flag!r} is not of the form NAME=VALUE")
        if name in values:
            # Which one was meant is a guess; a run measured with the wrong value is worse than an error.
            raise CliError(f'argument "{name}" is given more than once')
        values[name] = value
    return values


def _has_value(argument: Mapping[str, Any]) -> bool:
    """Whether a run can measure with this argument as it is: a value, or a Secret the runner reads."""
    if argument.get("value") is not None:
        return True
    return bool(as_json_object(as_json_object(argument.get("valueFrom")).get("secretKeyRef")))


def apply_arguments(declared: Sequence[Mapping[str, Any]], given: Mapping[str, str], source: str) -> list[JsonObject]:
    """The run's args: the declared ones, each ``--arg`` replacing its declaration's value or valueFrom.

    CliError for a given argument the template does not declare, and for declared ones left without a value —
    every one of them named, so that one retry fixes them all.
    """
    names = [str(argument.get("name", "")) for argument in declared]
    unknown = [name for name in given if name not in names]
    if unknown:
        takes = f"it takes: {', '.join(names)}" if names else "it takes no arguments"
        plural = "s" if len(unknown) > 1 else ""
        raise CliError(f"unknown argument{plural} {', '.join(unknown)} for {source} ({takes})")
    arguments: list[JsonObject] = []
    missing: list[str] = []
    only_a_rollout: list[str] = []
    for argument, name in zip(declared, names, strict=True):
        if name in given:
            arguments.append({"name": name, "value": given[name]})
            continue
        if not _has_value(argument):
            missing.append(name)
            value_from = as_json_object(argument.get("valueFrom"))
            if value_from:
                # fieldRef and podTemplateHashValue are read from the Rollout that creates the run; by hand there
                # is no Rollout, so the value has to be given.
                only_a_rollout.append(f"{name} (valueFrom.{sorted(value_from)[0]})")
        arguments.append(copy.deepcopy(dict(argument)))
    if missing:
        message = (
            f"missing value for argument{'s' if len(missing) > 1 else ''} of {source}: {', '.join(missing)} "
            "(give each with --arg NAME=VALUE)"
        )
        if only_a_rollout:
            message += f"; only a Rollout resolves {', '.join(only_a_rollout)}"
        raise CliError(message)
    return arguments


# -- templates -----------------------------------------------------------------------------------------------


@dataclass
class _Merged:
    metrics: list[JsonObject]
    args: list[JsonObject]
    dry_run: list[JsonObject]
    measurement_retention: list[JsonObject]


def _merge_args(merged: list[JsonObject], incoming: Sequence[JsonObject], source: str) -> None:
    """Argo's rule for arguments declared by several templates: one declaration, the value wins over none, and two
    different values are an error (which template's should the metric see?)."""
    for argument in incoming:
        name = argument.get("name")
        previous = next((index for index, seen in enumerate(merged) if seen.get("name") == name), None)
        if previous is None:
            merged.append(copy.deepcopy(argument))
            continue
        before, after = merged[previous].get("value"), argument.get("value")
        if before is not None and after is not None and before != after:
            raise CliError(f'argument "{name}" is declared with different values ({before!r} and {after!r}) '
                           f"by the templates of {source}")
        if before is None:
            merged[previous] = copy.deepcopy(argument)


def _merge_unique(merged: list[JsonObject], incoming: Sequence[JsonObject], key: str, what: str) -> None:
    for item in incoming:
        if any(seen.get(key) == item.get(key) for seen in merged):
            raise CliError(f'{what} "{item.get(key)}" is defined by more than one of the templates')
        merged.append(copy.deepcopy(item))


def flatten_template(template: JsonObject, ref: TemplateRef, lookup: TemplateLookup) -> _Merged:
    """The template's spec merged with those of the templates it lists (``spec.templates``), each template once (one
    reached twice, or through a cycle, contributes once): AnalysisTemplates in the order found, depth first, then
    ClusterAnalysisTemplates — Argo's order, and the one the controller uses for a Rollout's templates."""
    found: list[tuple[TemplateRef, JsonObject]] = []
    seen: set[TemplateRef] = set()

    def visit(current: JsonObject, current_ref: TemplateRef) -> None:
        seen.add(current_ref)
        found.append((current_ref, current))
        for reference in _list(as_json_object(current.get("spec")).get("templates")):
            name = str(reference.get("templateName") or "")
            if not name:
                raise CliError(f"{current_ref.noun} lists a template without a templateName")
            child_ref = TemplateRef(name, reference.get("clusterScope") is True)
            if child_ref not in seen:
                visit(lookup(child_ref), child_ref)

    visit(template, ref)
    merged = _Merged([], [], [], [])
    for _, current in sorted(found, key=lambda entry: entry[0].cluster_scope):  # stable: keeps the order found
        spec = as_json_object(current.get("spec"))
        _merge_unique(merged.metrics, _list(spec.get("metrics")), "name", "metric")
        _merge_args(merged.args, _list(spec.get("args")), ref.noun)
        _merge_unique(merged.dry_run, _list(spec.get("dryRun")), "metricName", "dryRun rule for")
        _merge_unique(merged.measurement_retention, _list(spec.get("measurementRetention")), "metricName",
                      "measurementRetention rule for")
    return merged


def _copied(values: Any, dropped: frozenset[str]) -> dict[str, str]:
    return {str(key): str(value) for key, value in as_json_object(values).items() if key not in dropped}


def analysis_run_from_template(
    template: JsonObject,
    ref: TemplateRef,
    *,
    namespace: str,
    arguments: Mapping[str, str],
    lookup: TemplateLookup,
    name: str | None = None,
    generate_name: str | None = None,
    instance_id: str | None = None,
) -> JsonObject:
    """The AnalysisRun to create from an (Cluster)AnalysisTemplate manifest; CliError when it would not be valid."""
    merged = flatten_template(template, ref, lookup)
    args = apply_arguments(merged.args, arguments, ref.noun)
    meta = as_json_object(template.get("metadata"))
    metadata: JsonObject = {"namespace": namespace}
    if name:
        metadata["name"] = name
    else:
        metadata["generateName"] = generate_name or f"{ref.name}-"
    labels = _copied(meta.get("labels"), NOT_COPIED_LABELS)
    if instance_id:
        labels[INSTANCE_ID_LABEL] = instance_id
    if labels:
        metadata["labels"] = labels
    annotations = _copied(meta.get("annotations"), NOT_COPIED_ANNOTATIONS)
    if annotations:
        metadata["annotations"] = annotations
    spec: JsonObject = {"metrics": merged.metrics}
    if args:
        spec["args"] = args
    if merged.dry_run:
        spec["dryRun"] = merged.dry_run
    if merged.measurement_retention:
        spec["measurementRetention"] = merged.measurement_retention
    run: JsonObject = {"apiVersion": ANALYSIS_RUNS.api_version, "kind": ANALYSIS_RUNS.kind, "metadata": metadata,
                       "spec": spec}
    # The same checks as `rollouts lint`: a run that cannot measure is refused here, not failed by the controller.
    # The name is checked by the API server; a generated one is not known yet, so a stand-in keeps it out of this.
    issues = ANALYSIS_RUN.check({**run, "metadata": {**metadata, "name": name or "generated"}})
    if issues:
        raise CliError(f"the AnalysisRun built from {ref.noun} is not valid: {summarize(issues)}")
    return run


# -- the command ---------------------------------------------------------------------------------------------


def _template_from_file(path: str) -> JsonObject:
    try:
        documents = list(load_file(Path(path)))
    except ManifestReadError as error:
        raise CliError(str(error)) from None
    if len(documents) != 1:
        raise CliError(f"{path}: expected one AnalysisTemplate or ClusterAnalysisTemplate, found {len(documents)} "
                       "documents")
    document = documents[0]
    if document.manifest is None:
        raise CliError(f"{path}: {document.problem}")
    kind = document.manifest.get("kind")
    if kind not in (ANALYSIS_TEMPLATES.kind, CLUSTER_ANALYSIS_TEMPLATES.kind):
        raise CliError(f"{path}: expected an AnalysisTemplate or ClusterAnalysisTemplate, found {kind}")
    return dict(document.manifest)


def _lookup(cluster: Cluster) -> TemplateLookup:
    def lookup(ref: TemplateRef) -> JsonObject:
        return get_object(cluster, CLUSTER_ANALYSIS_TEMPLATES if ref.cluster_scope else ANALYSIS_TEMPLATES, ref.name)

    return lookup


@dataclass(frozen=True)
class TemplateSource(OptionGroup):
    """Which template the run comes from: one in the cluster (``--from-template``; with ``--cluster-template`` a
    ClusterAnalysisTemplate), or a local file (``--from-file``)."""

    from_template: str | None = None
    from_file: str | None = None
    cluster_template: bool = False

    @classmethod
    def typer_options(cls) -> dict[str, Any]:
        return {
            "from_template": Annotated[str | None, typer.Option(
                "--from-template", "--from", metavar="NAME", show_default=False,
                help="The AnalysisTemplate (with --cluster-template: ClusterAnalysisTemplate) to run.")],
            "from_file": Annotated[str | None, typer.Option(
                "--from-file", metavar="PATH", show_default=False,
                help="Run a template from a local file instead of one in the cluster.")],
            "cluster_template": Annotated[bool, typer.Option(
                "--cluster-template", "--global", help="The template is a ClusterAnalysisTemplate.")],
        }

    def check(self) -> None:
        """A usage error unless exactly one source is named."""
        if (self.from_template is None) == (self.from_file is None):
            raise typer.BadParameter("give exactly one of them", param_hint="'--from-template' / '--from-file'")

    def template(self, lookup: TemplateLookup) -> tuple[JsonObject, TemplateRef]:
        """The template, and how the run refers to it (a file's is named by its metadata, else by the file)."""
        if self.from_file is None:
            ref = TemplateRef(str(self.from_template), self.cluster_template)
            return lookup(ref), ref
        template = _template_from_file(self.from_file)
        scope = self.cluster_template or template.get("kind") == CLUSTER_ANALYSIS_TEMPLATES.kind
        name = as_json_object(template.get("metadata")).get("name") or Path(self.from_file).stem
        return template, TemplateRef(str(name), scope)


@dataclass(frozen=True)
class RunNaming(OptionGroup):
    """The run's name (``--name``), or the prefix the API server completes (``--generate-name``)."""

    name: str | None = None
    generate_name: str | None = None

    @classmethod
    def typer_options(cls) -> dict[str, Any]:
        return {
            "name": Annotated[str | None, typer.Option("--name", show_default=False, help="Name of the run.")],
            "generate_name": Annotated[str | None, typer.Option(
                "--generate-name", metavar="PREFIX", show_default=False,
                help="Let the API server name the run PREFIX<random> (default: '<template>-').")],
        }

    def check(self) -> None:
        """A usage error when both are given."""
        if self.name and self.generate_name:
            raise typer.BadParameter("give at most one of them", param_hint="'--name' / '--generate-name'")


@with_option_groups
def _analysis_run_command(
    *,
    source: TemplateSource,
    naming: RunNaming,
    argument_flags: Annotated[
        list[str] | None,
        typer.Option("--arg", "--argument", "-a", metavar="NAME=VALUE", show_default=False,
                     help="A value for an argument of the template; repeat for several."),
    ] = None,
    instance_id: Annotated[
        str | None,
        typer.Option("--instance-id", show_default=False,
                     help="Label the run for the controller instance with this instance id."),
    ] = None,
    cluster_options: ClusterOptions,
) -> None:
    """Create an AnalysisRun from an AnalysisTemplate or a ClusterAnalysisTemplate, with argument values."""
    source.check()
    naming.check()
    with reported_errors():
        given = parse_argument_flags(argument_flags or [])
        cluster = cluster_options.connect()
        lookup = _lookup(cluster)
        template, ref = source.template(lookup)
        run = analysis_run_from_template(
            template, ref, namespace=cluster.namespace, arguments=given, lookup=lookup, name=naming.name,
            generate_name=naming.generate_name, instance_id=instance_id,
        )
        created = cluster.client.create(ANALYSIS_RUNS, cluster.namespace, run)
        typer.echo(f"analysisrun.argoproj.io/{created['metadata']['name']} created")


create_app.command("analysisrun")(_analysis_run_command)
create_app.command("ar", hidden=True)(_analysis_run_command)
