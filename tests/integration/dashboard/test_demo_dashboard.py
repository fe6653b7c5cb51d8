"""`rollouts demo --dashboard` (issue #17 part 3): the demo's environment serves the dashboard on loopback over its
sandbox and prints the address a person opens; stopping the demo stops the dashboard."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from cli.demo.environment import DemoEnvironment


def test_the_demo_environment_serves_the_dashboard_and_prints_its_address(tmp_path: Path) -> None:
    said: list[str] = []
    environment = DemoEnvironment(tmp_path, error_rates={}, prometheus=False, dashboard_port=0)
    try:
        environment.start(said.append)
        lines = [line for line in said if line.startswith("dashboard: open ")]
        assert len(lines) == 1, said
        found = re.search(r"http://127\.0\.0\.1:(\d+)/rollouts", lines[0])
        assert found is not None, lines[0]
        page = httpx.get(found.group(0), timeout=30)
        assert page.status_code == 200 and "<h1>Rollouts</h1>" in page.text
    finally:
        environment.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(found.group(0), timeout=5)
