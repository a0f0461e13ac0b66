"""Window validation with Great Expectations: accept good rows, quarantine bad ones with a reason.

The only module that imports ``great_expectations`` (lazily: it costs ~5 s to import). The rest
of driftpilot talks to ``ValidationResult``.

How a window is judged
----------------------
The expectation suite is *derived*, never hand-written: from the model's contract
(``contracts.inference_log_columns``) and the champion's baseline profile
(``profile.build_profile``). Each rule has an **action**:

* ``quarantine``: rows failing it are moved to quarantine with a reason;
* ``report``: rows failing it are counted in the summary and **kept**. These are drift
  signals, not bad data; the drift step bins them (outer bins, unseen bucket) and judges them.

Rules, in the order they appear in reasons:

1. **Schema** (whole file, checked with pandas because GX's type checks do not recognise
   tz-aware timestamps or pandas' nullable dtypes): every contract column present; numeric
   features, ``score`` (binary) and the regression ``prediction`` of a numeric dtype;
   ``event_time`` a datetime. A failure quarantines **every** row of the window with a reason
   naming the column and the problem (a missing column names the unexpected columns that may be
   its new name), and the window fails: nothing is lost, nothing half-validated goes on.
2. **Required values**: ``prediction_id``, ``event_time``, ``model_name``, ``model_version``,
   ``prediction`` and the score columns are never null; ``model_name`` is this model; the
   binary ``score`` lies in [0, 1]; ``latency_ms`` (when logged) is not negative.
3. **Unique ids**: a repeated ``prediction_id`` keeps its first row; the repeats are quarantined
   (GX flags every copy; we keep the first so that a replayed batch loses nothing).
4. **Window**: ``event_time`` in ``[window_start, window_end)``.
5. **Feature nulls**: a feature may be missing in up to ``reference missing share +
   quality.max_failed_row_share`` of the rows (GX ``mostly``). Below that the rows are kept (the
   model imputes them; drift counts them); above it the expectation fails and every null row of
   that column is quarantined, which for a column complete in the reference means the window
   fails as well: a logging break, not a few gaps.
6. **Unseen categories**: same policy with an allowance of ``quality.max_failed_row_share``:
   a few new categories are drift (reported with their count), a flood of them is an incident.
7. **Numeric ranges**, two tiers:

   * *expected range* (``report``): the reference ``[low, high]`` widened by
     ``quality.numeric_tolerance`` x span, or x ``max(|value|, 1)`` for a column that was
     constant in the reference. Values outside it are counted, never quarantined: Elec2's
     ``vicprice`` is a constant fill in the reference and real prices later, which is the drift
     we must detect, not rows to throw away.
   * *plausible range* (``quarantine``): only values that cannot be real are quarantined:
     non-finite values, sentinels (-999999, 1e9) and unit errors, i.e. values more than
     ``PLAUSIBLE_MAGNITUDES`` (10) reference magnitudes beyond the reference range, the magnitude
     being ``max(span, |low|, |high|, 1)``. Known physical limits can be given per column with
     ``plausible_bounds`` (e.g. ``{"AGEP": (0, 130)}``), which replace the derived bound.

A rule with a ``mostly`` allowance quarantines its failing rows only when the expectation as a
whole fails; otherwise they are reported in the summary.

Accounting: ``rows_read == rows_accepted + rows_quarantined`` always (asserted). A window fails
(``failed`` with a ``failure_message`` naming expectations, columns and counts) when its
quarantined share exceeds ``quality.max_failed_row_share`` or it broke the schema; the caller
decides, usually with ``raise_if_failed``.

Validation docs
---------------
GX's own Data Docs are not used: an ephemeral context builds them in a random temporary folder,
and the page renderer emits random element ids, CDN assets and links into a site index, so the
page is neither self-contained nor reproducible. Instead ``docs_dir`` gets two files with fixed
names: ``validation.html`` (a self-contained page rendered here from the GX results) and
``validation.json`` (our summary plus GX's own result document, unexpected lists cut to 20).
"""

from __future__ import annotations

import html
import logging
import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftpilot.adapters import parquet_lake as storage
from driftpilot.domain.categories import ClassSet, category_keys
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import (
    EVENT_TIME,
    LATENCY_MS,
    MODEL_NAME,
    MODEL_VERSION,
    PREDICTION,
    PREDICTION_ID,
    inference_log_columns,
    score_columns,
)
from driftpilot.errors import DataQualityFailure

