"""The Application pages: tiles with sync and health, one Application with its resource tree (health and sync per
resource, hooks by phase, resources by wave), its last operation's results, its history, and the diff of what is
OutOfSync. Pure: Applications in, HTML out, read the way `rollouts app get` reads them (``cli.app_view``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

from cli.app_view import history_rows, source_of, summary, sync_policy_word, sync_result_rows
from dashboard.page_layout import View, action_button, table_html
from kube.json_data import as_int, as_json_object

if TYPE_CHECKING:
    from kube.json_data import JsonObject

# The order Argo CD runs a sync's phases in; each phase's hooks are shown where it runs.
HOOK_PHASES_BEFORE: Final = ("PreSync",)
HOOK_PHASES_AFTER: Final = ("PostSync", "SyncFail", "PostDelete")


@dataclass(frozen=True)
class ResourceDiff:
    """What one OutOfSync resource would change: its key as text, a note (missing, extraneous) and the diff."""

    key: str
    note: str
    diff: str


def application_path(namespace: str, name: str) -> str:
    return f"/applications/{quote(namespace, safe='')}/{quote(name, safe='')}"


def _meta(app: JsonObject) -> JsonObject:
    return as_json_object(app.get("metadata"))


def _status(app: JsonObject) -> JsonObject:
    return as_json_object(app.get("status"))


def sync_and_health(app: JsonObject) -> tuple[str, str]:
    status = _status(app)
    return (str(as_json_object(status.get("sync")).get("status") or "Unknown"),
            str(as_json_object(status.get("health")).get("status") or "Unknown"))


def _badge(word: str, kind: str) -> str:
    return f'<span class="badge {kind} {escape(word.lower())}" data-{kind}="{escape(word)}">{escape(word)}</span>'


def applications_view(apps: Sequence[JsonObject], unavailable: str | None = None) -> View:
    """One tile per Application: name, project, sync and health, where its source is."""
    if unavailable:
        return View("Applications", f'<p class="missing">{escape(unavailable)}</p>')
    if not apps:
        return View("Applications", '<p class="missing">No Applications.</p>')
    tiles = []
    for app in apps:
        meta, spec = _meta(app), as_json_object(app.get("spec"))
        name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
        sync, health = sync_and_health(app)
        source = source_of(app)
        where = f"{source.get('repoURL', '')} {source.get('path') or source.get('chart') or ''}".strip()
        tiles.append(
            f'<a class="tile" data-name="{escape(name)}" href="{escape(application_path(namespace, name))}">'
            f"<strong>{escape(name)}</strong><span>{escape(namespace)} · project "
            f"{escape(str(spec.get('project') or 'default'))} · {escape(sync_policy_word(app))}</span>"
            f"{_badge(sync, 'sync')} {_badge(health, 'health')}<small>{escape(where)}</small></a>"
        )
    return View("Applications", f'<div class="tiles">{"".join(tiles)}</div>')


def _resource_item(entry: JsonObject, diff_link: str) -> str:
    kind, name = str(entry.get("kind") or ""), str(entry.get("name") or "")
    namespace = str(entry.get("namespace") or "")
    sync = str(entry.get("status") or "Unknown")
    health = str(as_json_object(entry.get("health")).get("status") or "")
    message = str(as_json_object(entry.get("health")).get("message") or "")
    diff = f' <a class="diff-link" href="{escape(diff_link)}">diff</a>' if sync == "OutOfSync" else ""
    return (f'<li class="resource" data-kind="{escape(kind)}" data-name="{escape(name)}" '
            f'data-wave="{as_int(entry.get("syncWave"))}"><span class="kind">{escape(kind)}</span> '
            f'{escape(f"{namespace}/{name}" if namespace else name)} {_badge(sync, "sync")}'
            + (f" {_badge(health, 'health')}" if health else "")
            + (f' <small>{escape(message)}</small>' if message else "") + f"{diff}</li>")


def _hook_item(result: JsonObject) -> str:
    kind, name = str(result.get("kind") or ""), str(result.get("name") or "")
    phase = str(result.get("hookPhase") or result.get("status") or "")
    return (f'<li class="hook" data-hook="{escape(str(result.get("hookType") or ""))}" data-kind="{escape(kind)}" '
            f'data-name="{escape(name)}"><span class="kind">{escape(kind)}</span> {escape(name)} '
            f'<span class="hook-type">{escape(str(result.get("hookType") or ""))} hook</span> '
            f'<span class="status">{escape(phase)}</span> <small>{escape(str(result.get("message") or ""))}</small>'
            "</li>")


def resource_tree_html(app: JsonObject) -> str:
    """The Application, then its sync's phases in the order they run: the PreSync hooks, each wave's resources (in
    wave order) with the Sync hooks, then the PostSync and SyncFail hooks."""
    meta = _meta(app)
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    diff_link = application_path(namespace, name) + "/diff"
    listed = [as_json_object(r) for r in _status(app).get("resources") or []]
    # Hooks are listed too (``hook: true``); they belong with their phase, not in a wave.
    resources = [r for r in listed if not r.get("hook")]
    results = [as_json_object(r) for r in as_json_object(as_json_object(_status(app).get("operationState"))
                                                          .get("syncResult")).get("resources") or []]
    hooks = [r for r in results if r.get("hookType")]
    run = {(r.get("kind"), r.get("namespace"), r.get("name")) for r in hooks}
    # A hook still in the cluster that the last sync did not run (an earlier sync's): shown, phase unknown.
    other_hooks = [r for r in listed if r.get("hook") and (r.get("kind"), r.get("namespace"), r.get("name")) not in run]

    def hook_group(phase: str) -> str:
        items = [_hook_item(h) for h in hooks if h.get("hookType") == phase]
        if not items:
            return ""
        return (f'<li class="phase" data-phase="{escape(phase)}"><span class="kind">{escape(phase)} hooks</span>'
                f'<ul>{"".join(items)}</ul></li>')

    groups = [hook_group(phase) for phase in HOOK_PHASES_BEFORE]
    waves = sorted({as_int(r.get("syncWave")) for r in resources})
    for wave in waves:
        items = [_resource_item(r, diff_link) for r in resources if as_int(r.get("syncWave")) == wave]
        groups.append(f'<li class="wave" data-wave="{wave}"><span class="kind">wave {wave}</span>'
                      f'<ul>{"".join(items)}</ul></li>')
    groups.append(hook_group("Sync"))
    groups += [hook_group(phase) for phase in HOOK_PHASES_AFTER]
    if other_hooks:
        listed_hooks = "".join(_resource_item(r, diff_link) for r in other_hooks)
        groups.append(f'<li class="phase" data-phase="Hook"><span class="kind">other hooks</span>'
                      f"<ul>{listed_hooks}</ul></li>")
    sync, health = sync_and_health(app)
    return (f'<ul class="tree" id="resource-tree"><li class="application"><span class="kind">Application</span> '
            f'{escape(name)} {_badge(sync, "sync")} {_badge(health, "health")}<ul>{"".join(groups)}</ul></li></ul>')


def application_view(app: JsonObject) -> View:
    """One Application: summary, resource tree, the last operation's per-resource results, and its history."""
    meta = _meta(app)
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    state = as_json_object(_status(app).get("operationState"))
    operation = ""
    if state:
        rows = sync_result_rows(state)
        operation = (f'<p class="operation" data-phase="{escape(str(state.get("phase") or ""))}">'
                     f'{escape(str(state.get("phase") or ""))}: {escape(str(state.get("message") or ""))}</p>'
                     + table_html(["Group", "Kind", "Namespace", "Name", "Status", "Health", "Hook", "Message"], rows,
                                  css_class="results"))
    base = application_path(namespace, name).replace("/applications/", "/api/applications/", 1)
    history = [[*row, action_button(f"{base}/rollback", "Roll back to this",
                                    confirm=f"Roll back to deployment {row[0]}?", params={"id": as_int(row[0])})]
               for row in history_rows(app)]
    live = (f'<pre class="app-summary">{escape(summary(app))}</pre>'
            f"<h2>Resources</h2>{resource_tree_html(app)}"
            f"<h2>Last operation</h2>{operation or '<p class=missing>No operation yet.</p>'}"
            "<h2>History</h2>"
            + (table_html(["ID", "Date", "Revision", ""], history, raw_columns=frozenset({3}), css_class="history")
               if history else "<p class=missing>No deployments yet.</p>"))
    controls = (f'<div class="buttons">{action_button(f"{base}/sync", "Sync")}'
                f'{action_button(f"{base}/refresh", "Refresh")}'
                f'{action_button(f"{base}/rollback", "Roll back", confirm="Roll back to the previous deployment?")}'
                f'<a class="button" href="{escape(application_path(namespace, name))}/diff">Diff</a></div>')
    return View(f"Application {namespace}/{name}", live, controls)


def diff_view(app: JsonObject, diffs: Sequence[ResourceDiff], error: str | None = None) -> View:
    """What a sync would change: each OutOfSync resource's diff (Secret values masked by the comparison)."""
    meta = _meta(app)
    title = f"Diff {meta.get('namespace', '')}/{meta.get('name', '')}"
    if error:
        return View(title, f'<p class="failure">{escape(error)}</p>')
    if not diffs:
        return View(title, '<p class="missing">Nothing differs between Git and the cluster.</p>')
    blocks = [f'<section class="diff"><h3>{escape(d.key)}</h3>'
              + (f"<p>{escape(d.note)}</p>" if d.note else "")
              + (f"<pre>{escape(d.diff)}</pre>" if d.diff else "") + "</section>" for d in diffs]
    return View(title, "".join(blocks))
