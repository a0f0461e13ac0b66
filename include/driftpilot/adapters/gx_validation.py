"""Window validation with Great Expectations: accept good rows, quarantine bad ones with a reason.

The only module that imports ``great_expectations`` (lazily: it costs ~5 s to import). The rest
of driftpilot talks to ``ValidationResult``.

How a window is judged
Validation docs
---------------
GX's own Data Docs are not used: an ephemeral context builds them in a random temporary folder,
and the page renderer emits random element ids, CDN assets and links into a site index, so the
page is neither self-contained nor reproducible. Instead ``docs_dir`` gets two files with fixed
names: ``validation.html`` (a self-contained page rendered here from the GX results) and
``validation.json`` (our summary plus GX's own result document, unexpected lists cut to 20).

Streaming
---------
The monitoring task validates a window batch by batch (GxValidator.validate): the rules of
driftpilot.domain.validation_rules are evaluated on every row of every batch (vectorised,
GX's semantics), rows are written to the validated and quarantine partitions as they are
screened (published atomically at the end), and GX runs the same suite on a seeded sample of at
most GX_SAMPLE_ROWS rows: **GX's results in validation.json are on that sample (the whole
window when smaller, and then checked to agree with ours); quarantine decisions and every figure
of the summary are on every row.** A window whose files break the schema is validated in memory
(it fails whole anyway, and its reasons need whole-window counts).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from driftpilot.adapters import parquet_lake as storage
from driftpilot.domain.categories import ClassSet, with_canonical_columns
from driftpilot.domain.config import ModelConfig
from driftpilot.domain.contracts import LATENCY_MS
from driftpilot.domain.validation_rules import (
    _DOCS_LIST_LIMIT,
    DOCS_HTML,
    DOCS_JSON,
    EXPECT_BETWEEN,
    EXPECT_EXIST,
    EXPECT_IN_SET,
    EXPECT_NOT_NULL,
    EXPECT_TYPE,
    EXPECT_UNIQUE,
    PLAUSIBLE_MAGNITUDES,
    QUARANTINE_FILE,
    QUARANTINE_REASON,
    QUARANTINE_SUMMARY,
    BottomKSample,
    ExpectationOutcome,
    RowScreen,
    Rule,
    RuleAction,
    RuleRun,
    SchemaProblem,
    ValidationResult,
    _as_utc,
    allowed_null_share,
    build_rules,
    expected_range,
    failure_message,
    outcomes_and_notes,
    plausible_range,
    prepare_batch,
    raise_if_failed,
    reasons_per_row,
    render_html,
    rows_to_quarantine,
    schema_problems,
    split_rows,
)

__all__ = [
    "DOCS_HTML", "DOCS_JSON", "EXPECT_BETWEEN", "EXPECT_EXIST", "EXPECT_IN_SET", "EXPECT_NOT_NULL", "EXPECT_TYPE",
    "EXPECT_UNIQUE", "GX_SAMPLE_ROWS", "PLAUSIBLE_MAGNITUDES", "QUARANTINE_FILE", "QUARANTINE_REASON",
    "QUARANTINE_SUMMARY", "ExpectationOutcome", "GxValidator", "Rule", "RuleAction", "RuleRun", "SchemaProblem",
    "ValidationResult", "allowed_null_share", "build_rules", "expected_range", "failure_message",
    "plausible_range", "raise_if_failed", "reasons_per_row", "render_html", "rows_to_quarantine", "run_gx",
    "schema_problems", "screen_window", "split_rows", "validate_window", "write_docs", "write_quarantine",
]

log = logging.getLogger(__name__)


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


# Great Expectations logs at INFO while it imports (one "Skipping registering function ..." line
# per public-API decorator: 213 of the 227 lines of a validate task's log). Its warnings and
# errors still reach the task log; its INFO chatter does not.
GX_LOG_LEVEL = logging.WARNING


def quiet_gx_logging() -> None:
    """Raise Great Expectations' loggers to ``GX_LOG_LEVEL``: before the first GX import (the parent,
    which its modules inherit), and again after it, for the modules that set INFO on their own
    logger at import (``data_context.types.base`` announces the ephemeral docs folder)."""
    logging.getLogger("great_expectations").setLevel(GX_LOG_LEVEL)
    for name, item in list(logging.Logger.manager.loggerDict.items()):
        if (name.startswith("great_expectations.") and isinstance(item, logging.Logger)
                and logging.NOTSET < item.level < GX_LOG_LEVEL):
            item.setLevel(GX_LOG_LEVEL)


def _gx_batch_definition() -> Any:
    """One ephemeral GX context per process (creating it is slow), progress bars and INFO logs off."""
    if "batch_definition" not in _GX:
        os.environ["GX_ANALYTICS_ENABLED"] = "false"
        quiet_gx_logging()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        quiet_gx_logging()

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
    severity = FailureSeverity.CRITICAL if rule.action is RuleAction.QUARANTINE else FailureSeverity.WARNING
    return classes[rule.expectation](
        column=rule.column,
        **dict(rule.kwargs),
        meta={_RULE_META: rule.rule_id, "action": rule.action.value, "note": rule.note},
        severity=severity,
    )


def run_gx(frame: pd.DataFrame, rules: Sequence[Rule], suite_name: str) -> tuple[dict[str, RuleRun], dict[str, Any]]:
    """Run ``rules`` on ``frame`` (RangeIndex) with GX: per-rule runs and GX's result document."""
    quiet_gx_logging()
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