log = logging.getLogger(__name__)

QUARANTINE_REASON = "quarantine_reason"
PLAUSIBLE_MAGNITUDES = 10.0
DOCS_HTML = "validation.html"
DOCS_JSON = "validation.json"
QUARANTINE_FILE = "part-0.parquet"
QUARANTINE_SUMMARY = "summary.json"
_DOCS_LIST_LIMIT = 20

# GX expectation names used in rules and reasons.
EXPECT_EXIST = "expect_column_to_exist"
EXPECT_TYPE = "expect_column_values_to_be_in_type_list"
EXPECT_NOT_NULL = "expect_column_values_to_not_be_null"
EXPECT_BETWEEN = "expect_column_values_to_be_between"
EXPECT_IN_SET = "expect_column_values_to_be_in_set"
EXPECT_UNIQUE = "expect_column_values_to_be_unique"


class Action(StrEnum):
    QUARANTINE = "quarantine"  # failing rows go to quarantine
    REPORT = "report"  # failing rows are counted and kept (drift, not bad data)


# --------------------------------------------------------------------------------------------
# Specification (pure)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One row-level expectation: a GX expectation type, its column and kwargs, and an action."""

    rule_id: str
    expectation: str
    column: str
    kwargs: Mapping[str, Any]
    action: Action
    note: str = ""

    @property
    def label(self) -> str:
        """How the rule appears in a quarantine reason: ``expectation(column)``."""
        return f"{self.expectation}({self.column})"

    @property
    def mostly(self) -> float:
        return float(self.kwargs.get("mostly", 1.0))


@dataclass(frozen=True)
class SchemaProblem:
    """A whole-file failure: the column is missing or has the wrong dtype."""

    expectation: str
    column: str
    problem: str

    @property
    def reason(self) -> str:
        return f"{self.expectation}({self.column}): {self.problem}"


def expected_range(low: float, high: float, tolerance: float) -> tuple[float, float]:
    """The reference range widened by ``tolerance`` x span (x ``max(|value|, 1)`` if constant)."""
    span = high - low
    scale = span if span > 0 else max(abs(low), abs(high), 1.0)
    return low - tolerance * scale, high + tolerance * scale


def plausible_range(low: float, high: float, magnitudes: float = PLAUSIBLE_MAGNITUDES) -> tuple[float, float]:
    """Values beyond this cannot be real data (sentinels, unit errors, overflow): quarantined."""
    scale = max(high - low, abs(low), abs(high), 1.0)
    return low - magnitudes * scale, high + magnitudes * scale


def allowed_null_share(column_profile: Mapping[str, Any] | None, max_failed_row_share: float) -> float:
    """Share of missing values a feature may have before its null rows are quarantined."""
    reference_share = 0.0
    if column_profile:
        total = int(column_profile.get("count", 0)) + int(column_profile.get("missing", 0))
        if total > 0:
            reference_share = int(column_profile.get("missing", 0)) / total
    return min(1.0, reference_share + max_failed_row_share)


def _mostly(share_allowed: float) -> dict[str, float]:
    """GX ``mostly`` kwarg for an allowed failing share (omitted when nothing is allowed)."""
    mostly = round(1.0 - share_allowed, 6)
    return {"mostly": mostly} if mostly < 1.0 else {}


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _required_non_null(config: ModelConfig) -> list[str]:
    return [PREDICTION_ID, EVENT_TIME, MODEL_NAME, MODEL_VERSION, PREDICTION, *score_columns(config)]


def _numeric_contract_columns(config: ModelConfig) -> list[str]:
    columns = list(config.features.numeric) + score_columns(config)
    if config.task is TaskType.REGRESSION:
        columns.append(PREDICTION)
    return columns


