"""The binaries some suites need, and what to do when one is missing: fail, naming the install command.

A suite that skips when its tool is missing passes in CI without having run; so a missing tool fails every test
that needs it, with the command that installs it (``scripts/bootstrap.sh`` installs both).
"""

from __future__ import annotations

import shutil
from typing import Final

import pytest

from sandbox.prometheus import PrometheusNotInstalled, find_prometheus_binary

INSTALL: Final = {
    "chromium": "sudo apt-get update && sudo apt-get install -y chromium chromium-driver "
                "(or run: bash scripts/bootstrap.sh)",
    "git": "sudo apt-get update && sudo apt-get install -y git (or run: bash scripts/bootstrap.sh)",
    "kubectl": "sudo apt-get update && sudo apt-get install -y kubernetes-client (or run: bash scripts/bootstrap.sh)",
    "prometheus": "sudo apt-get update && sudo apt-get install -y prometheus (or run: bash scripts/bootstrap.sh)",
}


def missing_tool_message(tool: str) -> str | None:
    """Why ``tool`` cannot be used (with its install command), or None when it is there."""
    if tool == "prometheus":
        try:
            find_prometheus_binary()
        except PrometheusNotInstalled as error:
            return f"{error}; install it: {INSTALL[tool]}"
        return None
    if shutil.which(tool) is None:
        return f"the {tool} binary is not on PATH; install it: {INSTALL[tool]}"
    return None


def require_tool(tool: str) -> str:
    """The path of ``tool``; fails the calling test (never skips it) when the tool is missing."""
    message = missing_tool_message(tool)
    if message is not None:
        pytest.fail(message, pytrace=False)
    return shutil.which(tool) or find_prometheus_binary()
