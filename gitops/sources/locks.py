"""One lock per repository cache directory, held across threads (a ``threading.Lock``) and across processes (an
exclusive ``flock`` on a file beside the cache), so two fetches never write the same bare repository at once."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_registry_lock = threading.Lock()
_thread_locks: dict[Path, threading.Lock] = {}


def _thread_lock(path: Path) -> threading.Lock:
    with _registry_lock:
        return _thread_locks.setdefault(path, threading.Lock())


@contextmanager
def repository_lock(lock_file: Path) -> Iterator[None]:
    """Hold the lock named by ``lock_file`` (created when missing) for the ``with`` block."""
    lock_file = lock_file.resolve()
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with _thread_lock(lock_file), open(lock_file, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