def build_rules(
    config: ModelConfig,
    profile: Mapping[str, Any],
    window_start: datetime,
    window_end: datetime,
    *,
    plausible_bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    optional_columns: Sequence[str] = (),
    classes: ClassSet | None = None,
) -> list[Rule]:
    """The row-level rules of a window, derived from the contract and the baseline ``profile``.

    ``optional_columns`` are non-contract columns present in the frame that have rules of their
    own (``latency_ms``). Order matters: it is the order of reasons in ``quarantine_reason``.
    """
    quality = config.quality
    columns_profile: Mapping[str, Any] = profile.get("columns", {})
    predictions_profile: Mapping[str, Any] = profile.get("predictions", {})
    bounds = dict(plausible_bounds or {})
    rules: list[Rule] = []

    for column in _required_non_null(config):
        rules.append(Rule(f"not_null:{column}", EXPECT_NOT_NULL, column, {}, Action.QUARANTINE, "required"))
    rules.append(
        Rule(f"in_set:{MODEL_NAME}", EXPECT_IN_SET, MODEL_NAME, {"value_set": [config.name]},
             Action.QUARANTINE, "rows of another model")
    )
    rules.append(Rule(f"unique:{PREDICTION_ID}", EXPECT_UNIQUE, PREDICTION_ID, {}, Action.QUARANTINE,
                      "repeats quarantined, first occurrence kept"))
    rules.append(
        Rule(
            f"window:{EVENT_TIME}", EXPECT_BETWEEN, EVENT_TIME,
            {"min_value": _as_utc(window_start), "max_value": _as_utc(window_end), "strict_max": True},
            Action.QUARANTINE, "event_time inside [window_start, window_end)",
        )
    )
    if config.task is TaskType.BINARY:
        for column in score_columns(config):
            rules.append(Rule(f"plausible:{column}", EXPECT_BETWEEN, column, {"min_value": 0.0, "max_value": 1.0},
                              Action.QUARANTINE, "a probability"))
    if LATENCY_MS in optional_columns:
        rules.append(Rule(f"plausible:{LATENCY_MS}", EXPECT_BETWEEN, LATENCY_MS, {"min_value": 0.0},
                          Action.QUARANTINE, "not negative"))

    for column in config.features.all:
        share = allowed_null_share(columns_profile.get(column), quality.max_failed_row_share)
        rules.append(Rule(f"not_null:{column}", EXPECT_NOT_NULL, column, _mostly(share), Action.QUARANTINE,
                          f"up to {share:.1%} missing allowed"))

    numeric_profiles: list[tuple[str, Mapping[str, Any]]] = [
        (c, columns_profile[c]) for c in config.features.numeric if c in columns_profile
    ]
    if config.task is TaskType.REGRESSION and PREDICTION in predictions_profile:
        numeric_profiles.append((PREDICTION, predictions_profile[PREDICTION]))
    for column, col_profile in numeric_profiles:
        low, high = col_profile.get("low"), col_profile.get("high")
        if column in bounds:
            lo, hi = bounds[column]
            kwargs = {k: float(v) for k, v in (("min_value", lo), ("max_value", hi)) if v is not None}
            rules.append(Rule(f"plausible:{column}", EXPECT_BETWEEN, column, kwargs, Action.QUARANTINE,
                              "configured physical bounds"))
        elif low is not None and high is not None:
            p_low, p_high = plausible_range(float(low), float(high))
            rules.append(Rule(f"plausible:{column}", EXPECT_BETWEEN, column,
                              {"min_value": p_low, "max_value": p_high}, Action.QUARANTINE,
                              f"more than {PLAUSIBLE_MAGNITUDES:g} reference magnitudes out"))
        if low is not None and high is not None:
            e_low, e_high = expected_range(float(low), float(high), quality.numeric_tolerance)
            rules.append(Rule(f"expected:{column}", EXPECT_BETWEEN, column,
                              {"min_value": e_low, "max_value": e_high}, Action.REPORT,
                              f"reference range +/- {quality.numeric_tolerance:g} x span: drift signal"))

    for column in config.features.categorical:
        cat_profile = columns_profile.get(column)
        if not cat_profile or not cat_profile.get("frequencies"):
            continue
        known = sorted(str(k) for k in cat_profile["frequencies"])
        rules.append(Rule(f"known:{column}", EXPECT_IN_SET, column,
                          {"value_set": known, **_mostly(quality.max_failed_row_share)}, Action.QUARANTINE,
                          f"unseen categories allowed up to {quality.max_failed_row_share:.1%}"))
    if config.task is not TaskType.REGRESSION:
        pred_profile = predictions_profile.get(PREDICTION) or {}
        known = sorted({*map(str, pred_profile.get("frequencies", {})), *(classes.keys if classes else ())})
        if known:
            rules.append(Rule(f"known:{PREDICTION}", EXPECT_IN_SET, PREDICTION, {"value_set": known},
                              Action.REPORT, "classes of the model"))
    return rules


