"""The analysis commands against a sandbox cluster: `create analysisrun`, `terminate analysisrun`,
`get analysisrun [-w]`, `list analysisruns`, and AnalysisRuns in `get rollout`.

No analysis controller runs: templates are created directly, and a test that needs a run's status writes it through
the /status subresource, playing the controller (from a thread where a command waits for a change).
"""

from __future__ import annotations

import copy
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.cluster import SandboxThread
from tests.cli_cluster import WEEK_AGO, Cluster, assert_one_line_error, later, namespace_cluster

ANALYSIS_RUNS = ("argoproj.io", "v1alpha1", "analysisruns")
ANALYSIS_TEMPLATES = ("argoproj.io", "v1alpha1", "analysistemplates")
CLUSTER_ANALYSIS_TEMPLATES = ("argoproj.io", "v1alpha1", "clusteranalysistemplates")
QUERY = 'sum(rate(http_requests_total{service="{{args.service-name}}",code!~"5.."}[1m])) / ' \
        'sum(rate(http_requests_total{service="{{args.service-name}}"}[1m]))'

_namespaces = count(1)


@pytest.fixture
def cluster(sandbox: SandboxThread, tmp_path: Path) -> Cluster:
    return namespace_cluster(sandbox, tmp_path, f"analysis-{next(_namespaces)}")


def success_rate_spec(**extra: Any) -> dict[str, Any]:
    return {
        "args": [{"name": "service-name"}, {"name": "threshold", "value": "0.95"}],
        "metrics": [{"name": "success-rate", "interval": "30s", "count": 3,
                     "successCondition": "result[0] >= {{args.threshold}}",
                     "provider": {"prometheus": {"address": "http://prometheus:9090", "query": QUERY}}}],
        **extra,
    }


def create_template(cluster: Cluster, name: str, spec: dict[str, Any], *, cluster_scope: bool = False,
                    labels: dict[str, str] | None = None) -> None:
    metadata: dict[str, Any] = {"name": name, "labels": labels or {"team": "shop"}}
    if cluster_scope:
        cluster.emulator.create_object(*CLUSTER_ANALYSIS_TEMPLATES, {"metadata": metadata, "spec": spec})
    else:
        cluster.emulator.create_object(*ANALYSIS_TEMPLATES, {"metadata": metadata, "spec": spec},
                                       namespace=cluster.namespace)


def runs(cluster: Cluster) -> list[dict[str, Any]]:
    listed = cluster.emulator.list_objects(*ANALYSIS_RUNS, cluster.namespace)
    return list(listed)


def run_named(cluster: Cluster, name: str) -> dict[str, Any]:
    found = cluster.emulator.get_object(*ANALYSIS_RUNS, cluster.namespace, name)
    assert found is not None
    return found


# -- create analysisrun ------------------------------------------------------------------------------------------


def test_create_from_a_template_with_arguments(cluster: Cluster) -> None:
    create_template(cluster, "success-rate", success_rate_spec())
    result = cluster.run("create", "analysisrun", "--from-template", "success-rate", "--name", "manual-1",
                         "--arg", "service-name=reviews-canary", "--arg", "threshold=0.9")
    assert result.exit_code == 0, result.output
    assert result.stdout == "analysisrun.argoproj.io/manual-1 created\n"
    run = run_named(cluster, "manual-1")
    assert run["metadata"]["labels"] == {"team": "shop"}
    assert run["spec"]["args"] == [{"name": "service-name", "value": "reviews-canary"},
                                   {"name": "threshold", "value": "0.9"}]
    assert run["spec"]["metrics"] == success_rate_spec()["metrics"]
    assert "status" not in run or not run["status"]


