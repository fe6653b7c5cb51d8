"""Notifications: does a slow or failing notification receiver delay the Rollouts? (issue #17's acceptance: "a slow
or failing receiver delays nothing else, measured as unchanged step latency").

The fleet scenario (N canary Rollouts, setWeight 20/50/80 each followed by a short pause, updated at once), every
Rollout subscribed by ``notifications.argoproj.io/subscribe.<trigger>.<service>`` annotations to a webhook service of
``argo-rollouts-notification-configmap`` that points at a loopback receiver (``sandbox.webhook_receiver``). Run four
times, each in a fresh sandbox with a fresh ``rollouts controller``, one after the other in this process:

- ``answering``: the receiver answers 200 at once;
- ``hanging``: the receiver holds every request unanswered until the run has ended;
- ``failing``: the receiver answers 500;
- ``off``: the baseline, the controller with ``--no-notifications`` (the annotations are there, nothing reads them).

Measured in each: step latency (pause expiry → the next weight stored, as the fleet measures it) p50/p99, the time
until all complete, the notifications delivered (the controller's ``notification_send_success``), failed attempts
(``notification_send_error``), requests the receiver held or refused, and those still pending when the last Rollout
completed (the subscribed Events' firings not yet delivered), and the controller's CPU.

    .venv/bin/python -m bench.notifications --n 100 [--pause 2s] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    CONFIGMAP,
    NAMESPACE,
    RELAXED_ELECTION,
    ROLLOUT,
    Harness,
    Target,
    distribution,
    event_reasons,
    fleet_objects,
    machine,
    markdown_table,
    pause_expiries,
    promoted_from,
    text_table,
    weight_changes,
    weight_steps,
)
from bench.results_page import load_averages, machine_line, publish, targets_section, with_targets
from kube.json_data import JsonObject
from sandbox.webhook_receiver import WebhookReceiver

SERVICE_NAME: Final = "bench"
# The default Rollout triggers a fleet update fires (Argo Rollouts' Event reasons → triggers): one RolloutUpdated,
# a RolloutStepCompleted per step, a RolloutPaused per pause and one RolloutCompleted per Rollout.
TRIGGERS: Final = ("on-rollout-updated", "on-rollout-step-completed", "on-rollout-paused", "on-rollout-completed")
TRIGGER_REASONS: Final = {"on-rollout-updated": "RolloutUpdated", "on-rollout-step-completed": "RolloutStepCompleted",
                          "on-rollout-paused": "RolloutPaused", "on-rollout-completed": "RolloutCompleted"}
RECEIVERS: Final = ("answering", "hanging", "failing")
BASELINE: Final = "off"
CASES: Final = (*RECEIVERS, BASELINE)
SUBSCRIBE_PREFIX: Final = "notifications.argoproj.io/subscribe."


# ------------------------------------------------------------------------------------------------ pure helpers


def subscription_annotations(triggers: Iterable[str], service: str, recipients: Sequence[str] = ()) -> dict[str, str]:
    """Argo's subscription annotations: ``notifications.argoproj.io/subscribe.<trigger>.<service>`` → the recipients
    joined by ``;`` (empty for a webhook, which needs none)."""
    if not service:
        raise ValueError("subscription_annotations: the service name is empty")
    value = ";".join(recipients)
    return {f"{SUBSCRIBE_PREFIX}{trigger}.{service}": value for trigger in triggers}


def notification_configmap(service: str, url: str) -> JsonObject:
    """``argo-rollouts-notification-configmap`` with one webhook service named ``service`` sending to ``url``."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "argo-rollouts-notification-configmap", "namespace": NAMESPACE},
            "data": {f"service.webhook.{service}": f"url: {url}\n"}}


def step_latencies(expiries: Mapping[str, Sequence[tuple[int, float]]],
                   weights: Mapping[str, Sequence[tuple[float, int]]]) -> tuple[list[float], int]:
    """Per pause of every Rollout, the seconds from its expiry to the first weight stored at or after it (as the
    fleet measures a step); and how many pauses had no weight after them."""
    latencies: list[float] = []
    missing = 0
    for name, pauses in expiries.items():
        history = weights.get(name, ())
        for _, expiry in pauses:
            following = next((at for at, _ in history if at >= expiry), None)
            if following is None:
                missing += 1
            else:
                latencies.append(following - expiry)
    return latencies, missing


def expected_notifications(reasons: Mapping[str, int], triggers: Iterable[str]) -> int:
    """How many notifications the subscribed triggers fired: one per occurrence of each trigger's Event reason."""
    return sum(reasons.get(TRIGGER_REASONS[trigger], 0) for trigger in triggers)


def p99_ratio(measured: float | None, reference: float | None) -> float | None:
    """``measured`` / ``reference``, two decimals; None when either is missing or the reference is zero."""
    if measured is None or not reference:
        return None
    return round(measured / reference, 2)


