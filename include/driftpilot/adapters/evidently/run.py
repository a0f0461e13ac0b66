"""The Evidently calls: frames as Evidently should see them, reports built and run. The only
module that imports Evidently (0.7, new API), always inside a function: it costs ~6 s to import.

* **Explicit DataDefinition, always.** ``prediction_id`` is the id column and ``event_time`` the
  timestamp (the reference sample has neither, so it gets ``reference-<n>`` ids and times spread
  over the current window's span, used only for Evidently's time axes: Evidently refuses a
  column present in one dataset only, and empty times crash its regression error-over-time
  plot). The performance report adds the ``BinaryClassification`` / ``Regression`` block;
  binary labels and predictions are mapped to 1 (``config.positive_label``) / 0 so that ``1``,
  ``1.0`` and ``"1"`` are one class.
* **Quality report, light by default.** ``DataSummaryPreset`` builds a plotly figure for every
  statistic of every column and costs 2-3 s per window whatever the row count; the ``"light"``
  selection (``DatasetStats``, missing values per column, mean for numeric columns, category
  counts) gives the same missing-value and mean rows in ~1 s. ``"summary"`` keeps the preset.

Each ``*_report`` function returns a ``Rendered``: the snapshot as a strict-JSON dict and
Evidently's standalone page (not yet inert: ``render.inert_evidently_html`` does that).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from driftpilot.adapters.evidently.parse import json_safe
from driftpilot.adapters.evidently.plan import ColumnPlan
from driftpilot.domain.categories import category_key, category_keys
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import EVENT_TIME, PREDICTION, PREDICTION_ID, SCORE

QUALITY_LIGHT = "light"
QUALITY_SUMMARY = "summary"
REFERENCE_ID_PREFIX = "reference-"


@dataclass(frozen=True)
class RunContext:
    """What every report of one window shares: its time axis and the snapshot's labels."""

    timestamp: datetime | None
    span: tuple[pd.Timestamp, pd.Timestamp] | None
    metadata: Mapping[str, str]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Rendered:
    """One Evidently report: the snapshot (strict JSON) and its standalone HTML page."""

    snapshot: dict[str, Any]
    page: str


