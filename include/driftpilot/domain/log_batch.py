"""A batch of predictions or labels as serving code sends it: checked, normalised, split by day.

The serving helper (``driftpilot.serving``) hands every batch to these functions before anything
is written, so a batch that breaks the data contract (``domain/contracts.py``) is refused whole
with a message that names the column and says what to do; nothing of it reaches the lake.

What a batch must hold, and what is normalised (only casts that lose nothing):

* ``prediction_id``: strings or integers (integers become strings), never null or blank, no id
  twice in one batch (monitoring would quarantine the repeats). Floats are refused: a pandas
  integer column with a missing value turns float, and ``12.0`` is not the id ``"12"``.
* ``event_time`` / ``label_time``: timestamps **with a time zone** (converted to UTC). A naive
  time is refused: the helper cannot know which zone the serving code meant.
* ``model_name`` (filled with the model when absent, else it must be the model),
  ``model_version`` (strings or integers, as strings), ``prediction`` (never null; numeric for a
  regression model), ``score``/``score_<class>``/``latency_ms`` as float64, numeric features as
  float64; categorical features keep their values (``domain/categories.py`` gives them one identity).
* labels: ``label`` never null (driftpilot never imputes labels), ``source`` a non-blank string,
  no ``(prediction_id, label_time, source)`` twice.

Rows are then split by the UTC day of their time column (a batch spanning midnight gives two
partitions) and put in a canonical order, so the same rows always make the same file.

Pure: pyarrow tables in, pyarrow tables out; no I/O.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from driftpilot.domain.categories import category_key
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import (
    EVENT_TIME,
    LABEL,
    LABEL_SOURCE,
    LABEL_TIME,
    LATENCY_MS,
    MODEL_NAME,
    MODEL_VERSION,
    PREDICTION,
    PREDICTION_ID,
    SCORE,
    inference_log_columns,
    score_columns,
)
from driftpilot.errors import SchemaViolation

EXAMPLES = 5  # offending values quoted in a message


@dataclass(frozen=True)
class DayBatch:
    """The rows of one partition day, in canonical order (time, then id)."""

    day: date
    table: pa.Table


@dataclass(frozen=True)
class LoggedFile:
    """One file the helper published (or found already published with the same content)."""

    day: date
    key: str  # lake-relative, e.g. inference/model=m/date=2026-01-10/part-<digest>.parquet
    path: str  # where it lives (a local path today)
    rows: int
    written: bool  # False: the same rows were logged before, nothing was written


# --------------------------------------------------------------------------------------------
# input -> Arrow table
# --------------------------------------------------------------------------------------------


def as_table(rows: Any, what: str) -> pa.Table:
    """``rows`` as an Arrow table: a ``pyarrow.Table`` / ``RecordBatch``, a pandas DataFrame
    (its index is not kept) or a sequence of mappings (one per row)."""
    try:
        if isinstance(rows, pa.Table):
            table = rows
        elif isinstance(rows, pa.RecordBatch):
            table = pa.Table.from_batches([rows])
        elif _is_dataframe(rows):
            table = pa.Table.from_pandas(rows, preserve_index=False)
        elif isinstance(rows, Sequence) and not isinstance(rows, (str, bytes)) and all(isinstance(r, Mapping) for r in rows):
            table = pa.Table.from_pylist([dict(r) for r in rows])
        else:
            raise SchemaViolation(
                f"{what}: expected a pyarrow Table, a pandas DataFrame or a list of dicts (one per row), "
                f"got {type(rows).__name__}"
            )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        # e.g. a column mixing numbers and text: Arrow's message names the column
        raise SchemaViolation(f"{what}: the rows cannot be read as one type per column: {exc}") from None
    return table.replace_schema_metadata(None)


def _is_dataframe(rows: Any) -> bool:
    """A pandas DataFrame, without importing pandas (a caller holding one has imported it)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(rows, pandas.DataFrame)


# --------------------------------------------------------------------------------------------
# column checks and casts
# --------------------------------------------------------------------------------------------


