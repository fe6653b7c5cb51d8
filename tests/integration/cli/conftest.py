"""Fixtures of the CLI's integration tests: a sandbox per module, and the patches the CLI sends."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/integration is not a package: put the repository root on sys.path for the shared fixtures.
_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.cli_cluster import sandbox, sent_patches  # noqa: E402, F401  (fixtures, found by pytest by name)
