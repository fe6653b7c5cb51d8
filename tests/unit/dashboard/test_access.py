"""Who may use the dashboard (dashboard/access.py): loopback by default, a token anywhere else, the token compared
in constant time and taken from a header for actions (never from a cookie alone: CSRF), and the Host check that
keeps a rebinding site out of a token-less loopback dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.access import (
    AccessError,
    bind_refusal,
    host_allowed,
    is_loopback,
    presented_token,
    read_token_file,
    token_matches,
)


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),  # all of 127.0.0.0/8 is loopback (RFC 1122)
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("192.168.0.7", False),
        ("dashboard.example.com", False),
    ],
)
def test_loopback_addresses_are_told_from_the_others(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


@pytest.mark.parametrize(
    ("address", "token", "refused_because"),
    [
        ("127.0.0.1", None, None),
        ("localhost", "t0k3n", None),
        ("0.0.0.0", "t0k3n", None),
        ("0.0.0.0", None, "without a token"),
        ("10.1.2.3", None, "without a token"),
        ("127.0.0.1", "  ", "token is empty"),
    ],
)
def test_listening_beyond_loopback_needs_a_token(address: str, token: str | None, refused_because: str | None) -> None:
    refusal = bind_refusal(address, token)
    if refused_because is None:
        assert refusal is None
    else:
        assert refusal is not None and refused_because in refusal
        if token is None:
            assert "--token" in refusal and "--token-file" in refusal


@pytest.mark.parametrize(
    ("presented", "expected", "matches"),
    [("s3cret", "s3cret", True), ("s3cre", "s3cret", False), ("s3cret!", "s3cret", False), (None, "s3cret", False),
     ("", "s3cret", False), ("ünï", "ünï", True)],
)
def test_the_token_must_match_exactly(presented: str | None, expected: str, matches: bool) -> None:
    assert token_matches(presented, expected) is matches


@pytest.mark.parametrize(
    ("headers", "query", "cookies", "action", "found"),
    [
        ({"authorization": "Bearer abc"}, {}, {}, True, "abc"),
        ({"authorization": "bearer abc"}, {}, {}, False, "abc"),
        ({"x-dashboard-token": "abc"}, {}, {}, True, "abc"),
        ({}, {"token": "abc"}, {}, False, "abc"),
        ({}, {}, {"rollouts_dashboard_token": "abc"}, False, "abc"),
        # An action takes the token from a header only: another site's form can send our cookie, never a header.
        ({}, {}, {"rollouts_dashboard_token": "abc"}, True, None),
        ({}, {"token": "abc"}, {}, True, None),
        ({"authorization": "Basic abc"}, {}, {}, False, None),
    ],
    ids=["bearer-action", "bearer-lowercase-page", "header-action", "query-page", "cookie-page", "cookie-action",
         "query-action", "basic-auth"],
)
def test_where_a_request_may_carry_the_token(
    headers: dict[str, str], query: dict[str, str], cookies: dict[str, str], action: bool, found: str | None
) -> None:
    assert presented_token(headers, query, cookies, action=action) == found


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:3100", True),
        ("localhost:3100", True),
        ("[::1]:3100", True),
        ("127.0.0.1:3101", False),  # another port: another origin
        ("evil.example.com:3100", False),  # a rebinding name that resolves to 127.0.0.1
        ("127.0.0.1", False),  # no port means 80
        (None, False),
    ],
)
def test_a_token_less_dashboard_answers_only_its_own_host(host: str | None, allowed: bool) -> None:
    assert host_allowed(host, "127.0.0.1", 3100) is allowed


def test_a_token_file_gives_its_stripped_content(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("  abc123\n", encoding="utf-8")
    assert read_token_file(path) == "abc123"


@pytest.mark.parametrize(("content", "message"), [(None, "cannot read it"), ("\n  \n", "the file is empty")])
def test_an_unusable_token_file_is_named_in_the_error(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(AccessError) as raised:
        read_token_file(path)
    assert str(path) in str(raised.value) and message in str(raised.value)
