"""The dashboard in a real headless browser (Debian's chromium, driven by Playwright with its executable path),
over the sandbox with the real controllers — issue #17's acceptance: the Rollout page shows the weights and steps
moving during a canary, the abort button aborts, a failing metric's chart shows the failing point, and an
Application's tree shows its hooks and waves after a sync. Each page is written as a screenshot to
tests/artifacts/screenshots/ for a person to look at. The browser waits for the page's DOM to change (the event
stream's doing), never for time to pass."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest

from dashboard.access_guard import DashboardSettings
from dashboard.server import DashboardServer
from kube.client import KubeClient
from kube.resources import ANALYSIS_TEMPLATES, APPLICATIONS, CONFIGMAPS, NAMESPACES, VIRTUAL_SERVICES
from tests.gitops_harness import APP_NAMESPACE, AppControllerThread, application, controller_options, make_repo
from tests.rate_endpoint import RateEndpoint
from tests.required_tools import require_tool
from tests.rollout_harness import REPO_ROOT, RolloutCluster, reviews_objects, route_weights

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

SCREENSHOTS: Final = REPO_ROOT / "tests" / "artifacts" / "screenshots"
CHROMIUM: Final = "/usr/bin/chromium"
CHROMIUM_ARGS: Final = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Generous: only an event that never comes fails a test (a loaded 2-core machine runs these).
WAIT_MS: Final = 60_000
WAVES_APP: Final = REPO_ROOT / "tests" / "integration" / "gitops" / "apps" / "waves"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Chromium with a new, empty profile; a missing chromium fails (never skips) with its install command."""
    require_tool("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright Python package is missing: .venv/bin/pip install playwright (Debian's chromium "
                    "is the browser: no `playwright install`)", pytrace=False)
    executable = shutil.which("chromium") or CHROMIUM
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(WAIT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def dashboard(cluster: RolloutCluster) -> Iterator[str]:
    """The dashboard on loopback over the sandbox, with the sandbox's kubeconfig: its base URL."""
    client = KubeClient.from_kubeconfig(str(cluster.kubeconfig))
    server = DashboardServer(DashboardSettings(port=0), client).start()
    try:
        yield f"http://127.0.0.1:{server.settings.port}"
    finally:
        server.stop()
        client.close()


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    opened = browser.new_page()
    opened.on("dialog", lambda dialog: dialog.accept())  # the confirm() of Abort and Promote full
    try:
        yield opened
    finally:
        opened.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def summary(page: Page) -> dict[str, str]:
    """The rollout page's summary data attributes, as the page shows them now."""
    attributes: dict[str, str] = page.eval_on_selector(
        "#summary", "e => Object.fromEntries([...e.attributes].map(a => [a.name, a.value]))")
    return attributes


def test_the_rollout_page_shows_the_weights_and_steps_moving_during_a_canary(
    cluster: RolloutCluster, namespace: str, dashboard: str, page: Page
) -> None:
    steps = [{"setWeight": 20}, {"pause": {"duration": 2}}, {"setWeight": 50}, {"pause": {}}]
    cluster.apply_all(namespace, reviews_objects(steps=steps))
    cluster.wait_for_phase(namespace, "reviews", "Healthy")
    page.goto(f"{dashboard}/rollouts/{namespace}/reviews")
    page.wait_for_selector('#summary[data-phase="Healthy"]')
    page.wait_for_selector('#traffic[data-canary-weight="0"]')

    cluster.set_image(namespace, "reviews", "reviews:v2")

    # The page follows the canary without a reload: step 1 (the timed pause) at 20 %, then step 3 at 50 %.
    page.wait_for_selector('#summary[data-step-index="1"][data-set-weight="20"]')
    page.wait_for_selector('#traffic[data-canary-weight="20"]')
    assert page.inner_text('li.step[aria-current="step"]') == "pause 2s"
    assert page.get_attribute('li.step[data-step-index="0"]', "class") == "step done"
    page.wait_for_selector('#summary[data-step-index="3"][data-set-weight="50"][data-phase="Paused"]')
    page.wait_for_selector('#traffic[data-canary-weight="50"]')
    assert page.inner_text('li.step[aria-current="step"]') == "pause until promoted"
    assert route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, "reviews"))["reviews-canary"] == 50
    assert int(page.get_attribute("#live", "data-updates") or 0) >= 2  # moved by the event stream, not a reload
    screenshot(page, "rollout-canary-paused")

    page.click('button[data-action$="/promote"]')
    page.wait_for_selector("#flash.ok")
    assert page.inner_text("#flash") == "rollout 'reviews' promoted"
    page.wait_for_selector('#summary[data-phase="Healthy"]')
    page.wait_for_selector('#traffic[data-canary-weight="0"]')
    assert cluster.status(namespace, "reviews")["stableRS"] == cluster.status(namespace, "reviews")["currentPodHash"]

    page.goto(f"{dashboard}/rollouts")
    page.wait_for_selector(f'section[data-namespace="{namespace}"] a[href="/rollouts/{namespace}/reviews"]')
    screenshot(page, "rollouts-list")


