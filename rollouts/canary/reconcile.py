"""The canary reconcile pass, in Argo's order (rollout/canary.go): a pass either *prepares* (creates the ReplicaSet
for a new template, resets the steps of a new revision, promotes an initial deploy at once) or *progresses*
(restarts pods, points the Services, routes traffic, scales the ReplicaSets, then moves the steps on and writes
the status). What both strategies share (the effects, the ReplicaSet bookkeeping, the conditions) is in
``rollouts.rollout_pass``; ``rollouts.reconcile.decide`` validates and picks the strategy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analysis.models import AnalysisPhase
from kube.json_data import JsonObject
from kube.resources import PODS, SERVICES
from rollouts import conditions as cond
from rollouts.canary import steps as steps_logic
from rollouts.canary.analysis import (
    BACKGROUND_STATUS,
    STEP_STATUS,
    CanaryAnalysis,
    CanaryAnalysisView,
    decide_canary_analysis,
    kept_statuses,
)
from rollouts.canary.dynamic_stable_scale import RoutedWeights, abort_weight, dynamic_counts
from rollouts.canary.managed_routes import route_for_step, wanted_routes
from rollouts.canary.replicas import (
    at_desired_counts,
    basic_canary_counts,
    other_replica_set_plan,
    pods_of,
    surge_and_unavailable,
    traffic_routed_counts,
)
from rollouts.experiments.step import (
    INCONCLUSIVE_EXPERIMENT,
    ExperimentGate,
    ExperimentHistory,
    ExperimentStepFacts,
    decide_experiment_step,
)
from rollouts.experiments.traffic import weights_with_additional
from rollouts.gating.background import background_promotion_hold
from rollouts.gating.tracking import AnalysisInputs
from rollouts.hashing import steps_hash
from rollouts.models import CanaryStep, CanaryStrategy, Rollout, TrafficWeights
from rollouts.pause_state import CANARY_PAUSE_STEP, INCONCLUSIVE_ANALYSIS
from rollouts.plan import Patch, Plan
from rollouts.pod_metadata import metadata_by_role, metadata_writes
from rollouts.replicasets import (
    available_replicas,
    name_of,
    pod_template_hash_of,
    spec_replicas,
    totals,
)
from rollouts.rollback_window import within_rollback_window
from rollouts.rollout_pass import (
    Draft,
    Outlook,
    PassProgress,
    RolloutPass,
)
from rollouts.services import ServiceSwitch, selected_hash, service_switch
from rollouts.snapshot import RolloutSnapshot
from rollouts.traffic.istio import traffic_weights_status
from rollouts.traffic.ping_pong import may_repoint_canary_service, roles, stable_ping_pong_status
from rollouts.traffic.registry import ROUTERS, router_for
from rollouts.traffic.router import TrafficRouter, WeightRequest

# A problem outside the Rollout (a missing VirtualService) may be fixed without touching the Rollout, and those
# objects are not necessarily watched: look again after a while.
TRAFFIC_RETRY_SECONDS = 10.0


@dataclass
class _Progress(PassProgress):
    """What the steps of one progressing canary pass decide and hand on to the next."""

    weight: int = 0
    desired_new: int = 0
    desired_stable: int = 0
    at_desired: bool = False
    rollback_window: bool = False
    """Promoted as a rollback within spec.rollbackWindow (no full promotion was asked for)."""


class CanaryPass(RolloutPass):
    """One pass over a canary Rollout; built per call and thrown away (it holds no state between passes). ``plan``
    prepares a new revision (``_prepare``) or moves through the steps (``_progress``), each a list of named steps."""

    def __init__(
        self,
        snapshot: RolloutSnapshot,
        rollout: Rollout,
        canary: CanaryStrategy,
        routers: Mapping[str, TrafficRouter] = ROUTERS,
    ):
        super().__init__(snapshot, rollout)
        self.canary = canary
        self.routers = routers
        self.steps = canary.steps
        self.traffic_routed = canary.traffic_routing is not None
        canary_spec = (self.spec.get("strategy") or {}).get("canary") or {}
        self.step_hash = steps_hash(canary_spec.get("steps"))
        self.surge, self.max_unavailable = surge_and_unavailable(
            canary.max_surge, canary.max_unavailable, self.replicas
        )
        # The canary weight last routed, as the observed status records it (only traffic routing records one).
        self.recorded_weight = _recorded_canary_weight(self.observed.canary.weights) if self.traffic_routed else None
        # What the analyses decided in this pass (the step's and the background run); none until decided.
        self.analysis = CanaryAnalysis()
        # What the experiment step decided in this pass.
        self.experiment = ExperimentGate()
        # pingPong: which Service serves which role, as the observed status records it (Argo reads the observed
        # Rollout too, so a flip made in this pass takes effect in the next).
        self.ping_pong = (
            roles(canary.ping_pong, self.observed.canary.stable_ping_pong) if canary.ping_pong is not None else None
        )
        # The canary-role Service still carries traffic to an earlier canary: the weight goes to 0 before it moves.
        self.ping_pong_held = False

    # --- entry ---------------------------------------------------------------------------------

    def plan(self) -> Plan:
        template_changed = self.observed.current_pod_hash != self.current_hash
        steps_changed = self.observed.current_step_hash != self.step_hash
        if template_changed or steps_changed or self.groups.new is None:
            status = self._prepare(template_changed=template_changed, steps_changed=steps_changed)
        else:
            status = self._progress()
        return self._plan(status)

    # --- preparing a revision ------------------------------------------------------------------

    def _prepare(self, *, template_changed: bool, steps_changed: bool) -> JsonObject:
        """Create the ReplicaSet of a new template and reset the steps of a new revision; nothing else moves in this
        pass, so the next one starts from a clean slate."""
        reset = template_changed or steps_changed
        revision, draft, outlook = self._begin_revision(template_changed=template_changed, reset=reset)
        self._carry_analysis(draft, revision, reset=reset)
        size = self.replicas if self.groups.stable is None else 0
        # The first revision is the stable one at once; later ones start as the canary.
        metadata = self.canary.stable_metadata if self.groups.stable is None else self.canary.canary_metadata
        new = self._ensure_new_replica_set(revision, outlook, size=size, pod_metadata=metadata)
        self._sync_revisions(revision)
        if self.groups.stable is None:
            # Argo points the canary-role Service (ping, on a first deploy) at the first revision in the pass that
            # promotes it; once promoted that Service is the stable one and nothing points it again.
            self._point_ping_pong_service(new, first_deploy=True)
        self._skip_the_steps_of_a_stable_revision(draft, revision, template_changed=template_changed)
        self.follow_up = True
        return self._status(
            draft, outlook, new_rs=None if outlook.created_rs else new, rs_name=name_of(new), revision=revision
        )

    def _carry_analysis(self, draft: Draft, revision: int, *, reset: bool) -> None:
        if reset:
            # The runs of the previous revision (or steps) are superseded: terminated, and kept as history.
            self._decide_analysis(draft, revision)
            return
        inputs = AnalysisInputs.of(
            self.snapshot, current_hash=self.current_hash, stable_hash=draft.stable_hash, revision=revision
        )
        self.analysis = CanaryAnalysis(statuses=kept_statuses(self._observed_analysis_statuses(), inputs))

    def _skip_the_steps_of_a_stable_revision(self, draft: Draft, revision: int, *, template_changed: bool) -> None:
        if self.groups.stable is None:
            # Nothing to compare against: the first version is promoted at once and every step is skipped.
            self._initial_deploy(draft, revision)
            draft.index = self._past_the_steps()
        elif self.current_hash == draft.stable_hash:
            draft.index = self._past_the_steps()
            if template_changed:
                # Back to the revision that is already stable: no steps, nothing to verify (fast rollback).
                self.effects.event("SkipSteps", "Rollback to stable ReplicaSets")
                self._completed(revision, "Fast rollback")
        elif template_changed and self._within_rollback_window() and spec_replicas(self.groups.new or {}) > 0:
            # Back to a recent revision that still has pods (spec.rollbackWindow): its steps are skipped too.
            draft.index = self._past_the_steps()
            self.effects.event("SkipSteps", "Rollback to active ReplicaSets within RollbackWindow")

    def _past_the_steps(self) -> int | None:
        """The step index once every step is done (None without steps)."""
        return len(self.steps) if self.steps else None

    def _observed_draft(self) -> Draft:
        weights = self.observed.canary.weights
        return Draft.observed(
            self.rollout,
            stable_exists=self.groups.stable is not None,
            index=steps_logic.clamp_step_index(self.observed.current_step_index, self.steps),
            weights=weights.to_dict() if weights is not None and self.traffic_routed else None,
        )

    def _reset(self, draft: Draft) -> None:
        """A new revision starts from the first step, with no pause, abort or full promotion carried over."""
        draft.start_revision(self.rollout.spec.restart_at)
        draft.index = 0 if self.steps else None

    # --- progressing -----------------------------------------------------------------------------

    def _progress(self) -> JsonObject:
        """Argo's rolloutCanary, one named step after another over the pass's shared context."""
        progress = self._start_progress()
        self._gate_on_analysis(progress)
        self._gate_on_experiment(progress)
        self._size_for_the_step(progress)
        self._restart_pods(progress.draft)
        self._pin_stable_ping_pong_service()
        if not progress.fully_promoted:
            self._point_ping_pong_service(progress.new)
        # With dynamicStableScale the canary Service goes back to the stable pods once no traffic is left on it.
        self._switch_services(
            aborted=progress.aborted and not (self._aborting_gradually(progress) and self._abort_weight() > 0)
        )
        self._route_for_the_step(progress)
        if not self.rollout.spec.paused:
            self._scale_replica_sets(
                desired_new=progress.desired_new,
                desired_stable=progress.desired_stable,
                aborted=progress.aborted,
                fully_promoted=progress.fully_promoted,
            )
        self._sync_pod_metadata()
        self._advance(
            progress.draft, progress.outlook, aborted=progress.aborted, promote_full=progress.promote_full,
            at_desired=progress.at_desired, rollback_window=progress.rollback_window,
        )
        self._delete_old_revisions()
        self._release_unreferenced()
        return self._progress_status(progress)

    # --- the steps of a progressing pass ---------------------------------------------------------

    def _start_progress(self) -> _Progress:
        """The observed progress, with the requests (abort, retry, full promotion) applied to the step index."""
        new, draft, revision, requests = self._begin_progress()
        # Argo: a rollback within the window lifts an abort and goes straight to the end of the steps.
        window = not requests.fully_promoted and self._within_rollback_window()
        aborted = requests.aborted and not window
        if self.steps:
            if requests.fully_promoted:
                draft.index = len(self.steps)
            elif aborted or requests.retried:
                draft.index = 0
            elif requests.promote_full or window:
                draft.index = len(self.steps)
        return _Progress(
            draft=draft, outlook=Outlook(retried=requests.retried), revision=revision, new=new,
            fully_promoted=requests.fully_promoted, promote_full=requests.promote_full or window, aborted=aborted,
            rollback_window=window and not requests.promote_full,
        )

    def _within_rollback_window(self) -> bool:
        return within_rollback_window(
            self.groups.new,
            self.groups.stable if self.groups.stable_is_distinct else None,
            self.groups.all,
            self.rollout.spec.rollback_window.revisions if self.rollout.spec.rollback_window else None,
        )

    def _gate_on_analysis(self, progress: _Progress) -> None:
        draft, outlook = progress.draft, progress.outlook
        analysis = self._decide_analysis(draft, progress.revision, progress)
        if analysis.abort_reason is not None and not progress.aborted:
            # A verdict of Failed or Error gives the update up in this very pass: traffic goes back to stable now,
            # not one pass later.
            progress.aborted = True
            draft.pause.abort_update(self.now)
            outlook.abort_reason = analysis.abort_reason
            if self.steps:
                draft.index = 0
            self.follow_up = True
        elif analysis.inconclusive and not progress.aborted:
            draft.pause.pause(INCONCLUSIVE_ANALYSIS, self.now)

    def _gate_on_experiment(self, progress: _Progress) -> None:
        """The experiment step's Experiment (``rollouts.experiments.step``): created, read, or terminated."""
        draft = progress.draft
        index = draft.index if draft.index is not None else 0
        gate = decide_experiment_step(
            steps_logic.current_step(self.steps, draft.index),
            ExperimentStepFacts(
                rollout=self.snapshot.rollout, current_hash=self.current_hash, revision=progress.revision,
                step_index=index, stable_rs=self.groups.stable, new_rs=progress.new, stable_hash=draft.stable_hash,
            ),
            self.snapshot.experiments,
            stop_all=progress.aborted or progress.promote_full,
            held_inconclusive=draft.pause.holds(INCONCLUSIVE_EXPERIMENT),
            recorded=self.observed.canary.current_experiment,
            history=ExperimentHistory(
                replica_set_hashes={
                    found: bool((rs.get("metadata") or {}).get("deletionTimestamp"))
                    for rs in self.snapshot.replica_sets
                    if (found := pod_template_hash_of(rs)) is not None
                },
                successful_limit=self.rollout.spec.analysis.successful_run_history_limit,
                unsuccessful_limit=self.rollout.spec.analysis.unsuccessful_run_history_limit,
            ),
        )
        self.experiment = gate
        self.effects.analysis_writes.extend(gate.writes)
        self.effects.events.extend(gate.events)
        if gate.abort_reason is not None and not progress.aborted:
            progress.aborted = True
            draft.pause.abort_update(self.now)
            progress.outlook.abort_reason = gate.abort_reason
            draft.index = 0
            self.follow_up = True
        elif gate.inconclusive:
            draft.pause.pause(INCONCLUSIVE_EXPERIMENT, self.now)

    def _size_for_the_step(self, progress: _Progress) -> None:
        """How many pods each side should have for where the steps are."""
        groups = self.groups
        progress.weight, fixed_canary = self._canary_target(
            progress.draft.index, aborted=progress.aborted, promote_full=progress.promote_full,
            fully_promoted=progress.fully_promoted,
        )
        new_pods = pods_of(progress.new)
        stable_pods = pods_of(groups.stable) if groups.stable_is_distinct else None
        other_pods = [p for p in (pods_of(rs) for rs in groups.others) if p is not None]
        if self.traffic_routed:
            progress.desired_new, progress.desired_stable = traffic_routed_counts(
                self.replicas,
                weight=progress.weight,
                canary_replicas=fixed_canary,
                min_pods_per_replica_set=self.canary.min_pods_per_replica_set,
            )
            if self.canary.dynamic_stable_scale:
                progress.desired_new, progress.desired_stable = dynamic_counts(
                    self.replicas,
                    desired_weight=progress.weight,
                    canary=progress.desired_new,
                    routed=self._routed_weights(),
                    aborted=progress.aborted,
                    min_pods_per_replica_set=self.canary.min_pods_per_replica_set,
                )
        else:
            progress.desired_new, progress.desired_stable = basic_canary_counts(
                self.replicas,
                weight=progress.weight,
                max_surge=self.surge,
                max_unavailable=self.max_unavailable,
                new=new_pods,
                stable=stable_pods,
                others=other_pods,
            )
        progress.at_desired = at_desired_counts(
            desired_new=progress.desired_new,
            desired_stable=progress.desired_stable,
            new=new_pods,
            stable=pods_of(groups.stable),
            others=other_pods,
            traffic_routed=self.traffic_routed,
            # A stable that shrinks with its traffic is not waited for (Argo's AtDesiredReplicaCountsForCanary).
            check_stable=not (self.traffic_routed and self.canary.dynamic_stable_scale),
        )

    def _route_for_the_step(self, progress: _Progress) -> None:
        draft = progress.draft
        weight = steps_logic.desired_traffic_weight(
            steps=self.steps,
            index=draft.index,
            fully_promoted=progress.fully_promoted,
            aborted=progress.aborted,
            promote_full=progress.promote_full,
            new_available=available_replicas(progress.new),
            at_desired_counts=progress.at_desired,
            recorded_weight=self.recorded_weight,
        )
        if self._aborting_gradually(progress):
            weight = self._abort_weight()
        if self.ping_pong_held:
            weight = 0
        progress.outlook.traffic_problem = self._route_traffic(draft, weight)

    def _aborting_gradually(self, progress: _Progress) -> bool:
        """dynamicStableScale: an abort hands traffic back only as fast as the stable's pods can take it."""
        return progress.aborted and self.traffic_routed and self.canary.dynamic_stable_scale and (
            self.groups.stable_is_distinct
        )

    def _abort_weight(self) -> int:
        stable = self.groups.stable
        return abort_weight(
            self.replicas,
            stable_available=available_replicas(stable) if stable is not None else 0,
            routed_canary=self.recorded_weight,
        )

    def _routed_weights(self) -> RoutedWeights | None:
        weights = self.observed.canary.weights
        if weights is None:
            return None
        return RoutedWeights(canary=weights.canary.weight, stable=weights.stable.weight)

    def _progress_status(self, progress: _Progress) -> JsonObject:
        draft, outlook, new = progress.draft, progress.outlook, progress.new
        step = steps_logic.current_step(self.steps, draft.index)
        only_old_pods_left = draft.stable_hash == self.current_hash and available_replicas(new) >= self.replicas
        # No deadline while waiting on a clock, a person or a verdict, nor once only old pods are left to go.
        outlook.deadline_applies = (
            not steps_logic.is_indefinite_step(step) and outlook.waiting is None and not only_old_pods_left
        )
        return self._status(draft, outlook, new_rs=new, rs_name=name_of(new), revision=progress.revision)

    # --- analysis ----------------------------------------------------------------------------------

    def _decide_analysis(self, draft: Draft, revision: int, progress: _Progress | None = None) -> CanaryAnalysis:
        """Decide the step and background runs (``rollouts.canary.analysis``) and queue their writes and Events;
        without ``progress`` (a pass that prepares a new revision or new steps) every run the status names is reset."""
        snapshot = self.snapshot
        history = self.rollout.spec.analysis
        inputs = AnalysisInputs.of(
            snapshot, current_hash=self.current_hash, stable_hash=draft.stable_hash, revision=revision
        )
        view = CanaryAnalysisView(
            index=draft.index,
            aborted=progress is not None and progress.aborted,
            promote_full=progress is not None and progress.promote_full,
            fully_promoted=progress is not None and progress.fully_promoted,
            initial_deploy=self.groups.stable is None,
            observed_pause=self.observed_pause,
            observed_statuses=self._observed_analysis_statuses(),
            reset=progress is None,
            retried=progress is not None and progress.outlook.retried,
            replica_set_hashes=frozenset(
                found for rs in snapshot.replica_sets if (found := pod_template_hash_of(rs)) is not None
            ),
            successful_limit=history.successful_run_history_limit,
            unsuccessful_limit=history.unsuccessful_run_history_limit,
        )
        analysis = decide_canary_analysis(inputs, view)
        self.analysis = analysis
        self.effects.analysis_writes.extend([*analysis.creates, *analysis.terminations])
        self.effects.cleanups.extend(analysis.deletions)
        self.effects.events.extend(analysis.events)
        return analysis

    def _observed_analysis_statuses(self) -> dict[str, JsonObject]:
        observed = self.observed.canary
        return {
            key: entry.to_dict()
            for key, entry in (
                (STEP_STATUS, observed.current_step_analysis_run_status),
                (BACKGROUND_STATUS, observed.current_background_analysis_run_status),
            )
            if entry is not None
        }

    def _canary_target(
        self, index: int | None, *, aborted: bool, promote_full: bool, fully_promoted: bool
    ) -> tuple[int, int | None]:
        """(weight, fixed canary replicas) the canary is sized for (Argo's GetCanaryReplicasOrWeight)."""
        if promote_full or self.groups.stable is None or fully_promoted:
            return steps_logic.FULL_WEIGHT, None
        scale = steps_logic.active_canary_scale(self.steps, index, traffic_routed=self.traffic_routed)
        if aborted and self.canary.abort_scale_down_delay_seconds > 0:
            # After an abort the canary shrinks (after its delay) whatever size a setCanaryScale gave it.
            scale = None
        if scale is not None and scale.replicas is not None:
            return 0, scale.replicas
        if scale is not None and scale.weight is not None:
            return scale.weight, None
        return steps_logic.current_set_weight(self.steps, index, aborted=aborted), None

    # --- Services ----------------------------------------------------------------------------------

    def _point_ping_pong_service(self, target: JsonObject, *, first_deploy: bool = False) -> None:
        """pingPong: the canary-role Service selects the new ReplicaSet, without waiting for its pods (it gets
        traffic only by weight), but never while its host still carries traffic (``rollouts.traffic.ping_pong``);
        nothing is routed before the first deploy."""
        if self.ping_pong is None:
            return
        service = self.snapshot.services.get(self.ping_pong.canary_service)
        selects_target = service is not None and selected_hash(service) == pod_template_hash_of(target)
        # Asking the router only when the selector would move: at rest, and once moved, that costs nothing.
        carries_traffic = not (selects_target or first_deploy) and self._canary_role_carries_traffic()
        if not may_repoint_canary_service(selects_target=selects_target, carries_traffic=carries_traffic):
            self.ping_pong_held = True
            return
        self._switch(service_switch(service, target, rollout_name=self.name, check_availability=False))

    def _pin_stable_ping_pong_service(self) -> None:
        """pingPong: a stable-role Service that selects no particular revision (``pingPong`` added to a running
        Rollout: Argo never points the stable role) would send stable traffic to the canary's pods too; it is
        pinned to the stable ReplicaSet once that is fully available. A pinned one is never moved."""
        stable = self.groups.stable
        if self.ping_pong is None or stable is None:
            return
        service = self.snapshot.services.get(self.ping_pong.stable_service)
        if service is None or selected_hash(service) is not None:
            return
        self._switch(service_switch(service, stable, rollout_name=self.name))

    def _canary_role_carries_traffic(self) -> bool:
        """Whether the router sends any of the traffic to the canary-role Service's host, as the mesh is observed
        (as the status last recorded it when the mesh cannot tell)."""
        routing = self.canary.traffic_routing
        if routing is None:
            return False
        choice = router_for(routing, self.routers)
        if choice.router is None:
            return False  # nothing routes by weight; validation reports the router
        stable = self.groups.stable
        verification = choice.router.verify_weight(
            WeightRequest(
                rollout=self.rollout,
                snapshot=self.snapshot,
                canary_weight=0,
                canary_hash=self.current_hash,
                stable_hash=pod_template_hash_of(stable) if stable is not None else None,
            )
        )
        if verification.verified is not None:
            return not verification.verified
        return bool(self.recorded_weight)

    def _switch_services(self, *, aborted: bool) -> None:
        """stableService → the stable ReplicaSet, canaryService → the new one (the stable one after an abort)."""
        services = self.snapshot.services
        wanted: list[tuple[str | None, JsonObject | None, bool]] = [
            (self.canary.stable_service, self.groups.stable, True),
        ]
        if aborted:
            # Back to what is known to serve; with a router the stable pods are all up, so no need to wait.
            wanted.append((self.canary.canary_service, self.groups.stable, not self.traffic_routed))
        else:
            wanted.append((self.canary.canary_service, self.groups.new, True))
        for service_name, target, check in wanted:
            if not service_name:
                continue
            self._switch(
                service_switch(services.get(service_name), target, rollout_name=self.name, check_availability=check)
            )

    def _switch(self, switch: ServiceSwitch | None) -> None:
        """Queue a Service's selector switch and its SwitchService Event (nothing when there is none)."""
        if switch is None:
            return
        self.effects.service_patches.append(
            Patch(kind=SERVICES, namespace=self.namespace, name=switch.name, patch=switch.patch)
        )
        self.effects.event("SwitchService", switch.message)

    # --- traffic -----------------------------------------------------------------------------------

    def _route_traffic(self, draft: Draft, weight: int) -> str | None:
        """Route ``weight`` % to the canary; the problem that prevents it, if any (nothing is written then)."""
        routing = self.canary.traffic_routing
        if routing is None:
            draft.weights = None
            return None
        choice = router_for(routing, self.routers)
        if choice.router is None:
            return choice.problem
        canary_hash = self.current_hash
        stable_hash = pod_template_hash_of(self.groups.stable) if self.groups.stable is not None else None
        finished = draft.pause.abort or draft.stable_hash == self.current_hash
        result = route_for_step(
            choice.router,
            WeightRequest(
                rollout=self.rollout,
                snapshot=self.snapshot,
                canary_weight=weight,
                canary_hash=canary_hash,
                stable_hash=stable_hash,
                additional=self.experiment.destinations,
            ),
            wanted_routes(self.steps, draft.index, routing.managed_route_names, finished=finished),
        )
        if result.problems:
            problem = "; ".join(result.problems)
            if self.observed.message != f"TrafficRoutingError: {problem}":
                self.effects.event("TrafficRoutingError", problem, warning=True)
            self.effects.wake_in(TRAFFIC_RETRY_SECONDS)
            return problem
        self.effects.traffic_patches.extend(result.writes)
        previous = result.current_weight
        if previous is None:
            previous = self.recorded_weight
        if previous != weight:
            detail = f"to {weight}" if previous is None else f"from {previous} to {weight}"
            self.effects.event("TrafficWeightUpdated", f"Traffic weight updated {detail}")
        draft.weights = weights_with_additional(
            traffic_weights_status(
                rollout=self.rollout, canary_weight=weight, canary_hash=canary_hash, stable_hash=stable_hash
            ),
            self.experiment.destinations,
        )
        return None

    # --- ReplicaSets -------------------------------------------------------------------------------

    def _scale_replica_sets(
        self, *, desired_new: int, desired_stable: int, aborted: bool, fully_promoted: bool
    ) -> None:
        """Scale one group per pass, stable first (Argo's reconcileCanaryReplicaSets): each later size depends on
        the earlier ones having happened."""
        groups = self.groups
        new = groups.new
        assert new is not None
        abort_delay = self.canary.abort_scale_down_delay_seconds
        delay_on_abort = aborted and self.traffic_routed and groups.stable is not None and abort_delay > 0
        self._clear_scale_down_deadlines(new, keep_new=delay_on_abort)

        if groups.stable_is_distinct and groups.stable is not None and self._scale(groups.stable, desired_stable):
            return

        if aborted and self.traffic_routed and groups.stable is not None and abort_delay == 0:
            pass  # abortScaleDownDelaySeconds: 0 leaves the aborted canary up for inspection
        elif delay_on_abort:
            assert groups.stable is not None
            if self._scale_down_after_abort(new, groups.stable, delay=abort_delay, size=desired_new):
                return
        elif self._scale(new, desired_new):
            return

        self._scale_others(fully_promoted=fully_promoted)

    def _scale_others(self, *, fully_promoted: bool) -> None:
        groups = self.groups
        old = self.observed
        weights = old.canary.weights
        referenced = {
            value
            for value in (
                old.stable_rs,
                old.current_pod_hash,
                weights.canary.pod_template_hash if weights is not None else None,
                weights.stable.pod_template_hash if weights is not None else None,
                *(
                    selected_hash(self.snapshot.services.get(name or ""))
                    for name in (self.canary.canary_service, self.canary.stable_service)
                ),
            )
            if isinstance(value, str) and value
        }
        plan = other_replica_set_plan(
            groups.others,
            replicas=self.replicas,
            max_unavailable=self.max_unavailable,
            total_available=totals(groups.all).available,
            traffic_routed=self.traffic_routed,
            fully_promoted=fully_promoted,
            referenced=frozenset(referenced),
            scale_down_delay_seconds=self.canary.scale_down_delay_seconds,
            dynamic_stable_scale=self.canary.dynamic_stable_scale,
            scale_down_revision_limit=self.canary.scale_down_delay_revision_limit,
            now=self.now,
        )
        self._wind_down(plan)

    def _sync_pod_metadata(self) -> None:
        """canaryMetadata on the canary's pods, stableMetadata on the stable's, neither on the rest."""
        observed_stable = self.observed.stable_rs
        wanted = metadata_by_role(
            self.groups,
            new_role=self.canary.canary_metadata,
            stable_role=self.canary.stable_metadata,
            fully_rolled_out=not observed_stable or observed_stable == self.current_hash,
        )
        writes = metadata_writes(wanted, self.snapshot.pods)
        for pod_name, patch in writes.pod_patches:
            self.effects.pod_patches.append(Patch(kind=PODS, namespace=self.namespace, name=pod_name, patch=patch))
        for rs, patch in writes.replica_set_patches:
            self.effects.patch_rs(rs, patch)

    # --- steps -------------------------------------------------------------------------------------

    def _advance(
        self, draft: Draft, outlook: Outlook, *, aborted: bool, promote_full: bool, at_desired: bool,
        rollback_window: bool = False,
    ) -> None:
        """Promote, or complete the current step, or start a pause (Argo's syncRolloutStatusCanary)."""
        # Nothing advances while a person decides what an inconclusive analysis means.
        # Nor while a ping-pong Service waits for its traffic to drain: the new revision has no Service yet.
        can_progress = (
            not self.rollout.spec.paused
            and outlook.traffic_problem is None
            and not draft.pause.holds(INCONCLUSIVE_ANALYSIS)
            and not self.ping_pong_held
        )
        if aborted:
            # Nothing else moves once aborted, not even a full promotion asked for at the same time.
            draft.pause.settle(aborted=True, promote_full=draft.pause.promote_full, now=self.now)
            return
        # A rollback within the window is promoted like a full promotion, but nobody asked for one (no promoteFull).
        draft.pause.settle(aborted=False, promote_full=promote_full and not rollback_window, now=self.now)
        if rollback_window:
            draft.pause.lift_pauses()
        if outlook.retried:
            self.effects.event("RolloutRetry", cond.RETRY_MESSAGE)
            self.follow_up = True
        reason = (
            self._promotion_reason(draft, promote_full=promote_full, rollback_window=rollback_window)
            if can_progress
            else None
        )
        if reason is not None and draft.stable_hash != self.current_hash:
            hold = None if promote_full else self._background_hold()
            if hold is None:
                self._promote(draft, reason)
            outlook.waiting = hold
            return
        step = steps_logic.current_step(self.steps, draft.index)
        if (
            step is not None
            and (can_progress or self._pause_runs_out_while_inconclusive(step, draft, outlook))
            and self._step_completed(step, draft, outlook, at_desired=at_desired)
        ):
            # Completing the last step is what gives the new version all the traffic.
            hold = self._background_hold() if draft.index == len(self.steps) - 1 else None
            if hold is None:
                self._complete_step(step, draft)
            else:
                outlook.waiting = hold
                # A pause that is over no longer holds the Rollout (nor shows it Paused): the analysis does. With
                # controllerPause still set, the next pass reads the pause as completed.
                draft.pause.remove(CANARY_PAUSE_STEP)

    def _pause_runs_out_while_inconclusive(self, step: CanaryStep, draft: Draft, outlook: Outlook) -> bool:
        """A pause step already under way still ends by its clock while an inconclusive analysis holds the
        Rollout: Argo completes the step and leaves the inconclusive pause as the only one. A pause step not yet
        begun waits, like every other step, for a person to decide."""
        return (
            step.pause is not None
            and draft.pause.holds(CANARY_PAUSE_STEP)
            and not self.rollout.spec.paused
            and outlook.traffic_problem is None
        )

    def _background_hold(self) -> str | None:
        """Why the background run forbids full promotion (its latest measurements are Errors), unless the controller
        runs with Argo's behaviour (``rollouts.gating.background``)."""
        if not self.snapshot.background_errors_hold_promotion:
            return None
        return background_promotion_hold(self.analysis.statuses.get(BACKGROUND_STATUS), self.snapshot.analysis_runs)

    def _promotion_reason(self, draft: Draft, *, promote_full: bool, rollback_window: bool = False) -> str | None:
        new = self.groups.new
        assert new is not None
        if self.groups.stable is None:
            return "Initial deploy"
        if available_replicas(new) != self.replicas:
            return None
        if promote_full:
            return "Rollback within window" if rollback_window else "Full promotion requested"
        if not self.steps or draft.index == len(self.steps):
            return f"Completed all {len(self.steps)} canary steps"
        return None

    def _promote(self, draft: Draft, reason: str) -> None:
        """Argo's promoteStable: the current revision becomes the stable one; the update is over."""
        draft.stable_hash = self.current_hash
        draft.pause.finish_update()
        draft.index = self._past_the_steps()
        self._completed(self._revision(), reason)
        self.follow_up = True

    def _step_completed(self, step: CanaryStep, draft: Draft, outlook: Outlook, *, at_desired: bool) -> bool:
        """Whether the current step is done; a pause step starts (or keeps counting down) here."""
        index = draft.index
        assert index is not None
        if step.set_weight is not None or step.set_canary_scale is not None:
            return at_desired
        if step.set_header_route is not None or step.set_mirror_route is not None:
            return True  # its route went out with this pass's traffic writes (can_progress: no traffic problem)
        if step.pause is not None:
            progress = steps_logic.pause_progress(step, pause=draft.pause, now=self.now)
            if progress.start:
                draft.pause.pause(CANARY_PAUSE_STEP, self.now)
            if progress.wake_at is not None and not progress.over:
                self.effects.wake_at(progress.wake_at, self.now)
            return progress.over
        if step.analysis is not None:
            if self.analysis.step_phase is AnalysisPhase.SUCCESSFUL:
                return True
            outlook.waiting = self.analysis.waiting or f"waiting for analysis step {index + 1}"
            return False
        if step.experiment is not None:
            outlook.waiting = None if self.experiment.completed else self.experiment.waiting
            return self.experiment.completed
        outlook.waiting = steps_logic.waiting_message(step, index)
        return False

    def _complete_step(self, step: CanaryStep, draft: Draft) -> None:
        index = draft.index
        assert index is not None
        draft.index = index + 1
        draft.pause.resume(CANARY_PAUSE_STEP)
        self.effects.event(
            "RolloutStepCompleted",
            f"Rollout step {index + 1}/{len(self.steps)} completed ({steps_logic.step_description(step)})",
        )
        self.follow_up = True

    # --- status ------------------------------------------------------------------------------------

    def _status(
        self, draft: Draft, outlook: Outlook, *, new_rs: JsonObject | None, rs_name: str, revision: int
    ) -> JsonObject:
        # controllerPause only means something while the Rollout sits at a pause step ("promoted, act on it").
        draft.pause.acted_on_resume(not self._at_pause_step(draft.index))
        status = self._base_status(draft, new_rs=new_rs)
        status["currentStepHash"] = self.step_hash
        if draft.index is not None:
            status["currentStepIndex"] = draft.index
        status["canary"] = {"weights": draft.weights} if draft.weights else {}
        stable_side = stable_ping_pong_status(
            self.canary,
            observed=self.observed.canary.stable_ping_pong,
            observed_stable_hash=self.observed.stable_rs,
            new_stable_hash=draft.stable_hash,
        )
        if stable_side:
            status["canary"]["stablePingPong"] = stable_side
        status["canary"].update(self.analysis.statuses)
        if self.experiment.current is not None:
            status["canary"]["currentExperiment"] = self.experiment.current
        return self._finish_status(status, draft, outlook, rs_name=rs_name, revision=revision)

    def _at_pause_step(self, index: int | None) -> bool:
        step = steps_logic.current_step(self.steps, index)
        return step is not None and step.pause is not None

    # --- hooks for the conditions ----------------------------------------------------------------

    def _healthy(self, status: JsonObject, draft: Draft) -> bool:
        replicas = self.replicas
        stable_is_current = bool(draft.stable_hash) and draft.stable_hash == self.current_hash
        executed_all = not self.steps or draft.index == len(self.steps)
        return (
            status["updatedReplicas"] == replicas
            and status["availableReplicas"] == replicas
            and status["replicas"] == replicas
            and executed_all
            and stable_is_current
        )

    def _available(self, status: JsonObject) -> bool:
        return bool(status["availableReplicas"] >= self.replicas)

    def _strategy_progressed(self, status: JsonObject) -> bool:
        """The step index or the steps moved."""
        old_index, new_index = self.observed.current_step_index, status.get("currentStepIndex")
        return (old_index is not None and new_index is not None and old_index != new_index) or status.get(
            "currentStepHash"
        ) != self.observed.current_step_hash


def _recorded_canary_weight(weights: TrafficWeights | None) -> int | None:
    """The canary weight the observed status says was last routed; None when it records none."""
    if weights is None or "weight" not in weights.canary.model_fields_set:
        return None
    return weights.canary.weight