def _decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dictionary-encoded values (pandas ``category``) as their plain values."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def _is_scalar(kind: pa.DataType) -> bool:
    """One plain value per row: text, a number or a boolean (missing values allowed)."""
    return _is_text(kind) or _is_number(kind) or pa.types.is_boolean(kind) or pa.types.is_null(kind)


def _examples(values: pa.ChunkedArray | pa.Array) -> str:
    return ", ".join(repr(v) for v in values.slice(0, EXAMPLES).to_pylist())


def _require_columns(table: pa.Table, required: Sequence[str], what: str, hint: str = "") -> None:
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise SchemaViolation(
            f"{what}: missing required column(s) {missing}; it has {sorted(table.column_names)}.{hint}"
        )


def _set(table: pa.Table, name: str, column: pa.ChunkedArray | pa.Array) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, column)


def _no_nulls(column: pa.ChunkedArray, name: str, what: str, advice: str) -> None:
    # NaN is missing too: a float column built from a list of dicts or by pyarrow keeps NaN as a value
    nulls = int(pc.sum(pc.is_null(column, nan_is_null=True)).as_py() or 0) if len(column) else 0
    if nulls:
        raise SchemaViolation(f"{what}: column {name!r} has {nulls} missing value(s) of {len(column)}; {advice}")


def _id_column(column: pa.ChunkedArray, name: str, what: str) -> pa.ChunkedArray:
    """Ids as non-blank strings: text kept, integers written as text, anything else refused."""
    column = _decoded(column)
    if pa.types.is_integer(column.type) or pa.types.is_large_string(column.type):
        column = column.cast(pa.string())
    elif not _is_text(column.type):
        hint = (" (a pandas integer column with a missing value turns float: fill the missing ids first)"
                if pa.types.is_floating(column.type) else "")
        raise SchemaViolation(f"{what}: column {name!r} must hold strings or integers, got {column.type}{hint}")
    _no_nulls(column, name, what, "every row needs one")
    blank = pc.equal(pc.utf8_trim_whitespace(column), "")
    if pc.any(blank).as_py():
        count = pc.sum(pc.cast(blank, pa.int64())).as_py()
        raise SchemaViolation(f"{what}: column {name!r} has {count} blank value(s); every row needs a real id")
    return column


def _utc_time(column: pa.ChunkedArray, name: str, what: str) -> pa.ChunkedArray:
    """Timestamps with a time zone, converted to UTC (same unit); naive or non-time columns refused."""
    kind = column.type
    if not pa.types.is_timestamp(kind):
        raise SchemaViolation(
            f"{what}: column {name!r} must be a timestamp with a time zone, got {kind}; parse it first "
            f"(pandas: pd.to_datetime(df[{name!r}], utc=True))"
        )
    if kind.tz is None:
        raise SchemaViolation(
            f"{what}: column {name!r} has timestamps without a time zone ({kind}); say which zone they are in "
            f"(pandas: df[{name!r}].dt.tz_localize('UTC'), or your serving host's zone), so no row lands on the wrong day"
        )
    _no_nulls(column, name, what, "every row needs its time")
    # One unit whatever the sender used (a DataFrame brings ns, a list of dicts or a Table us): the
    # same rows make the same file, so a retry in another form is still recognised. ns holds any
    # coarser unit exactly.
    try:
        return column.cast(pa.timestamp("ns", tz="UTC"))
    except pa.ArrowInvalid as exc:  # beyond 1677-2262: no serving time is
        raise SchemaViolation(f"{what}: column {name!r} holds times outside 1677-2262 ({exc}); fix the clock or "
                              "the unit the times were written in") from None


def _float_column(column: pa.ChunkedArray, name: str, what: str) -> pa.ChunkedArray:
    """Numbers as float64 when the cast loses nothing (integers beyond 2**53 are refused by Arrow)."""
    column = _decoded(column)
    kind = column.type
    if pa.types.is_null(kind) or pa.types.is_boolean(kind) or _is_number(kind):
        try:
            return column.cast(pa.float64())  # safe cast: refuses values float64 cannot hold exactly
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise SchemaViolation(f"{what}: column {name!r} cannot be stored as float64 without loss: {exc}") from None
    raise SchemaViolation(f"{what}: column {name!r} must be numeric, got {kind}")


