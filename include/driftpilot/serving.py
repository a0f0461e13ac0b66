"""Log traffic from your own serving or batch-scoring code: predictions and labels into the lake.

    from driftpilot.serving import log_labels, log_predictions

    log_predictions("/data/lake", "churn", scored_frame, config="include/config/churn.yaml")
    log_labels("/data/lake", "churn", outcomes_frame, source="outcome")

Each call appends one batch (a pandas DataFrame, a pyarrow Table or a list of dicts) in the
documented contract (README, "Data contracts"), where the monitoring DAG reads it:

* predictions under ``inference/model=<m>/date=<UTC day of event_time>/``, labels under
  ``labels/model=<m>/date=<UTC day of label_time>/`` (labels are read by arrival day); a batch
  that spans midnight is split into both days;
* checked up front (``domain/log_batch.py``): required columns, lossless types, time zones, ids;
  a bad batch raises ``SchemaViolation`` naming the column and writes nothing;
* atomic (temporary file + rename in the partition folder) and idempotent: a file is named after
  the digest of its rows, so sending the same batch again (a retry) writes nothing new.

Why a library call and not a service: the serving code already has the rows, and a call that
only needs pyarrow (and pandas when it is handed a DataFrame) fits in a scoring job or a request
handler. This module imports neither MLflow, Great Expectations, Evidently, scikit-learn nor
Airflow (``tests/unit/test_serving_imports.py`` proves it).

Ids must be unique per model: monitoring quarantines a ``prediction_id`` seen twice in a window
(a retry of the same batch is safe; a *different* batch reusing ids is not).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftpilot.domain.config import ModelConfig, load_config
from driftpilot.domain.contracts import EVENT_TIME, LABEL_TIME
from driftpilot.domain.lake_layout import INFERENCE, LABELS, partition_key
from driftpilot.domain.log_batch import (
    LoggedFile,
    as_table,
    check_labels,
    check_predictions,
    split_by_day,
)

log = logging.getLogger(__name__)

__all__ = ["LoggedBatch", "LoggedFile", "log_labels", "log_predictions"]


@dataclass(frozen=True)
class LoggedBatch:
    """What one call logged: the files per partition day (``written`` False: already there)."""

    model: str
    kind: str  # "inference" or "labels"
    rows: int
    files: tuple[LoggedFile, ...]

    @property
    def rows_written(self) -> int:
        return sum(f.rows for f in self.files if f.written)


def log_predictions(lake: str | Path | None, model: str, rows: Any, *,
                    config: ModelConfig | str | Path | None = None,
                    features: Sequence[str] | None = None) -> LoggedBatch:
    """Append a batch of predictions of ``model`` to the lake at ``lake`` (``None``: ``$DRIFTPILOT_LAKE``).

    ``config`` (a ``ModelConfig`` or the path of the model's YAML) makes the features and score
    columns it names required and types the numeric features; ``features`` names columns that
    must be present when no config is at hand. ``model_name`` is filled with ``model`` if absent.
    """
    table = check_predictions(as_table(rows, f"predictions of {model}"), model,
                              config=_config(config), features=features)
    return _publish(lake, model, INFERENCE, table, EVENT_TIME)


def log_labels(lake: str | Path | None, model: str, rows: Any, *, source: str | None = None) -> LoggedBatch:
    """Append a batch of labels of ``model`` (``prediction_id``, ``label``, ``label_time``, ``source``).

    ``source`` fills the ``source`` column when the batch has none (e.g. ``"outcome"``).
    """
    table = check_labels(as_table(rows, f"labels of {model}"), model, source=source)
    return _publish(lake, model, LABELS, table, LABEL_TIME)


def _config(config: ModelConfig | str | Path | None) -> ModelConfig | None:
    if config is None or isinstance(config, ModelConfig):
        return config
    return load_config(Path(config))


def _lake_root(lake: str | Path | None) -> str | Path:
    if lake is not None:
        return lake  # as given: the composition root decides what it names (a URI is not a folder)
    from driftpilot.settings import load_settings

    return load_settings().lake


def _publish(lake: str | Path | None, model: str, kind: str, table: Any, time_column: str) -> LoggedBatch:
    """Every day of the (already checked) batch as one file of its partition.

    Checks ran on the whole batch before this point, so a bad batch writes nothing. Across the
    days of one batch each file is atomic on its own; a failure between two days leaves the
    first, and sending the batch again completes it without duplicating it.
    """
    from driftpilot.composition import build_lake_files

    files = build_lake_files(_lake_root(lake))
    logged = []
    for part in split_by_day(table, time_column):
        published = files.publish(partition_key(kind, model, part.day), part.table)
        logged.append(LoggedFile(part.day, published.key, published.location, part.table.num_rows, published.written))
        if not published.written:
            log.info("%s %s: %d row(s) of %s already logged as %s", model, kind, part.table.num_rows, part.day,
                     published.location)
    return LoggedBatch(model, kind, table.num_rows, tuple(logged))
