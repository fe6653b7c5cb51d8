"""User health checks in Lua (argocd-cm resource.customizations.health.<group>_<kind>), run sandboxed."""

from __future__ import annotations

import pytest

from gitops.health import resource_health
from gitops.health.lua import (
    BUDGET_EXCEEDED,
    find_health_script,
    health_overrides_from_config,
    run_health_script,
)
from gitops.resources import Health, JsonObject

# The health check Argo CD's documentation gives for argoproj.io/Application (operator-manual/health.md): it copies
# the child Application's own health so App of Apps waves wait for it.
ARGO_APPLICATION_HEALTH_LUA = """
hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
"""

CHILD_APP: JsonObject = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "child"},
    "status": {"health": {"status": "Degraded", "message": "Deployment web exceeded its progress deadline"}},
}


def test_argo_documented_application_health_lua_copies_child_health() -> None:
    """Argo CD docs: with the documented Lua for argoproj.io/Application, a child app's health becomes its health."""
    overrides = health_overrides_from_config(
        {"resource.customizations.health.argoproj.io_Application": ARGO_APPLICATION_HEALTH_LUA}
    )
    assert resource_health(CHILD_APP, overrides=overrides) == Health(
        "Degraded", "Deployment web exceeded its progress deadline"
    )


def test_application_without_override_has_no_health() -> None:
    """Argo CD ≥ 1.8: without a customization an Application has no health check."""
    assert resource_health(CHILD_APP) is None


def test_override_wins_over_built_in_check() -> None:
    """Argo CD: a health customization replaces the built-in check of its kind."""
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"paused": True}}
    script = 'return {status = "Healthy", message = "custom " .. obj.metadata.name}'
    assert resource_health(deployment, overrides={"apps_Deployment": script}) == Health("Healthy", "custom web")


def test_lists_arrive_as_one_based_tables() -> None:
    """Lua sees lists as tables indexed from 1, as in Argo CD's gopher-lua conversion."""
    obj = {"status": {"conditions": [{"type": "Ready"}, {"type": "Synced"}]}}
    script = 'return {status = "Healthy", message = obj.status.conditions[2].type .. #obj.status.conditions}'
    assert run_health_script(script, obj) == Health("Healthy", "Synced2")


def test_script_returning_nil_falls_back_to_built_in_check() -> None:
    """A script that returns nothing leaves the resource to the built-in check."""
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "d"}, "status": {"phase": "Bound"}}
    assert resource_health(pvc, overrides={"_PersistentVolumeClaim": "return nil"}) == Health("Healthy")


@pytest.mark.parametrize(
    ("script", "message_part"),
    [
        pytest.param('error("no status yet")', "no status yet", id="runtime-error"),
        pytest.param("hs = {", "does not compile", id="syntax-error"),
        pytest.param('return {status = "Great"}', "invalid health status 'Great'", id="invalid-status"),
        pytest.param("return 42", "not a table", id="not-a-table"),
        pytest.param("return obj.spec.missing.field", "attempt to index a nil value", id="nil-index"),
        pytest.param(
            'return setmetatable({}, {__index = function() error("trap") end})', "trap", id="result-metatable-raises"
        ),
    ],
)
def test_script_failure_is_unknown_with_the_error(script: str, message_part: str) -> None:
    """Argo CD: a health script error gives Unknown with the error message, never a crash."""
    health = run_health_script(script, {"spec": {}})
    assert health is not None and health.status == "Unknown"
    assert message_part in health.message


@pytest.mark.parametrize(
    "script",
    [
        pytest.param("while true do end", id="busy-loop"),
        pytest.param("while true do pcall(function() while true do end end) end", id="pcall-cannot-swallow-budget"),
        pytest.param("coroutine.wrap(function() while true do end end)()", id="coroutine-loop"),
        pytest.param(
            "while true do coroutine.resume(coroutine.create(function() for i = 1, 900 do end end)) end",
            id="many-short-coroutines-share-one-budget",
        ),
    ],
)
def test_runaway_script_stops_at_the_instruction_budget(script: str) -> None:
    """A script that never ends is stopped by the instruction budget and reported Unknown."""
    assert run_health_script(script, {}, instruction_limit=200_000) == Health("Unknown", BUDGET_EXCEEDED)


def test_memory_hungry_script_stops_at_the_memory_budget() -> None:
    """A script that allocates without bound is stopped by max_memory and reported Unknown."""
    script = 'local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 1000) .. i end'
    health = run_health_script(script, {}, memory_limit=8 << 20)
    assert health == Health("Unknown", "health script exceeded its memory budget")


@pytest.mark.parametrize(
    "name", ["os", "io", "require", "dofile", "loadfile", "load", "debug", "package", "python", "loadstring"]
)
def test_sandbox_has_no_escape_hatches(name: str) -> None:
    """The sandbox offers no os, io, require, dofile, loadfile, load, debug, package, nor lupa's python bridge."""
    script = f'return {{status = "Healthy", message = type({name})}}'
    assert run_health_script(script, {}) == Health("Healthy", "nil")


def test_customizations_block_with_wildcard_applies_to_matching_kinds() -> None:
    """Argo CD resource.customizations YAML accepts wildcard group/kind keys such as *.crossplane.io/*."""
    data = {
        "resource.customizations": (
            "'*.crossplane.io/*':\n  health.lua: |\n    return {status = 'Suspended', message = obj.kind}\n"
        )
    }
    overrides = health_overrides_from_config(data)
    bucket = {"apiVersion": "s3.crossplane.io/v1", "kind": "Bucket", "metadata": {"name": "b"}}
    assert resource_health(bucket, overrides=overrides) == Health("Suspended", "Bucket")
    assert find_health_script(overrides, "apps", "Deployment") is None


def test_exact_key_wins_over_wildcard() -> None:
    """A script for the exact group_kind is preferred to a wildcard one."""
    overrides = {"*_*": "wildcard", "apps_Deployment": "exact"}
    assert find_health_script(overrides, "apps", "Deployment") == "exact"
    assert find_health_script(overrides, "batch", "Job") == "wildcard"


def test_malformed_customizations_block_names_the_key() -> None:
    """Bad argocd-cm input is a clear error naming the key, not a traceback."""
    with pytest.raises(ValueError, match=r"resource\.customizations: not valid YAML"):
        health_overrides_from_config({"resource.customizations": "a: [unclosed"})


def test_values_lua_cannot_hold_do_not_crash_the_check() -> None:
    """A number beyond 64 bits arrives as a float and a non-JSON value as text, never a crash nor a Python object."""
    obj = {"spec": {"big": 2**70, "when": object()}}
    script = 'return {status = "Healthy", message = math.type(obj.spec.big) .. " " .. type(obj.spec.when)}'
    assert run_health_script(script, obj) == Health("Healthy", "float string")