def _scalar_column(column: pa.ChunkedArray, name: str, what: str) -> pa.ChunkedArray:
    """A categorical value per row (text, number or boolean); all-missing columns become text."""
    column = _decoded(column)
    if pa.types.is_null(column.type):
        return column.cast(pa.string())
    if pa.types.is_large_string(column.type):
        return column.cast(pa.string())
    if not _is_scalar(column.type):
        raise SchemaViolation(f"{what}: column {name!r} must hold one text, number or boolean per row, got {column.type}")
    return column


def _no_duplicates(table: pa.Table, keys: list[str], what: str, advice: str) -> None:
    counts = table.select(keys).group_by(keys).aggregate([([], "count_all")])
    repeated = counts.filter(pc.greater(counts["count_all"], 1))
    if repeated.num_rows:
        shown = ", ".join(str(row if len(keys) > 1 else row[keys[0]])
                          for row in repeated.select(keys).slice(0, EXAMPLES).to_pylist())
        raise SchemaViolation(f"{what}: {repeated.num_rows} {'/'.join(keys)} value(s) appear more than once "
                              f"(e.g. {shown}); {advice}")


# --------------------------------------------------------------------------------------------
# predictions and labels
# --------------------------------------------------------------------------------------------


def check_predictions(table: pa.Table, model: str, *, config: ModelConfig | None = None,
                      features: Sequence[str] | None = None, what: str = "predictions") -> pa.Table:
    """The batch checked against the inference-log contract and normalised (see the module docstring).

    ``config`` (the model's config) makes its features and score columns required and types the
    numeric features; ``features`` adds names that must be present. Raises ``SchemaViolation``.
    """
    what = f"{what} of {model}"
    if config is not None and config.name != model:
        raise SchemaViolation(f"{what}: the config given is for model {config.name!r}; log under that name "
                              "or pass the right config")
    if MODEL_NAME not in table.column_names:
        table = table.append_column(MODEL_NAME, pa.array([model] * table.num_rows, pa.string()))
    base = [PREDICTION_ID, EVENT_TIME, MODEL_NAME, MODEL_VERSION, PREDICTION]
    required = inference_log_columns(config) if config is not None else base
    if config is not None and config.task is TaskType.MULTICLASS and config.classes:
        required = [*required, *score_columns(config, [k for k in (category_key(c) for c in config.classes) if k is not None])]
    required = [*required, *[f for f in features or () if f not in required]]
    hint = " If prediction_id is the DataFrame's index, reset_index() first." if PREDICTION_ID not in table.column_names else ""
    _require_columns(table, required, what, hint)
    table = _set(table, PREDICTION_ID, _id_column(table[PREDICTION_ID], PREDICTION_ID, what))
    table = _set(table, EVENT_TIME, _utc_time(table[EVENT_TIME], EVENT_TIME, what))
    table = _set(table, MODEL_VERSION, _id_column(table[MODEL_VERSION], MODEL_VERSION, what))
    names = _decoded(table[MODEL_NAME])
    if not _is_text(names.type):
        raise SchemaViolation(f"{what}: column {MODEL_NAME!r} must hold the model's name as text, got {names.type}")
    others = pc.drop_null(pc.filter(names, pc.not_equal(names, model)))
    if len(others) or names.null_count:
        shown = _examples(pc.unique(others)) if len(others) else "missing values"
        raise SchemaViolation(f"{what}: column {MODEL_NAME!r} must be {model!r} on every row, found {shown}; "
                              "log each model's rows under its own name")
    table = _set(table, MODEL_NAME, names.cast(pa.string()))

    prediction = _decoded(table[PREDICTION])
    _no_nulls(prediction, PREDICTION, what, "log a row only once the model has answered")
    if config is not None and config.task is TaskType.REGRESSION:
        prediction = _float_column(prediction, PREDICTION, what)
    else:
        prediction = _scalar_column(prediction, PREDICTION, what)
    table = _set(table, PREDICTION, prediction)

    numeric = set(config.features.numeric) if config is not None else set()
    multiclass = config is not None and config.task is TaskType.MULTICLASS
    for name in table.column_names:
        class_score = name.startswith(f"{SCORE}_") and (multiclass or _is_number(_decoded(table[name]).type))
        if name in (SCORE, LATENCY_MS) or class_score or name in numeric:
            table = _set(table, name, _float_column(table[name], name, what))
        elif name in (features or ()) or (config is not None and name in config.features.categorical):
            table = _set(table, name, _scalar_column(table[name], name, what))
    _no_duplicates(table, [PREDICTION_ID], what,
                   "each prediction needs its own id (monitoring would quarantine the repeats)")
    return table


