"""A guard that makes a property test fail when it asserts in too few of its generated examples.

A property whose precondition rarely holds passes vacuously: hypothesis reports success although the assertion
ran in 3 of 1,000 examples. ``guarded`` counts, per test run, the examples hypothesis ran and those in which the
body reached its assertion (it called ``asserting``), and fails the test when the share is below ``min_share``.
Both outcomes are also hypothesis events, so ``pytest --hypothesis-show-statistics`` lists each property's share.

Use::

    @guarded(min_share=0.6)
    @SETTINGS
    @given(snapshots())
    def test_a_property(snapshot):
        plan = decide(snapshot)
        if not precondition(plan):
            return vacuous("why it does not apply")
        asserting("what is checked")
        assert ...
"""

from __future__ import annotations

import contextvars
import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import hypothesis

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class _Tally:
    examples: int = 0
    asserted: int = 0
    asserted_now: bool = False
    labels: Counter[str] = field(default_factory=Counter)


_current: contextvars.ContextVar[_Tally | None] = contextvars.ContextVar("property_tally", default=None)
# The last run's shares by test name, for reports (``shares()``).
_SHARES: dict[str, tuple[int, int]] = {}


def asserting(label: str) -> None:
    """Mark the current example as one in which the property is checked (``label`` says which check)."""
    hypothesis.event(f"asserted: {label}")
    tally = _current.get()
    if tally is not None:
        if not tally.asserted_now:
            tally.asserted += 1
            tally.asserted_now = True
        tally.labels[label] += 1


def vacuous(reason: str) -> None:
    """Mark the current example as one the property says nothing about, and why."""
    hypothesis.event(f"vacuous: {reason}")


def shares() -> dict[str, tuple[int, int]]:
    """(asserting examples, examples) of every guarded test run so far in this process."""
    return dict(_SHARES)


def guarded(min_share: float) -> Callable[[F], F]:
    """Fail the decorated ``@given`` test when fewer than ``min_share`` of its examples reached an assertion."""

    def decorate(test: F) -> F:
        handle = getattr(test, "hypothesis", None)
        if handle is None:
            raise TypeError(f"{test.__name__}: put @guarded above @given")
        inner = handle.inner_test

        @functools.wraps(inner)
        def counting(*args: Any, **kwargs: Any) -> Any:
            tally = _current.get()
            if tally is not None:
                tally.examples += 1
                tally.asserted_now = False
            return inner(*args, **kwargs)

        handle.inner_test = counting

        @functools.wraps(test)
        def run(*args: Any, **kwargs: Any) -> Any:
            tally = _Tally()
            token = _current.set(tally)
            try:
                result = test(*args, **kwargs)
            finally:
                _current.reset(token)
            _SHARES[test.__name__] = (tally.asserted, tally.examples)
            share = tally.asserted / tally.examples if tally.examples else 0.0
            if share < min_share:
                raise AssertionError(
                    f"{test.__name__} asserted in {tally.asserted} of {tally.examples} examples ({share:.0%}), "
                    f"fewer than the {min_share:.0%} it needs to mean anything: fix the generator"
                )
            return result

        return run  # type: ignore[return-value]

    return decorate
