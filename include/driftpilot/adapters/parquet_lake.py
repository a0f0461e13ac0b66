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
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftpilot.domain.drift_stats import WindowStats, accumulate
from driftpilot.domain.lake_layout import (  # noqa: F401 - the layout's names, re-exported for callers
    INFERENCE,
    LABEL_QUARANTINE,
    LABELS,
    METRICS,
    QUARANTINE,
    REPORTS,
    VALIDATED,
    partition_key,
)
from driftpilot.errors import CorruptFile, SchemaViolation


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


# --------------------------------------------------------------------------------------------
# The Lake port's implementation: lake-relative keys, record batches, atomic streamed writes
# --------------------------------------------------------------------------------------------

BATCH_ROWS = 65_536
READ_BUFFER_BYTES = 1 << 20  # buffered, page-by-page decoding: peak memory ~ one batch, not one row group


class ParquetBatchWriter:
    """Streams pandas batches into one Parquet file, published atomically by ``close``.

    Batches go to a temporary file next to the target; ``close`` renames it into place, so a
    reader sees the old file or the whole new one. Batches whose Arrow types differ from the
    first batch's are cast to them; when that is impossible (one writer's ints, another's
    strings) the part written so far is set aside and a new one started, and ``close`` unifies
    the parts' schemas and merges them, batch by batch. ``abort`` drops everything written.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._parts: list[str] = []
        self._writer: pq.ParquetWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        if frame.empty and self._writer is not None:
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is not None:
            try:
                table = table.cast(self._writer.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                self._writer.close()
                self._writer = None
        if self._writer is None:
            fd, tmp = _atomic_target(self.path)
            os.close(fd)
            self._parts.append(tmp)
            self._writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
        self._writer.write_table(table)
        self.rows += len(frame)

    def close(self) -> Path:
        """Publish the file (an empty frame's schema-less file when nothing was written)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        try:
            if not self._parts:
                return write_parquet_atomic(pd.DataFrame(), self.path)
            if len(self._parts) > 1:
                self._merge_parts()
            os.replace(self._parts[0], self.path)
            self._parts = []
        except BaseException:
            self.abort()
            raise
        return self.path

    def _merge_parts(self) -> None:
        files = [pq.ParquetFile(p) for p in self._parts]
        schema = pa.unify_schemas([f.schema_arrow for f in files], promote_options="permissive")
        fd, merged = _atomic_target(self.path)
        os.close(fd)
        with pq.ParquetWriter(merged, schema, compression="zstd") as writer:
            for handle in files:
                for batch in handle.iter_batches(batch_size=BATCH_ROWS):
                    writer.write_table(pa.Table.from_batches([batch]).cast(schema))
        for part in self._parts:
            Path(part).unlink(missing_ok=True)
        self._parts = [merged]

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        for part in self._parts:
            Path(part).unlink(missing_ok=True)
        self._parts = []


class ParquetLake:
    """The lake on a local (or mounted) file system, addressed by lake-relative keys.

    Keys look like ``validated/model=m/date=2026-01-01/part-0.parquet``; the on-disk layout is
    the one described in this module's docstring. An object-store lake (``pyarrow.fs``) can
    implement the same methods with the same keys.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Where ``key`` lives (for messages and for tools that need a local path)."""
        return self.root / key

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def files(self, kind: str, model: str, day: date) -> list[str]:
        """Keys of the Parquet files of one partition, in name order."""
        prefix = partition_key(kind, model, day)
        return [f"{prefix}/{p.name}" for p in partition_files(self.root / prefix)]

    def dates(self, kind: str, model: str) -> list[date]:
        return list_partition_dates(self.root, kind, model)

    def record_batches(self, key: str, columns: list[str] | None = None,
                       batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
        """The file's rows as Arrow record batches (see ``batches``); a file without rows yields none."""
        path = self.path(key)
        try:
            handle = pq.ParquetFile(path, buffer_size=READ_BUFFER_BYTES, pre_buffer=False)
            missing = [c for c in columns or [] if c not in handle.schema_arrow.names]
            if missing:
                raise SchemaViolation(f"{path}: no column(s) {missing}; it has {handle.schema_arrow.names}")
            yield from handle.iter_batches(batch_size=batch_rows, columns=columns)
        except FileNotFoundError:
            raise
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise CorruptFile(str(path), exc) from exc

    def batches(self, key: str, columns: list[str] | None = None,
                batch_rows: int = BATCH_ROWS) -> Iterator[pd.DataFrame]:
        """The file's rows as pandas batches of at most ``batch_rows`` rows, only ``columns``.

        Decoding is buffered page by page, so memory is about one batch. A damaged file raises
        ``CorruptFile`` naming its path (on open, or at the batch where it breaks).
        """
        path = self.path(key)
        try:
            handle = pq.ParquetFile(path, buffer_size=READ_BUFFER_BYTES, pre_buffer=False)
            wanted = None if columns is None else [c for c in columns if c in handle.schema_arrow.names]
            empty = True
            for batch in handle.iter_batches(batch_size=batch_rows, columns=wanted):
                empty = False
                yield batch.to_pandas()
            if empty:
                yield handle.schema_arrow.empty_table().to_pandas() if wanted is None else \
                    handle.schema_arrow.empty_table().select(wanted).to_pandas()
        except FileNotFoundError:
            raise
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise CorruptFile(str(path), exc) from exc

    def read(self, key: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A whole (small) file: labels, baselines, metrics; windows go through ``batches``."""
        return read_parquet(self.path(key), columns=columns)

    def writer(self, key: str) -> ParquetBatchWriter:
        return ParquetBatchWriter(self.path(key))

    def write_frame(self, key: str, frame: pd.DataFrame, *, mixed_types_as_text: bool = False) -> None:
        write_parquet_atomic(parquet_safe(frame) if mixed_types_as_text else frame, self.path(key))

    def write_json(self, key: str, payload: Any) -> None:
        write_json_atomic(payload, self.path(key))

    def write_text(self, key: str, text: str) -> None:
        write_text_atomic(text, self.path(key))

    def read_json(self, key: str) -> Any:
        return json.loads(self.path(key).read_text())

    def read_partitions(self, kind: str, model: str, days: Iterable[date]) -> pd.DataFrame:
        return read_partitions(partition_dir(self.root, kind, model, day) for day in days)

    def copy(self, source: str, target: str) -> int:
        """Copy ``source`` to ``target`` through a temporary file and a rename; the bytes copied."""
        src, dst = self.path(source), self.path(target)
        fd, tmp = _atomic_target(dst)
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return dst.stat().st_size

    def delete_folder(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix), ignore_errors=True)


class LocalWorkFiles:
    """``WorkFiles`` on the local file system, with the lake's atomic writers and readers.

    Scratch folders are made under ``scratch_root`` (``$DRIFTPILOT_HOME/tmp`` from the
    composition root: the same volume as the state they are about), else the system's temp dir.
    """

    def __init__(self, scratch_root: Path | None = None) -> None:
        self.scratch_root = scratch_root

    @contextmanager
    def scratch(self, prefix: str) -> Iterator[Path]:
        if self.scratch_root is not None:
            self.scratch_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=prefix, dir=self.scratch_root) as folder:
            yield Path(folder)

    def exists(self, path: Path) -> bool:
        return Path(path).exists()

    def read_frame(self, path: Path, columns: list[str] | None = None) -> pd.DataFrame:
        return read_parquet(Path(path), columns=columns)

    def write_frame(self, path: Path, frame: pd.DataFrame) -> None:
        write_parquet_atomic(frame, Path(path))

    def read_json(self, path: Path) -> Any:
        return json.loads(Path(path).read_text())

    def write_json(self, path: Path, payload: Any) -> None:
        write_json_atomic(payload, Path(path))

    def write_text(self, path: Path, text: str) -> None:
        write_text_atomic(text, Path(path))


def stats_from_parquet(
    paths: Iterable[Path | str],
    profile: Mapping[str, Any],
    numeric: Sequence[str],
    categorical: Sequence[str],
    batch_rows: int = BATCH_ROWS,
) -> WindowStats:
    """Window statistics of Parquet files, read batch by batch and only the needed columns."""
    wanted = [*numeric, *categorical]

    def batches() -> Iterator[pa.RecordBatch]:
        for path in paths:
            lake = ParquetLake(Path(path).parent)
            yield from lake.record_batches(Path(path).name, columns=wanted, batch_rows=batch_rows)

    return accumulate(batches(), profile, numeric, categorical)
