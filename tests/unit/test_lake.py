"""The Parquet lake port: keys, batches that name a broken file, streamed atomic writes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from driftpilot.adapters.parquet_lake import ParquetLake
from driftpilot.domain.lake_layout import INFERENCE, partition_key
from driftpilot.errors import CorruptFile


def test_files_are_lake_relative_keys(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path)
    day = date(2026, 1, 2)
    prefix = partition_key(INFERENCE, "m", day)
    lake.write_frame(f"{prefix}/part-1.parquet", pd.DataFrame({"a": [1]}))
    lake.write_frame(f"{prefix}/part-0.parquet", pd.DataFrame({"a": [2]}))
    (tmp_path / prefix / ".part-2.parquet.tmp").write_text("half a file")
    assert lake.files(INFERENCE, "m", day) == [f"{prefix}/part-0.parquet", f"{prefix}/part-1.parquet"]
    assert lake.dates(INFERENCE, "m") == [day]
    assert lake.path(f"{prefix}/part-0.parquet") == tmp_path / "inference" / "model=m" / "date=2026-01-02" / "part-0.parquet"


def test_batches_are_bounded_and_a_broken_file_is_named(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path)
    lake.write_frame("x/part-0.parquet", pd.DataFrame({"a": range(1000), "b": "s"}))
    sizes = [len(b) for b in lake.batches("x/part-0.parquet", columns=["a", "missing"], batch_rows=300)]
    assert sizes == [300, 300, 300, 100]
    assert list(next(lake.batches("x/part-0.parquet", columns=["a"])).columns) == ["a"]
    (tmp_path / "x" / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(CorruptFile, match=r"bad\.parquet"):
        list(lake.batches("x/bad.parquet"))
    with pytest.raises(CorruptFile, match=r"bad\.parquet"):
        lake.columns("x/bad.parquet")


def test_writer_publishes_atomically_and_unifies_schemas(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path)
    writer = lake.writer("v/part-0.parquet")
    writer.write(pd.DataFrame({"id": ["a"], "note": [None]}))  # an all-null column: Arrow type null
    writer.write(pd.DataFrame({"id": ["b", "c"], "note": ["x", None]}))  # now strings
    writer.write(pd.DataFrame({"id": ["d"], "note": ["y"]}))
    assert not (tmp_path / "v" / "part-0.parquet").exists()  # nothing visible before close
    writer.close()
    frame = lake.read("v/part-0.parquet")
    assert frame["id"].tolist() == ["a", "b", "c", "d"] and frame["note"].tolist() == [None, "x", None, "y"]
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == ["part-0.parquet"]  # no temporary left


def test_aborted_writer_leaves_the_old_file(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path)
    lake.write_frame("v/part-0.parquet", pd.DataFrame({"a": [1]}))
    writer = lake.writer("v/part-0.parquet")
    writer.write(pd.DataFrame({"a": [2, 3]}))
    writer.abort()
    assert lake.read("v/part-0.parquet")["a"].tolist() == [1]
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == ["part-0.parquet"]
