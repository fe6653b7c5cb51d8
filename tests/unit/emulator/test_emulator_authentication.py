"""The emulator's optional bearer-token check, as an API server with a static token file answers: the right token
passes, anything else is 401 Unauthorized; without a token set nothing is checked."""

from __future__ import annotations

import pytest

from sandbox.emulator.authentication import authentication_error, bearer_header


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Bearer wrong", "Basic czNjcmV0", "s3cret",
                                    "bearer s3cret"])
def test_a_request_without_the_token_is_unauthorized(header: str | None) -> None:
    error = authentication_error(header, "s3cret")
    assert error is not None and (error.code, error.reason) == (401, "Unauthorized")


def test_the_token_passes() -> None:
    assert authentication_error("Bearer s3cret", "s3cret") is None
    assert authentication_error(bearer_header("s3cret")["Authorization"], "s3cret") is None


@pytest.mark.parametrize("header", [None, "Bearer anything"])
def test_without_a_token_nothing_is_checked(header: str | None) -> None:
    assert authentication_error(header, None) is None
    assert bearer_header(None) == {}
