"""Go's int32, the type of most counts, seconds and weights in Argo's and Kubernetes' APIs.

The API server's schema gives these fields ``format: int32``, and Go cannot hold more: a value beyond the range
is refused at the field rather than carried into arithmetic and written back to a cluster.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StrictInt

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def int32_problem(value: int) -> str | None:
    """Why an integer does not fit Go's int32, or None when it does."""
    if value > INT32_MAX:
        return f"must be at most {INT32_MAX} (a 32-bit integer), got {value}"
    if value < INT32_MIN:
        return f"must be at least {INT32_MIN} (a 32-bit integer), got {value}"
    return None


def _check_int32(value: int) -> int:
    problem = int32_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# StrictInt: in lax mode pydantic would turn `true` into 1 and `2.0` into 2, changing the manifest.
Int32 = Annotated[StrictInt, AfterValidator(_check_int32)]
"""An integer field Go holds as int32; a value outside the range is a validation error at its field path."""
