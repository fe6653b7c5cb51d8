"""A minimal kopf operator for the emulator's conformance test (loaded by ``kopf run``, not by pytest).

It exercises what an operator leans on: a finalizer (an on.delete handler makes kopf add one), a timer,
and status patches; the API URL comes from the environment because kopf imports this file itself.
"""

from __future__ import annotations

import os
from typing import Any

import kopf

GROUP, VERSION, PLURAL = "sandbox.test", "v1", "widgets"
URL_VARIABLE = "EMULATOR_TEST_API_URL"


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.posting.enabled = False  # keep the request log about the custom resource itself
    settings.watching.connect_timeout = 5
    settings.networking.request_timeout = 10


@kopf.on.login()
def login(**_: Any) -> kopf.ConnectionInfo:
    return kopf.ConnectionInfo(server=os.environ[URL_VARIABLE], insecure=True)


@kopf.on.create(GROUP, VERSION, PLURAL)
def created(name: str, patch: kopf.Patch, logger: kopf.Logger, **_: Any) -> None:
    logger.info(f"CREATE-HANDLER-RAN {name}")
    patch.status["phase"] = "Created"


@kopf.timer(GROUP, VERSION, PLURAL, interval=0.5)
def tick(status: kopf.Status, patch: kopf.Patch, logger: kopf.Logger, **_: Any) -> None:
    patch.status["ticks"] = int(status.get("ticks", 0)) + 1
    logger.info("TIMER-TICKED")


@kopf.on.delete(GROUP, VERSION, PLURAL)
def deleted(name: str, logger: kopf.Logger, **_: Any) -> None:
    logger.info(f"DELETE-HANDLER-RAN {name}")
