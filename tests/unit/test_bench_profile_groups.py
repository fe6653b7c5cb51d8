"""The profile's groups (bench.profile_groups): each working stack in the first group that holds it, the shares of
the working samples adding up to 100 %, and the write path split into its parts."""

from __future__ import annotations

from pathlib import Path

from bench.profile_groups import GROUPS, WRITE_PARTS, shares

LOOP = "main (cli/main.py:54);Runner.run (asyncio/runners.py:118);Handle._run (asyncio/events.py:84)"
POOL = "Thread._bootstrap (threading.py:1002);_worker (concurrent/futures/thread.py:83)"
RAW = [
    # a pass that sends a patch through the pool: the write path, in urllib3
    f"{POOL};_WorkItem.run (concurrent/futures/thread.py:58);KubeClient._send (kube/client.py:290);"
    "PoolManager.urlopen (urllib3/poolmanager.py:443) 40",
    # the loop handing a call to the pool: the write path, loop side
    f"{LOOP};Reconciler.reconcile (rollouts/controller/reconciler.py:90);"
    "_on_pool.<locals>.on_pool (kube/client.py:314);ThreadPoolExecutor.submit (concurrent/futures/thread.py:176) 10",
    # the informer reading its stream over httpx: the watch path, not the write path
    f"{LOOP};Informer._watch (kube/informer.py:200);"
    "AsyncResponseStream.__aiter__ (httpx/_transports/default.py:271) 20",
    # a decision inside a pass
    f"{LOOP};Reconciler.reconcile (rollouts/controller/reconciler.py:80);decide (rollouts/reconcile.py:30) 25",
    # the loop alone
    f"{LOOP};BaseEventLoop._run_once (asyncio/base_events.py:1900) 5",
    # idle: left out
    f"{POOL};_WorkItem.run (concurrent/futures/thread.py:58);SocketIO.readinto (socket.py:706) 100",
]


def test_each_working_stack_is_counted_once_in_the_first_group_that_holds_it(tmp_path: Path) -> None:
    raw = tmp_path / "profile.raw"
    raw.write_text("\n".join(RAW) + "\n")
    busy, groups, parts = shares(raw)
    assert busy == 100
    watch, write, stray_httpx, passes, rest = (groups[name] for name, _ in GROUPS)
    assert (watch, write, stray_httpx, passes, rest) == (20, 50, 0, 25, 5)
    assert sum(groups.values()) == busy
    by_part = [parts[name] for name, _ in WRITE_PARTS]
    assert by_part[0] == 10  # handing the call to the pool
    assert by_part[2] == 40  # urllib3
    assert sum(parts.values()) == write
