"""JSON over HTTP against the API emulator, for the tests that drive it as a client would."""

from __future__ import annotations

from typing import Any, Final

import httpx

MERGE_PATCH: Final = {"Content-Type": "application/merge-patch+json"}


class JsonApi:
    """Each call raises on an error status and returns the decoded body; ``path`` maps a test's path to the one
    requested (a subclass may move it into a namespace of its own)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    def path(self, path: str) -> str:
        return path

    async def get(self, path: str) -> dict[str, Any]:
        response = await self.client.get(self.path(path))
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(self.path(path), json=body)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    async def patch(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.patch(self.path(path), json=body, headers=MERGE_PATCH)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]
