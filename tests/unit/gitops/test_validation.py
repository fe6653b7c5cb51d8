"""Semantic validation of Application, ApplicationSet and AppProject: each rule, at the exact path it reports.

Every case starts from a valid manifest and changes it; the change is the scenario, so the table reads as a
list of mistakes and what is said about them. A case lists *all* the issues it expects, so an extra or
misplaced finding fails too.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from gitops.kinds import KINDS
from gitops.models import Application
from gitops.validation import (
    cron_problem,
    validate_app_project,
    validate_application,
    validate_application_set,
    validate_sync_options,
)
from kube.issues import FieldIssue

DELETE = object()
"""A change that removes the field."""

APPLICATION: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "web", "namespace": "argocd"},
    "spec": {
        "project": "default",
        "source": {"repoURL": "https://github.com/org/repo.git", "targetRevision": "main", "path": "web"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
        "syncPolicy": {
            "automated": {"prune": True, "selfHeal": True},
            "syncOptions": ["CreateNamespace=true"],
            "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
        },
    },
}

APPLICATION_SET: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "ApplicationSet",
    "metadata": {"name": "apps", "namespace": "argocd"},
    "spec": {
        "generators": [
            {
                "git": {
                    "repoURL": "https://github.com/org/apps.git",
                    "revision": "HEAD",
                    "directories": [{"path": "apps/*"}],
                }
            }
        ],
        "template": {
            "metadata": {"name": "{{path.basename}}"},
            "spec": {
                "project": "default",
                "source": {
                    "repoURL": "https://github.com/org/apps.git",
                    "targetRevision": "HEAD",
                    "path": "{{path}}",
                },
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{path.basename}}"},
                "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
            },
        },
    },
}

APP_PROJECT: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AppProject",
    "metadata": {"name": "team-a", "namespace": "argocd"},
    "spec": {
        "sourceRepos": ["https://github.com/org/team-a-*"],
        "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "team-a-*"}],
        "syncWindows": [{"kind": "deny", "schedule": "0 22 * * *", "duration": "8h", "applications": ["*"]}],
    },
}

LIST = {"list": {"elements": [{"name": "a"}]}}
MATRIX_OF_TWO = {"matrix": {"generators": [LIST, LIST]}}

Validator = Callable[[Mapping[str, Any]], list[FieldIssue]]
VALIDATORS: dict[str, Validator] = {
    "Application": validate_application,
    "ApplicationSet": validate_application_set,
    "AppProject": validate_app_project,
}
BASES = {"Application": APPLICATION, "ApplicationSet": APPLICATION_SET, "AppProject": APP_PROJECT}


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    changes: dict[str, Any]
    # (exact path, fragment of the message), in the order the validator reports them.
    expected: list[tuple[str, str]] = field(default_factory=list)


def changed(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with each dotted path (``spec.sources[1].ref``) set to a value, or DELETEd."""
    document: dict[str, Any] = copy.deepcopy(dict(base))
    for path, value in changes.items():
        parts: list[str | int] = []
        for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
            parts.append(int(index) if index else name)
        parent: Any = document
        for part in parts[:-1]:
            parent = parent[part]
        if value is DELETE:
            del parent[parts[-1]]
        else:
            parent[parts[-1]] = copy.deepcopy(value)
    return document


