"""The sandbox's API fault injection, as pure decisions: which requests fail, and how."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sandbox.emulator.faults import (
    Fault,
    FaultInjector,
    FaultPolicy,
    FaultPolicyError,
    choose_fault,
    parse_names,
)

ALL = FaultPolicy(rate=1.0)


def test_a_roll_at_or_above_the_rate_serves_the_request() -> None:
    policy = FaultPolicy(rate=0.05)
    assert choose_fault(policy, verb="get", group="", resource="pods", name="a",
                        roll=0.05, pick=0.0, spread=0.0) is None


def test_a_roll_below_the_rate_injects_a_fault() -> None:
    policy = FaultPolicy(rate=0.05, kinds=("error",))
    fault = choose_fault(policy, verb="get", group="", resource="pods", name="a", roll=0.049, pick=0.0, spread=0.0)
    assert fault == Fault("error")


@dataclass(frozen=True)
class Fit:
    verb: str
    name: str | None
    kinds: tuple[str, ...]  # the kinds that may hit such a request, in policy order


FITS = [
    Fit("get", "a", ("error", "throttle", "slow")),
    Fit("list", None, ("error", "throttle", "slow")),
    Fit("create", None, ("error", "throttle", "slow")),  # 409 on create means AlreadyExists, not a race
    Fit("patch", "a", ("error", "conflict", "throttle", "slow")),
    Fit("update", "a", ("error", "conflict", "throttle", "slow")),
    Fit("delete", "a", ("error", "conflict", "throttle", "slow")),
    Fit("watch", None, ("error", "throttle", "drop-watch")),
]


@pytest.mark.parametrize("fit", FITS, ids=lambda fit: fit.verb)
def test_each_verb_gets_only_the_faults_a_real_server_gives_it(fit: Fit) -> None:
    # `pick` walks the fitting kinds in equal slices: slice i of n is [i/n, (i+1)/n).
    n = len(fit.kinds)
    seen = []
    for index in range(n):
        fault = choose_fault(ALL, verb=fit.verb, group="", resource="pods", name=fit.name,
                             roll=0.0, pick=(index + 0.5) / n, spread=0.5)
        assert fault is not None
        seen.append(fault.kind)
    assert tuple(seen) == fit.kinds


def test_verbs_and_resources_narrow_the_requests_that_fail() -> None:
    policy = FaultPolicy(rate=1.0, verbs=frozenset({"patch"}), resources=frozenset({"rollouts.argoproj.io"}))
    assert policy.applies_to("patch", "argoproj.io", "rollouts")
    assert not policy.applies_to("get", "argoproj.io", "rollouts")
    assert not policy.applies_to("patch", "", "pods")
    assert FaultPolicy(rate=1.0, resources=frozenset({"rollouts"})).applies_to("get", "argoproj.io", "rollouts")


def test_discovery_and_health_requests_never_fail() -> None:
    assert not ALL.applies_to("get", "", "")


def test_a_dropped_watch_lives_a_share_of_the_watch_lifetime_never_zero() -> None:
    policy = FaultPolicy(rate=1.0, kinds=("drop-watch",), watch_lifetime=4.0)
    assert choose_fault(policy, verb="watch", group="", resource="pods", name=None,
                        roll=0.0, pick=0.0, spread=0.25) == Fault("drop-watch", 1.0)
    dropped = choose_fault(policy, verb="watch", group="", resource="pods", name=None, roll=0.0, pick=0.0, spread=0.0)
    assert dropped is not None and dropped.delay > 0  # a 0 s timeout would mean "no timeout" to the server


def test_a_throttled_request_says_when_to_retry() -> None:
    error = Fault("throttle").error(resource="pods", group="", name="a", retry_after=3)
    assert error is not None
    assert (error.code, error.reason, error.details["retryAfterSeconds"]) == (429, "TooManyRequests", 3)


def test_an_injected_conflict_reads_as_the_real_servers() -> None:
    error = Fault("conflict").error(resource="rollouts", group="argoproj.io", name="web", retry_after=1)
    assert error is not None
    assert error.code == 409 and error.reason == "Conflict"
    assert error.message.startswith('Operation cannot be fulfilled on rollouts.argoproj.io "web": ')


@pytest.mark.parametrize(("policy_args", "named"), [
    ({"rate": 1.5}, "fault rate"),
    ({"rate": 0.1, "verbs": frozenset({"fetch"})}, "fault verbs: fetch"),
    ({"rate": 0.1, "kinds": ("explode",)}, "fault kinds: explode"),
    ({"rate": 0.1, "retry_after": 0}, "retry-after"),
])
def test_an_unusable_policy_is_refused_naming_the_setting(policy_args: dict[str, object], named: str) -> None:
    with pytest.raises(FaultPolicyError, match=named):
        FaultPolicy(**policy_args)  # type: ignore[arg-type]


def test_names_come_from_repeated_and_comma_separated_values() -> None:
    assert parse_names(["get,List", " patch ", ""]) == frozenset({"get", "list", "patch"})


def test_a_seeded_injector_injects_the_same_faults_into_the_same_requests() -> None:
    def run() -> list[Fault | None]:
        injector = FaultInjector(FaultPolicy(rate=0.3, seed=7))
        return [injector.decide(verb=verb, group="", resource="pods", name="a")
                for verb in ["get", "patch", "list", "watch"] * 50]

    first = run()
    assert first == run()
    assert 20 < sum(fault is not None for fault in first) < 100  # about 30 % of 200


def test_an_outage_refuses_every_request_until_it_ends() -> None:
    now = [100.0]
    injector = FaultInjector(FaultPolicy(), clock=lambda: now[0])
    injector.outage(30)
    assert injector.decide(verb="get", group="", resource="", name=None) == Fault("outage")
    now[0] = 129.9
    assert injector.in_outage()
    now[0] = 130.0
    assert injector.decide(verb="get", group="", resource="pods", name="a") is None
    assert injector.injected["outage"] == 1