def verdict(step_p99: Mapping[str, float | None]) -> list[str]:
    """One line per receiver: its step p99 as a multiple of the answering receiver's and of notifications off."""
    lines: list[str] = []
    for case in RECEIVERS:
        versus_answering = p99_ratio(step_p99.get(case), step_p99.get("answering"))
        versus_off = p99_ratio(step_p99.get(case), step_p99.get(BASELINE))
        lines.append(f"{case} receiver: step p99 {_ms(step_p99.get(case))} ms = "
                     f"{_times(versus_answering)} the answering receiver's, {_times(versus_off)} notifications off's")
    return lines


def _times(value: float | None) -> str:
    return "—×" if value is None else f"{value:g}×"


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f}"


# ---------------------------------------------------------------------------------------------------- one run


def run_case(n: int, pause: str, case: str) -> dict[str, Any]:
    """One fleet update with the receiver behaving as ``case`` (or notifications off)."""
    if case not in CASES:
        raise ValueError(f"unknown case {case!r}: expected one of {', '.join(CASES)}")
    steps = weight_steps(pause)
    receiver = WebhookReceiver()
    receiver.start()
    if case == "hanging":
        receiver.hold()
    elif case == "failing":
        receiver.status = 500
    args = [*RELAXED_ELECTION, *(["--no-notifications"] if case == BASELINE else
                                 ["--notifications-namespace", NAMESPACE])]
    annotations = subscription_annotations(TRIGGERS, SERVICE_NAME)
    try:
        with Harness(controller_args=args) as harness:
            assert harness.recorder is not None
            harness.create(CONFIGMAP, notification_configmap(SERVICE_NAME, receiver.url))
            for index in range(n):
                for resource, body in fleet_objects(index, steps=steps):
                    if resource == ROLLOUT:
                        body["metadata"]["annotations"] = dict(annotations)
                    harness.create(resource, body)
            states, _ = harness.start_until_healthy(n)
            states.refresh()
            old_hashes = {name: str(status.get("stableRS")) for name, status in states.statuses.items()}
            cpu_before = harness.controller_stats().cpu_seconds
            metrics_before = _delivery_metrics(harness, case)
            received_before, refused_before = len(receiver.received()), receiver.refused
            load_start = os.getloadavg()
            changes_from = len(harness.recorder)
            update_at = time.time()
            for index in range(n):
                harness.set_image(index, "app:v2")
            done = promoted_from(old_hashes)
            harness.wait(lambda: states.count_named(done) >= n, 120 + n * 0.5, f"{n} Rollouts promoted")
            cpu_update = harness.controller_stats().cpu_seconds - cpu_before
            metrics_after = _delivery_metrics(harness, case)
            received, refused, held = len(receiver.received()), receiver.refused, receiver.held
            load_end = os.getloadavg()
            changes = harness.recorder.changes_since(changes_from)
            reasons = event_reasons(harness.emulator)
    finally:
        receiver.stop()

    first_completion: dict[str, float] = {}
    for change in changes:
        if change.plural == ROLLOUT.plural and done(change.name, change.object.get("status") or {}):
            first_completion.setdefault(change.name, change.at)
    all_complete_s = max(first_completion.values()) - update_at if len(first_completion) == n else None
    latencies, missing = step_latencies(pause_expiries(changes, steps), weight_changes(changes))
    fired = expected_notifications(reasons, TRIGGERS)
    delivered = int(metrics_after["success"])
    return {
        "case": case,
        "completed": len(first_completion),
        "all_complete_s": None if all_complete_s is None else round(all_complete_s, 2),
        "pause_expiry_to_next_weight_s": distribution(latencies),
        "pauses_without_following_weight": missing,
        "notifications": None if case == BASELINE else {
            # Since the controller started (the initial sync's Events fire too), at the moment the last Rollout
            # completed.
            "fired_by_subscribed_events": fired,
            "delivered": delivered,
            "delivered_during_update": delivered - int(metrics_before["success"]),
            "failed_attempts": int(metrics_after["error"]),
            "pending": max(0, fired - delivered),
            "receiver_answered_2xx": received,
            "receiver_answered_2xx_during_update": received - received_before,
            "receiver_refused_500": refused - refused_before,
            "receiver_holding_unanswered": held,
        },
        "controller_cpu_s_update": round(cpu_update, 2),
        "controller_cpu_ms_per_weight_step": round(cpu_update * 1000 / (3 * n), 2),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in load_end],
        "controller_args": args,
    }


def _delivery_metrics(harness: Harness, case: str) -> dict[str, float]:
    if case == BASELINE:
        return {"success": 0.0, "error": 0.0}
    return {"success": harness.metric_sum("notification_send_success"),
            "error": harness.metric_sum("notification_send_error")}


