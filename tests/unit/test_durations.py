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


# Go's time.Duration is an int64 count of nanoseconds: time.ParseDuration refuses anything longer than
# 2562047h47m16.854775807s ("invalid duration"), and Argo refuses what Go cannot hold (issue #15 item 5).
GO_LONGEST = "2562047h47m16.854775807s"
GO_LONGEST_SECONDS = 9223372036.854775807


@pytest.mark.parametrize("text", [GO_LONGEST, "9223372036854775807ns", "2562047h", "-9223372036854775808ns"])
def test_durations_at_the_edge_of_gos_range_are_read(text: str) -> None:
    assert abs(parse_go_duration(text)) <= GO_LONGEST_SECONDS


@pytest.mark.parametrize(
    "text",
    ["2562048h", "2562047h47m16.854775808s", "9223372036854775808ns", "9999999999999h", "153722868m"],
)
def test_go_durations_beyond_int64_nanoseconds_are_refused(text: str) -> None:
    with pytest.raises(DurationError, match="Go's largest duration"):
        parse_go_duration(text)


@pytest.mark.parametrize("value", [9223372037, "9223372037", 10**12, "2562048h", 9.3e9])
def test_argo_durations_beyond_gos_range_are_refused_whatever_the_form(value: str | int | float) -> None:
    with pytest.raises(DurationError, match="Go's largest duration"):
        parse_duration(value)


def test_the_most_whole_seconds_go_can_hold_are_read() -> None:
    # 9223372036 s = 9223372036000000000 ns, just under 2**63 - 1.
    assert parse_duration(9223372036) == 9223372036.0


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_non_finite_seconds_are_refused(value: float) -> None:
    with pytest.raises(DurationError, match="invalid duration"):
        parse_duration(value)
