"""Publishing whole Parquet files under lake keys, through a pyarrow filesystem.

The serving helper (``driftpilot.serving``) appends batches of predictions and labels with it.
It imports pyarrow only (no pandas), so serving code that logs Arrow tables pays for nothing
else. Every file is named after the SHA-256 digest of its own bytes and published with one
write to a temporary name in the target folder followed by a rename: a reader sees no file or
the whole file, and publishing the same rows twice finds the file already there and writes
nothing (the same rows in the same canonical order give the same bytes).

The lake is a local folder today (``pyarrow.fs.LocalFileSystem``). ``_write_atomic`` is the one
function that touches the filesystem; an object store (``pyarrow.fs.S3FileSystem`` and
friends, where a single object upload is already all-or-nothing) plugs in by passing another
``filesystem`` and root.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

DIGEST_CHARS = 24  # 96 bits of SHA-256 in the file name: a collision is not a practical concern


@dataclass(frozen=True)
class Published:
    key: str  # lake-relative
    location: str  # on the filesystem
    written: bool  # False: a file with these exact bytes was already there


def parquet_bytes(table: pa.Table) -> bytes:
    """The table as a Parquet file in memory (zstd, no schema metadata): deterministic bytes."""
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(None), sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


class LakeFiles:
    """Whole-file publishing under a lake root (a local path, or a root on ``filesystem``)."""

    def __init__(self, root: str | Path, filesystem: pafs.FileSystem | None = None) -> None:
        self.filesystem = filesystem or pafs.LocalFileSystem()
        self.root = str(Path(root).resolve()) if filesystem is None else str(root).rstrip("/")

    def location(self, key: str) -> str:
        return f"{self.root}/{key}"

    def publish(self, folder: str, table: pa.Table, prefix: str = "part-") -> Published:
        """Write ``table`` as ``<folder>/<prefix><digest>.parquet`` unless that file exists."""
        data = parquet_bytes(table)
        name = f"{prefix}{hashlib.sha256(data).hexdigest()[:DIGEST_CHARS]}.parquet"
        key = f"{folder}/{name}"
        target = self.location(key)
        if self.filesystem.get_file_info(target).type == pafs.FileType.File:
            return Published(key, target, written=False)
        _write_atomic(self.filesystem, target, data)
        return Published(key, target, written=True)


def _write_atomic(filesystem: pafs.FileSystem, target: str, data: bytes) -> None:
    """``data`` at ``target``: a temporary file in the same folder (ignored by lake readers: its
    name starts with a dot and does not end in ``.parquet``), then a rename. On failure the
    temporary file is removed and nothing is visible."""
    folder, _, name = target.rpartition("/")
    filesystem.create_dir(folder, recursive=True)
    temporary = f"{folder}/.{name}.{uuid.uuid4().hex}.tmp"
    try:
        with filesystem.open_output_stream(temporary) as stream:
            stream.write(data)
        filesystem.move(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):  # FileNotFoundError included
            filesystem.delete_file(temporary)
        raise
