"""Every benchmark runs as ``python -m bench.<name>``: its ``if __name__ == "__main__":`` block comes last, so that
nothing the run calls is defined after it (a function below it is undefined when the module runs as a script, as
``_abort_latency_rows`` once was: the import in a test saw it, ``python -m bench.abort --during-burst`` did not)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _is_main_guard(node: ast.stmt) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")


@pytest.mark.parametrize("module", sorted(path.name for path in BENCH.glob("*.py")))
def test_the_main_guard_is_the_last_statement(module: str) -> None:
    body = ast.parse((BENCH / module).read_text()).body
    guards = [index for index, node in enumerate(body) if _is_main_guard(node)]
    assert guards in ([], [len(body) - 1]), f"bench/{module}: statements after its __main__ block"