def time_span(frame: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    times = frame[EVENT_TIME].dropna()
    if times.empty:
        return None
    return pd.Timestamp(times.min()), pd.Timestamp(times.max())


def _positive_mask(values: pd.Series, positive: Any) -> pd.Series:
    """Which values are the positive class (``1``, ``1.0``, ``True`` and ``"1"`` compare equal)."""
    return category_keys(values) == category_key(positive)


def prepare(
    config: ModelConfig,
    frame: pd.DataFrame,
    plan: ColumnPlan,
    *,
    is_reference: bool,
    with_target: bool,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """The id, time, planned columns (and target) of ``frame``, typed for Evidently.

    The reference sample has no ids or times of its own: it gets ``reference-<n>`` ids and times
    spread evenly over ``span`` (the current window's), used only for Evidently's time axes (empty
    times crash its regression error-over-time plot and count as missing values).
    """
    out = pd.DataFrame(index=frame.index)
    if is_reference or PREDICTION_ID not in frame.columns:
        out[PREDICTION_ID] = [f"{REFERENCE_ID_PREFIX}{i:06d}" for i in range(len(frame))]
    else:
        out[PREDICTION_ID] = frame[PREDICTION_ID].astype(str).to_numpy()
    if EVENT_TIME in frame.columns and not is_reference:
        out[EVENT_TIME] = pd.to_datetime(frame[EVENT_TIME], utc=True)
    elif span is not None:
        out[EVENT_TIME] = pd.date_range(span[0], span[1], periods=len(frame)) if len(frame) > 1 else span[0]
    else:
        out[EVENT_TIME] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    binary = config.task is TaskType.BINARY
    for column in plan.numeric:
        out[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    for column in plan.categorical:
        values = frame[column]
        if column == PREDICTION and binary:
            out[column] = _binary_codes(values, config.positive_label)
        else:
            out[column] = category_keys(values)
    if with_target:
        target = frame[config.target]
        if binary:
            out[config.target] = _binary_codes(target, config.positive_label)
        elif config.task is TaskType.REGRESSION:
            out[config.target] = pd.to_numeric(target, errors="coerce").astype(float)
        else:
            out[config.target] = category_keys(target)
    return out.reset_index(drop=True)


def _binary_codes(values: pd.Series, positive: Any) -> pd.Series:
    """1 for the positive class, 0 for the other; missing values stay missing (then as objects)."""
    codes = _positive_mask(values, positive).astype(int)
    if values.notna().all():
        return codes
    return codes.astype(object).where(values.notna(), None)


def _definition(plan: ColumnPlan, columns: Sequence[str], task_block: Any | None = None,
                config: ModelConfig | None = None) -> Any:
    from evidently import DataDefinition

    numeric = [c for c in plan.numeric if c in columns]
    categorical = [c for c in plan.categorical if c in columns]
    kwargs: dict[str, Any] = {}
    if task_block is not None and config is not None:
        if config.task is TaskType.REGRESSION:
            kwargs["regression"] = [task_block]
        else:
            kwargs["classification"] = [task_block]
    return DataDefinition(
        id_column=PREDICTION_ID,
        timestamp=EVENT_TIME,
        numerical_columns=numeric,
        categorical_columns=categorical,
        **kwargs,
    )


def _run(report: Any, current: pd.DataFrame, reference: pd.DataFrame | None, definition: Any,
         ctx: RunContext) -> Rendered:
    from evidently import Dataset

    cur = Dataset.from_pandas(current, data_definition=definition)
    ref = Dataset.from_pandas(reference, data_definition=definition) if reference is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = report.run(
            current_data=cur,
            reference_data=ref,
            timestamp=ctx.timestamp,
            metadata=dict(ctx.metadata),
            tags=list(ctx.tags),
        )
        page = snapshot.get_html_str(as_iframe=False)
    return Rendered(dict(json_safe(json.loads(snapshot.json()))), page)


def drift_report(config: ModelConfig, plan: ColumnPlan, cur: pd.DataFrame, ref: pd.DataFrame,
                 ctx: RunContext) -> Rendered:
    """DataDriftPreset over the plan's drift-testable columns, methods pinned per column."""
    from evidently import Report
    from evidently.presets import DataDriftPreset

    spec = config.reports.evidently
    default_num, default_cat = spec.num_method, spec.cat_method
    per_column = {c: m for c, m in plan.methods.items() if m != (default_num if c in plan.numeric else default_cat)}
    report = Report(
        [
            DataDriftPreset(
                columns=list(plan.drift_columns),
                num_method=default_num,
                cat_method=default_cat,
                per_column_method=per_column or None,
                threshold=spec.threshold,
                drift_share=config.drift.share,
            )
        ],
        include_tests=True,
    )
    columns = [PREDICTION_ID, EVENT_TIME, *plan.drift_columns]
    return _run(report, cur[columns], ref[columns], _definition(plan, columns), ctx)


def _quality_metrics(plan: ColumnPlan, quality: str) -> list[Any]:
    from evidently.metrics import MeanValue, MissingValueCount, UniqueValueCount
    from evidently.presets import DatasetStats, DataSummaryPreset

    if quality == QUALITY_SUMMARY:
        return [DataSummaryPreset(columns=list(plan.columns))]
    return [
        DatasetStats(),
        *[MissingValueCount(column=c) for c in plan.columns],
        *[MeanValue(column=c) for c in plan.numeric],
        *[UniqueValueCount(column=c) for c in plan.categorical],
    ]


def quality_report(plan: ColumnPlan, cur: pd.DataFrame, ref: pd.DataFrame, ctx: RunContext,
                   quality: str) -> Rendered:
    """The data-quality report (``quality``: ``"light"`` or ``"summary"``)."""
    from evidently import Report

    columns = [PREDICTION_ID, EVENT_TIME, *plan.columns]
    report = Report(_quality_metrics(plan, quality), include_tests=True)
    return _run(report, cur[columns], ref[columns], _definition(plan, columns), ctx)


def _classes(frame: pd.DataFrame, target: str) -> set[str]:
    """The class keys of ``frame``'s labels and predictions."""
    return {str(v) for column in (target, PREDICTION) if column in frame.columns for v in frame[column].dropna().unique()}


def _multiclass_block(target: str, cur: pd.DataFrame, ref: pd.DataFrame | None) -> tuple[Any, pd.DataFrame | None]:
    """The classification block of a multiclass model's page, and the reference it can use.

    Two limits of Evidently 0.7 are worked around here, both found on covertype windows:

    * a dataset whose labels and predictions hold exactly two classes is computed as binary with
      ``pos_label=1`` (not settable on ``MulticlassClassification``), which raises ``KeyError``
      when the classes are keys such as ``"2"`` and ``"3"``: such a window is declared
      ``BinaryClassification`` with its first class as ``pos_label`` (the page still shows both
      classes), and the reference is kept only when it holds exactly the same two classes;
    * the per-class metrics (``F1ByLabel``, ...) look each current class up in the reference's
      result, so a class absent from the reference (a rare class missing from a retrained
      version's holdout) raises ``KeyError``: then the page is rendered for the current rows only.
    """
    from evidently import BinaryClassification, MulticlassClassification

    present = _classes(cur, target)
    known = _classes(ref, target) if ref is not None else set()
    if len(present) == 2:
        block: Any = BinaryClassification(target=target, prediction_labels=PREDICTION, pos_label=min(present))
        return block, ref if known == present else None
    block = MulticlassClassification(target=target, prediction_labels=PREDICTION)
    return block, ref if present <= known and len(known) != 2 else None


def performance_report(config: ModelConfig, plan: ColumnPlan, reference: pd.DataFrame,
                       labelled: pd.DataFrame, ctx: RunContext) -> tuple[Rendered, bool]:
    """Classification/Regression preset on the labelled rows; (report, with a reference)."""
    from evidently import BinaryClassification, MulticlassClassification, Regression, Report
    from evidently.presets import ClassificationPreset, RegressionPreset

    target = config.target
    block: Any
    preset: Any
    if config.task is TaskType.REGRESSION:
        block = Regression(target=target, prediction=PREDICTION)
        preset = RegressionPreset()
    elif config.task is TaskType.BINARY:
        block = BinaryClassification(
            target=target,
            prediction_labels=PREDICTION,
            prediction_probas=SCORE if SCORE in plan.numeric else None,
            pos_label=1,  # labels and predictions are mapped to 1 (positive) / 0
        )
        preset = ClassificationPreset()
    else:
        block = MulticlassClassification(target=target, prediction_labels=PREDICTION)
        preset = ClassificationPreset()
    cur = prepare(config, labelled, plan, is_reference=False, with_target=True)
    ref: pd.DataFrame | None = None
    if target in reference.columns and reference[target].notna().all():
        ref = prepare(config, reference, plan, is_reference=True, with_target=True, span=ctx.span)
    if config.task is TaskType.MULTICLASS:
        block, ref = _multiclass_block(target, cur, ref)
    # The prediction is declared by the task block; it stays out of the plain column lists.
    columns = [PREDICTION_ID, EVENT_TIME, *plan.columns, target]
    definition = _definition(plan.without(PREDICTION), columns, block, config)
    report = Report([preset], include_tests=True)
    rendered = _run(report, cur[columns], ref[columns] if ref is not None else None, definition, ctx)
    return rendered, ref is not None
