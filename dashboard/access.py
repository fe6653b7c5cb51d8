"""Who may use the dashboard: the bind rule, the token check, the Host check. Pure.

- It binds to loopback by default; any other address needs a token, or it refuses to start (``bind_refusal``).
- With a token, every request must present it (``token_matches``, a constant-time compare). Pages and the
  server-sent-event streams may carry it in the ``Authorization: Bearer`` header, the ``X-Dashboard-Token`` header,
  the ``token`` query parameter (the link a person opens) or the cookie set from that link (so later links and
  EventSource, which cannot set headers, carry it). Actions take it from a header only: a cookie alone never
  authorizes a POST, so another site's form cannot act (CSRF), and it cannot read the page the header value is in.
- Without a token (loopback only), actions still need the per-process action key the pages carry in a header,
  and every request's Host must name the dashboard's own loopback address, so that a page of another site, even one
  whose name resolves to 127.0.0.1 (DNS rebinding), can neither act nor read.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Final

TOKEN_HEADER: Final = "x-dashboard-token"
TOKEN_COOKIE: Final = "rollouts_dashboard_token"
TOKEN_QUERY: Final = "token"
LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.", "ip6-localhost"})


class AccessError(ValueError):
    """A dashboard that must not start as asked; the message says what to do instead."""


def is_loopback(address: str) -> bool:
    """Whether ``address`` (an IP or ``localhost``) reaches this machine only."""
    host = address.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_refusal(address: str, token: str | None) -> str | None:
    """Why the dashboard must not listen on ``address`` with this token (None: it may)."""
    if token is not None and not token.strip():
        return "the dashboard token is empty; give a non-empty --token or --token-file"
    if token is None and not is_loopback(address):
        return (f"refusing to listen on {address} without a token: anyone who can reach it could act on the cluster "
                "with your kubeconfig; give --token T or --token-file F (or listen on 127.0.0.1)")
    return None


def read_token_file(path: Path) -> str:
    """The token in ``path`` (surrounding whitespace dropped); an AccessError naming the file when unusable."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise AccessError(f"--token-file {path}: cannot read it ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise AccessError(f"--token-file {path}: not UTF-8 text") from None
    if not token:
        raise AccessError(f"--token-file {path}: the file is empty")
    return token


def token_matches(presented: str | None, expected: str) -> bool:
    """Whether the presented token is the expected one, compared in constant time."""
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def presented_token(
    headers: Mapping[str, str], query: Mapping[str, str], cookies: Mapping[str, str], *, action: bool
) -> str | None:
    """The token a request carries: a header always counts; the query and the cookie only for reads (GET)."""
    authorization = headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    if TOKEN_HEADER in headers:
        return headers[TOKEN_HEADER]
    if action:
        return None
    return query.get(TOKEN_QUERY) or cookies.get(TOKEN_COOKIE)


def host_allowed(host_header: str | None, address: str, port: int) -> bool:
    """Whether a request's Host names this dashboard. Checked only when it listens on loopback without a token:
    there the Host is what tells a person's browser tab from another site's script (DNS rebinding)."""
    if not host_header:
        return False
    host, _, host_port = host_header.rpartition(":") if not host_header.endswith("]") else (host_header, "", "")
    if not host:  # no port in the header: the default port of http
        host, host_port = host_port, "80"
    if host_port and host_port != str(port):
        return False
    return is_loopback(host) or host.strip("[]") == address.strip("[]")
