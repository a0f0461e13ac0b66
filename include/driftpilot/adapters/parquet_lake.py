"""The Parquet lake: partition layout, atomic writes, and reads that name the file that broke.

Layout under the lake root (one folder per kind of data, Hive-style partitions)::

    inference/model=<name>/date=<YYYY-MM-DD>/part-0.parquet        one file per served day
    labels/model=<name>/date=<arrival YYYY-MM-DD>/part-<origin>.parquet
    quarantine/, reports/, metrics/                               written by monitoring
    label_quarantine/model=<name>/date=<arrival YYYY-MM-DD>/      label rows and files set aside

Every write goes to a temporary name in the same folder and is renamed into place, so a reader
never sees half a file and a re-run replaces a partition instead of adding to it. This module is
the only one that touches pyarrow's Parquet I/O; moving the lake to an object store means
changing it alone.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftpilot.errors import CorruptFile

INFERENCE = "inference"
LABELS = "labels"
QUARANTINE = "quarantine"
LABEL_QUARANTINE = "label_quarantine"  # by arrival date, like the label partitions it screens
REPORTS = "reports"
METRICS = "metrics"


def partition_dir(lake: Path, kind: str, model: str, day: date) -> Path:
    return lake / kind / f"model={model}" / f"date={day.isoformat()}"


def list_partition_dates(lake: Path, kind: str, model: str) -> list[date]:
    root = lake / kind / f"model={model}"
    if not root.exists():
        return []
    days = []
    for child in root.iterdir():
        if child.is_dir() and child.name.startswith("date="):
            days.append(date.fromisoformat(child.name.removeprefix("date=")))
    return sorted(days)


FILE_MODE = 0o644  # mkstemp creates 0600; reports must be readable by a web server or another user


def _atomic_target(path: Path) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, FILE_MODE)
    return fd, tmp


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` through a temporary file and an atomic rename."""
    fd, tmp = _atomic_target(path)
    os.close(fd)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(text: str, path: Path) -> Path:
    fd, tmp = _atomic_target(path)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(payload: Any, path: Path) -> Path:
    return write_text_atomic(json.dumps(payload, indent=2, sort_keys=True, default=str), path)


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read one Parquet file; a damaged file raises ``CorruptFile`` naming its path."""
    try:
        return pq.read_table(path, columns=columns).to_pandas()
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise CorruptFile(str(path), exc) from exc


def parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding mixed types become strings (Parquet needs one type per column).

    Used for quarantined rows, which are kept as the writer sent them, dtype mix included.
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object and pd.api.types.infer_dtype(out[column], skipna=True).startswith("mixed"):
            values = out[column]
            out[column] = values.where(values.isna(), values.map(str))
    return out


def partition_files(directory: Path) -> list[Path]:
    """The Parquet files of one partition, in name order (temporary files are ignored)."""
    if not directory.exists():
        return []
    return sorted(p for p in directory.glob("*.parquet") if not p.name.startswith("."))


def read_partitions(directories: Iterable[Path]) -> pd.DataFrame:
    """Concatenate every Parquet file of the given partition folders (empty frame if none)."""
    frames = [read_parquet(path) for directory in directories for path in partition_files(directory)]
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)
