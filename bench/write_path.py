"""Micro-benchmark of the controller's write path: sequential merge PATCHes of one ConfigMap from an event loop,
each way the client can send them, with the client's CPU per request.

The emulator runs on a thread of this process; each way runs in a child process of its own, so that its CPU time
(``time.process_time``: every thread of the child, the pool's included) is the client's alone. Ways:

- ``pool``: the blocking ``KubeClient.patch`` on a ``ThreadPoolExecutor`` in the caller's context, as
  ``AsyncKubeClient`` sent every request before the native path (``kubernetes`` ``ApiClient`` + urllib3);
- ``httpx``: the bare ``httpx.AsyncClient`` of ``kube.http_connection`` (JSON in, JSON out; nothing else), the floor
  of a native path;
- ``aiohttp``: a bare ``aiohttp.ClientSession`` (JSON in, JSON out; nothing else): aiohttp is already a dependency
  (kopf's and the emulator's HTTP stack) and parses HTTP in C;
- ``client``: ``AsyncKubeClient.patch`` as the project has it now.

    .venv/bin/python -m bench.write_path [--requests 2000] [--ways pool,httpx,client] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.common import text_table
from kube.client import AsyncKubeClient, KubeClient, load_api_client
from kube.http_connection import async_http_client
from kube.resources import CONFIGMAPS

TOKEN = "write-path-bench-token"
NAMESPACE = "default"
NAME = "write-path"
WAYS = ("pool", "httpx", "aiohttp", "client")


async def _patches(way: str, kubeconfig: str, requests: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``requests`` sequential PATCHes sent ``way``, after a warm-up of 50.

    The client is loaded from a kubeconfig, as the controller's is: its token comes with the loader's refresh hook.
    """
    api = load_api_client(kubeconfig)
    configuration = api.configuration
    url = str(configuration.host)
    sync = KubeClient(api, timeout=30)
    client = AsyncKubeClient(sync)
    pool = ThreadPoolExecutor(max_workers=16)
    http = async_http_client(configuration, timeout=30, connect_timeout=5)
    session = aiohttp.ClientSession(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"})
    loop = asyncio.get_running_loop()

    async def send(index: int) -> None:
        patch = {"data": {"v": str(index)}}
        if way == "pool":
            context = contextvars.copy_context()
            await loop.run_in_executor(pool, lambda: context.run(sync.patch, CONFIGMAPS, NAMESPACE, NAME, patch))
        elif way == "httpx":
            response = await http.patch(
                CONFIGMAPS.path(NAMESPACE, NAME), content=json.dumps(patch).encode(),
                headers={"Content-Type": "application/merge-patch+json"},
            )
            response.raise_for_status()
            json.loads(response.content)
        elif way == "aiohttp":
            async with session.patch(
                CONFIGMAPS.path(NAMESPACE, NAME), data=json.dumps(patch).encode(),
                headers={"Content-Type": "application/merge-patch+json", "Accept": "application/json"},
            ) as answer:
                answer.raise_for_status()
                json.loads(await answer.read())
        else:
            await client.patch(CONFIGMAPS, NAMESPACE, NAME, patch)

    try:
        for index in range(50):
            await send(index)
        cpu, wall = time.process_time(), time.perf_counter()
        for index in range(requests):
            await send(index)
        return time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await http.aclose()
        await session.close()
        pool.shutdown()
        client.close()


def _child(way: str, kubeconfig: str, requests: int) -> None:
    cpu, wall = asyncio.run(_patches(way, kubeconfig, requests))
    print(json.dumps({"way": way, "cpu_s": cpu, "wall_s": wall}))


def run(requests: int, ways: list[str], rounds: int) -> list[dict[str, Any]]:
    """Each way ``rounds`` times, the ways alternating, against one emulator holding the ConfigMap."""
    from sandbox.cluster import write_kubeconfig
    from sandbox.emulator import ApiEmulator, EmulatorThread

    results: list[dict[str, Any]] = []
    with EmulatorThread(emulator=ApiEmulator()) as thread, tempfile.TemporaryDirectory() as work:
        thread.emulator.bearer_token = TOKEN
        kubeconfig = write_kubeconfig(Path(work) / "kubeconfig", thread.url, token=TOKEN)
        thread.emulator.create_object("", "v1", "configmaps", {"metadata": {"name": NAME}, "data": {}}, NAMESPACE)
        for _ in range(rounds):
            for way in ways:
                load = os.getloadavg()[0]
                output = subprocess.run(
                    [sys.executable, "-m", "bench.write_path", "--child", way, "--kubeconfig", str(kubeconfig),
                     "--requests", str(requests)],
                    check=True, capture_output=True, text=True,
                ).stdout
                result = json.loads(output.strip().splitlines()[-1])
                result["load"] = load
                results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--ways", default=",".join(WAYS), help=f"comma-separated, of {', '.join(WAYS)}")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    parser.add_argument("--kubeconfig", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.kubeconfig, args.requests)
        return
    ways = [way for way in args.ways.split(",") if way]
    unknown = sorted(set(ways) - set(WAYS))
    if unknown:
        parser.error(f"--ways: unknown {', '.join(unknown)} (known: {', '.join(WAYS)})")
    results = run(args.requests, ways, args.rounds)
    rows = [
        [r["way"], f"{1000 * r['cpu_s'] / args.requests:.3f}", f"{1000 * r['wall_s'] / args.requests:.3f}",
         f"{r['load']:.2f}"]
        for r in results
    ]
    print(f"{args.requests} sequential merge PATCHes per run")
    print(text_table(["way", "client CPU ms per PATCH", "wall ms per PATCH", "load 1-min"], rows))


if __name__ == "__main__":
    main()