def check_labels(table: pa.Table, model: str, *, source: str | None = None, what: str = "labels") -> pa.Table:
    """The batch checked against the label contract and normalised (see the module docstring).

    ``source`` fills the ``source`` column when the batch has none (e.g. ``"outcome"``).
    """
    what = f"{what} of {model}"
    if LABEL_SOURCE not in table.column_names and source is not None:
        if not source.strip():
            raise SchemaViolation(f"{what}: source must name where the labels come from, e.g. 'outcome'")
        table = table.append_column(LABEL_SOURCE, pa.array([source] * table.num_rows, pa.string()))
    hint = "" if LABEL_SOURCE in table.column_names else " Pass source='outcome' (or the label's origin) to fill it."
    _require_columns(table, [PREDICTION_ID, LABEL, LABEL_TIME, LABEL_SOURCE], what, hint)
    table = _set(table, PREDICTION_ID, _id_column(table[PREDICTION_ID], PREDICTION_ID, what))
    table = _set(table, LABEL_TIME, _utc_time(table[LABEL_TIME], LABEL_TIME, what))
    label = _decoded(table[LABEL])
    _no_nulls(label, LABEL, what, "send a label only once it is known (driftpilot never fills in labels)")
    table = _set(table, LABEL, _scalar_column(label, LABEL, what))
    sources = _decoded(table[LABEL_SOURCE])
    if not _is_text(sources.type):
        raise SchemaViolation(f"{what}: column {LABEL_SOURCE!r} must be text (e.g. 'outcome', 'correction'), got {sources.type}")
    table = _set(table, LABEL_SOURCE, _id_column(sources, LABEL_SOURCE, what))
    _no_duplicates(table, [PREDICTION_ID, LABEL_TIME, LABEL_SOURCE], what,
                   "a label of one prediction at one time from one source is sent once")
    return table


CANONICAL_FIRST = (PREDICTION_ID, EVENT_TIME, MODEL_NAME, MODEL_VERSION, PREDICTION, SCORE,
                   LABEL, LABEL_TIME, LABEL_SOURCE, LATENCY_MS)


def split_by_day(table: pa.Table, time_column: str) -> list[DayBatch]:
    """The batch's rows per UTC day of ``time_column`` (already UTC), each in canonical order.

    Canonical order of rows (time, then id, then source for labels) and of columns (the contract's
    first, the others by name) makes the file of a given set of rows the same bytes whatever
    order the serving code sent them in: a retry that rebuilt its frame is still recognised.
    """
    if table.num_rows == 0:
        return []
    first = [c for c in CANONICAL_FIRST if c in table.column_names]
    table = table.select([*first, *sorted(c for c in table.column_names if c not in first)])
    # The UTC day of each row, whatever the unit (a pandas frame brings nanoseconds): the day is
    # only computed here, the rows keep their times as sent.
    days = pc.cast(pc.cast(table[time_column], pa.timestamp("us", tz="UTC"), safe=False), pa.date32())
    keyed = table.append_column("__day", days)
    keys = [(time_column, "ascending"), (PREDICTION_ID, "ascending")]
    keys += [(c, "ascending") for c in (LABEL_SOURCE,) if c in table.column_names and time_column == LABEL_TIME]
    out = []
    for day in sorted(pc.unique(days).to_pylist()):
        rows = keyed.filter(pc.equal(keyed["__day"], pa.scalar(day, pa.date32()))).drop_columns(["__day"])
        rows = rows.take(pc.sort_indices(rows, sort_keys=keys))
        out.append(DayBatch(day, rows.combine_chunks()))
    return out