def run(n: int, pause: str = "2s") -> dict[str, Any]:
    """The four cases one after the other, each in a fresh sandbox and controller."""
    cases: dict[str, dict[str, Any]] = {}
    for case in CASES:
        print(f"notifications N={n}: {case}", flush=True)
        cases[case] = run_case(n, pause, case)
    step_p99 = {case: cases[case]["pause_expiry_to_next_weight_s"]["p99"] for case in CASES}
    report: dict[str, Any] = {
        "benchmark": "notifications",
        "n": n,
        "steps": weight_steps(pause),
        "subscribed_triggers": list(TRIGGERS),
        "cases": cases,
        "step_p99_vs_answering": {c: p99_ratio(step_p99[c], step_p99["answering"]) for c in CASES},
        "step_p99_vs_off": {c: p99_ratio(step_p99[c], step_p99[BASELINE]) for c in CASES},
        "verdict": verdict(step_p99),
        "machine": machine(),
    }
    # Only that every Rollout completes is a target: the latencies are compared as ratios, not judged (noise).
    targets = [Target(f"all rollouts complete ({case})", float(cases[case]["completed"]), float(n), at_least=True)
               for case in CASES]
    return with_targets(report, targets)


# ----------------------------------------------------------------------------------------------------- output


def markdown(report: dict[str, Any], targets: list[Target]) -> list[str]:
    n, cases = report["n"], report["cases"]
    rows: list[list[Any]] = []
    for case in CASES:
        result = cases[case]
        step, sent = result["pause_expiry_to_next_weight_s"], result["notifications"]
        rows.append([
            case, f"{_ms(step['p50'])} / {_ms(step['p99'])}", result["all_complete_s"],
            "—" if sent is None else sent["fired_by_subscribed_events"],
            "—" if sent is None else sent["delivered"],
            "—" if sent is None else sent["pending"],
            "—" if sent is None else sent["failed_attempts"],
            "—" if sent is None else sent["receiver_holding_unanswered"],
            result["controller_cpu_s_update"],
            f"{load_averages(result['load_average_start'])} → {load_averages(result['load_average_end'])}",
        ])
    return [
        f"# Notifications: {n:,} subscribed canary Rollouts, the receiver answering, hanging or failing",
        "",
        f"The fleet scenario ({n:,} Rollouts, setWeight 20/50/80 each followed by a "
        f"{report['steps'][1]['pause']['duration']} pause, updated at once), every Rollout subscribed to "
        f"{', '.join(report['subscribed_triggers'])} on a webhook service pointing at a loopback receiver; run four "
        "times, each with a fresh sandbox and `rollouts controller`: the receiver answering 200 at once, holding "
        "every request unanswered until the run ended, answering 500; and notifications off (`--no-notifications`).",
        "",
        "## Verdict (ratios, not pass/fail: the machine is shared and the figures are noisy)",
        "",
        *(f"- {line}" for line in report["verdict"]),
        "",
        "## Results",
        "",
        *markdown_table(["receiver", "step p50 / p99 ms", "all complete s", "fired", "delivered", "pending",
                         "failed attempts", "held unanswered", "controller CPU s", "load (1/5/15) start → end"], rows),
        "",
        "Step: pause expiry (its `startTime` + duration) → the next weight stored in the VirtualService, "
        f"{3 * n} pauses per run. Fired: occurrences of the subscribed triggers' Events (RolloutUpdated, "
        "RolloutStepCompleted, RolloutPaused, RolloutCompleted; the initial sync's included) when the last Rollout "
        "completed; delivered: the controller's `notification_send_success` then; pending: fired − delivered; "
        "failed attempts: `notification_send_error` (each retry counts); held: requests the hanging receiver held "
        "unanswered then (a delivery attempt times out after 10 s and is retried with backoff).",
        "",
        *targets_section(targets),
        machine_line(report["machine"]),
    ]


def print_table(report: dict[str, Any]) -> None:
    rows = []
    for case in CASES:
        result = report["cases"][case]
        step, sent = result["pause_expiry_to_next_weight_s"], result["notifications"] or {}
        rows.append([case, _ms(step["p50"]), _ms(step["p99"]), result["all_complete_s"], sent.get("delivered"),
                     sent.get("pending"), sent.get("failed_attempts"), result["controller_cpu_s_update"],
                     load_averages(result["load_average_end"])])
    print(text_table(["case", "p50 ms", "p99 ms", "complete s", "delivered", "pending", "failed", "cpu s", "load"],
                     rows))
    for line in report["verdict"]:
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Notifications benchmark: step latency with the receiver "
                                                 "answering, hanging, failing, and with notifications off.")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--pause", default="2s", help="each pause's duration (default 2s)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"--n must be at least 1, got {args.n}")
    report = run(args.n, args.pause)
    targets: list[Target] = report.pop("_targets")
    print_table(report)
    if not args.no_write:
        publish(f"notifications-{args.n}", report, targets, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