def schema_problems(frame: pd.DataFrame, config: ModelConfig) -> list[SchemaProblem]:
    """Whole-file failures of ``frame``: missing contract columns and wrong dtypes."""
    problems: list[SchemaProblem] = []
    required = inference_log_columns(config)
    present = [str(c) for c in frame.columns]
    missing = [c for c in required if c not in present]
    known = set(required) | {LATENCY_MS, *config.segments}
    extra = [c for c in present if c not in known]
    for column in missing:
        hint = f"; unexpected column(s) present: {', '.join(extra)} (renamed?)" if extra else ""
        problems.append(SchemaProblem(EXPECT_EXIST, column, f"column missing{hint}"))
    for column in _numeric_contract_columns(config):
        if column in present:
            series = frame[column]
            if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
                strings = int(series.map(lambda v: isinstance(v, str)).sum())
                detail = f" ({strings} of {len(series)} values are strings)" if strings else ""
                problems.append(SchemaProblem(EXPECT_TYPE, column, f"dtype {series.dtype}{detail}, expected numeric"))
    if EVENT_TIME in present and not pd.api.types.is_datetime64_any_dtype(frame[EVENT_TIME]):
        problems.append(SchemaProblem(EXPECT_TYPE, EVENT_TIME, f"dtype {frame[EVENT_TIME].dtype}, expected a UTC timestamp"))
    return problems


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectationOutcome:
    """The outcome of one rule (or schema check) on a window."""

    rule_id: str
    expectation_type: str
    column: str
    action: str
    success: bool
    evaluated: bool  # False when the column was missing or broken and the rule could not run
    unexpected_count: int | None
    unexpected_share: float | None
    quarantined_rows: int
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "type": self.expectation_type,
            "column": self.column,
            "action": self.action,
            "success": self.success,
            "evaluated": self.evaluated,
            "unexpected_count": self.unexpected_count,
            "unexpected_share": self.unexpected_share,
            "quarantined_rows": self.quarantined_rows,
            "detail": self.detail,
        }


@dataclass(frozen=True, eq=False)
class ValidationResult:
    """Accepted and quarantined rows of one window, with the per-expectation summary."""

    model: str
    window_start: datetime
    window_end: datetime
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    accepted: pd.DataFrame
    quarantined: pd.DataFrame  # the original columns + ``quarantine_reason``
    expectations: tuple[ExpectationOutcome, ...]
    schema_problems: tuple[str, ...]
    max_failed_row_share: float
    failed: bool
    failure_message: str
    notes: tuple[str, ...] = ()  # report-only findings (drift signals), one line each
    reason_counts: Mapping[str, int] = field(default_factory=dict)  # label -> quarantined rows
    docs_path: Path | None = None
    files_quarantined: tuple[Mapping[str, Any], ...] = ()  # unreadable files: path, reason, bytes

    @property
    def quarantined_share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0

    def to_summary(self) -> dict[str, Any]:
        """A JSON-ready summary (no rows)."""
        return {
            "model": self.model,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_quarantined": self.rows_quarantined,
            "quarantined_share": round(self.quarantined_share, 6),
            "max_failed_row_share": self.max_failed_row_share,
            "failed": self.failed,
            "failure_message": self.failure_message,
            "schema_problems": list(self.schema_problems),
            "reason_counts": dict(self.reason_counts),
            "notes": list(self.notes),
            "expectations": [e.to_dict() for e in self.expectations],
            "docs_path": str(self.docs_path) if self.docs_path else None,
            "files_quarantined": [dict(f) for f in self.files_quarantined],
            "bytes_quarantined": sum(int(f.get("bytes", 0)) for f in self.files_quarantined),
        }


# --------------------------------------------------------------------------------------------
# Accounting (pure)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRun:
    """What the engine said about one rule: success, unexpected count and failing row positions."""

    success: bool
    evaluated: bool
    unexpected_count: int | None
    unexpected_rows: Sequence[int]
    element_count: int | None = None


def rows_to_quarantine(rule: Rule, run: RuleRun, frame: pd.DataFrame) -> np.ndarray:
    """Row positions ``rule`` quarantines, given its ``run`` on ``frame`` (RangeIndex)."""
    if rule.action is not Action.QUARANTINE or not run.evaluated or run.success:
        return np.empty(0, dtype=np.int64)
    positions = np.asarray(sorted(set(run.unexpected_rows)), dtype=np.int64)
    if rule.expectation == EXPECT_UNIQUE and positions.size:
        repeats = frame[rule.column].duplicated(keep="first").to_numpy()
        positions = positions[repeats[positions]]
    return positions


