"""Argo CD's default template mode (fasttemplate): ``{{key}}`` replaced by the flattened parameter ``key``.

Keys are trimmed (``{{ path.basename }}`` works); a key that is not a parameter is left as written, as Argo CD
leaves it, so the generated Application shows what was not filled in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def render(template: str, params: Mapping[str, str]) -> str:
    """Replace each ``{{key}}`` found in ``params``; leave the others untouched."""
    if "{{" not in template:
        return template

    def replace(match: re.Match[str]) -> str:
        key = match.group(1).strip()
        return params[key] if key in params else match.group(0)

    return _TAG.sub(replace, template)