INVALID: list[Case] = [
    # --- Application: sources
    Case(
        "application-without-any-source",
        "Application",
        {"spec.source": DELETE},
        [("spec", "exactly one of source or sources must be set")],
    ),
    Case(
        "application-with-source-and-sources",
        "Application",
        {"spec.sources": [{"repoURL": "https://github.com/org/other.git", "path": "x"}]},
        [("spec", "exactly one of source or sources must be set")],
    ),
    Case(
        "source-with-empty-repo-url",
        "Application",
        {"spec.source.repoURL": ""},
        [("spec.source.repoURL", "must be set")],
    ),
    Case(
        "source-without-repo-url-key",
        "Application",
        {"spec.source.repoURL": DELETE},
        [("spec.source.repoURL", "Field required")],
    ),
    Case(
        "source-with-path-and-chart",
        "Application",
        {"spec.source.chart": "nginx"},
        [("spec.source", "path and chart are mutually exclusive")],
    ),
    Case(
        "source-with-neither-path-nor-chart",
        "Application",
        {"spec.source.path": DELETE},
        [("spec.source", "one of path or chart must be set")],
    ),
    Case(
        "helm-repository-chart-without-version",
        "Application",
        {"spec.source": {"repoURL": "https://charts.jetstack.io", "chart": "cert-manager"}},
        [("spec.source.targetRevision", "chart version")],
    ),
    Case(
        "multi-source-entry-naming-nothing",
        "Application",
        {"spec.source": DELETE, "spec.sources": [{"repoURL": "https://github.com/org/values.git"}]},
        [("spec.sources[0]", "one of path, chart or ref must be set")],
    ),
    Case(
        "ref-with-a-dot",
        "Application",
        {
            "spec.source": DELETE,
            "spec.sources": [{"repoURL": "https://github.com/org/values.git", "ref": "my.values"}],
        },
        [("spec.sources[0].ref", "may hold only letters, digits, _ and -")],
    ),
    Case(
        "ref-used-twice",
        "Application",
        {
            "spec.source": DELETE,
            "spec.sources": [
                {"repoURL": "https://github.com/org/a.git", "ref": "values"},
                {"repoURL": "https://github.com/org/b.git", "ref": "values"},
            ],
        },
        [("spec.sources[1].ref", "already the ref of spec.sources[0]")],
    ),
    Case(
        "value-file-from-an-unknown-ref",
        "Application",
        {
            "spec.source": DELETE,
            "spec.sources": [
                {
                    "repoURL": "https://charts.example.com",
                    "chart": "app",
                    "targetRevision": "1.0.0",
                    "helm": {"valueFiles": ["$values/app.yaml"]},
                },
                {"repoURL": "https://github.com/org/values.git", "ref": "valuez"},
            ],
        },
        [("spec.sources[0].helm.valueFiles[0]", "$values names no source")],
    ),
    # --- Application: destination
    Case(
        "destination-with-server-and-name",
        "Application",
        {"spec.destination.name": "in-cluster"},
        [("spec.destination", "server and name are mutually exclusive")],
    ),
    Case(
        "destination-with-neither-server-nor-name",
        "Application",
        {"spec.destination.server": DELETE},
        [("spec.destination", "one of server or name must be set")],
    ),
    Case(
        "application-without-destination",
        "Application",
        {"spec.destination": DELETE},
        [("spec.destination", "Field required")],
    ),
    # --- Application: sync options
    Case(
        "sync-option-without-equals",
        "Application",
        {"spec.syncPolicy.syncOptions": ["CreateNamespace=true", "PruneLast"]},
        [("spec.syncPolicy.syncOptions[1]", "'PruneLast' is not of the form Key=value")],
    ),
    Case(
        "sync-option-without-key",
        "Application",
        {"spec.syncPolicy.syncOptions": ["=true"]},
        [("spec.syncPolicy.syncOptions[0]", "is not of the form Key=value")],
    ),
    Case(
        "sync-option-capitalised-boolean",
        "Application",
        {"spec.syncPolicy.syncOptions": ["CreateNamespace=True"]},
        [("spec.syncPolicy.syncOptions[0]", "CreateNamespace must be true or false, got 'True'")],
    ),
    Case(
        "sync-option-unknown-propagation-policy",
        "Application",
        {"spec.syncPolicy.syncOptions": ["PrunePropagationPolicy=later"]},
        [("spec.syncPolicy.syncOptions[0]", "must be one of foreground, background, orphan, got 'later'")],
    ),
    Case(
        "sync-option-prune-neither-boolean-nor-confirm",
        "Application",
        {"spec.syncPolicy.syncOptions": ["Prune=maybe"]},
        [("spec.syncPolicy.syncOptions[0]", "Prune must be one of true, false, confirm")],
    ),
    Case(
        "sync-option-with-spaces",
        "Application",
        {"spec.syncPolicy.syncOptions": ["ServerSideApply = true"]},
        [("spec.syncPolicy.syncOptions[0]", "must not have spaces")],
    ),
    Case(
        "sync-options-contradicting-each-other",
        "Application",
        {"spec.syncPolicy.syncOptions": ["Replace=true", "CreateNamespace=true", "Replace=false"]},
        [
            (
                "spec.syncPolicy.syncOptions[2]",
                "Replace=false contradicts Replace=true at spec.syncPolicy.syncOptions[0]",
            )
        ],
    ),
    Case(
        "operation-with-malformed-sync-option",
        "Application",
        {"operation": {"sync": {"syncOptions": ["Validate"]}}},
        [("operation.sync.syncOptions[0]", "not of the form Key=value")],
    ),
    # --- Application: retry and limits
    Case(
        "backoff-factor-below-one",
        "Application",
        {"spec.syncPolicy.retry.backoff.factor": 0},
        [("spec.syncPolicy.retry.backoff.factor", "must be at least 1, got 0")],
    ),
    Case(
        "operation-retry-backoff-factor-below-one",
        "Application",
        {"operation": {"sync": {}, "retry": {"limit": 1, "backoff": {"factor": -2}}}},
        [("operation.retry.backoff.factor", "must be at least 1, got -2")],
    ),
    Case(
        "backoff-duration-in-words",
        "Application",
        {"spec.syncPolicy.retry.backoff.duration": "5 seconds"},
        [("spec.syncPolicy.retry.backoff.duration", "invalid duration '5 seconds'")],
    ),
    Case(
        "backoff-max-duration-negative",
        "Application",
        {"spec.syncPolicy.retry.backoff.maxDuration": -1},
        [("spec.syncPolicy.retry.backoff.maxDuration", "must not be negative")],
    ),
    Case(
        "negative-revision-history-limit",
        "Application",
        {"spec.revisionHistoryLimit": -1},
        [("spec.revisionHistoryLimit", "must not be negative, got -1")],
    ),
    Case(
        "quoted-boolean-in-automated",
        "Application",
        {"spec.syncPolicy.automated.prune": "true"},
        [("spec.syncPolicy.automated.prune", "valid boolean")],
    ),
    Case(
        "several-mistakes-reported-together",
        "Application",
        {"spec.destination.name": "in-cluster", "spec.syncPolicy.syncOptions": ["Force"]},
        [
            ("spec.destination", "mutually exclusive"),
            ("spec.syncPolicy.syncOptions[0]", "not of the form Key=value"),
        ],
    ),
    # --- ApplicationSet: generators
    Case(
        "applicationset-without-generators",
        "ApplicationSet",
        {"spec.generators": []},
        [("spec.generators", "at least one generator is required")],
    ),
    Case(
        "generator-setting-nothing",
        "ApplicationSet",
        {"spec.generators": [{}]},
        [("spec.generators[0]", "sets no generator type: set exactly one of list, clusters, git")],
    ),
    Case(
        "generator-with-a-misspelt-type",
        "ApplicationSet",
        {"spec.generators": [{"cluster": {}}]},
        [("spec.generators[0]", "sets no generator type (unknown: cluster)")],
    ),
    Case(
        "generator-with-only-a-selector",
        "ApplicationSet",
        {"spec.generators": [{"selector": {"matchLabels": {"a": "b"}}}]},
        [("spec.generators[0]", "sets no generator type")],
    ),
    Case(
        "generator-setting-two-types",
        "ApplicationSet",
        {"spec.generators[0].list": {"elements": []}},
        [("spec.generators[0]", "sets list and git: a generator sets exactly one generator type")],
    ),
    Case(
        "matrix-with-one-child",
        "ApplicationSet",
        {"spec.generators": [{"matrix": {"generators": [LIST]}}]},
        [("spec.generators[0].matrix.generators", "combines exactly two child generators, got 1")],
    ),
    Case(
        "matrix-with-three-children",
        "ApplicationSet",
        {"spec.generators": [{"matrix": {"generators": [LIST, LIST, LIST]}}]},
        [("spec.generators[0].matrix.generators", "combines exactly two child generators, got 3")],
    ),
    Case(
        "merge-with-one-child",
        "ApplicationSet",
        {"spec.generators": [{"merge": {"mergeKeys": ["name"], "generators": [LIST]}}]},
        [("spec.generators[0].merge.generators", "needs at least two child generators, got 1")],
    ),
    Case(
        "merge-without-merge-keys",
        "ApplicationSet",
        {"spec.generators": [{"merge": {"generators": [LIST, LIST]}}]},
        [("spec.generators[0].merge.mergeKeys", "at least one merge key is required")],
    ),
    Case(
        "matrix-child-setting-nothing",
        "ApplicationSet",
        {"spec.generators": [{"matrix": {"generators": [LIST, {}]}}]},
        [("spec.generators[0].matrix.generators[1]", "sets no generator type")],
    ),
    Case(
        "combination-nested-twice",
        "ApplicationSet",
        {
            "spec.generators": [
                {"matrix": {"generators": [LIST, {"matrix": {"generators": [LIST, MATRIX_OF_TWO]}}]}}
            ]
        },
        [
            (
                "spec.generators[0].matrix.generators[1].matrix.generators[1].matrix",
                "matrix and merge generators can only be nested once",
            )
        ],
    ),
    Case(
        "git-generator-without-directories-or-files",
        "ApplicationSet",
        {"spec.generators[0].git.directories": DELETE},
        [("spec.generators[0].git", "one of directories or files must be set")],
    ),
    Case(
        "git-generator-with-empty-repo-url",
        "ApplicationSet",
        {"spec.generators[0].git.repoURL": ""},
        [("spec.generators[0].git.repoURL", "must be set")],
    ),
    # --- ApplicationSet: template and policy
    Case(
        "template-without-name",
        "ApplicationSet",
        {"spec.template.metadata": {}},
        [("spec.template.metadata.name", "must be set")],
    ),
    Case(
        "template-without-metadata",
        "ApplicationSet",
        {"spec.template.metadata": DELETE},
        [("spec.template.metadata.name", "must be set")],
    ),
    Case(
        "template-without-spec",
        "ApplicationSet",
        {"spec.template.spec": DELETE},
        [("spec.template.spec", "Field required")],
    ),
    Case(
        "template-with-source-and-sources",
        "ApplicationSet",
        {"spec.template.spec.sources": [{"repoURL": "https://github.com/org/apps.git", "path": "x"}]},
        [("spec.template.spec", "exactly one of source or sources must be set")],
    ),
    Case(
        "template-destination-with-server-and-name",
        "ApplicationSet",
        {"spec.template.spec.destination.name": "{{name}}"},
        [("spec.template.spec.destination", "server and name are mutually exclusive")],
    ),
    Case(
        "template-with-malformed-literal-sync-option",
        "ApplicationSet",
        {"spec.template.spec.syncPolicy.syncOptions": ["{{option}}", "CreateNamespace"]},
        [("spec.template.spec.syncPolicy.syncOptions[1]", "not of the form Key=value")],
    ),
    Case(
        "unknown-applications-sync-policy",
        "ApplicationSet",
        {"spec.syncPolicy": {"applicationsSync": "create-or-update"}},
        [
            (
                "spec.syncPolicy.applicationsSync",
                "must be one of create-only, create-update, create-delete, sync, got 'create-or-update'",
            )
        ],
    ),
    # --- AppProject
    Case(
        "sync-window-of-unknown-kind",
        "AppProject",
        {"spec.syncWindows[0].kind": "block"},
        [("spec.syncWindows[0].kind", "must be allow or deny, got 'block'")],
    ),
    Case(
        "sync-window-schedule-as-descriptor",
        "AppProject",
        {"spec.syncWindows[0].schedule": "@daily"},
        [("spec.syncWindows[0].schedule", "expected 5 fields")],
    ),
    Case(
        "sync-window-schedule-with-seconds",
        "AppProject",
        {"spec.syncWindows[0].schedule": "0 0 22 * * *"},
        [("spec.syncWindows[0].schedule", "got 6")],
    ),
    Case(
        "sync-window-schedule-hour-out-of-range",
        "AppProject",
        {"spec.syncWindows[0].schedule": "0 24 * * *"},
        [("spec.syncWindows[0].schedule", "hour '24': values must be between 0 and 23")],
    ),
    Case(
        "sync-window-schedule-unknown-weekday",
        "AppProject",
        {"spec.syncWindows[0].schedule": "0 22 * * MON-FRY"},
        [("spec.syncWindows[0].schedule", "day of week 'MON-FRY': 'FRY' is not a value")],
    ),
    Case(
        "sync-window-schedule-zero-step",
        "AppProject",
        {"spec.syncWindows[0].schedule": "*/0 * * * *"},
        [("spec.syncWindows[0].schedule", "step '0' must be a positive number")],
    ),
    Case(
        "sync-window-schedule-backwards-range",
        "AppProject",
        {"spec.syncWindows[0].schedule": "0 22 * DEC-JAN *"},
        [("spec.syncWindows[0].schedule", "range 'DEC-JAN' runs backwards")],
    ),
    Case(
        "sync-window-empty-schedule",
        "AppProject",
        {"spec.syncWindows[0].schedule": DELETE},
        [("spec.syncWindows[0].schedule", "got 0")],
    ),
    Case(
        "sync-window-duration-in-words",
        "AppProject",
        {"spec.syncWindows[0].duration": "1 hour"},
        [("spec.syncWindows[0].duration", "invalid duration '1 hour'")],
    ),
    Case(
        "sync-window-duration-without-unit",
        "AppProject",
        {"spec.syncWindows[0].duration": "60"},
        [("spec.syncWindows[0].duration", "missing unit")],
    ),
    Case(
        "project-destination-with-neither-server-nor-name",
        "AppProject",
        {"spec.destinations[0].server": DELETE},
        [("spec.destinations[0]", "one of server or name must be set")],
    ),
    Case(
        "project-whitelist-entry-without-kind",
        "AppProject",
        {"spec.clusterResourceWhitelist": [{"group": ""}]},
        [("spec.clusterResourceWhitelist[0].kind", "Field required")],
    ),
]


