"""Where the shared manifest corpus lives for tests: ``../shared/corpus`` beside the repository, or
``$ROLLOUTS_CORPUS_DIR``."""

from __future__ import annotations

import os
from pathlib import Path

CORPUS_ENV = "ROLLOUTS_CORPUS_DIR"
REPO_ROOT = Path(__file__).resolve().parents[2]


def corpus_dir() -> Path:
    """The corpus directory (holding ``seeds/`` and ``argo-rollouts/``); it may not exist."""
    configured = os.environ.get(CORPUS_ENV)
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "corpus"


def corpus_missing_reason() -> str | None:
    """Why corpus tests cannot run here, or None when the corpus is present."""
    directory = corpus_dir()
    if (directory / "seeds").is_dir() and (directory / "argo-rollouts").is_dir():
        return None
    return (
        f"shared corpus not found at {directory}: conformance tests need ../shared/corpus "
        f"(or set {CORPUS_ENV})"
    )
