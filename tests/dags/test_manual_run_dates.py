"""The `airflow dags test` date that `driftpilot monitor --airflow` prints monitors exactly that window.

The monitoring DAGs have data-interval timetables: a manual run for date D covers the interval
that ends at D. The printed command's date, given to the DAG's own timetable, must give back the
window `driftpilot monitor --window` runs.
"""

from __future__ import annotations

import dataclasses
import shlex

import pendulum
import pytest

from driftpilot.domain.config import load_all_configs
from driftpilot.usecases import monitor as monitoring
from driftpilot.usecases.manual_runs import airflow_monitor_command
from tests.dags.test_dag_integrity import ROOT

CONFIGS = load_all_configs(ROOT / "include" / "config")


@pytest.mark.parametrize("model", sorted(CONFIGS))
@pytest.mark.parametrize("day", ["2026-01-01", "2026-01-10", "2026-02-28"])
def test_the_printed_date_is_the_end_of_the_window(dagbag, model, day) -> None:
    config = CONFIGS[model]
    window = monitoring.window_for(config, day)
    words = shlex.split(airflow_monitor_command(config, window))
    assert words[:4] == ["airflow", "dags", "test", f"driftpilot_monitor__{model}"]
    interval = dagbag.dags[words[3]].timetable.infer_manual_data_interval(run_after=pendulum.parse(words[4], tz="UTC"))
    assert (interval.start, interval.end) == (window.start, window.end)
    assert '"window_start": "' + day + '"' in words[words.index("-c") + 1]


def test_a_longer_window_uses_its_own_length(dagbag) -> None:
    """A 7-day window (DeltaDataIntervalTimetable) built the way the DAG file builds it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("monitor_dag_file", ROOT / "dags" / "driftpilot_monitor.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the DAG file's own factory
    build_monitor_dag = module.build_monitor_dag
    config = dataclasses.replace(CONFIGS["elec2_updown"], window_days=7, name="weekly_probe")
    dag = build_monitor_dag(config)
    window = monitoring.window_for(config, "2026-01-05")
    words = shlex.split(airflow_monitor_command(config, window))
    interval = dag.timetable.infer_manual_data_interval(run_after=pendulum.parse(words[4], tz="UTC"))
    assert (interval.start, interval.end) == (window.start, window.end)
