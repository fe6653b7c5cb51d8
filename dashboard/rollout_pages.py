"""The Rollout pages: the list per namespace, and one Rollout with its steps, traffic split, revision tree and
analysis charts. Pure: objects in, HTML out, with the figures read by the same code as `rollouts get rollout`
(``cli.tree``, ``cli.phase``), so the page and the terminal never disagree."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cli.phase import canary_steps, current_set_weight, current_step_index, rollout_phase, step_label
from cli.tree import (
    ReplicaSetInfo,
    actual_weight,
    age,
    analysis_run_infos,
    experiment_infos,
    replica_set_infos,
    strategy_name,
)
from dashboard.metric_charts import chart_svg, metric_charts
from dashboard.page_layout import View, action_button, table_html
from kube.durations import DurationError, parse_duration
from kube.json_data import as_int, as_json_object

if TYPE_CHECKING:
    from kube.json_data import JsonObject


def rollout_path(namespace: str, name: str) -> str:
    return f"/rollouts/{quote(namespace, safe='')}/{quote(name, safe='')}"


def _name(obj: JsonObject) -> str:
    return str(as_json_object(obj.get("metadata")).get("name", ""))


def _namespace(obj: JsonObject) -> str:
    return str(as_json_object(obj.get("metadata")).get("namespace", ""))


def template_images(rollout: JsonObject) -> list[str]:
    """The images the rollout's pod template asks for (its containers', in order)."""
    template = as_json_object(as_json_object(rollout.get("spec")).get("template"))
    containers = as_json_object(template.get("spec")).get("containers") or []
    return [str(as_json_object(c).get("image", "")) for c in containers]


def rollouts_list_view(
    rollouts: Sequence[JsonObject], unavailable: str | None = None, replicasets: Sequence[JsonObject] = ()
) -> View:
    """Every rollout, one table per namespace: status, strategy, step, set and actual weight, and images (the actual
    weight of a canary without a traffic router is its pods' share, from its ``replicasets``)."""
    if unavailable:
        return View("Rollouts", f'<p class="missing">{escape(unavailable)}</p>')
    if not rollouts:
        return View("Rollouts", '<p class="missing">No rollouts.</p>')
    sections = []
    namespaces = sorted({_namespace(r) for r in rollouts})
    for namespace in namespaces:
        rows = []
        in_namespace = [rs for rs in replicasets if _namespace(rs) == namespace]
        for rollout in (r for r in rollouts if _namespace(r) == namespace):
            phase, _ = rollout_phase(rollout)
            is_canary = canary_steps(rollout) is not None
            link = f'<a href="{escape(rollout_path(namespace, _name(rollout)))}">{escape(_name(rollout))}</a>'
            status = f'<span class="phase {escape(phase.lower())}">{escape(phase)}</span>'
            rows.append([
                link, status, strategy_name(rollout) or "unknown",
                (step_label(rollout) or "-") if is_canary else "-",
                str(current_set_weight(rollout)) if is_canary else "-",
                actual_weight(rollout, replica_set_infos(rollout, in_namespace, [])) if is_canary else "-",
                escape(", ".join(template_images(rollout))),
            ])
        sections.append(
            f'<section class="namespace" data-namespace="{escape(namespace)}"><h2>{escape(namespace)}</h2>'
            + table_html(["Name", "Status", "Strategy", "Step", "Set weight", "Actual weight", "Images"], rows,
                         raw_columns=frozenset({0, 1, 6}), css_class="rollouts")
            + "</section>"
        )
    return View("Rollouts", "".join(sections))


def describe_step(step: JsonObject) -> str:
    """One canary step in words: ``setWeight 20``, ``pause 30s``, ``pause until promoted``, ``analysis smoke``."""
    if "setWeight" in step:
        return f"setWeight {as_int(step['setWeight'])}%"
    if "pause" in step:
        duration = as_json_object(step["pause"]).get("duration")
        if duration is None:
            return "pause until promoted"
        try:
            return f"pause {parse_duration(duration):g}s"
        except DurationError:
            return f"pause {duration}"
    if "analysis" in step:
        templates = as_json_object(step["analysis"]).get("templates") or []
        names = ", ".join(str(as_json_object(t).get("templateName", "")) for t in templates)
        return f"analysis {names}".rstrip()
    if "experiment" in step:
        templates = as_json_object(step["experiment"]).get("templates") or []
        return "experiment " + ", ".join(str(as_json_object(t).get("name", "")) for t in templates)
    key = next(iter(step), "step")
    return f"{key} {json.dumps(step[key], sort_keys=True, separators=(',', ':'))}"


def steps_html(rollout: JsonObject) -> str:
    """The canary steps, the current one marked (``aria-current="step"``), the ones before it done."""
    steps = canary_steps(rollout)
    if steps is None:
        return '<p class="steps-none">Blue-green: no steps.</p>'
    if not steps:
        return '<p class="steps-none">No steps: the new version takes all traffic at once.</p>'
    index = current_step_index(rollout) or 0
    items = []
    for position, step in enumerate(steps):
        state = "done" if position < index else "current" if position == index else "pending"
        current = ' aria-current="step"' if state == "current" else ""
        items.append(f'<li class="step {state}" data-step-index="{position}"{current}>'
                     f"{escape(describe_step(step))}</li>")
    return f'<ol class="steps" id="steps">{"".join(items)}</ol>'


def traffic_bar_html(rollout: JsonObject, rs_infos: Sequence[ReplicaSetInfo]) -> str:
    """The traffic split as a bar: the canary's share (as `get rollout`'s ActualWeight) beside the stable's."""
    if canary_steps(rollout) is None:
        blue_green = as_json_object(as_json_object(rollout.get("status")).get("blueGreen"))
        active = str(blue_green.get("activeSelector") or "")
        return (f'<div class="traffic" data-canary-weight="0"><div class="bar stable" style="width:100%">'
                f"active {escape(active)} 100%</div></div>")
    status = as_json_object(rollout.get("status"))
    promoted = bool(status.get("stableRS")) and status.get("stableRS") == status.get("currentPodHash")
    # Once the new version is the stable one, all traffic is on stable (`get rollout` says ActualWeight 100 then,
    # meaning the update's share; a bar labelled "canary 100%" would say the opposite of what happened).
    canary = 0 if promoted else max(0, min(100, as_int(actual_weight(rollout, rs_infos))))
    stable = 100 - canary
    parts = []
    if stable:
        parts.append(f'<div class="bar stable" style="width:{stable}%">stable {stable}%</div>')
    if canary:
        parts.append(f'<div class="bar canary" style="width:{canary}%">canary {canary}%</div>')
    return f'<div class="traffic" id="traffic" data-canary-weight="{canary}">{"".join(parts)}</div>'


def _summary_html(rollout: JsonObject, rs_infos: Sequence[ReplicaSetInfo]) -> str:
    phase, message = rollout_phase(rollout)
    status = as_json_object(rollout.get("status"))
    is_canary = canary_steps(rollout) is not None
    index = current_step_index(rollout)
    rows = [("Status", f'<span class="phase {escape(phase.lower())}">{escape(phase)}</span>')]
    if message:
        rows.append(("Message", escape(message)))
    rows.append(("Strategy", escape(strategy_name(rollout))))
    if is_canary:
        rows.append(("Step", escape(step_label(rollout) or "-")))
        rows.append(("Set weight", str(current_set_weight(rollout))))
        rows.append(("Actual weight", escape(actual_weight(rollout, rs_infos))))
    rows.append(("Images", escape(", ".join(template_images(rollout)))))
    if status.get("abort"):
        rows.append(("Abort", '<span class="aborted">aborted</span>'))
    cells = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    return (f'<table class="summary" id="summary" data-phase="{escape(phase)}" '
            f'data-step-index="{"" if index is None else index}" '
            f'data-set-weight="{current_set_weight(rollout) if is_canary else ""}" '
            f'data-abort="{"true" if status.get("abort") else "false"}">{cells}</table>')


def _tree_html(rollout: JsonObject, rs_infos: Sequence[ReplicaSetInfo], runs: Sequence[JsonObject],
               experiments: Sequence[JsonObject], now: datetime) -> str:
    run_infos = analysis_run_infos(rollout, runs, rs_infos)
    experiment_list = experiment_infos(rollout, experiments)
    revisions = sorted({i.revision for i in rs_infos} | {i.revision for i in run_infos}
                       | {i.revision for i in experiment_list}, reverse=True)
    blocks = []
    for revision in revisions:
        children = []
        for rs in (i for i in rs_infos if i.revision == revision):
            pods = "".join(
                f'<li class="pod"><span class="kind">Pod</span> {escape(p.name)} '
                f'<span class="status">{escape(p.status)}</span> ready {escape(p.ready)}'
                + (f", restarts {p.restarts}" if p.restarts else "") + "</li>"
                for p in rs.pods
            )
            tags = "".join(f'<span class="tag {escape(t)}">{escape(t)}</span>' for t in rs.tags)
            children.append(
                f'<li class="replicaset" data-name="{escape(rs.name)}"><span class="kind">ReplicaSet</span> '
                f'{escape(rs.name)} {tags} <span class="status">{escape(rs.status)}</span> '
                f"{rs.available}/{rs.replicas} available · {escape(', '.join(rs.images))} · "
                f"{escape(age(rs.created, now))}<ul>{pods}</ul></li>"
            )
        for experiment in (i for i in experiment_list if i.revision == revision):
            children.append(f'<li class="experiment"><span class="kind">Experiment</span> {escape(experiment.name)} '
                            f'<span class="status">{escape(experiment.status)}</span></li>')
        for run in (i for i in run_infos if i.revision == revision):
            counts = f"✔ {run.successful} ✖ {run.failed} ? {run.inconclusive} ⚠ {run.error}"
            jobs = "".join(f'<li class="job"><span class="kind">Job</span> {escape(j.name)} '
                           f'<span class="status">{escape(j.status)}</span></li>' for j in run.jobs)
            children.append(f'<li class="analysisrun" data-name="{escape(run.name)}"><span class="kind">AnalysisRun'
                            f'</span> <a href="#run-{escape(run.name)}">{escape(run.name)}</a> '
                            f'<span class="status">{escape(run.status)}</span> {counts}<ul>{jobs}</ul></li>')
        blocks.append(f'<li class="revision"><span class="kind">revision {revision}</span><ul>{"".join(children)}'
                      "</ul></li>")
    return f'<ul class="tree" id="tree">{"".join(blocks)}</ul>'


SECRET_MASK = "*****"


def analysis_arguments(run: JsonObject) -> list[tuple[str, str]]:
    """The run's arguments as (name, value shown): an argument from a Secret is masked whatever the run carries."""
    shown = []
    for arg in as_json_object(run.get("spec")).get("args") or []:
        arg = as_json_object(arg)
        source = as_json_object(arg.get("valueFrom"))
        if source.get("secretKeyRef") is not None:
            value = f"{SECRET_MASK} (from a Secret)"
        elif source.get("fieldRef") is not None and arg.get("value") is None:
            value = f"(from {as_json_object(source['fieldRef']).get('fieldPath', 'a field')})"
        else:
            value = str(arg.get("value", ""))
        shown.append((str(arg.get("name", "")), value))
    return shown


def _analysis_html(rollout: JsonObject, runs: Sequence[JsonObject], rs_infos: Sequence[ReplicaSetInfo]) -> str:
    by_name = {_name(run): run for run in runs}
    sections = []
    for info in analysis_run_infos(rollout, runs, rs_infos):
        run = by_name[info.name]
        charts = []
        for chart in metric_charts(run):
            conditions = " · ".join(
                f"{label}: {escape(text)}" for label, text in (("success", chart.success_condition),
                                                               ("failure", chart.failure_condition)) if text)
            charts.append(f'<figure class="metric" data-metric="{escape(chart.name)}" '
                          f'data-phase="{escape(chart.phase)}">{chart_svg(chart)}'
                          f'<figcaption><strong>{escape(chart.name)}</strong> '
                          f'<span class="status">{escape(chart.phase)}</span> {conditions}</figcaption></figure>')
        message = str(as_json_object(run.get("status")).get("message") or "")
        arguments = ", ".join(f"{name}={value}" for name, value in analysis_arguments(run))
        sections.append(f'<section class="analysisrun" id="run-{escape(info.name)}"><h3>{escape(info.name)} '
                        f'<span class="status">{escape(info.status)}</span></h3>'
                        + (f'<p class="message">{escape(message)}</p>' if message else "")
                        + (f'<p class="args">args: {escape(arguments)}</p>' if arguments else "")
                        + "".join(charts) + "</section>")
    return "".join(sections) or '<p class="missing">No analysis runs.</p>'


def rollout_view(
    rollout: JsonObject,
    replicasets: Sequence[JsonObject],
    pods: Sequence[JsonObject],
    runs: Sequence[JsonObject],
    experiments: Sequence[JsonObject],
    now: datetime,
) -> View:
    """One Rollout: summary, traffic split, steps, revision tree, and each analysis run's metric charts."""
    rs_infos = replica_set_infos(rollout, replicasets, pods)
    live = (
        '<div class="columns"><div>'
        f"<h2>Summary</h2>{_summary_html(rollout, rs_infos)}"
        f"<h2>Traffic</h2>{traffic_bar_html(rollout, rs_infos)}"
        f"<h2>Steps</h2>{steps_html(rollout)}</div>"
        f"<div><h2>Revisions</h2>{_tree_html(rollout, rs_infos, runs, experiments, now)}</div></div>"
        f"<h2>Analysis</h2>{_analysis_html(rollout, runs, rs_infos)}"
    )
    return View(f"Rollout {_namespace(rollout)}/{_name(rollout)}", live, _controls_html(rollout))


def _controls_html(rollout: JsonObject) -> str:
    base = rollout_path(_namespace(rollout), _name(rollout)).replace("/rollouts/", "/api/rollouts/", 1)
    buttons = [
        action_button(f"{base}/promote", "Promote"),
        action_button(f"{base}/promote-full", "Promote full", confirm="Skip every remaining step?"),
        action_button(f"{base}/abort", "Abort", confirm="Abort the update and return all traffic to stable?",
                      css_class="danger"),
        action_button(f"{base}/retry", "Retry"),
        action_button(f"{base}/restart", "Restart", confirm="Restart every pod of this rollout?"),
    ]
    containers: list[Any] = as_json_object(as_json_object(as_json_object(rollout.get("spec")).get("template"))
                                           .get("spec")).get("containers") or []
    options = "".join(f'<option value="{escape(str(as_json_object(c).get("name", "")))}">'
                      f'{escape(str(as_json_object(c).get("name", "")))}</option>' for c in containers)
    form = (f'<form class="set-image" data-action="{escape(base)}/set-image">'
            f'<label>Container <select name="container">{options}<option value="*">all (*)</option></select></label> '
            f'<label>Image <input name="image" required placeholder="registry/image:tag"></label> '
            f'<button type="submit">Set image</button></form>')
    return f'<div class="buttons">{"".join(buttons)}</div>{form}'
