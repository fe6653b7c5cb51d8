"""The API server's refusals, as the simulators report them: what was attempted and the server's own message."""

from __future__ import annotations

import httpx


def raise_for_status(response: httpx.Response, action: str) -> None:
    """Raise `httpx.HTTPStatusError` naming `action` and the Status message unless `response` succeeded."""
    if response.is_success:
        return
    try:
        message = response.json().get("message") or response.text
    except ValueError:
        message = response.text
    raise httpx.HTTPStatusError(
        f"{action}: HTTP {response.status_code}: {message}", request=response.request, response=response
    )
