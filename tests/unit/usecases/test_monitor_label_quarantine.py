"""Label screening through the Lake port: what lands in ``label_quarantine/`` and what a re-run clears.

``read_labels`` copies a broken label file whole (with its reason) and sets unusable rows aside,
all through ``ports.lake``; the layout on disk is the one the e2e tests and the docs describe.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from driftpilot.domain.categories import ClassSet
from driftpilot.domain.contracts import LABEL, LABEL_SOURCE, LABEL_TIME, PREDICTION_ID
from driftpilot.domain.lake_layout import LABEL_QUARANTINE, LABELS, PART, partition_key
from driftpilot.ports import Ports
from driftpilot.usecases.monitor import read_labels
from tests.fakes import local_settings, ports_with

MODEL = "elec2_updown"  # include/config/elec2.yaml
DAY = date(2026, 1, 1)
AS_OF = datetime(2026, 1, 2, tzinfo=UTC)
CLASSES = ClassSet.of([0, 1], "config")


@pytest.fixture()
def ports(tmp_path: Path) -> Ports:
    return ports_with(local_settings(tmp_path))


def _labels(ids: list[str], labels: list[str], *, aware: bool = True) -> pd.DataFrame:
    times = pd.Series(pd.Timestamp("2026-01-01 06:00", tz="UTC"), index=range(len(ids)))
    return pd.DataFrame({PREDICTION_ID: ids, LABEL: labels, LABEL_SOURCE: "test",
                         LABEL_TIME: times if aware else times.dt.tz_localize(None)})


def _write_partition(ports: Ports, *, broken: bool) -> None:
    labels = partition_key(LABELS, MODEL, DAY)
    ports.lake.write_frame(f"{labels}/part-a.parquet",
                           _labels(["p1", "p2", "p3"], ["1", "0", "cat"] if broken else ["1", "0", "1"]))
    ports.lake.write_frame(f"{labels}/part-c.parquet", _labels(["p4"], ["1"], aware=False))
    damaged = ports.lake.path(f"{labels}/part-b.parquet")
    if broken:
        damaged.write_bytes(b"PAR1 not really")
    else:
        damaged.unlink()


def test_broken_files_and_rows_are_set_aside_through_the_lake(elec2_config, ports) -> None:
    _write_partition(ports, broken=True)
    quarantine = partition_key(LABEL_QUARANTINE, MODEL, DAY)

    dry = read_labels(ports, elec2_config, DAY, AS_OF, CLASSES, record=False)
    assert sorted(dry.labels[PREDICTION_ID]) == ["p1", "p2"]
    assert not ports.lake.exists(quarantine)  # record=False writes nothing

    read = read_labels(ports, elec2_config, DAY, AS_OF, CLASSES)
    assert sorted(read.labels[PREDICTION_ID]) == ["p1", "p2"]
    assert read.rows_quarantined == {DAY: 1}
    bad = {Path(f["quarantined_as"]).name: f for f in read.files_quarantined[DAY]}
    assert set(bad) == {"date=2026-01-01-part-b.parquet", "date=2026-01-01-part-c.parquet"}
    assert bad["date=2026-01-01-part-b.parquet"]["bytes"] == len(b"PAR1 not really")
    assert Path(bad["date=2026-01-01-part-b.parquet"]["quarantined_as"]).read_bytes() == b"PAR1 not really"
    assert ports.lake.exists(f"{partition_key(LABELS, MODEL, DAY)}/part-b.parquet")  # the original stays
    reason = ports.lake.read_json(f"{quarantine}/files/date=2026-01-01-part-c.reason.json")
    assert "label_time must be a timezone-aware" in reason["reason"]
    assert reason["source"] == str(ports.lake.path(f"{partition_key(LABELS, MODEL, DAY)}/part-c.parquet"))
    rows = ports.lake.read(f"{quarantine}/{PART}")
    assert rows[PREDICTION_ID].tolist() == ["p3"] and "not a class" in rows["quarantine_reason"].iloc[0]


def test_a_rerun_after_the_fix_clears_what_was_fixed(elec2_config, ports) -> None:
    _write_partition(ports, broken=True)
    read_labels(ports, elec2_config, DAY, AS_OF, CLASSES)
    _write_partition(ports, broken=False)
    read = read_labels(ports, elec2_config, DAY, AS_OF, CLASSES)
    quarantine = partition_key(LABEL_QUARANTINE, MODEL, DAY)
    assert sorted(read.labels[PREDICTION_ID]) == ["p1", "p2", "p3"]
    assert not ports.lake.exists(f"{quarantine}/{PART}")
    left = sorted(p.name for p in ports.lake.path(f"{quarantine}/files").iterdir())
    assert left == ["date=2026-01-01-part-c.parquet", "date=2026-01-01-part-c.reason.json"]