# --------------------------------------------------------------------------------------------
# Service: one window, streamed batch by batch
# --------------------------------------------------------------------------------------------

GX_SAMPLE_ROWS = 20_000  # rows GX validates for the docs; decisions are taken on every row
GX_SAMPLE_SEED = 0


class RowSink(Protocol):
    """Where screened rows go: accepted rows, quarantined rows (+ reason)."""

    def accepted(self, rows: pd.DataFrame) -> None: ...
    def quarantined(self, rows: pd.DataFrame) -> None: ...
    def abort(self) -> None: ...


class _MemorySink:
    """Keeps the rows (in-memory validation: ``validate_window``)."""

    def __init__(self) -> None:
        self.accepted_frames: list[pd.DataFrame] = []
        self.quarantined_frames: list[pd.DataFrame] = []

    def accepted(self, rows: pd.DataFrame) -> None:
        self.accepted_frames.append(rows)

    def quarantined(self, rows: pd.DataFrame) -> None:
        self.quarantined_frames.append(rows)

    def abort(self) -> None:
        self.accepted_frames.clear()
        self.quarantined_frames.clear()

    @staticmethod
    def _concat(frames: list[pd.DataFrame], like: pd.DataFrame) -> pd.DataFrame:
        return pd.concat(frames, ignore_index=True) if frames else like.iloc[0:0].reset_index(drop=True)


