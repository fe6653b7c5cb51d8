"""The profile summary's arithmetic over py-spy's raw format (``frame;frame;… count`` per line): idle stacks are
left out of the shares, a recursive function counts once per stack, lines of one function are counted together."""

from __future__ import annotations

from bench.profile_top import parse_raw, top

RAW = [
    "Thread.run (threading.py:982);AppSetController.reconcile (gitops/controller/application_sets.py:261);"
    "render_value (gitops/appset/templating.py:26);render_value (gitops/appset/templating.py:28) 30\n",
    "Thread.run (threading.py:982);AppSetController.reconcile (gitops/controller/application_sets.py:262);"
    "deepcopy (copy.py:146) 10\n",
    "Thread.run (threading.py:982);Watcher._watch (gitops/controller/watcher.py:99);"
    "SocketIO.readinto (socket.py:706) 60\n",
    "\n",
]


def test_idle_samples_are_counted_in_all_but_left_out_of_the_shares() -> None:
    total, busy, _, _ = top(parse_raw(RAW), 10)
    assert (total, busy) == (100, 40)


def test_self_time_is_the_innermost_function_with_its_lines_together() -> None:
    _, _, own, _ = top(parse_raw(RAW), 10)
    assert own == [["30", "75.0 %", "`render_value (gitops/appset/templating.py)`"],
                   ["10", "25.0 %", "`deepcopy (copy.py)`"]]


def test_cumulative_time_counts_a_recursive_project_function_once_per_stack() -> None:
    _, _, _, under = top(parse_raw(RAW), 10)
    assert under == [["40", "100.0 %", "`AppSetController.reconcile (gitops/controller/application_sets.py)`"],
                     ["30", "75.0 %", "`render_value (gitops/appset/templating.py)`"]]
