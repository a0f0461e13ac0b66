"""The Parquet lake port: keys, batches that name a broken file, streamed atomic writes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from driftpilot.adapters.parquet_lake import LocalWorkFiles, ParquetLake
from driftpilot.domain.lake_layout import INFERENCE, PART, VALIDATED, partition_key
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


def test_read_partitions_concatenates_the_days_asked_for(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path)
    days = [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]
    for i, day in enumerate(days):
        lake.write_frame(f"{partition_key(VALIDATED, 'm', day)}/{PART}", pd.DataFrame({"a": [i, i]}))
    (tmp_path / partition_key(VALIDATED, "m", days[0]) / ".part-9.parquet.tmp").write_text("half a file")
    assert lake.read_partitions(VALIDATED, "m", [days[0], days[2]])["a"].tolist() == [0, 0, 2, 2]
    assert lake.read_partitions(VALIDATED, "m", [date(2025, 1, 1)]).empty
    assert lake.read_partitions(VALIDATED, "other", days).empty


def test_copy_is_whole_and_atomic_and_the_source_stays(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path)
    (tmp_path / "inference").mkdir()
    (tmp_path / "inference" / "bad.parquet").write_bytes(b"PAR1 not really")
    size = lake.copy("inference/bad.parquet", "quarantine/files/date=x-bad.parquet")
    assert size == len(b"PAR1 not really")
    assert (tmp_path / "quarantine" / "files" / "date=x-bad.parquet").read_bytes() == b"PAR1 not really"
    assert (tmp_path / "inference" / "bad.parquet").exists()
    assert [p.name for p in (tmp_path / "quarantine" / "files").iterdir()] == ["date=x-bad.parquet"]  # no temp left
    with pytest.raises(FileNotFoundError):
        lake.copy("inference/missing.parquet", "quarantine/files/missing.parquet")
    assert [p.name for p in (tmp_path / "quarantine" / "files").iterdir()] == ["date=x-bad.parquet"]


def test_delete_folder_removes_the_tree_and_tolerates_absence(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path)
    lake.write_json("label_quarantine/model=m/date=2026-01-01/files/a.reason.json", {"reason": "x"})
    lake.write_frame(f"label_quarantine/model=m/date=2026-01-01/{PART}", pd.DataFrame({"a": [1]}))
    lake.delete_folder("label_quarantine/model=m/date=2026-01-01/files")
    assert not lake.exists("label_quarantine/model=m/date=2026-01-01/files")
    assert lake.exists(f"label_quarantine/model=m/date=2026-01-01/{PART}")
    lake.delete_folder("label_quarantine/model=m/date=2026-01-01/files")  # already gone: no error


def test_mixed_types_as_text_keeps_quarantined_rows_writable(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path)
    rows = pd.DataFrame({"label": pd.Series([1, "yes", None], dtype=object), "n": [1, 2, 3]})
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):  # pyarrow refuses a column of mixed types
        lake.write_frame("q/part-0.parquet", rows)
    lake.write_frame("q/part-0.parquet", rows, mixed_types_as_text=True)
    back = lake.read("q/part-0.parquet")
    assert back["label"].tolist() == ["1", "yes", None]
    assert back["n"].tolist() == [1, 2, 3]


def test_local_work_files_round_trip_atomically(tmp_path: Path) -> None:
    files = LocalWorkFiles()
    out = tmp_path / "retrain" / "m" / "key"
    files.write_frame(out / "train.parquet", pd.DataFrame({"a": [1, 2]}))
    files.write_json(out / "gate.json", {"passed": True, "at": date(2026, 1, 1)})
    files.write_text(out / "comparison.md", "# champion vs challenger\n")
    assert files.read_frame(out / "train.parquet", columns=["a"])["a"].tolist() == [1, 2]
    assert files.read_json(out / "gate.json") == {"passed": True, "at": "2026-01-01"}
    assert (out / "comparison.md").read_text() == "# champion vs challenger\n"
    assert files.exists(out / "gate.json") and not files.exists(out / "evaluation.json")
    assert sorted(p.name for p in out.iterdir()) == ["comparison.md", "gate.json", "train.parquet"]
    (out / "broken.parquet").write_bytes(b"nope")
    with pytest.raises(CorruptFile, match=r"broken\.parquet"):
        files.read_frame(out / "broken.parquet")


def test_scratch_folders_live_under_their_root_and_go_away(tmp_path: Path) -> None:
    root = tmp_path / "home" / "tmp"
    files = LocalWorkFiles(root)
    with files.scratch("baseline-") as folder:
        assert folder.parent == root and folder.name.startswith("baseline-") and not any(folder.iterdir())
        files.write_json(folder / "metadata.json", {"a": 1})
        assert files.read_json(folder / "metadata.json") == {"a": 1}
    assert not folder.exists() and list(root.iterdir()) == []
    with pytest.raises(RuntimeError), files.scratch("gate-") as failed:
        raise RuntimeError("the registry upload failed")
    assert not failed.exists()  # removed on failure too
