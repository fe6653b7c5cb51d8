"""Kubernetes int-or-string values where a string is a percentage (``"25%"``, and in Argo also ``"25"``)."""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator

_PERCENT = re.compile(r"(\d+)%?")


def _check_int_or_percent(value: int | str) -> int | str:
    if isinstance(value, bool):
        raise ValueError("must be an integer or a percentage such as '25%'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"must not be negative, got {value}")
        return value
    if not _PERCENT.fullmatch(value.strip()):
        raise ValueError(f"invalid value {value!r}: must be an integer or a percentage such as '25%'")
    return value


IntOrPercent = Annotated[int | str, AfterValidator(_check_int_or_percent)]
"""An int-or-string kept as written. A string is always a percentage: ``"25"`` means 25 %, as in Argo Rollouts."""


def resolve_int_or_percent(value: int | str, total: int, *, round_up: bool) -> int:
    """The absolute count ``value`` stands for out of ``total``."""
    if isinstance(value, int):
        return value
    percent = int(value.strip().rstrip("%"))
    exact = percent * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def is_percent(value: int | str) -> bool:
    """True when the value is a percentage rather than an absolute count."""
    return isinstance(value, str)
