"""The Application and ApplicationSet controllers' place in the process's kopf operator: started by kopf's
start-up and stopped by its clean-up, like the Rollout controller. They watch through ``kube.informer`` streams (the
Application controller's live cache adds one per resource type its Applications use, found through discovery at run
time), so they register no ``kopf.on.event`` handlers; in the controller process they are registered after the
streams' own start-up, since their caches are the streams' first lists."""

from __future__ import annotations

import kopf

from gitops.controller.application_sets import AppSetController
from gitops.controller.controller import AppController
from kube.kopf_operator import register_lifecycle


def register_handlers(registry: kopf.OperatorRegistry, controller: AppController) -> None:
    """Start ``controller`` with the operator and stop it with the operator."""
    register_lifecycle(registry, controller, "applications")


def register_appset_handlers(registry: kopf.OperatorRegistry, controller: AppSetController) -> None:
    """Start the ApplicationSet ``controller`` with the operator and stop it with the operator."""
    register_lifecycle(registry, controller, "applicationsets")
