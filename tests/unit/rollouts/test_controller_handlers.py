"""The kopf registration: observers only (so kopf writes nothing to users' objects), one per watched kind, and a
login from the controller's own kubeconfig."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import kopf

from kube.client import AsyncKubeClient, load_api_client
from kube.kopf_operator import configure_settings, connection_info
from rollouts.controller.cache import WATCHED_KINDS
from rollouts.controller.controller import ControllerOptions, RolloutController
from rollouts.controller.handlers import register_handlers
from rollouts.plan import Plan


def controller() -> RolloutController:
    return RolloutController(cast(AsyncKubeClient, object()), lambda snapshot: Plan(), ControllerOptions())


def test_only_watch_event_handlers_are_registered_one_per_kind() -> None:
    registry = kopf.OperatorRegistry()
    register_handlers(registry, controller(), credentials=lambda: kopf.ConnectionInfo(server="http://x"))

    watching = list(registry._watching.get_all_handlers())
    assert sorted(handler.id for handler in watching) == sorted(f"observe-{kind.plural}" for kind in WATCHED_KINDS)
    assert list(registry._changing.get_all_handlers()) == []  # no on.create/update/delete: no annotations
    assert list(registry._spawning.get_all_handlers()) == []  # no timers or daemons: no finalizers
    activities = {handler.id for handler in registry._activities.get_all_handlers()}
    assert activities == {"rollouts-start", "rollouts-stop", "rollouts-login"}


def test_kopf_posts_no_events_of_its_own() -> None:
    settings = kopf.OperatorSettings()
    configure_settings(settings)
    assert settings.posting.enabled is False
    assert settings.watching.server_timeout and settings.watching.client_timeout
    assert settings.watching.client_timeout > settings.watching.server_timeout


def test_the_watch_events_feed_the_cache_and_queue() -> None:
    running = controller()
    rollout: dict[str, Any] = {"metadata": {"namespace": "shop", "name": "reviews", "uid": "u"}, "spec": {}}
    running.observe(WATCHED_KINDS[0], None, rollout)
    assert len(running.runner.queue) == 1
    assert running.cache.snapshot_for("shop", "reviews", datetime.now(UTC)) is not None


def test_kopf_logs_in_with_the_kubeconfigs_server_and_token(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters: [{name: c, cluster: {server: 'https://k8s.example:6443', insecure-skip-tls-verify: true}}]\n"
        "users: [{name: u, user: {token: secret-token}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "current-context: x\n"
    )
    info = connection_info(load_api_client(str(kubeconfig)).configuration)
    assert info.server == "https://k8s.example:6443"
    assert (info.scheme, info.token) == ("Bearer", "secret-token")
    assert info.insecure is True
