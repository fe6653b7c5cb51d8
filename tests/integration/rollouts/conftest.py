"""Fixtures for the Rollout controller's integration tests: the sandbox with the real controller running in it."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/integration is not a package, so only this directory is on sys.path when it runs alone; the shared
# fixtures live in the `tests` package at the repository root.
_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.controller_processes import rates, sandbox, start_controller  # noqa: E402, F401  (fixtures, by name)
from tests.rollout_fixtures import cluster, namespace  # noqa: E402, F401  (fixtures, found by pytest by name)