def screen_window(
    batches: Callable[[], Iterable[pd.DataFrame]],
    columns: Sequence[str],
    schema: Sequence[SchemaProblem],
    config: ModelConfig,
    profile: Mapping[str, Any],
    window_start: datetime,
    window_end: datetime,
    open_sink: Callable[[], RowSink],
    *,
    plausible_bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    classes: ClassSet | None = None,
    pre_flag: Callable[[pd.DataFrame, int], Sequence[tuple[str, np.ndarray]]] | None = None,
    files_quarantined: Sequence[Mapping[str, Any]] = (),
    docs_dir: Path | None = None,
) -> tuple[ValidationResult, RowSink]:
    """Validate a window given as re-iterable ``batches`` (source rows, times in UTC).

    Row rules run per batch (``RowScreen``); accepted and quarantined rows go to the sink as
    they are screened. A ``mostly`` rule is a window verdict: when one fails on the whole window
    the sink is dropped and the window screened again with that rule deciding rows (a second
    read, on failing windows only). GX runs the same suite on a seeded sample of at most
    ``GX_SAMPLE_ROWS`` rows (the whole window when smaller) for ``validation.json``; the
    result's figures and the quarantine come from every row. The result's ``accepted`` and
    ``quarantined`` frames are empty: the rows are in the sink.
    """
    broken = {p.column for p in schema}
    optional = [c for c in (LATENCY_MS,) if c in columns]
    all_rules = build_rules(config, profile, window_start, window_end,
                            plausible_bounds=plausible_bounds, optional_columns=optional, classes=classes)
    runnable = [r.column in columns and r.column not in broken for r in all_rules]
    rules = [r for r, ok in zip(all_rules, runnable, strict=True) if ok]
    skipped = [r for r, ok in zip(all_rules, runnable, strict=True) if not ok]
    rule_columns = list(dict.fromkeys(r.column for r in rules))
    prefix = [p.reason for p in schema]

    def one_pass(failing: frozenset[str], sample: BottomKSample | None) -> tuple[RowScreen, RowSink]:
        screen = RowScreen(rules, failing, prefix)
        sink = open_sink()
        offset = 0
        try:
            for batch in batches():
                source = batch.reset_index(drop=True)
                prepared = prepare_batch(source, config, broken)
                flags = pre_flag(source, offset) if pre_flag is not None else ()
                reasons = screen.screen(prepared, flags)
                bad = reasons != ""
                sink.accepted(source.loc[~bad].reset_index(drop=True))
                if bad.any():
                    sink.quarantined(source.loc[bad].reset_index(drop=True).assign(**{QUARANTINE_REASON: reasons[bad]}))
                if sample is not None and rule_columns:
                    sample.add(prepared[rule_columns])
                offset += len(source)
        except BaseException:
            sink.abort()
            raise
        return screen, sink

    sample = BottomKSample(GX_SAMPLE_ROWS, GX_SAMPLE_SEED)
    screen, sink = one_pass(frozenset(), sample)
    failing = screen.failed_mostly()
    if failing:
        sink.abort()
        screen, sink = one_pass(failing, None)
    n_rows = screen.rows
    gx_document: dict[str, Any] = {}
    disagreements: list[str] = []
    if rules and n_rows:
        runs, gx_document = run_gx(sample.frame(), rules, f"driftpilot.{config.name}")
        if not sample.sampled:  # GX saw every row: its counts must be ours
            for rule in rules:
                run = runs.get(rule.rule_id)
                if run is not None and run.evaluated and run.unexpected_count != screen.unexpected(rule):
                    disagreements.append(f"{rule.rule_id}: GX {run.unexpected_count}, driftpilot {screen.unexpected(rule)}")
            if disagreements:
                log.warning("GX and the row screen disagree on %s: %s", config.name, "; ".join(disagreements))
    outcomes, notes = outcomes_and_notes(screen, skipped, schema, n_rows)
    quarantined_rows = screen.quarantined_rows
    reason_counts: Counter[str] = Counter(dict(screen.reason_counts))
    for p in schema:
        reason_counts[f"{p.expectation}({p.column})"] += n_rows
    message = failure_message(config.name, _as_utc(window_start), n_rows, quarantined_rows,
                              config.quality.max_failed_row_share, schema, reason_counts)
    result = ValidationResult(
        model=config.name,
        window_start=_as_utc(window_start),
        window_end=_as_utc(window_end),
        rows_read=n_rows,
        rows_accepted=n_rows - quarantined_rows,
        rows_quarantined=quarantined_rows,
        accepted=pd.DataFrame(),
        quarantined=pd.DataFrame(),
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
    if docs_dir is not None:
        sample_note = {"rows": len(sample.frame()), "window_rows": n_rows, "seed": GX_SAMPLE_SEED,
                       "sampled": sample.sampled, "disagreements": disagreements}
        write_docs(result, gx_document, docs_dir, sample_note)
    log.info("validated %s window %s: %d read, %d accepted, %d quarantined%s", config.name,
             result.window_start.date(), n_rows, result.rows_accepted, result.rows_quarantined,
             " (FAILED)" if result.failed else "")
    return result, sink


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
    """Validate one in-memory window against the contract and the baseline ``profile``.

    Returns accepted rows, quarantined rows with ``quarantine_reason``, a per-expectation
    summary and counts (``rows_read == rows_accepted + rows_quarantined``). Never raises for bad
    data: a failed window is reported in ``failed`` / ``failure_message`` (see
    ``raise_if_failed``). When ``docs_dir`` is given, ``validation.html`` and
    ``validation.json`` are written into it. The monitoring task streams instead
    (``GxValidator.validate``); both share ``screen_window``.

    ``pre_flagged`` are rows the caller already knows to quarantine (rows of a model version
    without a baseline), as ``(reason, row positions)``; ``files_quarantined`` are the window's
    files that could not be read, shown in the summary and the page (their rows are unknown).
    """
    source = frame.reset_index(drop=True)
    n_rows = len(source)
    masks = []
    for label, rows in pre_flagged:
        mask = np.zeros(n_rows, dtype=bool)
        mask[np.asarray(rows, dtype=np.int64)] = True
        masks.append((label, mask))
    memory = _MemorySink()
    result, _ = screen_window(
        lambda: [source], [str(c) for c in source.columns], schema_problems(source, config), config, profile,
        window_start, window_end, lambda: memory, plausible_bounds=plausible_bounds, classes=classes,
        pre_flag=lambda batch, offset: masks, files_quarantined=files_quarantined, docs_dir=docs_dir,
    )
    accepted = memory._concat(memory.accepted_frames, source)
    quarantined = memory._concat(memory.quarantined_frames, source)
    if QUARANTINE_REASON not in quarantined.columns:
        quarantined[QUARANTINE_REASON] = pd.Series(dtype=object)
    if n_rows != len(accepted) + len(quarantined):  # pragma: no cover - an invariant
        raise AssertionError("validation lost rows")
    return dataclasses.replace(result, accepted=accepted, quarantined=quarantined)


# --------------------------------------------------------------------------------------------
# Outputs: docs and quarantine partition
# --------------------------------------------------------------------------------------------


def write_docs(result: ValidationResult, gx_document: Mapping[str, Any], docs_dir: Path,
               gx_sample: Mapping[str, Any] | None = None) -> Path:
    """``validation.html`` (self-contained) and ``validation.json`` into ``docs_dir``.

    ``gx_sample`` says which rows GX's document is about (``rows`` of ``window_rows``, seed).
    """
    payload: dict[str, Any] = {"summary": result.to_summary(), "great_expectations": dict(gx_document)}
    if gx_sample is not None:
        payload["great_expectations_sample"] = dict(gx_sample)
    storage.write_json_atomic(payload, docs_dir / DOCS_JSON)
    return storage.write_text_atomic(render_html(result), docs_dir / DOCS_HTML)


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


# --------------------------------------------------------------------------------------------
# The Validator port: a window streamed from the lake into validated + quarantine partitions
# --------------------------------------------------------------------------------------------


class _LakeSink:
    """Accepted rows to the validated file, quarantined rows to the quarantine file, streamed."""

    def __init__(self, lake: storage.ParquetLake, accepted_key: str, quarantine_key: str,
                 key_columns: Sequence[str]) -> None:
        self._accepted = lake.writer(accepted_key)
        self._quarantined = lake.writer(quarantine_key)
        self._key_columns = list(key_columns)
        self.accepted_rows = 0
        self.quarantined_rows = 0

    def accepted(self, rows: pd.DataFrame) -> None:
        self.accepted_rows += len(rows)
        self._accepted.write(with_canonical_columns(rows, self._key_columns))

    def quarantined(self, rows: pd.DataFrame) -> None:
        self.quarantined_rows += len(rows)
        self._quarantined.write(storage.parquet_safe(rows))

    def publish(self, keep_accepted: bool) -> None:
        """Rename the files into place; an empty quarantine or a failed window's rows are dropped."""
        if keep_accepted:
            self._accepted.close()
        else:
            self._accepted.abort()
            self._accepted.path.unlink(missing_ok=True)
        if self.quarantined_rows:
            self._quarantined.close()
        else:
            self._quarantined.abort()
            self._quarantined.path.unlink(missing_ok=True)  # an earlier run's rows: a re-run replaces them

    def abort(self) -> None:
        self._accepted.abort()
        self._quarantined.abort()


class GxValidator:
    """``Validator`` port: validates a window of lake files batch by batch (see module docstring)."""

    def __init__(self, lake: storage.ParquetLake) -> None:
        self.lake = lake

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
    ) -> ValidationResult:
        """Validate the window and write its partitions; ``heads`` are the first rows of each file.

        The schema is judged on ``heads`` (a column's dtype is a property of its file); a window
        that breaks it is read whole and validated in memory, where the reasons name exact counts.
        """
        schema = schema_problems(heads, config)
        columns = [str(c) for c in heads.columns]
        source = batches
        if schema:
            whole = pd.concat(list(batches()), ignore_index=True)
            schema = schema_problems(whole, config)
            columns = [str(c) for c in whole.columns]
            source = lambda: [whole]  # noqa: E731
        sinks: list[_LakeSink] = []

        def open_sink() -> _LakeSink:
            sink = _LakeSink(self.lake, accepted_key, f"{quarantine_dir}/{QUARANTINE_FILE}", key_columns)
            sinks.append(sink)
            return sink

        result, _ = screen_window(
            source, columns, schema, config, profile, window_start, window_end, open_sink,
            classes=classes, pre_flag=pre_flag, files_quarantined=files_quarantined,
            docs_dir=self.lake.path(docs_dir),
        )
        sink = sinks[-1]
        if sink.accepted_rows + sink.quarantined_rows != result.rows_read:  # pragma: no cover - an invariant
            sink.abort()
            raise AssertionError("validation lost rows: read != accepted + quarantined")
        sink.publish(keep_accepted=not result.failed)
        summary_key = f"{quarantine_dir}/{QUARANTINE_SUMMARY}"
        if result.rows_quarantined:
            self.lake.write_json(summary_key, result.to_summary())
        else:
            self.lake.delete(summary_key)
            directory = self.lake.path(quarantine_dir)
            if directory.exists() and not any(directory.iterdir()):
                directory.rmdir()
        return result
