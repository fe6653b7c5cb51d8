"""The built-in triggers and templates, as ConfigMap entries a user's ConfigMap may replace key by key.

Argo Rollouts' triggers (its ``manifests/notifications/on-*.yaml``) have no ``when``: each is keyed on the Event
reason the controller records (``RolloutCompleted`` → ``on-rollout-completed``, Argo's ``translateReasonToTrigger``
in ``utils/record/record.go``). Argo CD's (its ``notifications_catalog/triggers/*.yaml``) are conditions on the
Application's status, with ``oncePer`` the synced revision. The trigger names, conditions and ``oncePer`` are
Argo's; the template wording is this project's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from kube.resources import APPLICATIONS, ROLLOUTS, ResourceKind

ROLLOUT_CONFIGMAP: Final = "argo-rollouts-notification-configmap"
ROLLOUT_SECRET: Final = "argo-rollouts-notification-secret"
APPLICATION_CONFIGMAP: Final = "argocd-notifications-cm"
APPLICATION_SECRET: Final = "argocd-notifications-secret"

# trigger name → (template name, message); the template's email subject is its message's first line.
_ROLLOUT_TRIGGERS: Final = {
    "on-rollout-completed": ("rollout-completed", "Rollout {{.rollout.metadata.name}} has been completed."),
    "on-rollout-step-completed": (
        "rollout-step-completed",
        "Rollout {{.rollout.metadata.name}} step number {{add .rollout.status.currentStepIndex 1}}/"
        "{{len .rollout.spec.strategy.canary.steps}} has been completed.",
    ),
    "on-rollout-updated": ("rollout-updated", "Rollout {{.rollout.metadata.name}} has been updated."),
    "on-rollout-paused": (
        "rollout-paused",
        "Rollout {{.rollout.metadata.name}} has been paused at step {{.rollout.status.currentStepIndex}}.",
    ),
    "on-rollout-aborted": ("rollout-aborted", "Rollout {{.rollout.metadata.name}} has been aborted."),
    "on-analysis-run-failed": (
        "analysis-run-failed",
        "Rollout {{.rollout.metadata.name}}: an analysis run has failed.",
    ),
    "on-analysis-run-error": (
        "analysis-run-error",
        "Rollout {{.rollout.metadata.name}}: an analysis run has ended in error.",
    ),
    "on-analysis-run-running": (
        "analysis-run-running",
        "Rollout {{.rollout.metadata.name}}: an analysis run is running.",
    ),
}

_ROLLOUT_SLACK_FIELDS: Final = (
    '[{"title": "{{.rollout.metadata.name}}", "color": "{{.color}}", "fields": ['
    '{"title": "Strategy", "value": "{{if .rollout.spec.strategy.blueGreen}}BlueGreen{{end}}'
    '{{if .rollout.spec.strategy.canary}}Canary{{end}}", "short": true}'
    '{{range $c := .rollout.spec.template.spec.containers}}, '
    '{"title": "{{$c.name}}", "value": "{{$c.image}}", "short": true}{{end}}]}]'
)


def _rollout_template(message: str, color: str) -> str:
    subject = message.replace('"', '\\"')
    attachments = _ROLLOUT_SLACK_FIELDS.replace("{{.color}}", color).replace("'", "''")
    return f"message: \"{subject}\"\nemail:\n  subject: \"{subject}\"\nslack:\n  attachments: '{attachments}'\n"


_COLORS: Final = {"rollout-aborted": "#E96D76", "analysis-run-failed": "#E96D76", "analysis-run-error": "#E96D76",
                  "rollout-paused": "#f4c030", "analysis-run-running": "#0DADEA"}

ROLLOUT_DEFAULTS: Final[dict[str, str]] = {
    **{f"trigger.{trigger}": f"- send: [{template}]\n" for trigger, (template, _) in _ROLLOUT_TRIGGERS.items()},
    **{
        f"template.{template}": _rollout_template(message, _COLORS.get(template, "#18be52"))
        for template, message in _ROLLOUT_TRIGGERS.values()
    },
}
"""The Rollout controller's built-in ``trigger.*`` and ``template.*`` entries."""

