"""Configuration and probes of the sandbox's Prometheus launcher, without starting it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sandbox.prometheus import (
    PrometheusNotInstalled,
    PrometheusServer,
    ScrapeTarget,
    find_prometheus_binary,
    prometheus_config,
    render_prometheus_config,
    targets_not_up,
)


@pytest.mark.parametrize(
    ("text", "address", "path"),
    [
        ("127.0.0.1:9100", "127.0.0.1:9100", "/metrics"),
        ("127.0.0.1:9100/custom/metrics", "127.0.0.1:9100", "/custom/metrics"),
        ("http://localhost:8080/stats", "localhost:8080", "/stats"),
    ],
)
def test_targets_parse_from_address_and_optional_path(text: str, address: str, path: str) -> None:
    target = ScrapeTarget.parse(text)
    assert (target.address, target.metrics_path) == (address, path)


@pytest.mark.parametrize("text", ["localhost", "http://:80/x", ""])
def test_targets_without_a_port_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        ScrapeTarget.parse(text)


def test_config_has_one_second_intervals_and_a_job_per_target() -> None:
    config = prometheus_config(
        ["127.0.0.1:9100", ScrapeTarget("127.0.0.1:9200", "/m", job="mesh", labels={"zone": "a"})]
    )
    assert config["global"] == {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    assert config["scrape_configs"] == [
        {
            "job_name": "127.0.0.1:9100",
            "metrics_path": "/metrics",
            "scrape_interval": "1s",
            "scrape_timeout": "1s",
            "static_configs": [{"targets": ["127.0.0.1:9100"]}],
        },
        {
            "job_name": "mesh",
            "metrics_path": "/m",
            "scrape_interval": "1s",
            "scrape_timeout": "1s",
            "static_configs": [{"targets": ["127.0.0.1:9200"], "labels": {"zone": "a"}}],
        },
    ]


def test_rendered_config_is_yaml_of_the_same_data() -> None:
    assert yaml.safe_load(render_prometheus_config(["127.0.0.1:1/x"])) == prometheus_config(["127.0.0.1:1/x"])


def test_same_address_and_path_twice_is_refused_before_starting() -> None:
    with pytest.raises(ValueError, match="job name"):
        PrometheusServer(["127.0.0.1:9100", "127.0.0.1:9100"])


def test_targets_not_up_reads_the_up_query() -> None:
    targets = [
        ScrapeTarget.parse("127.0.0.1:1"),
        ScrapeTarget.parse("127.0.0.1:2"),
        ScrapeTarget.parse("127.0.0.1:3"),
    ]
    response = {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {
                    "metric": {"__name__": "up", "job": "127.0.0.1:1", "instance": "127.0.0.1:1"},
                    "value": [1, "1"],
                },
                {
                    "metric": {"__name__": "up", "job": "127.0.0.1:2", "instance": "127.0.0.1:2"},
                    "value": [1, "0"],
                },
            ],
        },
    }
    assert targets_not_up(response, targets) == targets[1:]


def test_binary_comes_from_prometheus_bin_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "prometheus"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("PROMETHEUS_BIN", str(binary))
    assert find_prometheus_binary() == str(binary)


def test_missing_binary_names_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_BIN", str(tmp_path / "nowhere" / "prometheus"))
    with pytest.raises(PrometheusNotInstalled, match="sudo apt-get install prometheus") as caught:
        PrometheusServer(["127.0.0.1:9100"]).start()
    assert "scripts/bootstrap.sh" in str(caught.value)


def test_no_binary_on_path_names_the_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PROMETHEUS_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrometheusNotInstalled, match=r"not on PATH.*sudo apt-get install prometheus"):
        find_prometheus_binary()
