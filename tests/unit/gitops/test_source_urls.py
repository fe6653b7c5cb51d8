"""Repository URLs as shown in messages, compared, and named on disk; secrets kept out of messages."""

from __future__ import annotations

import pytest

from gitops.sources.errors import SourceError
from gitops.sources.git import parse_ls_remote, revision_from_refs, split_userinfo
from gitops.sources.urls import cache_key, normalize_git_url, redact, strip_userinfo


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:s3cret@git.example.com/org/app.git", "https://git.example.com/org/app.git"),
        ("https://token@git.example.com/x", "https://git.example.com/x"),
        ("git@github.com:org/app.git", "git@github.com:org/app.git"),
        ("file:///srv/repo", "file:///srv/repo"),
    ],
)
def test_userinfo_is_stripped_from_urls_with_a_scheme(url: str, shown: str) -> None:
    assert strip_userinfo(url) == shown


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://github.com/Org/App.git", "https://github.com/org/app"),
        ("https://github.com/org/app/", "https://github.com/org/app"),
        ("git@github.com:org/app.git", "ssh://git@github.com/org/app"),
        ("https://u:p@github.com/org/app", "https://github.com/org/app"),
    ],
)
def test_spellings_of_one_repository_share_a_cache_key(a: str, b: str) -> None:
    assert normalize_git_url(a) == normalize_git_url(b)
    assert cache_key(a) == cache_key(b)


def test_cache_key_holds_no_part_of_the_url() -> None:
    key = cache_key("https://user:s3cret@git.example.com/org/app")
    assert "s3cret" not in key and "example" not in key


def test_redact_hides_every_secret_longest_first() -> None:
    assert redact("pw=abc and abcdef", ["abc", "abcdef", None, ""]) == "pw=****** and ******"


def test_source_error_names_the_url_without_its_password() -> None:
    error = SourceError("https://bob:hunter2@h/x", "fatal: could not read from https://bob:hunter2@h/x")
    assert str(error) == "https://h/x: fatal: could not read from https://bob:******@h/x"


def test_source_error_hides_a_token_given_as_the_user_name() -> None:
    error = SourceError("https://ghp_tok@h/x", "fatal: unable to access 'https://ghp_tok@h/x/'")
    assert "ghp_tok" not in str(error)


def test_source_error_redacts_the_credentials_it_is_given() -> None:
    assert "tok3n" not in str(SourceError("https://h/x", "bad token tok3n", secrets=("tok3n",)))


def test_password_moves_out_of_an_https_url() -> None:
    assert split_userinfo("https://bob:pw@h/x.git") == ("https://h/x.git", "bob", "pw")
    assert split_userinfo("ssh://git@h/x.git") == ("ssh://git@h/x.git", "git", None)
    assert split_userinfo("ssh://git:pw@h/x.git") == ("ssh://git@h/x.git", "git", "pw")


def test_a_token_given_as_the_user_name_moves_out_of_an_https_url() -> None:
    assert split_userinfo("https://ghp_token@h/x.git") == ("https://h/x.git", "ghp_token", None)


LS_REMOTE = (
    "1111111111111111111111111111111111111111\tHEAD\n"
    "1111111111111111111111111111111111111111\trefs/heads/main\n"
    "2222222222222222222222222222222222222222\trefs/heads/v1\n"
    "3333333333333333333333333333333333333333\trefs/tags/v1\n"
    "4444444444444444444444444444444444444444\trefs/tags/v1^{}\n"
)


@pytest.mark.parametrize(
    ("revision", "sha"),
    [
        ("", "1" * 40),
        ("HEAD", "1" * 40),
        ("main", "1" * 40),
        ("v1", "2" * 40),  # a branch wins over a tag of the same name
        ("refs/tags/v1", "4" * 40),  # an annotated tag is peeled to its commit
        ("nope", None),
    ],
)
def test_revision_is_found_among_the_remote_refs(revision: str, sha: str | None) -> None:
    assert revision_from_refs(parse_ls_remote(LS_REMOTE), revision) == sha