def test_create_names_the_run_after_the_template_by_default_and_keeps_default_values(cluster: Cluster) -> None:
    create_template(cluster, "success-rate", success_rate_spec())
    result = cluster.run("create", "analysisrun", "--from-template", "success-rate", "-a", "service-name=reviews")
    assert result.exit_code == 0, result.output
    [run] = runs(cluster)
    name = run["metadata"]["name"]
    assert name.startswith("success-rate-") and len(name) > len("success-rate-")
    assert result.stdout == f"analysisrun.argoproj.io/{name} created\n"
    assert run["spec"]["args"] == [{"name": "service-name", "value": "reviews"},
                                   {"name": "threshold", "value": "0.95"}]


def test_create_from_a_cluster_template_with_argos_flag_names(cluster: Cluster) -> None:
    template = f"cluster-success-rate-{cluster.namespace}"
    create_template(cluster, template, success_rate_spec(), cluster_scope=True)
    result = cluster.run("create", "ar", "--from", template, "--global", "--generate-name", "smoke-",
                         "--argument", "service-name=cart", "--instance-id", "staging")
    assert result.exit_code == 0, result.output
    [run] = runs(cluster)
    assert run["metadata"]["name"].startswith("smoke-")
    assert run["metadata"]["namespace"] == cluster.namespace
    assert run["metadata"]["labels"] == {"team": "shop", "argo-rollouts.argoproj.io/controller-instance-id": "staging"}


def test_create_merges_the_templates_a_template_lists(cluster: Cluster) -> None:
    create_template(cluster, "success-rate", success_rate_spec())
    create_template(cluster, "latency", {
        "args": [{"name": "service-name"}],
        "metrics": [{"name": "latency", "successCondition": "result[0] < 0.3",
                     "provider": {"prometheus": {"address": "http://prometheus:9090",
                                                 "query": 'p99{service="{{args.service-name}}"}'}}}],
    })
    create_template(cluster, "release-checks", {"templates": [{"templateName": "success-rate"},
                                                              {"templateName": "latency"}]})
    result = cluster.run("create", "analysisrun", "--from-template", "release-checks", "--name", "checks",
                         "--arg", "service-name=reviews")
    assert result.exit_code == 0, result.output
    run = run_named(cluster, "checks")
    assert [metric["name"] for metric in run["spec"]["metrics"]] == ["success-rate", "latency"]
    assert run["spec"]["args"] == [{"name": "service-name", "value": "reviews"},
                                   {"name": "threshold", "value": "0.95"}]


def test_create_from_a_file(cluster: Cluster, tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
                                    "metadata": {"name": "from-disk"}, "spec": success_rate_spec()}))
    result = cluster.run("create", "analysisrun", "--from-file", str(path), "--arg", "service-name=reviews")
    assert result.exit_code == 0, result.output
    [run] = runs(cluster)
    assert run["metadata"]["name"].startswith("from-disk-")


def test_create_lists_every_argument_left_without_a_value(cluster: Cluster) -> None:
    spec = success_rate_spec()
    spec["args"].append({"name": "namespace"})
    create_template(cluster, "success-rate", spec)
    result = cluster.run("create", "analysisrun", "--from-template", "success-rate")
    assert_one_line_error(result, 'missing value for arguments of analysistemplate "success-rate": service-name, '
                                  "namespace (give each with --arg NAME=VALUE)")
    assert runs(cluster) == []


def test_create_refuses_an_argument_the_template_does_not_declare(cluster: Cluster) -> None:
    create_template(cluster, "success-rate", success_rate_spec())
    result = cluster.run("create", "analysisrun", "--from-template", "success-rate", "--arg", "service-name=x",
                         "--arg", "servce=y")
    assert_one_line_error(result, 'unknown argument servce for analysistemplate "success-rate" '
                                  "(it takes: service-name, threshold)")
    assert runs(cluster) == []


@pytest.mark.parametrize(("flags", "expected"), [
    (("--arg", "service-name"), "argument 'service-name' is not of the form NAME=VALUE"),
    (("--arg", "service-name=a", "--arg", "service-name=b"), 'argument "service-name" is given more than once'),
])
def test_create_refuses_malformed_arguments(cluster: Cluster, flags: tuple[str, ...], expected: str) -> None:
    create_template(cluster, "success-rate", success_rate_spec())
    result = cluster.run("create", "analysisrun", "--from-template", "success-rate", *flags)
    assert_one_line_error(result, expected)