_DEPLOYED_WHEN: Final = (
    "app.status.operationState != nil and app.status.operationState.phase in ['Succeeded'] and "
    "app.status.health.status == 'Healthy' and "
    "!time.Parse(app.status.health.lastTransitionTime).Before(time.Parse(app.status.operationState.finishedAt))"
)
_ONCE_PER_REVISION: Final = "app.status.operationState?.syncResult?.revision"

# trigger name → (template, when, message, description)
_APPLICATION_TRIGGERS: Final = {
    "on-sync-succeeded": (
        "app-sync-succeeded",
        "app.status.operationState != nil and app.status.operationState.phase in ['Succeeded']",
        "Application {{.app.metadata.name}} has been successfully synced at {{.app.status.operationState.finishedAt}}.",
        "Application syncing has succeeded",
    ),
    "on-sync-failed": (
        "app-sync-failed",
        "app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed']",
        "The sync operation of application {{.app.metadata.name}} has failed at "
        "{{.app.status.operationState.finishedAt}}: {{.app.status.operationState.message}}",
        "Application syncing has failed",
    ),
    "on-sync-running": (
        "app-sync-running",
        "app.status.operationState != nil and app.status.operationState.phase in ['Running']",
        "The sync operation of application {{.app.metadata.name}} has started at "
        "{{.app.status.operationState.startedAt}}.",
        "Application is being synced",
    ),
    "on-sync-status-unknown": (
        "app-sync-status-unknown",
        "app.status.sync.status == 'Unknown'",
        "Application {{.app.metadata.name}} sync status is 'Unknown'.",
        "Application status is 'Unknown'",
    ),
    "on-health-degraded": (
        "app-health-degraded",
        "app.status.health.status == 'Degraded'",
        "Application {{.app.metadata.name}} has degraded.",
        "Application has degraded",
    ),
    "on-deployed": (
        "app-deployed",
        _DEPLOYED_WHEN,
        "Application {{.app.metadata.name}} is now running a new version of its manifests.",
        "Application is synced and healthy. Triggered once per commit.",
    ),
}


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


APPLICATION_DEFAULTS: Final[dict[str, str]] = {
    **{
        f"trigger.{trigger}": (
            f"- description: {_quoted(description)}\n  oncePer: {_quoted(_ONCE_PER_REVISION)}\n"
            f"  send: [{template}]\n  when: {_quoted(when)}\n"
        )
        for trigger, (template, when, _, description) in _APPLICATION_TRIGGERS.items()
    },
    **{
        f"template.{template}": (
            f"message: {_quoted(message + ' Details: {{.context.argocdUrl}}/applications/{{.app.metadata.name}}')}\n"
            f"email:\n  subject: {_quoted(message)}\n"
        )
        for template, _, message, _ in _APPLICATION_TRIGGERS.values()
    },
}
"""Argo CD's built-in ``trigger.*`` and ``template.*`` entries (its notifications catalog's triggers)."""

APPLICATION_CONTEXT_DEFAULTS: Final = {"argocdUrl": "https://localhost:4000"}
"""The ``context`` Argo CD gives templates when the ConfigMap sets none (its ``argocdUrl`` default)."""

DEFAULT_ROLLOUT_TRIGGERS: Final = tuple(_ROLLOUT_TRIGGERS)
DEFAULT_APPLICATION_TRIGGERS: Final = tuple(_APPLICATION_TRIGGERS)


@dataclass(frozen=True)
class NotifiedKind:
    """What differs between the Rollout and the Application notification controllers."""

    resource: ResourceKind
    variable: str
    configmap: str
    secret: str
    defaults: Mapping[str, str]
    context_defaults: Mapping[str, Any] = field(default_factory=dict)
    event_keyed: bool = False


ROLLOUT_NOTIFICATIONS: Final = NotifiedKind(ROLLOUTS, "rollout", ROLLOUT_CONFIGMAP, ROLLOUT_SECRET, ROLLOUT_DEFAULTS,
                                            event_keyed=True)
APPLICATION_NOTIFICATIONS: Final = NotifiedKind(APPLICATIONS, "app", APPLICATION_CONFIGMAP, APPLICATION_SECRET,
                                                APPLICATION_DEFAULTS, APPLICATION_CONTEXT_DEFAULTS)
