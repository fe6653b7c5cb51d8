"""Names derived from generator parameters, made valid as Argo CD makes them (``utils.SanitizeName``)."""

from __future__ import annotations

import re

_INVALID = re.compile(r"[^-a-z0-9.]")
_MAX_DNS_NAME = 253


def sanitize_name(name: str) -> str:
    """Lower-cased, every character outside ``[-a-z0-9.]`` made ``-``, at most 253 long, no leading/trailing ``-.``.

    This is ``{{path.basenameNormalized}}`` and the ``normalize`` template function: ``Team_A Web`` → ``team-a-web``.
    """
    cleaned = _INVALID.sub("-", name.lower())[:_MAX_DNS_NAME]
    return cleaned.strip("-.")
