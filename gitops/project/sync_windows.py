"""AppProject sync windows: which apply to an Application, which are active at ``now``, and whether a sync may run.

Argo CD's rules (``SyncWindows.Matches``, ``active``, ``CanSync``):
- a window applies when any of its ``applications`` globs matches the app name, ``namespaces`` the destination
  namespace, or ``clusters`` the destination server or name (all of its non-empty lists with ``andOperator``);
- a window is active when its cron ``schedule``, read in its ``timeZone`` (UTC when empty), last started less than
  ``duration`` ago — found, as Argo CD does, as the first start after ``now - duration`` lying strictly before
  ``now``, so a window that starts at 22:00 for 4h is active at 01:00 the next day;
- an active deny blocks every sync, except a manual one when every active deny has ``manualSync``;
- otherwise an active allow permits; otherwise, when allow windows exist and none is active, only a manual sync
  whose inactive allows all have ``manualSync`` may run; with no allow windows at all, syncs may run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from gitops.patterns import glob_match
from gitops.validation import cron_problem
from kube.durations import DurationError, parse_duration

BLOCKED_MESSAGE = "Sync operation blocked by sync window"


@dataclass(frozen=True)
class SyncWindow:
    """One ``spec.syncWindows[]`` entry, read from the AppProject's plain dict."""

    kind: str
    """``allow``: syncs may run while it is active; ``deny``: syncs are blocked while it is active (a manual sync
    still may when every active deny has ``manual_sync``)."""
    schedule: str
    """A five-field cron expression: when the window opens, read in ``time_zone``."""
    duration: str
    """How long the window stays active after each start: a Go duration such as ``1h`` or ``30m``."""
    applications: tuple[str, ...] = ()
    """Globs matched against the Application's name."""
    namespaces: tuple[str, ...] = ()
    """Globs matched against the Application's destination namespace."""
    clusters: tuple[str, ...] = ()
    """Globs matched against the destination's server URL or cluster name."""
    manual_sync: bool = False
    """``manualSync``: a sync started by hand may run even though this window would block it."""
    time_zone: str = ""
    """An IANA time zone for ``schedule`` (UTC when empty)."""
    and_operator: bool = False
    """``andOperator``: the window applies only when all of its non-empty lists match (else when any does)."""

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> SyncWindow:
        return cls(
            kind=str(entry.get("kind") or ""),
            schedule=str(entry.get("schedule") or ""),
            duration=str(entry.get("duration") or ""),
            applications=tuple(entry.get("applications") or ()),
            namespaces=tuple(entry.get("namespaces") or ()),
            clusters=tuple(entry.get("clusters") or ()),
            manual_sync=bool(entry.get("manualSync")),
            time_zone=str(entry.get("timeZone") or ""),
            and_operator=bool(entry.get("andOperator")),
        )

    def problem(self) -> str | None:
        """Why this window cannot be evaluated (bad schedule, duration or time zone), or None."""
        if self.kind not in ("allow", "deny"):
            return f"kind must be 'allow' or 'deny', got {self.kind!r}"
        if (schedule_problem := cron_problem(self.schedule)) is not None:
            return schedule_problem
        if _duration(self.duration) is None:
            return f"invalid duration {self.duration!r}: expected a Go duration with a unit, e.g. '1h' or '30m'"
        if _zone(self.time_zone) is None:
            return f"unknown timeZone {self.time_zone!r}"
        return None

    def matches(self, app_name: str, namespace: str, server: str, destination_name: str) -> bool:
        """Whether the window applies to an Application with this name and destination."""
        tests: list[bool] = []
        if self.applications:
            tests.append(any(glob_match(pattern, app_name) for pattern in self.applications))
        if self.clusters:
            tests.append(
                any(
                    (bool(destination_name) and glob_match(pattern, destination_name))
                    or (bool(server) and glob_match(pattern, server))
                    for pattern in self.clusters
                )
            )
        if self.namespaces:
            tests.append(any(glob_match(pattern, namespace) for pattern in self.namespaces))
        if not tests:
            return False
        return all(tests) if self.and_operator else any(tests)

    def active_at(self, now: datetime) -> bool:
        """Whether ``now`` lies in one of the window's spans; a window that cannot be evaluated is never active."""
        start = self.last_start(now)
        return start is not None

    def last_start(self, now: datetime) -> datetime | None:
        """The start of the span containing ``now``, or None when ``now`` is outside every span."""
        if self.problem() is not None:
            return None
        duration = _duration(self.duration)
        zone = _zone(self.time_zone)
        assert duration is not None and zone is not None  # problem() checked both
        local_now = now.astimezone(zone)
        schedule = self.schedule.replace("?", "*")
        start: datetime = croniter(schedule, local_now - duration).get_next(datetime)
        return start if start < local_now else None

    def next_start(self, now: datetime) -> datetime | None:
        """When the window next opens after ``now`` (for `proj windows list`), or None if it cannot be evaluated."""
        zone = _zone(self.time_zone)
        if self.problem() is not None or zone is None:
            return None
        nxt: datetime = croniter(self.schedule.replace("?", "*"), now.astimezone(zone)).get_next(datetime)
        return nxt


def _duration(text: str) -> timedelta | None:
    value = text.strip()
    if not value or (value.replace(".", "", 1).isdigit() and value != "0"):
        return None  # Go's time.ParseDuration wants a unit
    try:
        return timedelta(seconds=parse_duration(value))
    except DurationError:
        return None


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return None


def project_windows(project: Mapping[str, Any]) -> list[SyncWindow]:
    """Every sync window of an AppProject dict, in order."""
    spec = project.get("spec") or {}
    return [SyncWindow.of(entry) for entry in spec.get("syncWindows") or [] if isinstance(entry, Mapping)]


def matching_windows(
    windows: Sequence[SyncWindow], *, app_name: str, namespace: str, server: str, destination_name: str = ""
) -> list[SyncWindow]:
    """The windows that apply to one Application."""
    return [window for window in windows if window.matches(app_name, namespace, server, destination_name)]


def can_sync(windows: Sequence[SyncWindow], now: datetime, *, manual: bool) -> bool:
    """Argo CD's ``CanSync`` over the windows that apply to one Application."""
    if not windows:
        return True
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    active = [window for window in windows if window.active_at(now)]
    active_denies = [window for window in active if window.kind == "deny"]
    if active_denies:
        return manual and all(window.manual_sync for window in active_denies)
    if any(window.kind == "allow" for window in active):
        return True
    inactive_allows = [
        window for window in windows if window.kind == "allow" and window.problem() is None and window not in active
    ]
    if inactive_allows:
        return manual and all(window.manual_sync for window in inactive_allows)
    return True
