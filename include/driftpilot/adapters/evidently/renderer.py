"""``EvidentlyReports``: the ``ReportRenderer`` port on Evidently (plan -> run -> parse -> render).

Each monitoring step writes its own files into the window's report folder, each through a
temporary name renamed into place::

    drift step         drift.html/.json, quality.html/.json, drift_manifest.json
    performance step   performance.html/.json (with enough labels), performance_manifest.json
    either step        index.html and summary.json, rendered from both manifests

A manifest is the typed record of what its step wrote (``domain.reports.StepReports``). A step
re-run replaces its own files and manifest, reads the other step's manifest back as a record to
render the index, and never touches the other step's files: there is no reuse cache.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from driftpilot.adapters.evidently import methods, parse, render, run
from driftpilot.adapters.evidently.plan import ColumnPlan, bounded_sample, plan_columns
from driftpilot.adapters.parquet_lake import write_json_atomic, write_text_atomic
from driftpilot.domain.categories import category_keys
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.reports import (
    INSUFFICIENT_LABELS,
    PERFORMANCE_OK,
    DecidingDrift,
    ReportMetric,
    ReportStep,
    StepReports,
    WindowReports,
    share_text,
)

log = logging.getLogger(__name__)

SUMMARY = "summary.json"
INDEX = "index.html"


def manifest_name(step: ReportStep) -> str:
    return f"{step.value}_manifest.json"


def read_manifest(out_dir: Path, step: ReportStep) -> StepReports | None:
    """The record ``step`` last wrote in ``out_dir``; ``None`` if absent or unreadable."""
    try:
        return StepReports.from_dict(json.loads((out_dir / manifest_name(step)).read_text()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the unreadable report manifest %s: %s", out_dir / manifest_name(step), exc)
        return None


def _remove(out_dir: Path, part: str) -> None:
    for suffix in ("html", "json"):
        (out_dir / f"{part}.{suffix}").unlink(missing_ok=True)


def _usable_labels(config: ModelConfig, labelled: pd.DataFrame | None) -> pd.DataFrame | None:
    """The labelled rows if there are enough for an honest performance report, else ``None``."""
    if labelled is None or config.target not in labelled.columns:
        return None
    rows = labelled[labelled[config.target].notna()]
    if len(rows) < config.labels.min_labelled_rows:
        return None
    if config.task is not TaskType.REGRESSION and category_keys(rows[config.target]).nunique() < 2:
        return None
    return rows


class _Window:
    """One window's bounded samples, column plan and the lines every page's banner shows."""

    def __init__(self, config: ModelConfig, reference: pd.DataFrame, current: pd.DataFrame,
                 window_label: str, seed: int, total_rows: int | None) -> None:
        if len(current) == 0:
            raise ValueError(f"window {window_label}: the current frame is empty; nothing to report")
        if len(reference) == 0:
            raise ValueError(f"window {window_label}: the reference sample is empty")
        max_rows = config.reports.evidently.max_rows
        self.config, self.seed, self.max_rows = config, seed, max_rows
        self.plan: ColumnPlan = plan_columns(config, reference, current)
        self.total_rows = len(current) if total_rows is None else max(total_rows, len(current))
        current_s = bounded_sample(current, max_rows, seed)
        self.sampled = len(current_s) < self.total_rows
        self.reference_s = bounded_sample(reference, max_rows, seed)
        self.reference_notes: tuple[str, ...] = ()
        if len(self.reference_s) < len(reference):
            self.reference_notes = (f"reference sampled: {len(self.reference_s)} of {len(reference)} rows (seed {seed})",)
        self.cur = run.prepare(config, current_s, self.plan, is_reference=False, with_target=False)
        span = run.time_span(self.cur)
        self.ref = run.prepare(config, self.reference_s, self.plan, is_reference=True, with_target=False, span=span)
        n, total = len(self.cur), self.total_rows
        self.ctx = run.RunContext(
            timestamp=None if span is None else span[1].to_pydatetime(),
            span=span,
            metadata={"model": config.name, "window": window_label, "sampled": str(self.sampled).lower(),
                      "sample_rows": str(n), "total_rows": str(total), "reference_rows": str(len(self.ref)),
                      "seed": str(seed)},
            tags=("driftpilot", config.name, window_label, *(("sampled",) if self.sampled else ())),
        )
        self.lines = (
            f"model {config.name} · window {window_label}",
            f"current rows {n:,}{f' of {total:,}' if self.sampled else ''} · reference rows {len(self.ref):,}",
        )
        self.sample_line = (
            f"SAMPLED: this report was built from a seeded random sample of {n:,} of the window's "
            f"{total:,} rows (seed {seed}, reports.evidently.max_rows = {max_rows:,})."
            if self.sampled else None
        )

    def record(self, step: ReportStep, window_label: str, files: dict[str, str], rows: list[ReportMetric],
               notes: list[str], seconds: dict[str, float], **facts: Any) -> StepReports:
        """The step's record, with the facts of the window every record states."""
        return StepReports(
            step=step, model_name=self.config.name, window_label=window_label, files=files, metrics=tuple(rows),
            sampled=self.sampled, sample_rows=len(self.cur), total_rows=self.total_rows,
            reference_rows=len(self.ref), notes=tuple(notes), seconds=_rounded(seconds), **facts,
        )