def test_the_abort_button_aborts_the_rollout(
    cluster: RolloutCluster, namespace: str, dashboard: str, page: Page
) -> None:
    cluster.apply_all(namespace, reviews_objects(steps=[{"setWeight": 30}, {"pause": {}}]))
    cluster.wait_for_phase(namespace, "reviews", "Healthy")
    cluster.set_image(namespace, "reviews", "reviews:v2")
    cluster.wait_for_phase(namespace, "reviews", "Paused")
    page.goto(f"{dashboard}/rollouts/{namespace}/reviews")
    page.wait_for_selector('#summary[data-abort="false"][data-phase="Paused"]')

    page.click('button[data-action$="/abort"]')

    page.wait_for_selector('#summary[data-abort="true"][data-phase="Degraded"]')
    page.wait_for_selector('#traffic[data-canary-weight="0"]')
    assert page.inner_text("#flash") == "rollout 'reviews' aborted"
    assert cluster.status(namespace, "reviews")["abort"] is True
    screenshot(page, "rollout-aborted")


def test_the_set_image_form_starts_a_new_revision(
    cluster: RolloutCluster, namespace: str, dashboard: str, page: Page
) -> None:
    cluster.apply_all(namespace, reviews_objects(steps=[{"setWeight": 40}, {"pause": {}}]))
    cluster.wait_for_phase(namespace, "reviews", "Healthy")
    page.goto(f"{dashboard}/rollouts/{namespace}/reviews")
    page.wait_for_selector('#summary[data-phase="Healthy"]')

    page.select_option('form.set-image select[name="container"]', "reviews")
    page.fill('form.set-image input[name="image"]', "reviews:v7")
    page.click('form.set-image button[type="submit"]')

    page.wait_for_selector("#flash.ok")
    assert page.inner_text("#flash") == 'rollout "reviews" image updated'
    page.wait_for_selector('#summary[data-step-index="1"][data-phase="Paused"]')
    page.wait_for_selector('#traffic[data-canary-weight="40"]')
    assert "reviews:v7" in page.inner_text("#summary")
    assert cluster.rollout(namespace, "reviews")["spec"]["template"]["spec"]["containers"][0]["image"] == "reviews:v7"


def test_a_failing_metrics_chart_shows_the_failing_point(
    cluster: RolloutCluster, namespace: str, dashboard: str, page: Page
) -> None:
    metric = RateEndpoint([0.2, 0.9])  # the first measurement passes `result < 0.5`, the second fails it
    try:
        cluster.create(ANALYSIS_TEMPLATES, namespace, {
            "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "error-rate"},
            "spec": {"metrics": [{
                "name": "error-rate", "interval": "1s", "count": 2, "successCondition": "result < 0.5",
                "failureLimit": 0, "provider": {"web": {"url": metric.url, "jsonPath": "{$.rate}"}}}]},
        })
        steps = [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "error-rate"}]}}, {"setWeight": 60}]
        cluster.apply_all(namespace, reviews_objects(steps=steps))
        cluster.wait_for_phase(namespace, "reviews", "Healthy")
        page.goto(f"{dashboard}/rollouts/{namespace}/reviews")
        page.wait_for_selector('#summary[data-phase="Healthy"]')
        cluster.set_image(namespace, "reviews", "reviews:v2")

        failed = page.wait_for_selector('figure[data-metric="error-rate"] circle[data-phase="Failed"]')
        page.wait_for_selector('#summary[data-phase="Degraded"]')
    finally:
        metric.close()
    assert failed is not None and failed.get_attribute("data-value") == "0.9"
    passed = page.query_selector('figure[data-metric="error-rate"] circle[data-phase="Successful"]')
    assert passed is not None and passed.get_attribute("data-value") == "0.2"
    limit = page.query_selector('figure[data-metric="error-rate"] line.limit')
    assert limit is not None and limit.get_attribute("data-limit") == "0.5"
    # Drawn on the wrong side of the limit: SVG's y grows downwards, so 0.9 is above the 0.5 line, 0.2 below it.
    assert float(failed.get_attribute("cy") or 0) < float(limit.get_attribute("y1") or 0) < float(
        passed.get_attribute("cy") or 0)
    caption = page.inner_text('figure[data-metric="error-rate"] figcaption')
    assert "Failed" in caption and "success: result < 0.5" in caption
    screenshot(page, "rollout-failed-analysis")