@pytest.mark.parametrize("case", INVALID, ids=[case.name for case in INVALID])
def test_invalid_manifest_reports_each_mistake_at_its_path(case: Case) -> None:
    manifest = changed(BASES[case.kind], case.changes)

    issues = VALIDATORS[case.kind](manifest)

    assert [issue.path for issue in issues] == [path for path, _ in case.expected], issues
    for issue, (_, fragment) in zip(issues, case.expected, strict=True):
        assert fragment in issue.message


VALID: list[Case] = [
    Case("application-base", "Application", {}),
    Case("applicationset-base", "ApplicationSet", {}),
    Case("appproject-base", "AppProject", {}),
    Case(
        "unknown-sync-option-keys-are-left-to-argo",
        "Application",
        {
            "spec.syncPolicy.syncOptions": [
                "SomeFutureOption=yes",
                "CreateNamespace=true",
                "SomeFutureOption=no",
            ]
        },
    ),
    Case(
        "every-known-sync-option",
        "Application",
        {
            "spec.syncPolicy.syncOptions": [
                "CreateNamespace=true",
                "ServerSideApply=true",
                "ApplyOutOfSyncOnly=true",
                "PruneLast=true",
                "Prune=confirm",
                "Delete=false",
                "Validate=false",
                "Replace=false",
                "Force=true",
                "RespectIgnoreDifferences=true",
                "PrunePropagationPolicy=orphan",
                "FailOnSharedResource=true",
                "SkipDryRunOnMissingResource=true",
                "CreateNamespace=true",
            ]
        },
    ),
    Case("destination-by-cluster-name", "Application", {"spec.destination": {"name": "in-cluster"}}),
    Case("path-dot-for-repository-root", "Application", {"spec.source.path": "."}),
    Case("bare-seconds-backoff", "Application", {"spec.syncPolicy.retry.backoff.duration": 30}),
    Case("unlimited-retries", "Application", {"spec.syncPolicy.retry.limit": -1}),
    Case(
        "multi-source-with-a-ref-only-source",
        "Application",
        {
            "spec.source": DELETE,
            "spec.sources": [
                {
                    "repoURL": "https://charts.example.com",
                    "chart": "app",
                    "targetRevision": "1.0.0",
                    "helm": {"valueFiles": ["$values/app.yaml", "values-local.yaml"]},
                },
                {"repoURL": "https://github.com/org/values.git", "targetRevision": "main", "ref": "values"},
            ],
        },
    ),
    Case(
        "source-hydrator-instead-of-source",
        "Application",
        {
            "spec.source": DELETE,
            "spec.sourceHydrator": {
                "drySource": {
                    "repoURL": "https://github.com/org/repo.git",
                    "targetRevision": "HEAD",
                    "path": "x",
                },
                "syncSource": {"targetBranch": "env/prod", "path": "x"},
            },
        },
    ),
    Case(
        "templated-values-in-non-string-fields",
        "ApplicationSet",
        {
            "spec.template.spec.syncPolicy": {
                "automated": {"prune": "{{prune}}", "selfHeal": "{{selfHeal}}"},
                "syncOptions": ["{{syncOption}}", "ServerSideApply=true"],
            },
            "spec.template.spec.revisionHistoryLimit": "{{history}}",
        },
    ),
    Case(
        "name-supplied-by-template-patch",
        "ApplicationSet",
        {
            "spec.template.metadata": {},
            "spec.templatePatch": "metadata:\n  name: {{ .path.basename }}\n",
            "spec.goTemplate": True,
        },
    ),
    Case(
        "name-supplied-by-a-nested-generator-template",
        "ApplicationSet",
        {
            "spec.template.metadata": {},
            "spec.generators": [
                {
                    "matrix": {
                        "generators": [
                            LIST,
                            {"clusters": {"template": {"metadata": {"name": "{{name}}-app"}, "spec": {}}}},
                        ]
                    }
                }
            ],
        },
    ),
    Case(
        "combination-nested-once",
        "ApplicationSet",
        {
            "spec.generators": [
                {
                    "merge": {
                        "mergeKeys": ["name"],
                        "generators": [
                            MATRIX_OF_TWO,
                            {"merge": {"mergeKeys": ["name"], "generators": [LIST, LIST]}},
                        ],
                    }
                }
            ]
        },
    ),
    Case(
        "generator-with-a-selector",
        "ApplicationSet",
        {"spec.generators[0].selector": {"matchLabels": {"path.basename": "web"}}},
    ),
    Case(
        "git-files-generator",
        "ApplicationSet",
        {"spec.generators[0].git": {"repoURL": "r", "files": [{"path": "*"}]}},
    ),
    Case("empty-directories-list", "ApplicationSet", {"spec.generators[0].git.directories": []}),
    Case(
        "each-applications-sync-policy",
        "ApplicationSet",
        {"spec.syncPolicy": {"applicationsSync": "create-only"}},
    ),
    Case(
        "loose-generators-kept-as-written",
        "ApplicationSet",
        {
            "spec.generators": [
                {"scmProvider": {"gitea": {"owner": "org"}}},
                {"pullRequest": {}},
                {"plugin": {}},
            ]
        },
    ),
    Case(
        "weekday-and-month-names-ranges-lists-and-steps",
        "AppProject",
        {
            "spec.syncWindows": [
                {"kind": "allow", "schedule": "*/15 9-17 ? jan-mar,JUN MON-FRI", "duration": "1h30m"},
                {"kind": "deny", "schedule": "0 0 1,15 * 0", "duration": "0"},
                {"kind": "deny", "schedule": "30 2 * * 6", "duration": "90m", "timeZone": "Europe/Paris"},
            ]
        },
    ),
    Case(
        "project-destination-with-server-and-name",
        "AppProject",
        {"spec.destinations": [{"server": "*", "name": "*", "namespace": "*"}]},
    ),
    Case(
        "project-destination-by-name",
        "AppProject",
        {"spec.destinations": [{"name": "prod", "namespace": "*"}]},
    ),
]


