"""The platform demo's running log: which Applications appeared, changed status or went between two polls."""

from __future__ import annotations

from typing import Any

import pytest

from cli.demo.platform import app_changes, app_summary


def app(name: str, sync: str | None = None, health: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if sync:
        status["sync"] = {"status": sync}
    if health:
        status["health"] = {"status": health}
    return {"metadata": {"name": name}, "status": status}


@pytest.mark.parametrize(
    ("obj", "summary"),
    [
        (app("a", "Synced", "Healthy"), "Synced, Healthy"),
        (app("a"), "Unknown, Unknown"),  # a new Application has no status yet
        (app("a", "OutOfSync"), "OutOfSync, Unknown"),
    ],
)
def test_the_summary_is_the_sync_and_health_columns(obj: dict[str, Any], summary: str) -> None:
    assert app_summary(obj) == summary


def test_new_changed_and_gone_applications_each_make_one_line() -> None:
    previous = {"kept": "Synced, Healthy", "changed": "OutOfSync, Missing", "gone": "Synced, Healthy"}
    lines, current = app_changes(previous, [app("kept", "Synced", "Healthy"), app("changed", "Synced", "Healthy"),
                                            app("new")])
    assert lines == ["Application changed: Synced, Healthy", "Application new created: Unknown, Unknown",
                     "Application gone deleted"]
    assert current == {"kept": "Synced, Healthy", "changed": "Synced, Healthy", "new": "Unknown, Unknown"}


def test_nothing_changed_is_no_line() -> None:
    lines, _ = app_changes({"a": "Synced, Healthy"}, [app("a", "Synced", "Healthy")])
    assert lines == []
