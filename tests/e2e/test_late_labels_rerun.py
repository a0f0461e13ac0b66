"""The real monitoring DAG (`dag.test()`): re-running an old window after late labels decides the same.

Runs in its own lake, evidence store and config folder (environment variables the tasks read), next
to the session's MLflow store and champion, so it depends on no other test and no test order.
Elec2 with labels maturing after 48 h: window 01-01 matures at the end of window 01-02, so the
decision of window 01-03 judges the accuracy of 01-01. After the first runs, a corrected label
file for 01-01's predictions lands in a later arrival partition (label times before maturity, as a
re-delivery carries them, and some after); the run of the next window recomputes 01-01 from it. Re-running 01-03
must then store exactly the decision of its first run, although the store now knows better.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import yaml

from driftpilot.adapters import parquet_lake as storage
from driftpilot.composition import build_ports
from driftpilot.domain.contracts import LABEL, LABEL_TIME, PREDICTION_ID
from driftpilot.usecases import monitor as monitoring
from tests.isolation import World

pytestmark = pytest.mark.e2e
MODEL = "elec2_updown"
MATURITY_HOURS = 48


@pytest.fixture(scope="module")
def isolated(tmp_path_factory, elec2_config, session_settings, elec2_champion, airflow_db, dagbag) -> Iterator[dict[str, Any]]:
    """A world of this module's own (lake, history, home, configs; the session's registry) with
    a 48 h label maturity, so a few windows are enough for labels to arrive after maturity."""
    from driftpilot_demo.traffic import replay_traffic

    world = World.create(tmp_path_factory.mktemp("late-labels"), registry=session_settings)
    path = world.config_dir / "elec2.yaml"
    data = yaml.safe_load(path.read_text())
    data["labels"]["maturity_hours"] = MATURITY_HOURS
    path.write_text(yaml.safe_dump(data))
    with world.active() as settings:
        replay_traffic(elec2_config, settings, range(4))
        yield {"settings": settings, "dag": dagbag.dags[f"driftpilot_monitor__{MODEL}"], "config": elec2_config}


def run(isolated: dict[str, Any], day: str) -> None:
    window = monitoring.window_for(isolated["config"], day)
    assert str(isolated["dag"].test(logical_date=window.end).state) == "success", day


def deliver_corrected_labels(settings, config, window_day: str, arrival_day: str) -> int:
    """Flip every label of ``window_day``'s predictions, in a file that lands in ``arrival_day``'s partition."""
    lake = settings.lake
    ids = storage.read_parquet(monitoring.validated_path(settings, MODEL, pd.Timestamp(window_day).date()),
                               columns=[PREDICTION_ID])[PREDICTION_ID].astype(str)
    labels = storage.read_partitions(storage.partition_dir(lake, storage.LABELS, MODEL, d)
                                     for d in storage.list_partition_dates(lake, storage.LABELS, MODEL))
    mine = labels[labels[PREDICTION_ID].astype(str).isin(set(ids))].drop_duplicates(PREDICTION_ID)
    values = sorted(set(mine[LABEL].tolist()), key=str)
    assert len(values) == 2, values
    flipped = mine.assign(**{LABEL: mine[LABEL].map({values[0]: values[1], values[1]: values[0]})})
    maturity = monitoring.window_for(config, window_day).end + pd.Timedelta(hours=MATURITY_HOURS)
    half = len(flipped) // 2  # re-delivered with their original-looking times (before maturity), and truly late
    times = [maturity - pd.Timedelta(minutes=30)] * half + [maturity + pd.Timedelta(hours=6)] * (len(flipped) - half)
    flipped = flipped.assign(**{LABEL_TIME: pd.Series(times, index=flipped.index).astype(mine[LABEL_TIME].dtype)})
    target = storage.partition_dir(lake, storage.LABELS, MODEL, pd.Timestamp(arrival_day).date()) / "part-redelivered.parquet"
    storage.write_parquet_atomic(flipped.reset_index(drop=True), target)
    return len(flipped)


def test_rerunning_an_old_window_after_late_labels_gives_its_first_decision(isolated) -> None:
    settings, config = isolated["settings"], isolated["config"]
    store = build_ports(settings).store
    for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
        run(isolated, day)
    first = {d.window: d for d in store.decisions(MODEL)}["2026-01-03"]
    judged = first.evidence["performance"]
    assert judged["window"] == "2026-01-01"  # the 01-03 decision rests on the accuracy of 01-01
    known_then = store.performance(MODEL, as_of=first.decided_at, until="2026-01-01")[-1]

    assert deliver_corrected_labels(settings, config, "2026-01-01", "2026-01-04") > 100
    run(isolated, "2026-01-04")  # a later window recomputes 01-01 from the new file
    known_now = store.performance(MODEL, until="2026-01-01")[-1]
    assert known_now.as_of > known_then.as_of
    assert known_now.value("accuracy") != pytest.approx(known_then.value("accuracy"))  # the store knows better now
    assert known_now.late > 0

    run(isolated, "2026-01-03")
    again = {d.window: d for d in store.decisions(MODEL)}["2026-01-03"]
    assert again == first  # action, reasons, evidence, version and as-of: the same record
