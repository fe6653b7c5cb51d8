"""The Argo CD models: Argo's defaults when fields are absent, and manifests that round-trip unchanged."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from gitops.models import (
    Application,
    ApplicationSet,
    ApplicationSpec,
    AppProject,
    Backoff,
    OrphanedResourcesMonitorSettings,
    RetryStrategy,
    SyncPolicyAutomated,
)
from kube.issues import issues_from_validation_error

MINIMAL_APPLICATION: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "guestbook", "namespace": "argocd"},
    "spec": {
        "source": {"repoURL": "https://github.com/argoproj/argocd-example-apps", "path": "guestbook"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"},
    },
}

FULL_APPLICATION: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {
        "name": "everything",
        "namespace": "argocd",
        "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        "annotations": {"argocd.argoproj.io/refresh": "hard"},
    },
    "spec": {
        "project": "team-a",
        "source": {
            "repoURL": "https://github.com/org/repo.git",
            "targetRevision": "v1.2.3",
            "path": "deploy",
            "name": "main",
            "directory": {
                "recurse": True,
                "include": "{*.yaml,*.yml}",
                "exclude": "skip/*",
                "jsonnet": {
                    "tlas": [{"name": "replicas", "value": "3", "code": True}],
                    "extVars": [{"name": "env", "value": "prod"}],
                    "libs": ["vendor"],
                },
            },
            "helm": {
                "valueFiles": ["values.yaml", "values-prod.yaml"],
                "values": "replicas: 2\n",
                "valuesObject": {"image": {"tag": "1.0"}, "list": [1, "two", None, 3.5]},
                "parameters": [{"name": "image.tag", "value": "1.0", "forceString": True}],
                "fileParameters": [{"name": "config", "path": "files/config.json"}],
                "releaseName": "everything",
                "ignoreMissingValueFiles": True,
                "skipCrds": True,
                "passCredentials": False,
                "version": "v3",
            },
            "kustomize": {
                "namePrefix": "pre-",
                "nameSuffix": "-suf",
                "commonLabels": {"team": "a"},
                "commonAnnotations": {"owner": "a"},
                "images": ["nginx:1.25", "app=registry/app:2"],
                "namespace": "apps",
                "replicas": [{"name": "web", "count": 3}, {"name": "worker", "count": "2"}],
                "patches": [{"target": {"kind": "Deployment"}, "patch": "- op: remove\n  path: /spec/x\n"}],
                "components": ["../components/tls"],
                "version": "v5.4.1",
            },
            "plugin": {
                "name": "cmp",
                "env": [{"name": "FOO", "value": "bar"}],
                "parameters": [
                    {"name": "s", "string": "x"},
                    {"name": "a", "array": ["1", "2"]},
                    {"name": "m", "map": {"k": "v"}},
                ],
            },
        },
        "destination": {"name": "in-cluster", "namespace": "apps"},
        "syncPolicy": {
            "automated": {"prune": True, "selfHeal": True, "allowEmpty": False},
            "syncOptions": ["CreateNamespace=true", "PrunePropagationPolicy=background"],
            "managedNamespaceMetadata": {"labels": {"a": "b"}, "annotations": {"c": "d"}},
            "retry": {"limit": -1, "backoff": {"duration": 30, "factor": 3, "maxDuration": "1h30m"}},
        },
        "ignoreDifferences": [
            {
                "group": "apps",
                "kind": "Deployment",
                "name": "web",
                "namespace": "apps",
                "jsonPointers": ["/spec/replicas"],
                "jqPathExpressions": [".spec.template.spec.initContainers[]"],
                "managedFieldsManagers": ["kube-controller-manager"],
            }
        ],
        "info": [{"name": "Docs", "value": "https://example.com"}],
        "revisionHistoryLimit": 3,
        "someFutureField": {"kept": True},
    },
    "operation": {
        "sync": {
            "revision": "abc123",
            "prune": True,
            "dryRun": False,
            "syncStrategy": {"hook": {"force": False}},
            "resources": [{"group": "apps", "kind": "Deployment", "name": "web", "namespace": "apps"}],
            "syncOptions": ["Replace=true"],
        },
        "initiatedBy": {"username": "admin"},
        "info": [{"name": "Reason", "value": "manual"}],
        "retry": {"limit": 2},
    },
    "status": {
        "sync": {
            "status": "OutOfSync",
            "revision": "abc123",
            "comparedTo": {
                "source": {"repoURL": "https://github.com/org/repo.git", "path": "deploy"},
                "destination": {"name": "in-cluster", "namespace": "apps"},
            },
        },
        "health": {"status": "Progressing", "message": "Waiting for rollout"},
        "resources": [
            {
                "group": "apps",
                "version": "v1",
                "kind": "Deployment",
                "namespace": "apps",
                "name": "web",
                "status": "OutOfSync",
                "health": {"status": "Progressing"},
                "syncWave": -1,
            },
            {"version": "v1", "kind": "Pod", "name": "migrate", "hook": True, "requiresPruning": True},
        ],
        "operationState": {
            "operation": {"sync": {"revision": "abc123"}, "initiatedBy": {"automated": True}},
            "phase": "Running",
            "message": "waiting for healthy state of apps/Deployment/web",
            "startedAt": "2024-05-01T10:00:00Z",
            "retryCount": 1,
            "syncResult": {
                "revision": "abc123",
                "source": {"repoURL": "https://github.com/org/repo.git", "path": "deploy"},
                "resources": [
                    {
                        "group": "",
                        "version": "v1",
                        "kind": "Pod",
                        "namespace": "apps",
                        "name": "migrate",
                        "status": "Synced",
                        "message": "pod/migrate created",
                        "hookType": "PreSync",
                        "hookPhase": "Succeeded",
                        "syncPhase": "PreSync",
                    }
                ],
            },
        },
        "history": [
            {
                "id": 4,
                "revision": "0ff1ce",
                "deployedAt": "2024-04-30T09:00:00Z",
                "deployStartedAt": "2024-04-30T08:59:00Z",
                "source": {"repoURL": "https://github.com/org/repo.git", "path": "deploy"},
                "initiatedBy": {"username": "admin"},
            }
        ],
        "conditions": [
            {"type": "SharedResourceWarning", "message": "...", "lastTransitionTime": "2024-05-01T10:00:00Z"}
        ],
        "reconciledAt": "2024-05-01T10:00:05Z",
        "observedAt": "2024-05-01T10:00:05Z",
        "sourceType": "Helm",
        "summary": {"images": ["nginx:1.25"], "externalURLs": ["https://app.example.com"]},
        "controllerNamespace": "argocd",
    },
}

MULTI_SOURCE_APPLICATION: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "prometheus"},
    "spec": {
        "project": "default",
        "sources": [
            {
                "repoURL": "https://prometheus-community.github.io/helm-charts",
                "chart": "prometheus",
                "targetRevision": "15.7.1",
                "helm": {"valueFiles": ["$values/charts/prometheus/values.yaml"]},
            },
            {
                "repoURL": "https://git.example.com/org/value-files.git",
                "targetRevision": "dev",
                "ref": "values",
            },
        ],
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "monitoring"},
    },
}

APPLICATION_SET: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "ApplicationSet",
    "metadata": {"name": "addons", "namespace": "argocd"},
    "spec": {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [
            {
                "matrix": {
                    "generators": [
                        {
                            "git": {
                                "repoURL": "https://github.com/org/addons.git",
                                "revision": "HEAD",
                                "directories": [
                                    {"path": "addons/*"},
                                    {"path": "addons/legacy", "exclude": True},
                                ],
                                "pathParamPrefix": "addon",
                                "requeueAfterSeconds": 30,
                            }
                        },
                        {
                            "merge": {
                                "mergeKeys": ["name"],
                                "generators": [
                                    {
                                        "clusters": {
                                            "selector": {"matchLabels": {"env": "prod"}},
                                            "values": {"a": "b"},
                                        }
                                    },
                                    {
                                        "list": {
                                            "elements": [{"name": "in-cluster", "extra": {"nested": [1, 2]}}]
                                        }
                                    },
                                ],
                            }
                        },
                    ]
                },
                "selector": {
                    "matchExpressions": [{"key": "addon.path", "operator": "NotIn", "values": ["x"]}]
                },
            },
            {
                "git": {
                    "repoURL": "https://github.com/org/apps.git",
                    "revision": "main",
                    "files": [{"path": "*.json"}],
                }
            },
            {"list": {"elementsYaml": "{{ .values.apps | toJson }}"}},
            {"scmProvider": {"github": {"organization": "org"}, "cloneProtocol": "https"}},
            {"pullRequest": {"github": {"owner": "org", "repo": "app"}, "requeueAfterSeconds": 60}},
            {"clusterDecisionResource": {"configMapRef": "ocm", "name": "placement"}},
            {"plugin": {"configMapRef": {"name": "plugin"}, "input": {"parameters": {"k": "v"}}}},
        ],
        "template": {
            "metadata": {
                "name": "{{.name}}-{{.addon.path.basename}}",
                "labels": {"addon": "{{.addon.path.basename}}"},
                "finalizers": ["resources-finalizer.argocd.argoproj.io"],
            },
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://github.com/org/addons.git", "path": "{{.addon.path.path}}"},
                "destination": {"server": "{{.server}}", "namespace": "{{.addon.path.basename}}"},
                "syncPolicy": {"automated": {"prune": "{{.prune}}"}},
            },
        },
        "templatePatch": "spec:\n  syncPolicy:\n    automated:\n      selfHeal: true\n",
        "syncPolicy": {"applicationsSync": "create-update", "preserveResourcesOnDeletion": True},
        "strategy": {
            "type": "RollingSync",
            "rollingSync": {
                "steps": [
                    {"matchExpressions": [{"key": "env", "operator": "In", "values": ["dev"]}]},
                    {
                        "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}],
                        "maxUpdate": "10%",
                    },
                ]
            },
        },
        "preservedFields": {"annotations": ["notified"], "labels": ["team"]},
        "ignoreApplicationDifferences": [{"jsonPointers": ["/spec/source/targetRevision"], "name": "x"}],
    },
    "status": {
        "conditions": [
            {
                "type": "ResourcesUpToDate",
                "status": "True",
                "reason": "ApplicationSetUpToDate",
                "message": "All applications have been generated successfully",
                "lastTransitionTime": "2024-05-01T10:00:00Z",
            }
        ],
        "applicationStatus": [
            {"application": "a", "status": "Healthy", "step": "1", "message": "", "targetRevisions": ["abc"]}
        ],
        "resources": [{"kind": "Application", "name": "a", "namespace": "argocd", "status": "Synced"}],
    },
}

APP_PROJECT: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AppProject",
    "metadata": {"name": "team-a", "namespace": "argocd"},
    "spec": {
        "description": "Team A",
        "sourceRepos": ["https://github.com/org/team-a-*"],
        "sourceNamespaces": ["team-a-apps"],
        "destinations": [
            {"server": "https://kubernetes.default.svc", "namespace": "team-a-*", "name": "in-cluster"}
        ],
        "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
        "clusterResourceBlacklist": [{"group": "*", "kind": "*"}],
        "namespaceResourceWhitelist": [{"group": "apps", "kind": "Deployment"}],
        "namespaceResourceBlacklist": [{"group": "", "kind": "ResourceQuota"}],
        "roles": [
            {
                "name": "ci",
                "description": "CI pipeline",
                "policies": ["p, proj:team-a:ci, applications, sync, team-a/*, allow"],
                "groups": ["org:ci"],
                "jwtTokens": [{"iat": 1700000000, "id": "token-1"}],
            }
        ],
        "syncWindows": [
            {
                "kind": "deny",
                "schedule": "0 22 * * *",
                "duration": "8h",
                "applications": ["*-prod"],
                "manualSync": True,
                "timeZone": "Europe/Paris",
            }
        ],
        "orphanedResources": {"warn": False, "ignore": [{"group": "", "kind": "ConfigMap", "name": "cm-*"}]},
        "signatureKeys": [{"keyID": "4AEE18F83AFDEB23"}],
        "permitOnlyProjectScopedClusters": True,
    },
    "status": {"jwtTokensByRole": {"ci": {"items": [{"iat": 1700000000, "id": "token-1"}]}}},
}


# --- defaults ------------------------------------------------------------------------------------


def test_absent_automated_flags_default_to_false() -> None:
    automated = SyncPolicyAutomated()

    assert (automated.prune, automated.self_heal, automated.allow_empty) == (False, False, False)


def test_absent_backoff_takes_argo_defaults() -> None:
    backoff = Backoff()

    assert (backoff.duration, backoff.factor, backoff.max_duration) == ("5s", 2, "3m")


def test_retry_without_backoff_still_reads_the_default_backoff() -> None:
    retry = RetryStrategy.model_validate({"limit": 3})

    assert retry.backoff.duration == "5s"
    assert retry.to_dict() == {"limit": 3}


def test_minimal_application_reads_argo_defaults() -> None:
    app = Application.from_dict(MINIMAL_APPLICATION)

    assert app.spec.project == "default"
    assert app.spec.revision_history_limit == 10
    assert app.spec.sync_policy is None
    assert app.spec.source is not None and app.spec.source.target_revision == ""
    assert app.status.sync.status == "" and app.status.health.status == ""
    assert app.operation is None


def test_empty_project_means_the_default_project() -> None:
    spec = ApplicationSpec.model_validate(
        {"project": "", "destination": {"name": "in-cluster"}, "source": {"repoURL": "r", "path": "."}}
    )

    assert spec.project_name == "default"


def test_orphaned_resources_warn_unless_told_not_to() -> None:
    assert OrphanedResourcesMonitorSettings().warn is True


def test_minimal_application_set_reads_argo_defaults() -> None:
    appset = ApplicationSet.from_dict(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "ApplicationSet",
            "metadata": {"name": "x"},
            "spec": {"generators": [{"list": {"elements": []}}], "template": {"spec": {}}},
        }
    )

    assert appset.spec.go_template is False
    assert appset.spec.sync_policy is None
    assert appset.spec.template.metadata.name == ""


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "manifest"),
    [
        (Application, MINIMAL_APPLICATION),
        (Application, FULL_APPLICATION),
        (Application, MULTI_SOURCE_APPLICATION),
        (ApplicationSet, APPLICATION_SET),
        (AppProject, APP_PROJECT),
    ],
    ids=[
        "minimal-application",
        "full-application",
        "multi-source-application",
        "applicationset",
        "appproject",
    ],
)
def test_manifest_round_trips_unchanged(
    model: type[Application] | type[ApplicationSet] | type[AppProject], manifest: dict[str, Any]
) -> None:
    original = copy.deepcopy(manifest)

    assert model.from_dict(manifest).to_dict() == original


def test_unknown_fields_are_kept_at_every_level() -> None:
    manifest = copy.deepcopy(MINIMAL_APPLICATION)
    manifest["spec"]["source"]["futureOption"] = {"a": 1}
    manifest["spec"]["destination"]["futureField"] = "x"

    assert Application.from_dict(manifest).to_dict() == manifest


def test_kustomize_replica_counts_keep_their_int_or_string_form() -> None:
    app = Application.from_dict(FULL_APPLICATION)
    assert app.spec.source is not None and app.spec.source.kustomize is not None

    assert [replica.count for replica in app.spec.source.kustomize.replicas] == [3, "2"]


def test_repo_url_is_read_from_its_argo_spelling() -> None:
    app = Application.from_dict(MINIMAL_APPLICATION)

    assert app.spec.source is not None
    assert app.spec.source.repo_url == "https://github.com/argoproj/argocd-example-apps"


def test_status_is_read_into_typed_fields() -> None:
    status = Application.from_dict(FULL_APPLICATION).status

    assert status.operation_state is not None and status.operation_state.sync_result is not None
    assert status.operation_state.sync_result.resources[0].hook_type == "PreSync"
    assert status.summary.external_urls == ["https://app.example.com"]
    assert status.resources[0].sync_wave == -1
    assert status.history[0].id == 4


# --- helpers -------------------------------------------------------------------------------------


def test_effective_sources_prefer_sources_over_source() -> None:
    multi = Application.from_dict(MULTI_SOURCE_APPLICATION).spec
    single = Application.from_dict(MINIMAL_APPLICATION).spec

    assert [source.ref for source in multi.effective_sources()] == ["", "values"]
    assert multi.has_multiple_sources
    assert single.effective_sources() == [single.source]
    assert not single.has_multiple_sources


def test_generator_types_name_what_each_generator_sets() -> None:
    generators = ApplicationSet.from_dict(APPLICATION_SET).spec.generators

    assert [generator.generator_types() for generator in generators] == [
        ["matrix"],
        ["git"],
        ["list"],
        ["scmProvider"],
        ["pullRequest"],
        ["clusterDecisionResource"],
        ["plugin"],
    ]


def test_matrix_children_parse_as_generators() -> None:
    matrix = ApplicationSet.from_dict(APPLICATION_SET).spec.generators[0].matrix

    assert matrix is not None
    merge = matrix.generators[1].merge
    assert merge is not None and merge.merge_keys == ["name"]
    assert merge.generators[0].clusters is not None
    assert merge.generators[0].clusters.selector.match_labels == {"env": "prod"}


def test_template_spec_keeps_templated_values_of_any_field() -> None:
    template = ApplicationSet.from_dict(APPLICATION_SET).spec.template

    assert template.spec["syncPolicy"]["automated"]["prune"] == "{{.prune}}"


def test_generator_template_override_is_found_whichever_generator_carries_it() -> None:
    generator = ApplicationSet.from_dict(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "ApplicationSet",
            "metadata": {"name": "x"},
            "spec": {
                "generators": [{"pullRequest": {"template": {"metadata": {"name": "pr-{{number}}"}}}}],
                "template": {"spec": {}},
            },
        }
    ).spec.generators[0]

    assert generator.template_override() == {"metadata": {"name": "pr-{{number}}"}}


# --- structural errors ---------------------------------------------------------------------------


def test_a_string_where_argo_wants_a_boolean_is_rejected_at_its_path() -> None:
    manifest = copy.deepcopy(MINIMAL_APPLICATION)
    manifest["spec"]["syncPolicy"] = {"automated": {"prune": "true"}}

    with pytest.raises(ValidationError) as caught:
        Application.from_dict(manifest)

    assert [issue.path for issue in issues_from_validation_error(caught.value)] == [
        "spec.syncPolicy.automated.prune"
    ]


def test_an_unparseable_backoff_duration_is_rejected_at_its_path() -> None:
    manifest = copy.deepcopy(MINIMAL_APPLICATION)
    manifest["spec"]["syncPolicy"] = {"retry": {"backoff": {"maxDuration": "forever"}}}

    with pytest.raises(ValidationError) as caught:
        Application.from_dict(manifest)

    (issue,) = issues_from_validation_error(caught.value)
    assert issue.path == "spec.syncPolicy.retry.backoff.maxDuration"
    assert "invalid duration 'forever'" in issue.message


def test_a_source_without_repo_url_is_rejected_at_its_argo_spelling() -> None:
    manifest = copy.deepcopy(MINIMAL_APPLICATION)
    del manifest["spec"]["source"]["repoURL"]

    with pytest.raises(ValidationError) as caught:
        Application.from_dict(manifest)

    assert [issue.path for issue in issues_from_validation_error(caught.value)] == ["spec.source.repoURL"]
