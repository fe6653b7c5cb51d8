"""Sync windows against Argo CD's rules (docs: user-guide/sync_windows.md; ``SyncWindows.CanSync``).

Times are worked out by hand: 2026-12-07 is a Monday, and New York is on EST (UTC-5) in December and on EDT (UTC-4)
in July.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gitops.project.sync_windows import SyncWindow, can_sync, matching_windows, project_windows


def window(kind: str, schedule: str, duration: str, **extra: Any) -> SyncWindow:
    return SyncWindow.of({"kind": kind, "schedule": schedule, "duration": duration, "applications": ["*"], **extra})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


NIGHTLY = window("deny", "0 22 * * *", "4h")


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        pytest.param("2026-12-07T21:59:00", False, id="before-the-start"),
        # Argo CD takes the first start after now-duration and needs it strictly before now.
        pytest.param("2026-12-07T22:00:00", False, id="the-start-instant-itself"),
        pytest.param("2026-12-07T22:00:01", True, id="just-after-the-start"),
        pytest.param("2026-12-08T01:00:00", True, id="across-midnight"),
        pytest.param("2026-12-08T01:59:59", True, id="last-second"),
        pytest.param("2026-12-08T02:00:00", False, id="end-is-exclusive"),
        pytest.param("2026-12-08T12:00:00", False, id="midday"),
    ],
)
def test_a_window_across_midnight(moment: str, active: bool) -> None:
    assert NIGHTLY.active_at(at(moment)) is active


@pytest.mark.parametrize(
    ("time_zone", "moment", "active"),
    [
        pytest.param("", "2026-12-07T10:00:00", True, id="utc-10:00-is-in-09-17-utc"),
        pytest.param("America/New_York", "2026-12-07T10:00:00", False, id="new-york-05:00-est"),
        pytest.param("America/New_York", "2026-12-07T14:30:00", True, id="new-york-09:30-est"),
        pytest.param("America/New_York", "2026-12-07T21:59:00", True, id="new-york-16:59-est"),
        pytest.param("America/New_York", "2026-12-07T22:00:00", False, id="new-york-17:00-est-closes"),
        pytest.param("America/New_York", "2026-07-06T13:30:00", True, id="new-york-09:30-edt-in-summer"),
        pytest.param("America/New_York", "2026-07-06T12:30:00", False, id="new-york-08:30-edt-in-summer"),
        pytest.param("America/New_York", "2026-12-05T15:00:00", False, id="saturday-is-outside-mon-fri"),
    ],
)
def test_a_weekday_window_in_a_time_zone(time_zone: str, moment: str, active: bool) -> None:
    office_hours = window("allow", "0 9 * * 1-5", "8h", timeZone=time_zone)
    assert office_hours.active_at(at(moment)) is active


MONDAY_NOON = at("2026-12-07T12:00:00")
ALWAYS = "* * * * *"  # starts every minute, so a 1h window is active at any moment


@pytest.mark.parametrize(
    ("windows", "manual", "allowed"),
    [
        pytest.param([], False, True, id="no-windows"),
        pytest.param([window("deny", ALWAYS, "1h")], False, False, id="active-deny-blocks-automated"),
        pytest.param([window("deny", ALWAYS, "1h")], True, False, id="active-deny-blocks-manual-by-default"),
        pytest.param([window("deny", ALWAYS, "1h", manualSync=True)], True, True, id="deny-with-manualSync"),
        pytest.param([window("deny", ALWAYS, "1h", manualSync=True)], False, False,
                     id="manualSync-does-not-free-automated"),
        pytest.param([window("deny", ALWAYS, "1h", manualSync=True), window("deny", ALWAYS, "1h")], True, False,
                     id="every-active-deny-must-allow-manual"),
        pytest.param([window("deny", ALWAYS, "1h"), window("allow", ALWAYS, "1h")], False, False,
                     id="overlapping-deny-wins-over-allow"),
        pytest.param([window("allow", ALWAYS, "1h")], False, True, id="active-allow"),
        pytest.param([window("allow", "0 3 * * *", "1h")], False, False, id="inactive-allow-blocks"),
        pytest.param([window("allow", "0 3 * * *", "1h")], True, False, id="inactive-allow-blocks-manual"),
        pytest.param([window("allow", "0 3 * * *", "1h", manualSync=True)], True, True,
                     id="inactive-allow-with-manualSync"),
        pytest.param([window("allow", "0 3 * * *", "1h"), window("allow", ALWAYS, "1h")], False, True,
                     id="one-active-allow-is-enough"),
        pytest.param([window("deny", "0 3 * * *", "1h")], False, True, id="inactive-deny-only"),
    ],
)
def test_whether_a_sync_may_run(windows: list[SyncWindow], manual: bool, allowed: bool) -> None:
    assert can_sync(windows, MONDAY_NOON, manual=manual) is allowed


def test_windows_apply_by_application_namespace_or_cluster() -> None:
    windows = project_windows(
        {
            "spec": {
                "syncWindows": [
                    {"kind": "deny", "schedule": ALWAYS, "duration": "1h", "applications": ["web-*"]},
                    {"kind": "deny", "schedule": ALWAYS, "duration": "1h", "namespaces": ["prod"]},
                    {"kind": "deny", "schedule": ALWAYS, "duration": "1h", "clusters": ["in-cluster"]},
                    {"kind": "deny", "schedule": ALWAYS, "duration": "1h", "applications": ["web-*"],
                     "namespaces": ["prod"], "andOperator": True},
                ]
            }
        }
    )

    def applying(app: str, namespace: str, server: str = "https://x", name: str = "") -> list[int]:
        chosen = matching_windows(windows, app_name=app, namespace=namespace, server=server, destination_name=name)
        return [windows.index(one) for one in chosen]

    assert applying("web-ui", "dev") == [0]
    assert applying("api", "prod") == [1]
    assert applying("api", "dev", name="in-cluster") == [2]
    assert applying("web-ui", "prod") == [0, 1, 3]
    assert applying("api", "dev") == []


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        pytest.param({"kind": "deny", "schedule": "0 22 * *", "duration": "1h"}, "expected 5 fields",
                     id="four-cron-fields"),
        pytest.param({"kind": "deny", "schedule": "0 22 * * *", "duration": "60"}, "invalid duration",
                     id="duration-without-unit"),
        pytest.param({"kind": "deny", "schedule": "0 22 * * *", "duration": "1h", "timeZone": "Mars/Olympus"},
                     "unknown timeZone", id="unknown-zone"),
        pytest.param({"kind": "block", "schedule": "0 22 * * *", "duration": "1h"}, "kind must be", id="bad-kind"),
    ],
)
def test_a_window_that_cannot_be_evaluated_says_why_and_is_never_active(entry: dict[str, Any], problem: str) -> None:
    broken = SyncWindow.of(entry)
    assert problem in (broken.problem() or "")
    assert broken.active_at(MONDAY_NOON) is False
