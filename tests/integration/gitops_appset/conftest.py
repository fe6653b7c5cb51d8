"""Fixtures of the ApplicationSet tests: an empty global git config for each test."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/integration is not a package: put the repository root on sys.path for the shared fixtures.
_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.git_config import isolated_git_config  # noqa: E402, F401  (a fixture, found by pytest by name)
