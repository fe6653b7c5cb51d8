"""The pace of the commands that read an object until something holds (`app get --refresh`, `app sync`, `app wait`,
`app rollback`): a read every POLL_SECONDS, and a CliError once their timeout has passed."""

from __future__ import annotations

import time
from typing import Final

from cli.options import CliError

POLL_SECONDS: Final = 0.5


class Polling:
    """One command's polling: ``timeout`` seconds from now (0 or less: no limit)."""

    def __init__(self, timeout: float) -> None:
        self._deadline = time.monotonic() + timeout if timeout > 0 else None

    def wait(self, timed_out: str) -> None:
        """Sleep until the next read; raise CliError(``timed_out``) instead once the timeout has passed."""
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise CliError(timed_out)
        time.sleep(POLL_SECONDS)
