"""A file damaged past its head is quarantined during validation, and the rest of the window is validated.

``scan_window`` reads each file's first rows and its ``model_version`` column only; damage in a
later row group of a feature column shows up while the (real, GX) validator streams the window.
The damaged file is built for real: a multi-row-group Parquet file whose last row group's
``nswprice`` data page header is overwritten. Registry: the in-memory fake with a real baseline
folder written by bootstrap's ``write_baseline``; lake, validator and store are the real ones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftpilot.domain.contracts import (
    EVENT_TIME,
    MODEL_NAME,
    MODEL_VERSION,
    PREDICTION,
    PREDICTION_ID,
    SCORE,
)
from driftpilot.domain.lake_layout import INFERENCE, QUARANTINE, partition_key
from driftpilot.errors import CorruptFile
from driftpilot.ports import ModelRun, Ports
from driftpilot.usecases import monitor as monitoring
from driftpilot.usecases.bootstrap import write_baseline
from tests.fakes import local_settings, ports_with
from tests.fakes.registry import FakeRegistry

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 5, tzinfo=UTC)
DAMAGED_COLUMN = "nswprice"


def _rows(config, n: int, seed: int, first_id: int) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        PREDICTION_ID: [f"p-{first_id + i:05d}" for i in range(n)],
        EVENT_TIME: pd.Timestamp(START) + pd.to_timedelta(np.arange(n) * 60 + first_id, unit="s"),
        MODEL_NAME: config.name,
        MODEL_VERSION: "1",
        **{c: rng.uniform(0.05, 0.95, n) for c in config.features.numeric},
        "day_of_week": rng.integers(1, 8, n).astype(str),
        PREDICTION: rng.integers(0, 2, n),
        SCORE: rng.uniform(0, 1, n),
    })


@pytest.fixture()
def ports(tmp_path: Path, elec2_config) -> Ports:  # type: ignore[no-untyped-def]
    """A registry whose version 1 has a baseline built from the same distribution as the window."""
    ports = ports_with(local_settings(tmp_path), registry=FakeRegistry())
    reference = _rows(elec2_config, 2000, seed=1, first_id=90_000).drop(
        columns=[PREDICTION_ID, EVENT_TIME, MODEL_NAME, MODEL_VERSION])
    reference[elec2_config.target] = reference[PREDICTION]
    baseline = write_baseline(ports.files, elec2_config, reference,
                              {"classes": ["0", "1"], "holdout_metrics": {"accuracy": 0.8}}, tmp_path / "baseline")
    ports.registry.log_and_register(elec2_config.name, ModelRun(
        experiment="e", model=None, input_example=pd.DataFrame(), params={}, metrics={}, baseline_dir=baseline,
        idempotency_key="bootstrap:test", run_name="initial", tags={}))
    return ports


def _damaged_parquet(path: Path, frame: pd.DataFrame, rows_per_group: int) -> None:
    """Write ``frame`` in row groups, then break the data page header of the last group's feature column."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=rows_per_group,
                   compression="zstd")
    metadata = pq.ParquetFile(path).metadata
    last = metadata.row_group(metadata.num_row_groups - 1)
    column = next(last.column(i) for i in range(last.num_columns) if last.column(i).path_in_schema == DAMAGED_COLUMN)
    data = bytearray(path.read_bytes())
    offset = column.data_page_offset
    data[offset:offset + 24] = b"\xff" * 24
    path.write_bytes(bytes(data))


def _window_files(ports: Ports, config) -> tuple[list[pd.DataFrame], str]:  # type: ignore[no-untyped-def]
    """A good file, the damaged one, another good file; returns the good frames and the damaged key."""
    prefix = partition_key(INFERENCE, config.name, START.date())
    good = [_rows(config, 150, seed=2, first_id=0), _rows(config, 150, seed=3, first_id=2000)]
    ports.lake.write_frame(f"{prefix}/part-0.parquet", good[0])
    damaged_key = f"{prefix}/part-1.parquet"
    _damaged_parquet(ports.lake.path(damaged_key), _rows(config, 400, seed=4, first_id=1000), rows_per_group=100)
    ports.lake.write_frame(f"{prefix}/part-2.parquet", good[1])
    return good, damaged_key


def test_a_file_damaged_past_its_head_is_quarantined_and_the_rest_validated(elec2_config, ports) -> None:
    good, damaged_key = _window_files(ports, elec2_config)
    # The regression's shape: what the scan reads is fine, the whole file is not.
    assert len(next(ports.lake.batches(damaged_key, batch_rows=monitoring.HEAD_ROWS))) == monitoring.HEAD_ROWS
    assert sum(len(b) for b in ports.lake.batches(damaged_key, columns=[MODEL_VERSION])) == 400
    with pytest.raises(CorruptFile):
        list(ports.lake.batches(damaged_key))

    window = monitoring.window_for(elec2_config, START)
    summary = monitoring.validate_step(elec2_config, ports, window)

    damaged_path = str(ports.lake.path(damaged_key))
    assert [f["path"] for f in summary["files_quarantined"]] == [damaged_path]
    assert summary["rows_read"] == 300 and summary["rows_by_version"] == {"1": 300}
    validated = ports.lake.read(monitoring.validated_key(elec2_config.name, START.date()))
    expected = [*good[0][PREDICTION_ID], *good[1][PREDICTION_ID]]
    assert validated[PREDICTION_ID].tolist() == expected  # every row of both good files, once, in order
    assert summary["rows_accepted"] == 300 and summary["rows_quarantined"] == 0

    files = partition_key(QUARANTINE, elec2_config.name, START.date()) + "/files"
    copied = f"{files}/date={START.date()}-part-1.parquet"
    assert ports.lake.path(copied).read_bytes() == Path(damaged_path).read_bytes()
    reason = ports.lake.read_json(f"{files}/date={START.date()}-part-1.reason.json")
    assert reason["source"] == damaged_path and "cannot read Parquet file" in reason["reason"]
    assert ports.lake.exists(damaged_key)  # the original stays where the writer put it
    metrics = ports.store.read_metrics(elec2_config.name)
    assert metrics.set_index("metric").loc["validation.files_quarantined", "value"] == 1.0

    # A re-run takes the same path to the same outputs: no duplicate rows, one quarantined file.
    again = monitoring.validate_step(elec2_config, ports, window)
    assert again == summary
    rerun = ports.lake.read(monitoring.validated_key(elec2_config.name, START.date()))
    pd.testing.assert_frame_equal(rerun, validated)
    assert sorted(p.name for p in ports.lake.path(files).iterdir()) == [
        f"date={START.date()}-part-1.parquet", f"date={START.date()}-part-1.reason.json"]


def test_a_window_whose_only_file_is_damaged_fails_naming_it(elec2_config, ports) -> None:
    prefix = partition_key(INFERENCE, elec2_config.name, START.date())
    damaged_key = f"{prefix}/part-0.parquet"
    _damaged_parquet(ports.lake.path(damaged_key), _rows(elec2_config, 400, seed=4, first_id=0), rows_per_group=100)
    window = monitoring.window_for(elec2_config, START)
    with pytest.raises(CorruptFile, match=r"part-0\.parquet.*every file of window 2026-01-05 is unreadable"):
        monitoring.validate_step(elec2_config, ports, window)
    assert not ports.lake.exists(monitoring.validated_key(elec2_config.name, START.date()))
    assert ports.lake.exists(partition_key(QUARANTINE, elec2_config.name, START.date())
                             + f"/files/date={START.date()}-part-0.parquet")