@pytest.fixture
def application_controller(cluster: RolloutCluster, tmp_path: Path) -> Iterator[AppControllerThread]:
    if cluster.get(NAMESPACES, "", APP_NAMESPACE) is None:
        cluster.create(NAMESPACES, None, {"metadata": {"name": APP_NAMESPACE}})
    running = AppControllerThread(cluster.kubeconfig, controller_options(tmp_path / "repo-cache")).start()
    try:
        yield running
    finally:
        running.stop()
    assert not running.errors.records, "the controller logged errors:\n" + "\n".join(running.errors.messages())


def test_an_applications_tree_shows_hooks_and_waves_after_a_sync(
    cluster: RolloutCluster, namespace: str, dashboard: str, page: Page,
    application_controller: AppControllerThread, tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path)
    repo.copy_tree(WAVES_APP, "waves")
    repo.commit({}, "waves")
    name = f"{namespace}-waves"
    cluster.create(APPLICATIONS, APP_NAMESPACE, application(name, repo.url, "waves", namespace=namespace,
                                                            automated=False))
    page.goto(f"{dashboard}/applications")
    page.wait_for_selector(f'a.tile[data-name="{name}"] [data-sync="OutOfSync"]')
    screenshot(page, "applications")
    page.click(f'a.tile[data-name="{name}"]')
    page.wait_for_selector('#resource-tree li.application [data-sync="OutOfSync"]')

    page.click('button[data-action$="/sync"]')

    page.wait_for_selector("#flash.ok")
    page.wait_for_selector('p.operation[data-phase="Succeeded"]')
    page.wait_for_selector('#resource-tree li.application [data-health="Healthy"]')
    groups = page.eval_on_selector_all(
        "#resource-tree li.phase, #resource-tree li.wave", "items => items.map(i => i.dataset.phase || i.dataset.wave)")
    # Argo CD's order (user-guide/sync-waves.md): PreSync hooks, the waves in order, then PostSync hooks.
    assert groups == ["PreSync", "-1", "0", "1", "PostSync"]
    assert page.inner_text('li.phase[data-phase="PreSync"] li.hook[data-name="migrate"] .status') == "Succeeded"
    assert page.inner_text('li.phase[data-phase="PostSync"] li.hook[data-name="smoke-test"] .status') == "Succeeded"
    wave_members = page.eval_on_selector_all(
        "#resource-tree li.resource", "items => items.map(i => [i.dataset.wave, i.dataset.kind, i.dataset.name])")
    assert sorted(wave_members) == sorted([["-1", "ConfigMap", "settings"], ["0", "Deployment", "backend"],
                                           ["0", "Service", "backend"], ["1", "Deployment", "frontend"]])
    results = page.inner_text("table.results")
    assert re.search(r"migrate\s+Succeeded", results) and re.search(r"smoke-test\s+Succeeded", results)
    screenshot(page, "application-synced")

    # A live edit makes the ConfigMap OutOfSync; its diff link shows what a sync would put back.
    cluster.patch(CONFIGMAPS, namespace, "settings", {"data": {"mode": "slow"}})
    page.click('li.resource[data-name="settings"] a.diff-link')
    page.wait_for_selector("section.diff")
    assert page.inner_text("section.diff h3") == f"/ConfigMap {namespace}/settings"
    diff = page.inner_text("section.diff pre")
    assert "fast" in diff and "slow" in diff
    screenshot(page, "application-diff")
