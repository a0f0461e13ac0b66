"""Streamed validation (``GxValidator``) == in-memory validation, and GX agrees with the row screen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from driftpilot.adapters.gx_validation import QUARANTINE_REASON, GxValidator, validate_window
from driftpilot.adapters.parquet_lake import ParquetLake
from tests.unit.test_validation_stream import END, START, _dirty, config, profile  # noqa: F401 - fixtures


def test_streamed_window_matches_the_in_memory_one(config, profile, tmp_path: Path) -> None:  # noqa: F811
    frame = _dirty()
    frame.loc[frame.index[::4], "nswdemand"] = np.nan  # a mostly-rule that fails: the second pass
    lake = ParquetLake(tmp_path)
    keys = []
    for i, part in enumerate(np.array_split(frame, 3)):
        keys.append(f"inference/model=m/date=2026-01-05/part-{i}.parquet")
        lake.write_frame(keys[-1], part.reset_index(drop=True))

    def batches():
        for key in keys:
            yield from lake.batches(key, batch_rows=40)

    streamed = GxValidator(lake).validate(
        config, profile, START, END, batches, heads=frame.head(5), accepted_key="validated/part-0.parquet",
        quarantine_dir="quarantine/q", docs_dir="reports/r", key_columns=["prediction_id", "model_version"],
    )
    whole = validate_window(frame, config, profile, START, END, tmp_path / "whole-docs")
    assert (streamed.rows_read, streamed.rows_accepted, streamed.rows_quarantined) == \
        (whole.rows_read, whole.rows_accepted, whole.rows_quarantined) == (300, 219, 81)
    assert streamed.reason_counts == whole.reason_counts
    assert streamed.expectations == whole.expectations
    assert streamed.failed and streamed.failure_message == whole.failure_message
    quarantined = lake.read("quarantine/q/part-0.parquet")
    pd.testing.assert_frame_equal(quarantined, whole.quarantined.astype({QUARANTINE_REASON: object}), check_dtype=False)
    assert not lake.exists("validated/part-0.parquet")  # a failed window publishes no validated rows
    document = json.loads((tmp_path / "reports" / "r" / "validation.json").read_text())
    assert document["great_expectations_sample"]["disagreements"] == []
    assert document["great_expectations_sample"]["rows"] == 300
    assert document["great_expectations"]["results"]


def test_streamed_clean_window_publishes_validated_rows(config, profile, tmp_path: Path) -> None:  # noqa: F811
    frame = _dirty().drop(index=[5, 7, 8, 9, 10, 150, 200, 299]).reset_index(drop=True)
    lake = ParquetLake(tmp_path)
    lake.write_frame("inference/part-0.parquet", frame)
    result = GxValidator(lake).validate(
        config, profile, START, END, lambda: lake.batches("inference/part-0.parquet", batch_rows=50),
        heads=frame.head(5), accepted_key="validated/part-0.parquet", quarantine_dir="quarantine/q",
        docs_dir="reports/r", key_columns=["prediction_id"],
    )
    assert result.rows_quarantined == 0 and not result.failed
    pd.testing.assert_frame_equal(lake.read("validated/part-0.parquet"), frame)
    assert not (tmp_path / "quarantine" / "q").exists()


def test_a_rerun_that_quarantines_nothing_removes_the_earlier_quarantine(config, profile, tmp_path: Path) -> None:  # noqa: F811
    """A window fixed at the source and validated again must not keep the rows set aside before."""
    lake = ParquetLake(tmp_path)
    dirty = _dirty()
    clean = dirty.drop(index=[5, 7, 8, 9, 10, 150, 200, 299]).reset_index(drop=True)

    def validate(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
        lake.write_frame("inference/part-0.parquet", frame)
        return GxValidator(lake).validate(
            config, profile, START, END, lambda: lake.batches("inference/part-0.parquet", batch_rows=50),
            heads=frame.head(5), accepted_key="validated/part-0.parquet", quarantine_dir="quarantine/q",
            docs_dir="reports/r", key_columns=["prediction_id"],
        )

    first = validate(dirty.drop(index=[5, 7, 8, 9, 10]).reset_index(drop=True))
    assert first.rows_quarantined > 0 and lake.exists("quarantine/q/part-0.parquet")
    again = validate(clean)
    assert again.rows_quarantined == 0 and not again.failed
    assert not lake.exists("quarantine/q/part-0.parquet")
    assert not (tmp_path / "quarantine" / "q").exists()