def test_create_from_a_template_that_does_not_exist(cluster: Cluster) -> None:
    result = cluster.run("create", "analysisrun", "--from-template", "nope")
    assert_one_line_error(result, f'analysistemplate "nope" not found in namespace "{cluster.namespace}"')
    result = cluster.run("create", "analysisrun", "--from-template", "nope", "--cluster-template")
    assert_one_line_error(result, 'clusteranalysistemplate "nope" not found')


def test_create_refuses_a_template_that_makes_an_invalid_run(cluster: Cluster) -> None:
    spec = success_rate_spec()
    spec["metrics"][0]["successCondition"] = "result[0] >="
    create_template(cluster, "broken", spec)
    result = cluster.run("create", "analysisrun", "--from-template", "broken", "--arg", "service-name=x")
    assert result.exit_code == 1
    assert result.stderr.startswith('error: the AnalysisRun built from analysistemplate "broken" is not valid: '
                                    "spec.metrics[0].successCondition")
    assert result.stderr.count("\n") == 1
    assert runs(cluster) == []


@pytest.mark.parametrize("flags", [(), ("--from-template", "a", "--from-file", "b"),
                                   ("--from-template", "a", "--name", "x", "--generate-name", "y-")])
def test_create_usage_mistakes_exit_2(cluster: Cluster, flags: tuple[str, ...]) -> None:
    result = cluster.run("create", "analysisrun", *flags)
    assert result.exit_code == 2


def test_create_a_run_whose_name_is_taken(cluster: Cluster) -> None:
    create_template(cluster, "success-rate", success_rate_spec())
    args = ("create", "analysisrun", "--from-template", "success-rate", "--name", "once", "--arg", "service-name=x")
    assert cluster.run(*args).exit_code == 0
    result = cluster.run(*args)
    assert result.exit_code == 1
    assert "already exists" in result.stderr and result.stderr.count("\n") == 1


# -- terminate analysisrun ---------------------------------------------------------------------------------------


def create_run(cluster: Cluster, name: str, status: dict[str, Any] | None = None,
               owner: dict[str, Any] | None = None, revision: int | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if owner is not None:
        metadata["ownerReferences"] = [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "controller": True,
                                        "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"]}]
    if revision is not None:
        metadata["annotations"] = {"rollout.argoproj.io/revision": str(revision)}
    spec = {"args": [{"name": "service-name", "value": "reviews-canary"}, {"name": "threshold", "value": "0.95"}],
            "metrics": success_rate_spec()["metrics"]}
    created = cluster.emulator.create_object(*ANALYSIS_RUNS, {"metadata": metadata, "spec": spec},
                                             namespace=cluster.namespace)
    if status is not None:
        set_run_status(cluster, name, status)
    return created


def set_run_status(cluster: Cluster, name: str, status: dict[str, Any]) -> None:
    cluster.emulator.patch_object(*ANALYSIS_RUNS, cluster.namespace, name, {"status": status}, subresource="status")


def test_terminate_sends_exactly_argos_patch(cluster: Cluster, sent_patches: list[Any]) -> None:
    create_run(cluster, "checkout-run", {"phase": "Running"})
    result = cluster.run("terminate", "analysisrun", "checkout-run")
    assert result.exit_code == 0, result.output
    assert result.stdout == "analysisRun 'checkout-run' terminated\n"
    assert sent_patches == [("analysisruns", None, "merge", {"spec": {"terminate": True}})]
    assert run_named(cluster, "checkout-run")["spec"]["terminate"] is True


