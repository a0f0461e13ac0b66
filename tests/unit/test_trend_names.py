"""``trend`` checks metric names against what the history recorded, and says which exist."""

from __future__ import annotations

import pytest

from driftpilot.usecases.trends import MetricName, UnknownMetric, check_metric

CATALOG = [MetricName("drift.share", ()), MetricName("drift.psi", ("nswprice", "vicdemand"))]


def test_a_recorded_window_metric_is_accepted() -> None:
    assert check_metric(CATALOG, "m", "drift.share", "") == CATALOG[0]


@pytest.mark.parametrize(("metric", "column", "says"), [
    ("drift.shares", "", "recorded metrics: drift.share, drift.psi (per column)"),
    ("drift.psi", "", "add --column, one of nswprice, vicdemand"),
    ("drift.psi", "price", "its columns: nswprice, vicdemand"),
    ("drift.share", "nswprice", "window-level metric: drop --column"),
])
def test_a_wrong_name_or_column_is_one_line_naming_the_choices(metric: str, column: str, says: str) -> None:
    with pytest.raises(UnknownMetric) as error:
        check_metric(CATALOG, "m", metric, column)
    assert says in str(error.value)
    assert "\n" not in str(error.value)


def test_an_empty_history_says_to_monitor_first() -> None:
    with pytest.raises(UnknownMetric, match="monitor a window first"):
        check_metric([], "m", "drift.share", "")
