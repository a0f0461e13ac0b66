"""The rules a window's rows are judged by, and how their outcomes are counted: pure.

Great Expectations lives in ``driftpilot.adapters.gx_validation``; this module derives the
rules, evaluates them on record batches (vectorised pandas, the same semantics as GX's pandas
engine: nulls are not unexpected for range and set rules, ``mostly`` over the non-null rows)
and accounts for rows, so quarantine decisions are taken on every row of a window whatever
its size.

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
"""

from __future__ import annotations

import html
import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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


class RuleAction(StrEnum):
    """What a failing rule does to its rows (not ``policy.Action``, what a window's decision asks for)."""

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
    action: RuleAction
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
        rules.append(Rule(f"not_null:{column}", EXPECT_NOT_NULL, column, {}, RuleAction.QUARANTINE, "required"))
    rules.append(
        Rule(f"in_set:{MODEL_NAME}", EXPECT_IN_SET, MODEL_NAME, {"value_set": [config.name]},
             RuleAction.QUARANTINE, "rows of another model")
    )
    rules.append(Rule(f"unique:{PREDICTION_ID}", EXPECT_UNIQUE, PREDICTION_ID, {}, RuleAction.QUARANTINE,
                      "repeats quarantined, first occurrence kept"))
    rules.append(
        Rule(
            f"window:{EVENT_TIME}", EXPECT_BETWEEN, EVENT_TIME,
            {"min_value": _as_utc(window_start), "max_value": _as_utc(window_end), "strict_max": True},
            RuleAction.QUARANTINE, "event_time inside [window_start, window_end)",
        )
    )
    if config.task is TaskType.BINARY:
        for column in score_columns(config):
            rules.append(Rule(f"plausible:{column}", EXPECT_BETWEEN, column, {"min_value": 0.0, "max_value": 1.0},
                              RuleAction.QUARANTINE, "a probability"))
    if LATENCY_MS in optional_columns:
        rules.append(Rule(f"plausible:{LATENCY_MS}", EXPECT_BETWEEN, LATENCY_MS, {"min_value": 0.0},
                          RuleAction.QUARANTINE, "not negative"))

    for column in config.features.all:
        share = allowed_null_share(columns_profile.get(column), quality.max_failed_row_share)
        rules.append(Rule(f"not_null:{column}", EXPECT_NOT_NULL, column, _mostly(share), RuleAction.QUARANTINE,
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
            rules.append(Rule(f"plausible:{column}", EXPECT_BETWEEN, column, kwargs, RuleAction.QUARANTINE,
                              "configured physical bounds"))
        elif low is not None and high is not None:
            p_low, p_high = plausible_range(float(low), float(high))
            rules.append(Rule(f"plausible:{column}", EXPECT_BETWEEN, column,
                              {"min_value": p_low, "max_value": p_high}, RuleAction.QUARANTINE,
                              f"more than {PLAUSIBLE_MAGNITUDES:g} reference magnitudes out"))
        if low is not None and high is not None:
            e_low, e_high = expected_range(float(low), float(high), quality.numeric_tolerance)
            rules.append(Rule(f"expected:{column}", EXPECT_BETWEEN, column,
                              {"min_value": e_low, "max_value": e_high}, RuleAction.REPORT,
                              f"reference range +/- {quality.numeric_tolerance:g} x span: drift signal"))

    for column in config.features.categorical:
        cat_profile = columns_profile.get(column)
        if not cat_profile or not cat_profile.get("frequencies"):
            continue
        # the categories the model saw in training (``known``), else the reference's (older profiles)
        known = sorted(str(k) for k in (cat_profile.get("known") or cat_profile["frequencies"]))
        rules.append(Rule(f"known:{column}", EXPECT_IN_SET, column,
                          {"value_set": known, **_mostly(quality.max_failed_row_share)}, RuleAction.QUARANTINE,
                          f"unseen categories allowed up to {quality.max_failed_row_share:.1%}"))
    if config.task is not TaskType.REGRESSION:
        pred_profile = predictions_profile.get(PREDICTION) or {}
        known = sorted({*map(str, pred_profile.get("frequencies", {})), *(classes.keys if classes else ())})
        if known:
            rules.append(Rule(f"known:{PREDICTION}", EXPECT_IN_SET, PREDICTION, {"value_set": known},
                              RuleAction.REPORT, "classes of the model"))
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
    accepted: pd.DataFrame  # in-memory validation only; a streamed window's rows are in its files
    quarantined: pd.DataFrame  # the original columns + ``quarantine_reason`` (in-memory only, idem)
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
    if rule.action is not RuleAction.QUARANTINE or not run.evaluated or run.success:
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

def prepare_batch(frame: pd.DataFrame, config: ModelConfig, broken: set[str]) -> pd.DataFrame:
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
# Streaming evaluation (pure): the rules on record batches, tallied across the window
# --------------------------------------------------------------------------------------------


def _not_null(values: pd.Series) -> np.ndarray:
    return values.notna().to_numpy()


def unexpected_rows(rule: Rule, values: pd.Series) -> np.ndarray:
    """Rows of ``values`` (a prepared batch column) that ``rule`` finds unexpected.

    GX's pandas semantics: ``not_null`` flags missing values; range and set rules ignore them.
    ``unique`` is window-wide and handled by ``RowScreen`` (this returns no rows for it).
    """
    if rule.expectation == EXPECT_NOT_NULL:
        return ~_not_null(values)
    present = _not_null(values)
    kwargs = rule.kwargs
    if rule.expectation == EXPECT_BETWEEN:
        ok = np.ones(len(values), dtype=bool)
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if isinstance(low, datetime) or isinstance(high, datetime):
            low = None if low is None else pd.Timestamp(low)
            high = None if high is None else pd.Timestamp(high)
        with np.errstate(invalid="ignore"):
            if low is not None:
                ok &= (values >= low).fillna(False).to_numpy(dtype=bool)
            if high is not None:
                below = values < high if kwargs.get("strict_max") else values <= high
                ok &= below.fillna(False).to_numpy(dtype=bool)
        return present & ~ok
    if rule.expectation == EXPECT_IN_SET:
        return present & ~values.isin(list(kwargs["value_set"])).to_numpy()
    return np.zeros(len(values), dtype=bool)


def rule_success(rule: Rule, unexpected: int, considered: int) -> bool:
    """GX's verdict from window counts: vacuously true on no rows, else the ``mostly`` ratio."""
    if considered == 0:
        return True
    return (considered - unexpected) / considered >= rule.mostly


class _IdSet:
    """Window-wide set of 64-bit id hashes, as sorted arrays merged like a binary counter.

    Bounded at 8 bytes per distinct id (80 MB for 10 M ids), lookups ``O(log n)`` per id. Two
    ids share a hash with probability ~ n^2 / 2^65 (3e-6 at 10 M ids): accepted, and documented.
    """

    def __init__(self) -> None:
        self._levels: list[np.ndarray] = []

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        found = np.zeros(len(hashes), dtype=bool)
        for level in self._levels:
            at = np.searchsorted(level, hashes)
            at[at == len(level)] = 0
            found |= level[at] == hashes if len(level) else False
        return found

    def add(self, hashes: np.ndarray) -> None:
        """Add hashes not yet in the set (the caller drops those ``contains`` found).

        Levels are disjoint, so a merge is a concatenation sorted in place: one array of the
        merged size, where ``np.union1d`` held several at once. For 10 M ids the peak growth fell
        from 597 MB to 140 MB and the time by a factor of ~4 (benchmarks/RESULTS.md).
        """
        new = np.unique(hashes)
        while self._levels and len(self._levels[-1]) <= len(new):
            merged = np.concatenate([self._levels.pop(), new])
            del new
            merged.sort()
            new = merged
        self._levels.append(new)


def id_hashes(keys: pd.Series) -> np.ndarray:
    """Stable 64-bit hashes of canonical id keys (same key, same hash, in every batch)."""
    return pd.util.hash_array(keys.astype(str).to_numpy(dtype=object), categorize=False).astype(np.uint64)


@dataclass
class _Tally:
    unexpected: int = 0
    considered: int = 0
    quarantined: int = 0


class RowScreen:
    """The row rules of one window, applied batch by batch with counts kept across batches.

    ``screen(prepared)`` returns each row's ``quarantine_reason`` ("" = accepted) from the rules
    that decide per row (required values, ids, window, plausible ranges) and from ``mostly``
    rules already known to fail at window level (``failing``). A ``mostly`` rule's verdict is a
    window fact: the caller screens once, reads ``failed_mostly()`` and, only when one failed,
    screens the window again with ``failing`` set (``validate_window`` does this).
    """

    def __init__(self, rules: Sequence[Rule], failing: frozenset[str] = frozenset(),
                 prefix: Sequence[str] = ()) -> None:
        self.rules = list(rules)
        self.failing = failing
        self.prefix = "; ".join(prefix)  # schema reasons: every row carries them
        self.tallies = {r.rule_id: _Tally() for r in self.rules}
        self.rows = 0
        self.quarantined_rows = 0
        self.reason_counts: Counter[str] = Counter()
        self._seen = _IdSet()
        self._repeated = _IdSet()
        self._repeated_count = 0

    def _decides_rows(self, rule: Rule) -> bool:
        return rule.action is RuleAction.QUARANTINE and (rule.mostly >= 1.0 or rule.rule_id in self.failing)

    def screen(self, prepared: pd.DataFrame, pre_flagged: Sequence[tuple[str, np.ndarray]] = ()) -> np.ndarray:
        """Reasons per row of ``prepared`` (object array, "" = accepted); ``pre_flagged`` are masks."""
        n = len(prepared)
        self.rows += n
        flags: list[tuple[str, np.ndarray]] = [(label, mask) for label, mask in pre_flagged if mask.any()]
        for rule in self.rules:
            values = prepared[rule.column]
            tally = self.tallies[rule.rule_id]
            if rule.expectation == EXPECT_UNIQUE:
                mask = self._repeats(values, tally)
            else:
                mask = unexpected_rows(rule, values)
                tally.unexpected += int(mask.sum())
                tally.considered += n if rule.expectation == EXPECT_NOT_NULL else int(_not_null(values).sum())
            if self._decides_rows(rule) and mask.any():
                flags.append((rule.label, mask))
                tally.quarantined += int(mask.sum())
        merged: dict[str, np.ndarray] = {}
        for label, mask in flags:  # a label appears once per row, like ``reasons_per_row``
            merged[label] = merged[label] | mask if label in merged else mask
        flags = list(merged.items())
        for label, mask in flags:
            self.reason_counts[label] += int(mask.sum())
        reasons = np.full(n, self.prefix, dtype=object)
        for label, mask in flags:
            current = reasons[mask]
            reasons[mask] = np.where(current == "", label, current + "; " + label) if len(current) else current
        self.quarantined_rows += int((reasons != "").sum())
        return reasons

    def _repeats(self, values: pd.Series, tally: _Tally) -> np.ndarray:
        """Repeats of an id seen earlier (in this batch or before); GX counts every copy."""
        present = _not_null(values)
        tally.considered += int(present.sum())
        hashes = id_hashes(values[present])
        earlier = self._seen.contains(hashes)
        within = pd.Series(hashes).duplicated(keep="first").to_numpy()
        repeat = earlier | within
        self._seen.add(hashes[~repeat])
        if repeat.any():
            twice = np.unique(hashes[repeat])
            new = twice[~self._repeated.contains(twice)]
            self._repeated.add(new)
            self._repeated_count += len(new)
        tally.unexpected = tally.unexpected + int(repeat.sum())
        mask = np.zeros(len(values), dtype=bool)
        mask[np.flatnonzero(present)[repeat]] = True
        return mask

    def unexpected(self, rule: Rule) -> int:
        tally = self.tallies[rule.rule_id]
        if rule.expectation == EXPECT_UNIQUE:
            return tally.unexpected + self._repeated_count  # repeats + the first copy of each
        return tally.unexpected

    def success(self, rule: Rule) -> bool:
        return rule_success(rule, self.unexpected(rule), self.tallies[rule.rule_id].considered)

    def failed_mostly(self) -> frozenset[str]:
        """``mostly`` rules that fail on the whole window: their failing rows are quarantined."""
        return frozenset(r.rule_id for r in self.rules if r.action is RuleAction.QUARANTINE and r.mostly < 1.0
                         and not self.success(r))

    def quarantined(self, rule: Rule) -> int:
        return self.tallies[rule.rule_id].quarantined


def outcomes_and_notes(screen: RowScreen, skipped: Sequence[Rule], schema: Sequence[SchemaProblem],
                       n_rows: int) -> tuple[list[ExpectationOutcome], list[str]]:
    """The per-expectation summary and the report-only notes of a screened window."""
    outcomes: list[ExpectationOutcome] = [
        ExpectationOutcome(f"schema:{p.column}", p.expectation, p.column, RuleAction.QUARANTINE.value, False, True,
                           n_rows, 1.0 if n_rows else None, n_rows, p.problem)
        for p in schema
    ]
    notes: list[str] = []
    for rule in screen.rules:
        count: int | None = screen.unexpected(rule) if n_rows else None
        success = screen.success(rule) if n_rows else True
        quarantined = screen.quarantined(rule)
        share = (count / n_rows) if (count is not None and n_rows) else None
        outcomes.append(ExpectationOutcome(
            rule.rule_id, rule.expectation, rule.column, rule.action.value, success, bool(n_rows),
            count, share, quarantined, _describe(rule),
        ))
        if count and quarantined == 0:
            kept = "kept as drift" if rule.action is RuleAction.REPORT else "kept, within the allowed share"
            notes.append(f"{rule.label} [{rule.rule_id}]: {count} of {n_rows} rows unexpected ({_describe(rule)}); {kept}")
    for rule in skipped:
        outcomes.append(ExpectationOutcome(
            rule.rule_id, rule.expectation, rule.column, rule.action.value, False, False, None, None, 0,
            "not evaluated: column missing or of the wrong dtype",
        ))
    return outcomes, notes


class BottomKSample:
    """A seeded uniform sample of at most ``k`` rows of a stream of frames (bottom-k random keys).

    Each row gets a key from ``numpy.random.default_rng(seed)`` in stream order; the sample is the
    ``k`` rows with the smallest keys, returned in stream order. Memory: ``k`` rows plus one
    batch. A stream of at most ``k`` rows is returned whole, in order (small windows exact).
    """

    def __init__(self, k: int, seed: int) -> None:
        self.k = k
        self.rows = 0
        self._rng = np.random.default_rng(seed)
        self._kept: pd.DataFrame | None = None
        self._keys = np.empty(0)
        self._order = np.empty(0, dtype=np.int64)

    def add(self, frame: pd.DataFrame) -> None:
        keys = self._rng.random(len(frame))
        order = np.arange(self.rows, self.rows + len(frame), dtype=np.int64)
        self.rows += len(frame)
        frame = frame.reset_index(drop=True)
        if self._kept is None:
            merged, all_keys, all_order = frame, keys, order
        else:
            merged = pd.concat([self._kept, frame], ignore_index=True)
            all_keys, all_order = np.concatenate([self._keys, keys]), np.concatenate([self._order, order])
        if len(merged) > self.k:
            keep = np.sort(np.argpartition(all_keys, self.k - 1)[: self.k])
            merged, all_keys, all_order = merged.iloc[keep].reset_index(drop=True), all_keys[keep], all_order[keep]
        self._kept, self._keys, self._order = merged, all_keys, all_order

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame() if self._kept is None else self._kept

    @property
    def sampled(self) -> bool:
        return self.rows > self.k


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


def render_html(result: ValidationResult) -> str:
    """A small self-contained page (no scripts, no external assets) summarising the validation."""
    esc = html.escape
    status = "FAILED" if result.failed else "passed"
    rows = []
    for e in result.expectations:
        state = "not evaluated" if not e.evaluated else ("ok" if e.success else "failed")
        css = "bad" if (e.evaluated and not e.success and e.action == RuleAction.QUARANTINE) else (
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
Row rules checked on every row (GX semantics; GX itself on a seeded sample of up to 20,000 rows) and the schema with pandas.</p>
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
