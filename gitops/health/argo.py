"""Health of argoproj.io kinds: Rollout (from the status our Rollout controller writes) and AnalysisRun.

Argo CD assesses both with Lua customizations shipped in its resource_customizations; these follow the same rules
over the same fields. Application has no built-in check (Argo CD ≥ 1.8), so it is not here.
"""

from __future__ import annotations

from gitops.health.fields import items, section, text
from gitops.resources import Health, JsonObject

HEALTHY, PROGRESSING, DEGRADED, SUSPENDED, UNKNOWN = "Healthy", "Progressing", "Degraded", "Suspended", "Unknown"

# Rollout phases as the Rollout controller writes them (rollouts/status.py), mapped to health words.
_ROLLOUT_PHASES = {"Healthy": HEALTHY, "Progressing": PROGRESSING, "Degraded": DEGRADED, "Paused": SUSPENDED}


def rollout_health(obj: JsonObject) -> Health:
    """Degraded on InvalidSpec or abort, Suspended when paused, Progressing mid-update, Healthy when complete."""
    generation = section(obj, "metadata").get("generation")
    status = section(obj, "status")
    observed = status.get("observedGeneration")
    # Argo Rollouts writes observedGeneration as a string; compare as text so 3 and "3" agree.
    if generation is not None and observed is not None and str(observed) != str(generation):
        return Health(PROGRESSING, "Waiting for rollout spec update to be observed")
    for found in items(obj, "status.conditions"):
        if found.get("type") == "InvalidSpec" and found.get("status") == "True":
            return Health(DEGRADED, f"InvalidSpec: {found.get('message', '')}")
    phase = text(obj, "status.phase")
    message = text(obj, "status.message")
    if status.get("abort") is True:
        return Health(DEGRADED, message if phase == "Degraded" and message else "Rollout is aborted")
    if phase == "Paused" and status.get("controllerPause") and not list(items(obj, "status.pauseConditions")):
        # `promote` cleared the pause conditions; the controller has yet to resume the update.
        return Health(PROGRESSING, "waiting for rollout to unpause")
    if phase in _ROLLOUT_PHASES:
        return Health(_ROLLOUT_PHASES[phase], message)
    if section(obj, "spec").get("paused") is True or list(items(obj, "status.pauseConditions")):
        return Health(SUSPENDED, "Rollout is paused")
    return Health(PROGRESSING, "Waiting for rollout to finish: status has not been reconciled")


_ANALYSIS_PHASES = {
    "Pending": (PROGRESSING, "Analysis run is running"),
    "Running": (PROGRESSING, "Analysis run is running"),
    "Successful": (HEALTHY, "Analysis run completed successfully"),
    "Failed": (DEGRADED, "Analysis run failed"),
    "Error": (DEGRADED, "Analysis run had an error"),
    "Inconclusive": (UNKNOWN, "Analysis run was inconclusive"),
}


def analysisrun_health(obj: JsonObject) -> Health:
    """The run's phase as health: Successful → Healthy, Failed/Error → Degraded, Inconclusive → Unknown."""
    phase = text(obj, "status.phase")
    if phase not in _ANALYSIS_PHASES:
        return Health(PROGRESSING, "Waiting for analysis run to finish: status has not been reconciled.")
    status, default = _ANALYSIS_PHASES[phase]
    return Health(status, text(obj, "status.message") or default)