def test_terminate_several_and_one_that_had_completed(cluster: Cluster, sent_patches: list[Any]) -> None:
    create_run(cluster, "a", {"phase": "Running"})
    create_run(cluster, "b", {"phase": "Failed"})
    result = cluster.run("terminate", "ar", "a", "b")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("analysisRun 'a' terminated\n"
                             "analysisRun 'b' terminated (it had already completed: Failed)\n")
    assert len(sent_patches) == 2


# -- get analysisrun ---------------------------------------------------------------------------------------------

FAILED_STATUS: dict[str, Any] = {
    "phase": "Failed",
    "message": 'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)',
    "startedAt": WEEK_AGO, "completedAt": WEEK_AGO,
    "runSummary": {"count": 1, "successful": 0, "failed": 1, "inconclusive": 0, "error": 0},
    "metricResults": [{
        "name": "success-rate", "phase": "Failed", "count": 2, "successful": 1, "failed": 1,
        "message": 'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)',
        "metadata": {"ResolvedPrometheusQuery": QUERY.replace("{{args.service-name}}", "reviews-canary")},
        "measurements": [
            {"phase": "Successful", "value": "[0.99]", "startedAt": WEEK_AGO, "finishedAt": WEEK_AGO},
            {"phase": "Failed", "value": "[0.71]", "startedAt": WEEK_AGO, "finishedAt": WEEK_AGO,
             "message": "success-rate: 0.71 does not satisfy result[0] >= 0.95"},
        ],
    }],
}


def test_get_analysisrun_shows_the_measurements(cluster: Cluster) -> None:
    create_run(cluster, "checkout-run", FAILED_STATUS)
    result = cluster.run("get", "analysisrun", "checkout-run")
    assert result.exit_code == 0, result.output
    resolved = QUERY.replace("{{args.service-name}}", "reviews-canary")
    assert result.stdout == f"""\
Name:            checkout-run
Namespace:       {cluster.namespace}
Status:          ✖ Failed
Message:         Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)
Run Summary:     1 metric: ✖ 1
Started:         {WEEK_AGO} (7d ago)
Completed:       {WEEK_AGO} (7d ago)
Args:            service-name=reviews-canary
                 threshold=0.95

Metric:          success-rate
  Status:        ✖ Failed
  Message:       Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)
  Provider:      prometheus
  Query:         {resolved}
  Succeeds when: result[0] >= 0.95
  Count:         2/3, every 30s
  Limits:        failureLimit 0, inconclusiveLimit 0, consecutiveErrorLimit 4
  Measurements:  ✔ 1,✖ 1

  #  STARTED  PHASE         VALUE   MESSAGE
  1  7d ago   ✔ Successful  [0.99]
  2  7d ago   ✖ Failed      [0.71]  success-rate: 0.71 does not satisfy result[0] >= 0.95
"""
    assert cluster.run("get", "ar", "checkout-run").stdout == result.stdout


def test_get_analysisrun_watch_redraws_and_ends_when_the_run_completes(cluster: Cluster) -> None:
    create_run(cluster, "live", {"phase": "Running", "startedAt": WEEK_AGO})
    # The first measurement is in, the second not yet: a merge patch with nulls removes what is not there yet.
    running = copy.deepcopy(FAILED_STATUS)
    running.update(phase="Running", message=None, completedAt=None)
    result_so_far = running["metricResults"][0]
    result_so_far.update(phase="Running", failed=0, count=1, message=None,
                         measurements=result_so_far["measurements"][:1])
    later(0.5, lambda: set_run_status(cluster, "live", running), lambda: set_run_status(cluster, "live", FAILED_STATUS),
          gap=0.6)
    result = cluster.run("get", "analysisrun", "live", "--watch", "--timeout-seconds", "20")
    assert result.exit_code == 0, result.output
    frames = result.stdout.split("\n\nName:")
    assert "Status:          ◌ Running" in frames[0] and "  #  STARTED" not in frames[0]
    assert "Status:          ✖ Failed" in frames[-1] and "[0.71]" in frames[-1]
    # The middle state is drawn too, unless a very slow machine saw both changes within one redraw interval.
    assert len(frames) == 3 or len(frames) == 2
    if len(frames) == 3:
        assert "  1  7d ago   ✔ Successful  [0.99]" in frames[1] and "[0.71]" not in frames[1]