def reasons_per_row(
    n_rows: int, schema: Sequence[SchemaProblem], flagged: Sequence[tuple[str, np.ndarray]]
) -> list[str]:
    """``quarantine_reason`` of every row ("" = accepted): schema reasons, then rule labels."""
    prefix = [p.reason for p in schema]
    per_row: dict[int, list[str]] = {}
    for label, positions in flagged:
        for position in positions.tolist():
            labels = per_row.setdefault(position, [])
            if label not in labels:
                labels.append(label)
    if not prefix and not per_row:
        return [""] * n_rows
    return ["; ".join(prefix + per_row.get(row, [])) for row in range(n_rows)]


def split_rows(frame: pd.DataFrame, reasons: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(accepted, quarantined + reason), both in the original row order."""
    mask = np.asarray([bool(r) for r in reasons], dtype=bool)
    accepted = frame.loc[~mask].reset_index(drop=True)
    quarantined = frame.loc[mask].reset_index(drop=True)
    quarantined[QUARANTINE_REASON] = [r for r in reasons if r]
    if len(frame) != len(accepted) + len(quarantined):  # pragma: no cover - an invariant
        raise AssertionError("validation lost rows: read != accepted + quarantined")
    return accepted, quarantined


def failure_message(
    model: str,
    window_start: datetime,
    rows_read: int,
    rows_quarantined: int,
    max_share: float,
    schema: Sequence[SchemaProblem],
    reason_counts: Mapping[str, int],
) -> str:
    """Why a window failed, naming columns, expectations and row counts ('' when it did not)."""
    share = rows_quarantined / rows_read if rows_read else 0.0
    if not schema and share <= max_share:
        return ""
    head = (
        f"{model} window {window_start.isoformat()}: {rows_quarantined} of {rows_read} rows "
        f"({share:.1%}) quarantined"
    )
    if schema:
        head += "; the file breaks the inference-log schema: " + "; ".join(p.reason for p in schema)
    else:
        head += f", above quality.max_failed_row_share {max_share:g}"
    if reason_counts:
        worst = sorted(reason_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        head += ". Failed expectations: " + ", ".join(f"{label} {count} rows" for label, count in worst)
    return head + ". The rows are in the quarantine partition with their reasons."


# --------------------------------------------------------------------------------------------
# Great Expectations adapter
# --------------------------------------------------------------------------------------------

_GX: dict[str, Any] = {}
_RULE_META = "driftpilot_rule"
_RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "return_unexpected_index_query": False,
    "partial_unexpected_count": _DOCS_LIST_LIMIT,
}


def _gx_batch_definition() -> Any:
    """One ephemeral GX context per process (creating it is slow), progress bars off."""
    if "batch_definition" not in _GX:
        os.environ["GX_ANALYTICS_ENABLED"] = "false"
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        source = context.data_sources.add_or_update_pandas("driftpilot")
        asset = source.add_dataframe_asset("window")
        _GX["context"] = context
        _GX["batch_definition"] = asset.add_batch_definition_whole_dataframe("whole_window")
    return _GX["batch_definition"]


def _gx_expectation(rule: Rule) -> Any:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    classes = {
        EXPECT_NOT_NULL: gxe.ExpectColumnValuesToNotBeNull,
        EXPECT_BETWEEN: gxe.ExpectColumnValuesToBeBetween,
        EXPECT_IN_SET: gxe.ExpectColumnValuesToBeInSet,
        EXPECT_UNIQUE: gxe.ExpectColumnValuesToBeUnique,
    }
    severity = FailureSeverity.CRITICAL if rule.action is Action.QUARANTINE else FailureSeverity.WARNING
    return classes[rule.expectation](
        column=rule.column,
        **dict(rule.kwargs),
        meta={_RULE_META: rule.rule_id, "action": rule.action.value, "note": rule.note},
        severity=severity,
    )


def run_gx(frame: pd.DataFrame, rules: Sequence[Rule], suite_name: str) -> tuple[dict[str, RuleRun], dict[str, Any]]:
    """Run ``rules`` on ``frame`` (RangeIndex) with GX: per-rule runs and GX's result document."""
    import great_expectations as gx

    batch_definition = _gx_batch_definition()
    suite = gx.ExpectationSuite(name=suite_name, expectations=[_gx_expectation(r) for r in rules])
    # Only the columns the rules read, in consolidated blocks: GX's pandas engine copies and
    # re-consolidates the frame for every metric, which dominates the cost on large windows.
    columns = list(dict.fromkeys(r.column for r in rules))
    data = pd.DataFrame({c: frame[c] for c in columns}, index=frame.index).copy()
    batch = batch_definition.get_batch(batch_parameters={"dataframe": data})
    result = batch.validate(suite, result_format=_RESULT_FORMAT)
    runs: dict[str, RuleRun] = {}
    for item in result.results:
        rule_id = (item.expectation_config.meta or {}).get(_RULE_META)
        if rule_id is None:
            continue
        raised = bool((item.exception_info or {}).get("raised_exception"))
        payload = item.result or {}
        count = payload.get("unexpected_count")
        runs[str(rule_id)] = RuleRun(
            success=bool(item.success),
            evaluated=not raised and count is not None,
            unexpected_count=None if count is None else int(count),
            unexpected_rows=[int(i) for i in payload.get("unexpected_index_list") or []],
            element_count=payload.get("element_count"),
        )
    return runs, _trim_lists(result.to_json_dict())


def _trim_lists(payload: Any) -> Any:
    """GX's result document with every list cut to ``_DOCS_LIST_LIMIT`` items (docs stay small)."""
    if isinstance(payload, dict):
        return {k: _trim_lists(v) for k, v in payload.items()}
    if isinstance(payload, list):
        return [_trim_lists(v) for v in payload[:_DOCS_LIST_LIMIT]]
    return payload


def _prepare(frame: pd.DataFrame, config: ModelConfig, broken: set[str]) -> pd.DataFrame:
    """The frame GX sees: RangeIndex, categories as canonical keys (like the profile), UTC times."""
    out = frame.reset_index(drop=True).copy()
    # ids too: id 1 from one writer and "1" from another are one prediction, hence a repeat
    as_keys = [PREDICTION_ID, *config.features.categorical]
    if config.task is not TaskType.REGRESSION:
        as_keys.append(PREDICTION)
    for column in as_keys:
        if column in out.columns and column not in broken:
            out[column] = category_keys(out[column])
    if EVENT_TIME in out.columns and EVENT_TIME not in broken:
        times = out[EVENT_TIME]
        out[EVENT_TIME] = times.dt.tz_localize("UTC") if times.dt.tz is None else times.dt.tz_convert("UTC")
    return out


# --------------------------------------------------------------------------------------------
# Service
# --------------------------------------------------------------------------------------------


def validate_window(
    frame: pd.DataFrame,
    config: ModelConfig,
    profile: Mapping[str, Any],
    window_start: datetime,
    window_end: datetime,
    docs_dir: Path | None,
    *,
    plausible_bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    classes: ClassSet | None = None,
    pre_flagged: Sequence[tuple[str, np.ndarray]] = (),
    files_quarantined: Sequence[Mapping[str, Any]] = (),
) -> ValidationResult:
    """Validate one window's inference log against the contract and the baseline ``profile``.

    Returns accepted rows, quarantined rows with ``quarantine_reason``, a per-expectation
    summary and counts (``rows_read == rows_accepted + rows_quarantined``). Never raises for bad
    data: a failed window is reported in ``failed`` / ``failure_message`` (see
    ``raise_if_failed``). When ``docs_dir`` is given, ``validation.html`` and
    ``validation.json`` are written into it.

    ``pre_flagged`` are rows the caller already knows to quarantine (rows of a model version
    without a baseline), as ``(reason, row positions)``; ``files_quarantined`` are the window's
    files that could not be read, shown in the summary and the page (their rows are unknown).
    """
    source = frame.reset_index(drop=True)
    n_rows = len(source)
    schema = schema_problems(source, config)
    broken = {p.column for p in schema}
    optional = [c for c in (LATENCY_MS,) if c in source.columns]
    all_rules = build_rules(config, profile, window_start, window_end,
                            plausible_bounds=plausible_bounds, optional_columns=optional, classes=classes)
    runnable = [r.column in source.columns and r.column not in broken for r in all_rules]
    rules = [r for r, ok in zip(all_rules, runnable, strict=True) if ok]
    skipped = [r for r, ok in zip(all_rules, runnable, strict=True) if not ok]
    prepared = _prepare(source, config, broken)
    gx_document: dict[str, Any] = {}
    runs: dict[str, RuleRun] = {}
    if rules and n_rows:
        runs, gx_document = run_gx(prepared, rules, f"driftpilot.{config.name}")

    flagged: list[tuple[str, np.ndarray]] = [(label, np.asarray(rows, dtype=np.int64))
                                             for label, rows in pre_flagged if len(rows)]
    outcomes: list[ExpectationOutcome] = [
        ExpectationOutcome(f"schema:{p.column}", p.expectation, p.column, Action.QUARANTINE.value, False, True,
                           n_rows, 1.0 if n_rows else None, n_rows, p.problem)
        for p in schema
    ]
    notes: list[str] = []
    for rule in rules:
        run = runs.get(rule.rule_id, RuleRun(success=True, evaluated=False, unexpected_count=None, unexpected_rows=[]))
        positions = rows_to_quarantine(rule, run, prepared)
        if positions.size:
            flagged.append((rule.label, positions))
        count = run.unexpected_count
        share = (count / n_rows) if (count is not None and n_rows) else None
        outcomes.append(ExpectationOutcome(
            rule.rule_id, rule.expectation, rule.column, rule.action.value, run.success, run.evaluated,
            count, share, int(positions.size), _describe(rule),
        ))
        if count and positions.size == 0:
            kept = "kept as drift" if rule.action is Action.REPORT else "kept, within the allowed share"
            notes.append(f"{rule.label} [{rule.rule_id}]: {count} of {n_rows} rows unexpected ({_describe(rule)}); {kept}")
    for rule in skipped:
        outcomes.append(ExpectationOutcome(
            rule.rule_id, rule.expectation, rule.column, rule.action.value, False, False, None, None, 0,
            "not evaluated: column missing or of the wrong dtype",
        ))

    reasons = reasons_per_row(n_rows, schema, flagged)
    accepted, quarantined = split_rows(source, reasons)
    reason_counts: Counter[str] = Counter()
    for p in schema:
        reason_counts[f"{p.expectation}({p.column})"] += n_rows
    for label, positions in flagged:
        reason_counts[label] += int(positions.size)
    message = failure_message(config.name, _as_utc(window_start), n_rows, len(quarantined),
                              config.quality.max_failed_row_share, schema, reason_counts)
    if n_rows != len(accepted) + len(quarantined):  # pragma: no cover - an invariant
        raise AssertionError("validation lost rows")
    result = ValidationResult(
        model=config.name,
        window_start=_as_utc(window_start),
        window_end=_as_utc(window_end),
        rows_read=n_rows,
        rows_accepted=len(accepted),
        rows_quarantined=len(quarantined),
        accepted=accepted,
        quarantined=quarantined,
        expectations=tuple(outcomes),
        schema_problems=tuple(p.reason for p in schema),
        max_failed_row_share=config.quality.max_failed_row_share,
        failed=bool(message) and n_rows > 0,
        failure_message=message if n_rows > 0 else "",
        notes=tuple(notes),
        reason_counts=dict(sorted(reason_counts.items())),
        docs_path=(docs_dir / DOCS_HTML) if docs_dir is not None else None,
        files_quarantined=tuple(files_quarantined),
    )
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    if docs_dir is not None:
        write_docs(result, gx_document, docs_dir)
    log.info("validated %s window %s: %d read, %d accepted, %d quarantined%s", config.name,
             result.window_start.date(), n_rows, result.rows_accepted, result.rows_quarantined,
             " (FAILED)" if result.failed else "")
    return result


def _describe(rule: Rule) -> str:
    kwargs = dict(rule.kwargs)
    bits: list[str] = []
    if "value_set" in kwargs:
        values = list(kwargs["value_set"])
        shown = ", ".join(map(str, values[:8])) + (", ..." if len(values) > 8 else "")
        bits.append(f"in {{{shown}}}")
    if "min_value" in kwargs or "max_value" in kwargs:
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        bracket = ")" if kwargs.get("strict_max") else "]"
        bits.append(f"in [{_fmt(low)}, {_fmt(high)}{bracket}")
    if "mostly" in kwargs:
        bits.append(f"mostly {kwargs['mostly']:g}")
    if rule.note:
        bits.append(rule.note)
    return "; ".join(bits)


def _fmt(value: Any) -> str:
    if value is None:
        return "-inf/inf"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.6g}"
    return str(value)


