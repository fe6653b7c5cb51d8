"""The one duration parser: Go's time.ParseDuration (as documented in Go's time package) plus Argo's bare
seconds."""

from __future__ import annotations

import pytest

from kube.durations import DurationError, parse_duration, parse_go_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5us", 5e-6), ("5µs", 5e-6), ("5μs", 5e-6),  # Go accepts u, µ (U+00B5) and μ (U+03BC) for micro
        ("300ms", 0.3), ("1.5s", 1.5), (".5s", 0.5), ("5m", 300), ("1h30m", 5400), ("2h45m30.5s", 9930.5),
        ("-1.5h", -5400), ("+10s", 10), ("0", 0),
    ],
)
def test_go_durations_read_as_go_reads_them(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "1e3s", "5 m", "5d", "h", "1.s.", "--5s"])
def test_what_go_rejects_is_an_error_naming_the_value(text: str) -> None:
    with pytest.raises(DurationError, match="invalid duration"):
        parse_go_duration(text)


@pytest.mark.parametrize(("value", "seconds"), [(30, 30), ("30", 30), ("5m", 300), ("5us", 5e-6), (1.5, 1.5)])
def test_argo_fields_take_bare_seconds_too(value: str | int | float, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [-1, "-5m", True, "", "five"])
def test_argo_fields_refuse_negative_and_malformed_values(value: str | int | float) -> None:
    with pytest.raises(DurationError, match="invalid duration"):
        parse_duration(value)
