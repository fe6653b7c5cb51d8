"""Optional bearer-token authentication, as an API server started with a static token file: with a token set,
every request must carry ``Authorization: Bearer <token>`` or is answered 401 Unauthorized (the Status a real
API server sends). Without one, nothing is checked (the sandbox's default)."""

from __future__ import annotations

import hmac
from typing import Final

from sandbox.emulator.status import ApiError

BEARER_PREFIX: Final = "Bearer "


def bearer_header(token: str | None) -> dict[str, str]:
    """The request header that authenticates with ``token`` (none without a token)."""
    return {"Authorization": f"{BEARER_PREFIX}{token}"} if token else {}


def authentication_error(authorization: str | None, token: str | None) -> ApiError | None:
    """401 Unauthorized unless ``authorization`` (the request's header) presents ``token``; ``None`` when it does
    or when no token is required."""
    if token is None:
        return None
    header = authorization or ""
    presented = header[len(BEARER_PREFIX):].strip() if header.startswith(BEARER_PREFIX) else ""
    # Compared in constant time, as a real server does, although only tests talk to this one.
    if presented and hmac.compare_digest(presented.encode(), token.encode()):
        return None
    return ApiError(401, "Unauthorized", "Unauthorized")
