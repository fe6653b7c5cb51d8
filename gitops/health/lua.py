"""User health checks written for Argo CD: ``resource.customizations.health.<group>_<kind>`` Lua scripts.

Each script runs in a fresh, sandboxed Lua 5.4 state (lupa): the object is the global ``obj`` (a Lua table converted
from the dict, lists 1-based), the script returns ``{status = ..., message = ...}``. The state has no ``os``, ``io``,
``require``, ``dofile``, ``loadfile``, ``load``, ``debug``, ``package`` or ``python``; an instruction budget (a count
hook installed before ``debug`` is removed) and a memory budget (``max_memory``) bound each run. A script that fails,
runs out of budget or returns something that is not a health gives ``Health("Unknown", <why>)``; it never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

import lupa.lua54 as lua54  # type: ignore[import-untyped]
import yaml

from gitops.resources import Health, JsonObject

HEALTH_KEY_PREFIX = "resource.customizations.health."
CUSTOMIZATIONS_KEY = "resource.customizations"
DEFAULT_INSTRUCTION_LIMIT = 2_000_000
DEFAULT_MEMORY_LIMIT = 32 << 20
VALID_STATUSES = frozenset({"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"})
BUDGET_EXCEEDED = "health script exceeded its instruction budget"

# Runs first, with `debug` still present, then takes away everything a health script must not reach. The count hook
# ticks every `step` instructions in the main thread and in every coroutine (Lua does not pass hooks on to new
# coroutines, hence the wrapped `coroutine.create`), against one shared budget; `pcall`, `xpcall` and
# `coroutine.resume` re-raise the budget error so a script cannot swallow it and keep running.
_SANDBOX_SETUP = """
local budget, budget_message = ...
local sethook, raise, raw_pcall, raw_xpcall = debug.sethook, error, pcall, xpcall
local pack, unpack = table.pack, table.unpack
local raw_create, raw_resume, raw_status = coroutine.create, coroutine.resume, coroutine.status
local step = 1000
local ticks, limit = 0, budget // step + 1
local exhausted = false
local function tick()
  ticks = ticks + 1
  if exhausted or ticks >= limit then exhausted = true; raise(budget_message, 0) end
end
local function rethrow_if_exhausted(results)
  if exhausted then raise(budget_message, 0) end
  return unpack(results, 1, results.n)
end
pcall = function(...) return rethrow_if_exhausted(pack(raw_pcall(...))) end
xpcall = function(...) return rethrow_if_exhausted(pack(raw_xpcall(...))) end
coroutine.create = function(body)
  local co = raw_create(body)
  sethook(co, tick, "", step)
  return co
end
coroutine.resume = function(...) return rethrow_if_exhausted(pack(raw_resume(...))) end
coroutine.wrap = function(body)
  local co = coroutine.create(body)
  return function(...)
    local results = pack(raw_resume(co, ...))
    if exhausted then raise(budget_message, 0) end
    if not results[1] then raise(results[2], 0) end
    return unpack(results, 2, results.n)
  end
end
os, io, require, dofile, loadfile, load, loadstring, debug, package, python, collectgarbage =
  nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
string.dump = nil
sethook(tick, "", step)
"""


def health_overrides_from_config(data: Mapping[str, str]) -> dict[str, str]:
    """Lua health scripts keyed ``group_Kind`` from an argocd-cm ConfigMap's ``data``.

    Reads both forms Argo CD accepts: one key per kind (``resource.customizations.health.apps_Deployment``) and the
    ``resource.customizations`` YAML (``apps/Deployment: {health.lua: ...}``, wildcards such as ``*.io/*`` allowed).
    A ``resource.customizations`` value that is not YAML raises ValueError naming the key.
    """
    overrides: dict[str, str] = {}
    block = data.get(CUSTOMIZATIONS_KEY)
    if block:
        try:
            parsed = yaml.safe_load(block)
        except yaml.YAMLError as error:
            raise ValueError(f"{CUSTOMIZATIONS_KEY}: not valid YAML: {error}") from None
        if not isinstance(parsed, Mapping):
            raise ValueError(f"{CUSTOMIZATIONS_KEY}: expected a mapping of group/kind to customizations")
        for group_kind, customization in parsed.items():
            if isinstance(customization, Mapping) and isinstance(customization.get("health.lua"), str):
                group, _, kind = str(group_kind).rpartition("/")
                overrides[f"{group}_{kind}"] = customization["health.lua"]
    for key, script in data.items():
        if key.startswith(HEALTH_KEY_PREFIX) and isinstance(script, str):
            overrides[key[len(HEALTH_KEY_PREFIX) :]] = script
    return overrides


def find_health_script(overrides: Mapping[str, str], group: str, kind: str) -> str | None:
    """The script for ``group``/``kind``: an exact ``group_Kind`` key first, then wildcard keys in sorted order.

    A core-group kind may be keyed ``_Kind`` or plain ``Kind``.
    """
    exact = overrides.get(f"{group}_{kind}")
    if exact is None and not group:
        exact = overrides.get(kind)
    if exact is not None:
        return exact
    for key in sorted(overrides):
        if "*" not in key and "?" not in key:
            continue
        key_group, _, key_kind = key.rpartition("_")
        if fnmatchcase(group, key_group) and fnmatchcase(kind, key_kind):
            return overrides[key]
    return None


def run_health_script(
    script: str,
    obj: JsonObject,
    *,
    instruction_limit: int = DEFAULT_INSTRUCTION_LIMIT,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
) -> Health | None:
    """Run one health script against ``obj``; None when the script returns nil (the built-in check then applies)."""
    try:
        runtime = lua54.LuaRuntime(max_memory=memory_limit, register_eval=False, register_builtins=False)
        runtime.execute(_SANDBOX_SETUP, instruction_limit, BUDGET_EXCEEDED)
        runtime.globals().obj = runtime.table_from(_plain(obj), recursive=True)
        result = runtime.execute(script)
        # Reading the result may run Lua too (metatables), so it stays under the same guard.
        return _as_health(result)
    except lua54.LuaMemoryError:
        return Health("Unknown", "health script exceeded its memory budget")
    except lua54.LuaSyntaxError as error:
        return Health("Unknown", f"health script does not compile: {_first_line(error)}")
    except lua54.LuaError as error:
        reason = _first_line(error)
        return Health("Unknown", reason if reason == BUDGET_EXCEEDED else f"health script failed: {reason}")


_INT64 = range(-(2**63), 2**63)


def _plain(value: Any) -> Any:
    """``value`` as data Lua can hold without reaching back into Python: no Python object becomes userdata."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, int):
        # Lua integers are 64-bit; a larger number arrives as a float, as a JSON decoder would give it.
        return value if value in _INT64 else float(value)
    return str(value)


def _first_line(error: Exception) -> str:
    # Lua appends a traceback after the first line; the first line carries the message and the script line.
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _as_health(result: Any) -> Health | None:
    if result is None:
        return None
    if lua54.lua_type(result) != "table":
        returned = lua54.lua_type(result) or type(result).__name__
        return Health("Unknown", f"health script returned a {returned}, not a table")
    status = result["status"]
    message = result["message"]
    if not isinstance(status, str) or status not in VALID_STATUSES:
        return Health("Unknown", f"health script returned an invalid health status {status!r}")
    return Health(status, message if isinstance(message, str) else "" if message is None else str(message))
