"""Traffic logged with the serving helper is what the real monitoring steps read (real lake, GX,
Evidently, MLflow champion), run with `driftpilot monitor --window` (no Airflow).

Elec2 traffic for 2026-01-01 and 2026-01-02 is scored by the session champion (the demo's pure
`build_day`, nothing written), then logged the way a serving process would: in Sydney time, in
two batches of which the first spans midnight UTC, one of them sent twice, labels in one batch.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from driftpilot import cli
from driftpilot.adapters import sqlite_store as history
from driftpilot.domain.config import model_config
from driftpilot.serving import log_labels, log_predictions
from driftpilot.usecases import monitor as monitoring
from tests.isolation import World

MODEL = "elec2_updown"
SPILL = 10  # rows of 01-02 in the first batch


@pytest.fixture(scope="module")
def logged(tmp_path_factory, session_settings, elec2_champion, elec2_demo):
    """This module's world, its traffic logged with the helper; (settings, days, first, second)."""
    from driftpilot_demo import datasets
    from driftpilot_demo.replay import build_day
    from driftpilot_demo.traffic import champion_scorer

    world = World.create(tmp_path_factory.mktemp("serving"), registry=session_settings)
    with world.active() as settings:
        config = model_config(settings, MODEL)
        source = datasets.load_source(config, elec2_demo, seed=elec2_demo.replay.seed)
        version, model = champion_scorer(config, settings).current()
        days = [build_day(config, elec2_demo, source, day, version, model) for day in (0, 1)]
        served = [log.assign(event_time=log["event_time"].dt.tz_convert("Australia/Sydney")) for log, _ in days]
        first = pd.concat([served[0], served[1].head(SPILL)], ignore_index=True)
        second = served[1].iloc[SPILL:].reset_index(drop=True)
        results = [log_predictions(settings.lake, MODEL, batch, config=config) for batch in (first, second, first)]
        labels = pd.concat([labels for _, labels in days], ignore_index=True)
        label_result = log_labels(settings.lake, MODEL, labels)
        yield world, days, results, label_result


@pytest.fixture()
def settings(logged):
    with logged[0].active() as settings:
        yield settings


def test_the_helper_split_the_batches_by_day_and_wrote_the_resend_once(logged) -> None:
    _, days, (first, second, resent), labels = logged
    assert [(f.day.isoformat(), f.rows) for f in first.files] == [("2026-01-01", len(days[0][0])), ("2026-01-02", SPILL)]
    assert [f.day.isoformat() for f in second.files] == ["2026-01-02"]
    assert resent.rows_written == 0 and [f.key for f in resent.files] == [f.key for f in first.files]
    assert labels.rows == sum(len(lab) for _, lab in days)
    arrival_days = {f.day for f in labels.files}
    assert len(arrival_days) > 1  # labels land on the days they arrive, not the day served


def test_monitoring_accepts_every_logged_row_once(logged, settings, capsys) -> None:
    _, days, _, _ = logged
    config = model_config(settings, MODEL)
    for index, window_day in enumerate(("2026-01-01", "2026-01-02")):
        assert cli.main(["monitor", "--model", MODEL, "--window", window_day]) == 0
        out = capsys.readouterr().out
        summary = json.loads((monitoring.report_dir(settings, monitoring.window_for(config, window_day))
                              / "validation_summary.json").read_text())
        rows = len(days[index][0])
        assert summary["rows_read"] == rows  # the resent batch added no row
        assert summary["rows_accepted"] == rows and summary["rows_quarantined"] == 0
        assert f"{rows} rows read, {rows} accepted, 0 quarantined" in out
        decision = json.loads((monitoring.report_dir(settings, monitoring.window_for(config, window_day))
                               / "decision.json").read_text())
        assert f"decision: {decision['action']}" in out
    metrics = history.read_metrics(monitoring.metrics_db(settings), MODEL)
    coverage = metrics[(metrics["window"] == "2026-01-01") & (metrics["metric"] == "labels.coverage")]["value"]
    assert float(coverage.iloc[0]) > 0  # the helper's label files were joined
    arrivals = metrics[(metrics["metric"] == "arrivals.quarantined_files")]["value"]
    assert (arrivals == 0).all()
