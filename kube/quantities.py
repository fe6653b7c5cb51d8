"""Kubernetes int-or-string values where a string is a percentage (``"25%"``, and in Argo also ``"25"``)."""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, StrictInt

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


# StrictInt: in lax mode pydantic would turn `true` into 1 and `2.0` into 2, changing the manifest.
IntOrPercent = Annotated[StrictInt | str, AfterValidator(_check_int_or_percent)]
"""An int-or-string kept as written; a string is always a percent (``"25"`` is 25 %), as in Argo."""


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


_INTEGER = re.compile(r"[+-]?\d+")

# StrictInt for the same reason as IntOrPercent: `true` must not become 1 on its way through.
IntOrString = StrictInt | str
"""A Kubernetes int-or-string kept as written, with no meaning given to the string (unlike
:data:`IntOrPercent`). Read it with :func:`int_or_string_int`."""


def int_or_string_int(value: int | str) -> int | None:
    """The integer an int-or-string holds — a string counts when it is all digits, as Go's ``IntValue``
    reads it — or None when the string is not a number (for example an unresolved ``{{args.count}}``)."""
    if isinstance(value, int):
        return value
    text = value.strip()
    return int(text) if _INTEGER.fullmatch(text) else None