def test_get_analysisrun_watch_of_a_completed_run_draws_once(cluster: Cluster) -> None:
    create_run(cluster, "done", FAILED_STATUS)
    result = cluster.run("get", "analysisrun", "done", "-w")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("Name:") == 1


# -- list analysisruns --------------------------------------------------------------------------------------------


def test_list_analysisruns(cluster: Cluster) -> None:
    result = cluster.run("list", "analysisruns")
    assert result.exit_code == 0
    assert result.stderr == f'No AnalysisRuns found in namespace "{cluster.namespace}".\n'
    create_run(cluster, "checkout-run", FAILED_STATUS)
    create_run(cluster, "fresh")
    result = cluster.run("list", "analysisruns")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "NAME          STATUS   AGE",
        "checkout-run  Failed   7d",
        "fresh         Pending  7d",
    ]


# -- AnalysisRuns in get rollout --------------------------------------------------------------------------------


def test_get_rollout_shows_the_runs_of_each_revision(cluster: Cluster) -> None:
    abort_message = ("RolloutAborted: Rollout aborted update to revision 3: Step-based analysis phase Failed: "
                     'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)')
    rollout = cluster.canary_family("checkout", {"phase": "Degraded", "message": abort_message, "abort": True,
                                                 "currentStepIndex": 0})
    create_run(cluster, "checkout-7d9b8c6f5-3-1", FAILED_STATUS, owner=rollout, revision=3)
    create_run(cluster, "checkout-5c6f7b8d9-2-1", {"phase": "Successful", "metricResults": [
        {"name": "success-rate", "phase": "Successful", "count": 3, "successful": 3}]}, owner=rollout, revision=2)
    create_run(cluster, "unrelated", FAILED_STATUS)
    result = cluster.run("get", "rollout", "checkout")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"Message:         {abort_message}" in lines
    tree = [" ".join(line.split()) for line in lines[lines.index("") + 1:]]
    assert tree == [
        "NAME KIND STATUS AGE INFO",
        "⟳ checkout Rollout ✖ Degraded 7d",
        "├──# revision:3",
        "│ ├──⧉ checkout-7d9b8c6f5 ReplicaSet ✔ Healthy 7d canary",
        "│ │ └──□ checkout-7d9b8c6f5-g5h6i Pod ✔ Running 7d ready:2/2",
        "│ └──α checkout-7d9b8c6f5-3-1 AnalysisRun ✖ Failed 7d ✔ 1,✖ 1",
        "├──# revision:2",
        "│ ├──⧉ checkout-5c6f7b8d9 ReplicaSet ✔ Healthy 7d stable",
        "│ │ ├──□ checkout-5c6f7b8d9-a1b2c Pod ✔ Running 7d ready:2/2",
        "│ │ └──□ checkout-5c6f7b8d9-d3e4f Pod ✔ Running 7d ready:2/2",
        "│ └──α checkout-5c6f7b8d9-2-1 AnalysisRun ✔ Successful 7d ✔ 3",
        "└──# revision:1",
        "└──⧉ checkout-6b5d4c3f2 ReplicaSet • ScaledDown 7d",
    ]


# -- errors: one line, exit 1 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("get", "analysisrun", "nope"), ("get", "analysisrun", "nope", "-w"),
                                     ("terminate", "analysisrun", "nope")], ids=" ".join)
def test_a_missing_run(cluster: Cluster, command: tuple[str, ...]) -> None:
    assert_one_line_error(cluster.run(*command), f'analysisrun "nope" not found in namespace "{cluster.namespace}"')


def test_a_missing_namespace(cluster: Cluster) -> None:
    result = cluster.run("get", "analysisrun", "nope", "-n", "nowhere")
    assert_one_line_error(result, 'namespace "nowhere" not found (analysisrun "nope")')
