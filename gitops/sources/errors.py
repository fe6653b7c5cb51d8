"""The one exception the source fetchers raise."""

from __future__ import annotations

from gitops.sources.urls import redact, strip_userinfo


class SourceError(Exception):
    """A repository that cannot be reached, read or resolved.

    The message names the repository URL (with any ``user:password@`` removed) and the tool's own message, with
    every secret given in ``secrets`` replaced by ``******``, so it can go into a condition, an Event or the CLI.
    """

    def __init__(self, url: str, message: str, *, secrets: tuple[str | None, ...] = ()) -> None:
        self.url = strip_userinfo(url)
        self.reason = redact(message.strip(), (*secrets, *_userinfo_secrets(url)))
        super().__init__(f"{self.url}: {self.reason}")


def _userinfo_secrets(url: str) -> tuple[str, ...]:
    """The secret written into a URL, which git may echo back in its messages: the password of
    ``https://user:pw@host``, or a token given alone as the user name of an HTTP URL (``https://token@host``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return ()
    authority = rest.split("/", 1)[0]
    userinfo, at, _ = authority.rpartition("@")
    if not at:
        return ()
    if ":" in userinfo:
        return (userinfo.split(":", 1)[1],)
    return (userinfo,) if scheme in ("http", "https") else ()