@pytest.mark.parametrize("case", VALID, ids=[case.name for case in VALID])
def test_valid_manifest_has_no_issues(case: Case) -> None:
    manifest = changed(BASES[case.kind], case.changes)

    assert VALIDATORS[case.kind](manifest) == []


@pytest.mark.parametrize("case", [*INVALID, *VALID], ids=[case.name for case in [*INVALID, *VALID]])
def test_kind_check_reports_what_the_validator_reports(case: Case) -> None:
    spec = next(spec for spec in KINDS if spec.kind == case.kind)
    manifest = changed(BASES[case.kind], case.changes)

    assert spec.check(manifest) == VALIDATORS[case.kind](manifest)


def test_validators_accept_parsed_models() -> None:
    app = Application.from_dict(changed(APPLICATION, {"spec.destination.name": "x"}))

    assert validate_application(app) == [
        FieldIssue("spec.destination", "server and name are mutually exclusive: set one of them")
    ]


def test_sync_options_are_checked_on_their_own() -> None:
    issues = validate_sync_options(["ServerSideApply=yes"], "metadata.annotations")

    assert issues == [
        FieldIssue("metadata.annotations[0]", "ServerSideApply must be true or false, got 'yes'")
    ]


@pytest.mark.parametrize(
    "schedule",
    ["* * * * *", "0 22 * * *", "5,10 */2 1-7 * SUN", "0 0 ? * sat", "0-59/5 0-23/2 1-31 1-12 0-6"],
)
def test_five_field_cron_schedules_are_accepted(schedule: str) -> None:
    assert cron_problem(schedule) is None


@pytest.mark.parametrize(
    "schedule", ["", "@hourly", "60 * * * *", "* * 0 * *", "* * * 13 *", "* * * * 7", "a * * * *"]
)
def test_schedules_argo_cannot_parse_are_rejected(schedule: str) -> None:
    assert cron_problem(schedule) is not None
