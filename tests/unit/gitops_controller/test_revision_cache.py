"""Resolved revisions are remembered for Argo CD's revision-cache expiration (3 minutes), per repository (its URL
forms compare equal), revision and chart; a push forgets its repository's answers."""

from __future__ import annotations

from gitops.controller.revision_cache import RevisionCache


def test_an_answer_is_reused_until_it_expires() -> None:
    cache = RevisionCache(ttl_seconds=180.0)
    cache.put("https://github.com/org/apps.git", "main", "", "a" * 40, now=1000.0)
    assert cache.get("git@github.com:org/apps.git", "main", "", now=1179.0) == "a" * 40
    assert cache.get("https://github.com/org/apps", "main", "", now=1180.0) is None


def test_revision_and_chart_are_part_of_the_key() -> None:
    cache = RevisionCache()
    cache.put("https://charts.example.com", "1.x", "redis", "1.4.2", now=0.0)
    assert cache.get("https://charts.example.com", "1.x", "nginx", now=1.0) is None
    assert cache.get("https://charts.example.com", "2.x", "redis", now=1.0) is None
    # An empty targetRevision is HEAD.
    cache.put("file:///srv/repo.git", "", "", "b" * 40, now=0.0)
    assert cache.get("file:///srv/repo.git", "HEAD", "", now=1.0) == "b" * 40


def test_a_push_forgets_only_its_repository() -> None:
    cache = RevisionCache()
    cache.put("https://github.com/org/apps.git", "main", "", "a" * 40, now=0.0)
    cache.put("https://github.com/org/other.git", "main", "", "c" * 40, now=0.0)
    cache.forget_repositories(["https://github.com/org/apps"])
    assert cache.get("https://github.com/org/apps.git", "main", "", now=1.0) is None
    assert cache.get("https://github.com/org/other.git", "main", "", now=1.0) == "c" * 40
