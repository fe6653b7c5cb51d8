"""At exit after a lost Lease, kopf's cancelled watch generator fails to close; that one case is a warning line,
every other loop error keeps asyncio's report (which the e2e harness counts as a logged exception)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from rollouts.controller.run import with_quiet_watch_closing


async def infinite_watch() -> AsyncIterator[int]:  # kopf's generator's name
    try:
        yield 1
    finally:
        raise RuntimeError("generator didn't stop after athrow()")


async def another_stream() -> AsyncIterator[int]:
    try:
        yield 1
    finally:
        raise RuntimeError("a real failure while closing")


def exit_with_an_open(generator: AsyncIterator[int]) -> None:
    """Leave ``generator`` started and unfinished when the loop shuts down, as a cancelled kopf leaves its watch."""
    kept: list[AsyncIterator[int]] = []

    async def main() -> None:
        await generator.__anext__()
        kept.append(generator)

    asyncio.run(with_quiet_watch_closing(main()))


def test_kopfs_watch_closing_at_shutdown_is_one_warning_without_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        exit_with_an_open(infinite_watch())
    reported = [(record.name, record.levelno, record.exc_info is not None) for record in caplog.records]
    assert reported == [("rollouts.controller.run", logging.WARNING, False)]
    assert "did not close cleanly" in caplog.records[0].getMessage()


def test_any_other_generator_failing_to_close_keeps_asyncios_error_report(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        exit_with_an_open(another_stream())
    assert [(record.name, record.levelno) for record in caplog.records] == [("asyncio", logging.ERROR)]
    assert "a real failure while closing" in caplog.text