def raise_if_failed(result: ValidationResult) -> None:
    """Raise ``DataQualityFailure`` (a ``SchemaViolation``) when the window failed validation."""
    if result.failed:
        raise DataQualityFailure(result.failure_message)


# --------------------------------------------------------------------------------------------
# Outputs: docs and quarantine partition
# --------------------------------------------------------------------------------------------


def write_docs(result: ValidationResult, gx_document: Mapping[str, Any], docs_dir: Path) -> Path:
    """``validation.html`` (self-contained) and ``validation.json`` into ``docs_dir``."""
    storage.write_json_atomic({"summary": result.to_summary(), "great_expectations": dict(gx_document)},
                              docs_dir / DOCS_JSON)
    return storage.write_text_atomic(render_html(result), docs_dir / DOCS_HTML)


def render_html(result: ValidationResult) -> str:
    """A small self-contained page (no scripts, no external assets) summarising the validation."""
    esc = html.escape
    status = "FAILED" if result.failed else "passed"
    rows = []
    for e in result.expectations:
        state = "not evaluated" if not e.evaluated else ("ok" if e.success else "failed")
        css = "bad" if (e.evaluated and not e.success and e.action == Action.QUARANTINE) else (
            "warn" if state != "ok" else "ok")
        share = "" if e.unexpected_share is None else f"{e.unexpected_share:.2%}"
        rows.append(
            f"<tr class='{css}'><td>{esc(e.expectation_type)}</td><td>{esc(e.column)}</td>"
            f"<td>{esc(e.action)}</td><td>{state}</td><td>{'' if e.unexpected_count is None else e.unexpected_count}</td>"
            f"<td>{share}</td><td>{e.quarantined_rows}</td><td>{esc(e.detail)}</td></tr>"
        )
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.notes) or "<li>none</li>"
    reasons = "".join(f"<li><code>{esc(k)}</code>: {v} rows</li>" for k, v in result.reason_counts.items()) or "<li>none</li>"
    failure = f"<p class='bad'>{esc(result.failure_message)}</p>" if result.failed else ""
    files = "".join(
        f"<li><code>{esc(str(f.get('path', '')))}</code> ({int(f.get('bytes', 0))} bytes): {esc(str(f.get('reason', '')))}</li>"
        for f in result.files_quarantined
    ) or "<li>none</li>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Validation: {esc(result.model)} {esc(result.window_start.isoformat())}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;font-size:14px}}
