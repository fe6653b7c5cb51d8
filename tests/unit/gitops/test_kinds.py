"""How the Argo CD kinds present themselves: names, printer columns and CRD shape, as in Argo CD."""

from __future__ import annotations

from cli.catalogue import kind_for
from gitops.kinds import APP_PROJECT, APPLICATION, APPLICATION_SET, KINDS


def test_kinds_are_named_as_argo_cd_names_them() -> None:
    assert [(spec.kind, spec.plural, tuple(spec.short_names)) for spec in KINDS] == [
        ("Application", "applications", ("app", "apps")),
        ("ApplicationSet", "applicationsets", ("appset", "appsets")),
        ("AppProject", "appprojects", ("appproj", "appprojs")),
    ]


def test_application_prints_sync_and_health_and_with_wide_output_revision_and_project() -> None:
    assert [(column.name, column.json_path, column.priority) for column in APPLICATION.printer_columns] == [
        ("Sync Status", ".status.sync.status", 0),
        ("Health Status", ".status.health.status", 0),
        ("Revision", ".status.sync.revision", 10),
        ("Project", ".spec.project", 10),
    ]


def test_only_the_applicationset_has_a_status_subresource_as_in_argo_cd() -> None:
    assert (APPLICATION.has_status, APPLICATION_SET.has_status, APP_PROJECT.has_status) == (
        False,
        True,
        False,
    )


def test_crds_require_metadata_and_spec_as_argo_cd_does() -> None:
    assert all(spec.extra["crd_required"] == ["metadata", "spec"] for spec in KINDS)


def test_the_catalogue_finds_each_kind_by_api_version_and_kind() -> None:
    assert [kind_for("argoproj.io/v1alpha1", spec.kind) for spec in KINDS] == list(KINDS)
