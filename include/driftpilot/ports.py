"""The seams a user's world plugs into: ``typing.Protocol`` ports, and the bundle use cases take.

Use cases (``driftpilot.usecases``) talk to these ports only; ``driftpilot.composition`` builds
the implementations from the deployment settings, and unit tests pass fakes
(``tests/fakes.py``). Each port has one implementation per third-party library in
``driftpilot.adapters``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from driftpilot.settings import Settings

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from driftpilot.domain.categories import ClassSet
    from driftpilot.domain.config import ModelConfig
    from driftpilot.domain.validation_rules import ValidationResult


# --- Lake (stream) ---


class BatchWriter(Protocol):
    """One file written batch by batch, published atomically by ``close`` (``abort`` drops it)."""

    rows: int

    def write(self, frame: pd.DataFrame) -> None: ...
    def close(self) -> Any: ...
    def abort(self) -> None: ...


class Lake(Protocol):
    """The lake, addressed by lake-relative keys (``validated/model=m/date=2026-01-01/part-0.parquet``).

    Windows are read as batches (memory ~ one batch, whatever the window); every write is atomic.
    ``path`` exists for messages and for files copied whole (quarantined files); an object-store
    lake returns its URI.
    """

    def path(self, key: str) -> Path: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def files(self, kind: str, model: str, day: date) -> list[str]: ...
    def dates(self, kind: str, model: str) -> list[date]: ...
    def columns(self, key: str) -> list[str]: ...
    def batches(self, key: str, columns: list[str] | None = None, batch_rows: int = ...) -> Iterator[pd.DataFrame]: ...
    def record_batches(self, key: str, columns: list[str] | None = None, batch_rows: int = ...) -> Iterator[Any]: ...
    def read(self, key: str, columns: list[str] | None = None) -> pd.DataFrame: ...
    def writer(self, key: str) -> BatchWriter: ...
    def write_frame(self, key: str, frame: pd.DataFrame) -> None: ...
    def write_json(self, key: str, payload: Any) -> None: ...
    def write_text(self, key: str, text: str) -> None: ...
    def read_json(self, key: str) -> Any: ...


# --- Validator (stream) ---


class Validator(Protocol):
    """Validates a window given as re-iterable batches; writes the validated and quarantine files.

    Quarantine decisions are taken on every row; ``heads`` (first rows of each file) carry the
    files' dtypes for the schema check.
    """

    def validate(
        self,
        config: ModelConfig,
        profile: Mapping[str, Any],
        window_start: datetime,
        window_end: datetime,
        batches: Callable[[], Iterable[pd.DataFrame]],
        *,
        heads: pd.DataFrame,
        accepted_key: str,
        quarantine_dir: str,
        docs_dir: str,
        key_columns: Sequence[str],
        classes: ClassSet | None = None,
        pre_flag: Callable[[pd.DataFrame, int], Sequence[tuple[str, np.ndarray]]] | None = None,
        files_quarantined: Sequence[Mapping[str, Any]] = (),
    ) -> ValidationResult: ...


@dataclass(frozen=True)
class Ports:
    """Everything a use case may reach outside the pure domain, built once per task.

    ``settings`` stays for the values that are deployment facts (paths, limits); the I/O goes
    through the ports below as they are introduced.
    """

    settings: Settings
    lake: Lake  # the Parquet lake (stream)
    validator: Validator  # window validation, GX on a sample (stream)
