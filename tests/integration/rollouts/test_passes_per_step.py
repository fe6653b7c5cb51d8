"""What one canary step costs the controller, counted: its reconcile passes (the controller's own pass histogram)
and its writes (the emulator's request log).

The step: a Rollout paused at an indefinite pause is promoted, completes the pause, sets the next weight and
enters the next pause. Argo writes the pause's completion to the status before it moves traffic, and the next
pause with the step that set the weight; the controller decides the whole chain in one pass, each round from
what the previous one wrote, and folds the status changes of consecutive rounds that write nothing else.
"""

from __future__ import annotations

from kube.resources import VIRTUAL_SERVICES
from tests.rollout_harness import RolloutCluster, reviews_objects, route_weights

REVIEWS = "reviews"
STEPS = [{"setWeight": 10}, {"pause": {}}, {"setWeight": 30}, {"pause": {}}]


def paused_at(cluster: RolloutCluster, namespace: str, step: int) -> bool:
    status = cluster.status(namespace, REVIEWS)
    return status.get("currentStepIndex") == step and status.get("phase") == "Paused"


def test_a_canary_step_from_promotion_to_the_next_pause_is_one_pass_and_two_status_patches(
    cluster: RolloutCluster, namespace: str
) -> None:
    """One replica, so the step scales nothing: what is counted is the steps' own work. Counted from the promotion
    until the controller is idle again, so a pass that would find nothing left is counted too."""
    cluster.apply_all(namespace, reviews_objects(replicas=1, steps=STEPS))
    cluster.wait_for_phase(namespace, REVIEWS, "Healthy")
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    cluster.wait_for(lambda: paused_at(cluster, namespace, 1), "paused at step 1")
    cluster.wait_until_settled(namespace)
    passes, mark = cluster.passes(namespace, REVIEWS), cluster.request_mark()

    cluster.promote(namespace, REVIEWS)
    cluster.wait_for(lambda: paused_at(cluster, namespace, 3), "paused at step 3")
    cluster.wait_until_settled(namespace)

    weights = route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, REVIEWS))
    assert weights == {"reviews-stable": 70, "reviews-canary": 30}
    writes = [(record.resource, record.subresource) for record in cluster.writes_in(namespace, mark)
              if record.resource != "events"]
    # Argo's two status writes (the pause completed; the weight set and the next pause entered) and the route.
    assert sorted(writes) == [("rollouts", "status"), ("rollouts", "status"), ("virtualservices", None)]
    assert cluster.passes(namespace, REVIEWS) - passes == 1
