"""The demo runs on a developer's machine: the controller it starts listens on loopback only (issue #15 item 10)."""

from __future__ import annotations

from pathlib import Path

from cli.demo.environment import DemoEnvironment


def _option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_the_demo_controller_serves_nothing_beyond_loopback(tmp_path: Path) -> None:
    environment = DemoEnvironment(tmp_path, error_rates={}, controller_args=["--webhook-port", "18083"])
    command = environment.controller_command()
    assert _option(command, "--metrics-port") == "0"
    assert _option(command, "--metrics-address") == "127.0.0.1"
    assert _option(command, "--webhook-address") == "127.0.0.1"
    assert _option(command, "--webhook-port") == "18083"