def _write_page(rendered: run.Rendered, out_dir: Path, part: str, banner: str) -> dict[str, str]:
    """Write ``<part>.html`` (inert, with the banner) and ``<part>.json``; their file kinds."""
    # Inert first: the banner goes after the first <body>, which must be the page's own.
    write_text_atomic(render.with_banner(render.inert_evidently_html(rendered.page), banner), out_dir / f"{part}.html")
    write_json_atomic(rendered.snapshot, out_dir / f"{part}.json")
    return {f"{part}_html": f"{part}.html", f"{part}_json": f"{part}.json"}


class EvidentlyReports:
    """Drift/quality and performance reports of a window with Evidently 0.7.

    ``quality`` picks the data-quality report: ``"light"`` (default, ~1 s) or ``"summary"``
    (Evidently's full ``DataSummaryPreset``; 2-3 s more per window, almost all of it plotly).
    """

    def __init__(self, quality: str = run.QUALITY_LIGHT) -> None:
        if quality not in (run.QUALITY_LIGHT, run.QUALITY_SUMMARY):
            raise ValueError(f"quality must be {run.QUALITY_LIGHT!r} or {run.QUALITY_SUMMARY!r}, got {quality!r}")
        self.quality = quality

    def check_config(self, config: ModelConfig) -> None:
        methods.check_config(config)

    def render_drift(self, config: ModelConfig, reference: pd.DataFrame, current: pd.DataFrame, out_dir: Path,
                     window_label: str, *, seed: int = 0, total_rows: int | None = None,
                     verdict: DecidingDrift | None = None) -> StepReports:
        """Drift and quality reports of ``current`` (rows of the window; a bounded sample of
        ``total_rows`` rows when given) against the baseline's ``reference`` sample.

        ``verdict`` is driftpilot's deciding drift verdict of the window (the monitoring step's):
        the drift page's banner and the index state it first, and Evidently's own figures are
        labelled as Evidently's.
        """
        started = time.perf_counter()
        w = _Window(config, reference, current, window_label, seed, total_rows)
        plan, spec = w.plan, config.reports.evidently
        notes = [*plan.notes, *w.reference_notes]
        if w.sampled:
            notes.append(f"current window sampled: {len(w.cur)} of {w.total_rows} rows (seed {seed})")
        files: dict[str, str] = {}
        rows: list[ReportMetric] = []
        seconds: dict[str, float] = {}
        t0 = time.perf_counter()
        if plan.drift_columns:
            rendered = run.drift_report(config, plan, w.cur, w.ref, w.ctx)
            used = ", ".join(f"{c}: {m}" for c, m in plan.methods.items())
            rows = parse.parse_drift(rendered.snapshot, config.drift.share)
            evidently_share, _ = parse.drift_outcome(rows, plan.untestable)
            banner = render.banner("driftpilot · data drift",
                                   [*render.verdict_lines(verdict), *w.lines,
                                    f"Evidently's figures below (drift share {share_text(evidently_share)}, on "
                                    f"{'this sample' if w.sampled else 'all rows'}; methods, threshold "
                                    f"{spec.threshold}: {used}) explain the verdict; they do not decide",
                                    *plan.notes],
                                   w.sample_line)
            files.update(_write_page(rendered, out_dir, "drift", banner))
        else:
            _remove(out_dir, "drift")
        for column in plan.untestable:
            rows.append(ReportMetric("value_drift", column, float("nan"), None, spec.threshold, True))
        evidently_share, evidently_drifted = parse.drift_outcome(rows, plan.untestable)
        seconds["drift"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        rendered = run.quality_report(plan, w.cur, w.ref, w.ctx, self.quality)
        files.update(_write_page(rendered, out_dir, "quality",
                                 render.banner(f"driftpilot · data quality ({self.quality})", w.lines, w.sample_line)))
        rows.extend(parse.parse_quality(rendered.snapshot))
        seconds["quality"] = time.perf_counter() - t0
        seconds["total"] = time.perf_counter() - started
        record = w.record(ReportStep.DRIFT, window_label, files, rows, notes, seconds,
                          verdict=verdict, evidently_drift_share=evidently_share,
                          evidently_drifted_columns=evidently_drifted)
        self._finish(out_dir, record)
        log.info("drift reports of %s window %s: %s; Evidently's drift share %s on %d of %d rows, %.1f s",
                 config.name, window_label, verdict.headline() if verdict else "no driftpilot verdict given",
                 share_text(evidently_share), len(w.cur), w.total_rows, seconds["total"])
        return record

    def render_performance(self, config: ModelConfig, reference: pd.DataFrame, current: pd.DataFrame,
                           labelled: pd.DataFrame | None, out_dir: Path, window_label: str, *, seed: int = 0,
                           total_rows: int | None = None) -> StepReports:
        """Performance report of the ``labelled`` rows of ``current`` (labels in ``config.target``).

        With too few labelled rows (``labels.min_labelled_rows``) or a single class, no report
        and ``"insufficient labels"``, never a number; an earlier performance report is removed.
        """
        started = time.perf_counter()
        w = _Window(config, reference, current, window_label, seed, total_rows)
        files: dict[str, str] = {}
        notes: list[str] = []
        rows: list[ReportMetric] = []
        performance: dict[str, float] | None = None
        status = INSUFFICIENT_LABELS
        labelled_rows = 0
        usable = _usable_labels(config, labelled)
        if usable is not None:
            labelled_rows = len(usable)
            labelled_s = bounded_sample(usable, w.max_rows, seed)
            warning = None
            if len(labelled_s) < len(usable):
                warning = (f"SAMPLED: performance computed on a seeded sample of {len(labelled_s):,} of "
                           f"{len(usable):,} labelled rows (seed {seed}).")
                notes.append(f"labelled rows sampled: {len(labelled_s)} of {len(usable)} (seed {seed})")
            rendered, with_reference = run.performance_report(config, w.plan, w.reference_s, labelled_s, w.ctx)
            title = "driftpilot · model performance (" + ("reference vs current)" if with_reference else "current only)")
            banner = render.banner(title, [*w.lines, f"labelled rows {len(usable):,}"], warning or w.sample_line)
            files.update(_write_page(rendered, out_dir, "performance", banner))
            rows = parse.parse_performance(rendered.snapshot)
            performance = {r.metric: r.value for r in rows}
            status = PERFORMANCE_OK
        else:
            _remove(out_dir, "performance")  # a re-run must not leave an outdated report behind
        record = w.record(ReportStep.PERFORMANCE, window_label, files, rows, notes,
                          {"total": time.perf_counter() - started},
                          performance=performance, performance_status=status, labelled_rows=labelled_rows)
        self._finish(out_dir, record)
        log.info("performance report of %s window %s: %s, %d labelled rows", config.name, window_label, status,
                 labelled_rows)
        return record

    def _finish(self, out_dir: Path, record: StepReports) -> None:
        """Write ``record`` as the step's manifest, then the index and summary from both records.

        The other step's record is read back from its manifest (and kept only if it is of the
        same window); its files are not opened.
        """
        write_json_atomic(parse.json_safe(record.to_dict()), out_dir / manifest_name(record.step))
        other_step = ReportStep.PERFORMANCE if record.step is ReportStep.DRIFT else ReportStep.DRIFT
        other = read_manifest(out_dir, other_step)
        if other is not None and (other.model_name, other.window_label) != (record.model_name, record.window_label):
            other = None
        drift, performance = (record, other) if record.step is ReportStep.DRIFT else (other, record)
        state = WindowReports(record.model_name, record.window_label, drift, performance)
        write_json_atomic(parse.json_safe(state.summary()), out_dir / SUMMARY)
        write_text_atomic(render.render_index(state), out_dir / INDEX)


def _rounded(seconds: dict[str, float]) -> dict[str, float]:
    """Timings as the manifest keeps them (ms), so a record read back equals the one returned."""
    return {k: round(v, 3) for k, v in seconds.items()}
