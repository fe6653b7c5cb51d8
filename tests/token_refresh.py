"""What the token tests share: a refresh hook that renews the token as an exec plugin would, and a clock the test
moves by hand."""

from __future__ import annotations

from typing import Any


class ManualClock:
    """A monotonic clock that moves only when the test moves it (``clock.now += 0.5``)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def refreshing(configuration: Any, name: str = "token") -> list[str]:
    """Install a refresh hook on a ``kubernetes`` configuration that renews the token on each call (``Bearer
    <name>-1``, ``Bearer <name>-2``, …); returns the hook's calls."""
    calls: list[str] = []

    def refresh(config: Any) -> None:
        calls.append("refresh")
        config.api_key["authorization"] = f"Bearer {name}-{len(calls)}"

    configuration.refresh_api_key_hook = refresh
    return calls
