from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from driftpilot.adapters import parquet_lake as storage
from driftpilot.cli import main
from driftpilot.errors import CorruptFile


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "x" / "part-0.parquet"
    storage.write_parquet_atomic(pd.DataFrame({"a": [1, 2]}), path)
    storage.write_parquet_atomic(pd.DataFrame({"a": [3]}), path)
    assert storage.read_parquet(path)["a"].tolist() == [3]
    assert [p.name for p in path.parent.iterdir()] == ["part-0.parquet"]


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "part-0.parquet"
    storage.write_parquet_atomic(pd.DataFrame({"a": [1]}), path)
    with pytest.raises(Exception):  # noqa: B017 - pyarrow cannot convert a mixed object column
        storage.write_parquet_atomic(pd.DataFrame({"a": [object(), 1]}), path)
    assert storage.read_parquet(path)["a"].tolist() == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["part-0.parquet"]


def test_corrupt_parquet_is_reported_by_path(tmp_path: Path) -> None:
    path = tmp_path / "part-0.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(CorruptFile) as info:
        storage.read_parquet(path)
    assert str(path) in str(info.value)
    assert "re-run" in str(info.value)


def test_read_partitions_ignores_temp_files(tmp_path: Path) -> None:
    directory = storage.partition_dir(tmp_path, storage.INFERENCE, "m", date(2026, 1, 2))
    storage.write_parquet_atomic(pd.DataFrame({"a": [1]}), directory / "part-0.parquet")
    (directory / ".part-1.parquet.abc.tmp").write_bytes(b"half written")
    assert storage.read_partitions([directory])["a"].tolist() == [1]
    assert storage.list_partition_dates(tmp_path, storage.INFERENCE, "m") == [date(2026, 1, 2)]


def test_check_lake_cli_names_the_damaged_file(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DRIFTPILOT_HOME", str(tmp_path))
    good = storage.partition_dir(tmp_path / "lake", storage.INFERENCE, "m", date(2026, 1, 1))
    storage.write_parquet_atomic(pd.DataFrame({"a": [1]}), good / "part-0.parquet")
    bad = storage.partition_dir(tmp_path / "lake", storage.LABELS, "m", date(2026, 1, 3)) / "part-x.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"garbage")
    assert main(["check-lake", "--model", "m"]) == 1
    out = capsys.readouterr().out
    assert str(bad) in out
    assert "2 file(s) read, 1 damaged" in out


def test_written_files_are_world_readable(tmp_path: Path) -> None:
    path = storage.write_text_atomic("<html></html>", tmp_path / "index.html")
    assert path.stat().st_mode & 0o777 == storage.FILE_MODE


def test_a_version_that_is_no_registry_number_has_no_baseline(tmp_path) -> None:
    """'v99', '1.0', '' or a path never reach MLflow (which would answer INVALID_PARAMETER_VALUE) nor the cache."""
    import dataclasses

    from driftpilot.adapters import mlflow_registry as registry
    from driftpilot.errors import BaselineNotFound
    from driftpilot.settings import load_settings

    settings = dataclasses.replace(load_settings(), home=tmp_path, mlflow_tracking_uri="http://127.0.0.1:9")
    for version in ("v99", "1.0", "", "../other/1", "01", "-1"):
        with pytest.raises(BaselineNotFound, match="not an MLflow model version"):
            registry.MlflowRegistry(settings).load_baseline("m", version)
    assert registry.is_version_number("12") and not registry.is_version_number("0")