tr.bad td{{background:#fde2e2}} tr.warn td{{background:#fff6d6}} p.bad{{color:#a00;font-weight:bold}}
</style></head><body>
<h1>Validation of {esc(result.model)}: {status}</h1>
<p>Window [{esc(result.window_start.isoformat())}, {esc(result.window_end.isoformat())}) &middot;
{result.rows_read} rows read, {result.rows_accepted} accepted, {result.rows_quarantined} quarantined
({result.quarantined_share:.2%}; the window fails above {result.max_failed_row_share:.0%});
{len(result.files_quarantined)} unreadable file(s) quarantined whole.
Checked with Great Expectations (row rules) and pandas (schema).</p>
{failure}
<h2>Quarantine reasons</h2><ul>{reasons}</ul>
<h2>Unreadable files (quarantined whole)</h2><ul>{files}</ul>
<h2>Kept, reported as drift signals</h2><ul>{notes}</ul>
<h2>Expectations</h2>
<table><tr><th>expectation</th><th>column</th><th>action</th><th>result</th><th>unexpected</th>
<th>share</th><th>quarantined</th><th>rule</th></tr>
{''.join(rows)}
</table></body></html>
"""


def write_quarantine(result: ValidationResult, lake: Path, model: str, window_date: date) -> Path | None:
    """Write the quarantined rows (+ reason) and a JSON summary to the window's partition.

    ``lake/quarantine/model=<m>/date=<d>/part-0.parquet`` and ``summary.json``, atomically. A
    re-run that quarantines nothing removes the files of an earlier run and returns ``None``.
    """
    directory = storage.partition_dir(lake, storage.QUARANTINE, model, window_date)
    path = directory / QUARANTINE_FILE
    summary = directory / QUARANTINE_SUMMARY
    if result.rows_quarantined == 0:
        path.unlink(missing_ok=True)
        summary.unlink(missing_ok=True)
        if directory.exists() and not any(directory.iterdir()):
            directory.rmdir()
        return None
    storage.write_parquet_atomic(storage.parquet_safe(result.quarantined), path)
    storage.write_json_atomic(result.to_summary(), summary)
    return path
