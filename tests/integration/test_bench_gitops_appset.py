"""The ApplicationSet benchmark's own code path at CI size (``bench.gitops.run_appset`` with 5 directories), so that
the benchmark cannot rot: the real controller process generates one Application per directory of the repository and
syncs each one (Argo CD's git directory generator, applicationset/Generators-Git.md). No timing is asserted: the
benchmark records numbers, tests assert behaviour."""

from __future__ import annotations

from bench.gitops import run_appset
from tests.required_tools import require_tool


def test_the_appset_bench_generates_syncs_and_reports_every_application_of_its_directories() -> None:
    require_tool("git")  # a missing git fails the test with its install command, never skips it
    report = run_appset(5, timeout=300)

    assert report["applications_created"] == 5
    assert report["applications_synced"] == 5
    assert report["applications_synced_and_healthy"] == 5
    assert report["appset_resources_count"] == 5
    assert report["all_synced_seconds"] is not None
    assert report["controller_writes"]["create applications"] == 5
    assert report["peak_rss_mb"] > 0
