"""What the monitoring view shows: the overview of every model, trends, a window, a feature's history.

The read side of the view inside the Airflow UI (``driftpilot_ui.view`` serves it; no web framework
here). Every answer is made of ``Table`` values (named columns, plain rows), so the same object
becomes the JSON a chart is drawn from and the CSV an auditor downloads: what is plotted is what is
exported. Reads are the evidence store's SQLite tables and one registry call per model for its
aliases; nothing is downloaded from MLflow per request. The time axis ends at the model's newest
monitored window (never the clock), so a replayed or paused model still shows its last 30 days.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from driftpilot.domain.evidence import COLUMN_STATISTICS, DRIFTED, AliasMove, RetrainState
from driftpilot.domain.gate import LOWER_IS_BETTER
from driftpilot.errors import DriftpilotError
from driftpilot.ports import CHAMPION, EvidenceStore, ModelRegistry

CHALLENGER = "challenger"
PERIODS = (30, 60, 90)  # the trend periods the view offers, in days
TOP_FEATURES = 8
Cell = str | float | int | bool | None


class UnknownModel(DriftpilotError):
    """The view was asked about a model that has no config in the config folder."""


@dataclass(frozen=True)
class Table:
    """A named table: what a chart draws and what its CSV download holds, cell for cell."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "columns": list(self.columns), "rows": [list(r) for r in self.rows]}


@dataclass(frozen=True)
class Page:
    """One page's answer: a few facts for its header and its tables by name."""

    facts: Mapping[str, Cell]
    tables: tuple[Table, ...] = field(default=())

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(f"no table {name!r} on this page (tables: {', '.join(t.name for t in self.tables)})")

    def as_json(self) -> dict[str, Any]:
        return {"facts": dict(self.facts), "tables": {t.name: t.as_json() for t in self.tables}}


@dataclass(frozen=True)
class ModelInfo:
    """What the view needs of a model's config (the shell reads the YAML; the view gets these)."""

    name: str
    description: str
    primary_metric: str
    performance_slo: float | None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _aliases(registry: ModelRegistry, model: str) -> tuple[dict[str, str], str]:
    """The model's aliases, or none and a note: an unreachable registry must not blank the view."""
    try:
        return registry.aliases(model), ""
    except Exception as exc:
        return {}, f"registry not readable: {type(exc).__name__}"


def overview(models: Sequence[ModelInfo], store: EvidenceStore, registry: ModelRegistry) -> Page:
    """Every configured model: its versions, last window's action and reasons, health, last alert."""
    rows = []
    for info in models:
        aliases, note = _aliases(registry, info.name)
        decisions = sorted(store.decisions(info.name), key=lambda d: d.window)
        last = decisions[-1] if decisions else None
        evidence = {w.evidence.window: w for w in store.window_evidence(info.name)}
        record = evidence.get(last.window) if last else None
        alerts = sorted(store.alert_deliveries(info.name), key=lambda a: (a.window, a.updated_at))
        alert = alerts[-1] if alerts else None
        rows.append((
            info.name, info.description, aliases.get(CHAMPION), aliases.get(CHALLENGER),
            last.window if last else None, last.action.value if last else None,
            "; ".join(last.reasons) if last else None,
            record.health_score if record else None,
            record.evidence.drift_share if record else None,
            f"{alert.window} {alert.channel}: {alert.status}" if alert else None,
            len(decisions), note or None,
        ))
    columns = ("model", "description", "champion", "challenger", "last_window", "action", "reasons",
               "health", "drift_share", "last_alert", "windows", "note")
    return Page({"models": len(rows)}, (Table("models", columns, tuple(rows)),))


def _last_window(store: EvidenceStore, model: str) -> str | None:
    windows = [w.evidence.window for w in store.window_evidence(model)]
    windows += [d.window for d in store.decisions(model)]
    return max(windows) if windows else None


def _event_kind(move: AliasMove) -> str:
    if move.alias == CHAMPION:
        return "rollback" if move.reason.startswith("rollback") else "promotion"
    return f"{move.alias}"


def trends(info: ModelInfo, store: EvidenceStore, days: int) -> Page:
    """The model's series over the ``days`` days up to its newest window, and events on that axis.

    ``series``: one row per window (drift share, the primary metric once labels are final, the SLO
    and the serving baseline's value of that metric as the decision saw it, volume, latency p95,
    quarantined share). ``top_features``: the columns drifted in most windows of the period.
    ``events``: promotions, rollbacks and other alias moves, and retrains that ran.
    """
    if days not in PERIODS:
        raise ValueError(f"days must be one of {', '.join(map(str, PERIODS))}, not {days}")
    model = info.name
    end = _last_window(store, model)
    if end is None:
        empty = Page({"model": model, "days": days, "from": None, "to": None},
                     (Table("series", SERIES_COLUMNS, ()), Table("top_features", TOP_COLUMNS, ()),
                      Table("events", EVENT_COLUMNS, ())))
        return empty
    since = (date.fromisoformat(end) - timedelta(days=days - 1)).isoformat()
    metrics = store.read_metrics(model, since=since, metrics=[
        "drift.share", "ops.rows", "ops.latency_p95_ms", "validation.quarantined_share", "drift.drifted",
        *(f"drift.{s}" for s in ("jensen_shannon", "wasserstein_norm", "psi"))])
    metrics = metrics[metrics["window"] <= end]
    scalar: dict[tuple[str, str], float | None] = {}
    for row in metrics[metrics["column"] == ""].itertuples(index=False):
        scalar[(str(row.window), str(row.metric))] = _number(row.value)
    versions = {w.evidence.window: w.model_version for w in store.window_evidence(model, since=since, until=end)}
    performance = {p.window: p for p in store.performance(model, since=since, until=end)}
    baseline: dict[str, float | None] = {}
    for d in store.decisions(model):
        perf = d.evidence.get("performance") if isinstance(d.evidence, Mapping) else None
        if isinstance(perf, Mapping) and perf.get("metric") == info.primary_metric:
            baseline[d.window] = _number(perf.get("baseline"))
    windows = sorted({w for w, _ in scalar} | set(versions) | set(performance))
    rows = []
    for w in windows:
        perf = performance.get(w)
        rows.append((w, versions.get(w), scalar.get((w, "drift.share")),
                     perf.value(info.primary_metric) if perf is not None else None,
                     info.performance_slo, baseline.get(w),
                     scalar.get((w, "ops.rows")), scalar.get((w, "ops.latency_p95_ms")),
                     scalar.get((w, "validation.quarantined_share"))))
    return Page(
        {"model": model, "days": days, "from": since, "to": end, "metric": info.primary_metric,
         "lower_is_better": info.primary_metric in LOWER_IS_BETTER, "slo": info.performance_slo},
        (Table("series", SERIES_COLUMNS, tuple(rows)), _top_features(metrics, len(windows)),
         _events(store, model, since, end)),
    )


SERIES_COLUMNS = ("window", "version", "drift_share", "performance", "slo", "baseline", "rows", "latency_p95_ms",
                  "quarantined_share")
TOP_COLUMNS = ("column", "drifted_windows", "windows", "max_jensen_shannon", "max_wasserstein_norm", "max_psi")
EVENT_COLUMNS = ("at", "window", "kind", "from_version", "to_version", "by", "reason")


def _top_features(metrics: Any, windows: int) -> Table:
    per_column: dict[str, dict[str, float]] = defaultdict(dict)
    for row in metrics[metrics["column"] != ""].itertuples(index=False):
        value = _number(row.value)
        if value is None:
            continue
        stats = per_column[str(row.column)]
        key = str(row.metric).removeprefix("drift.")
        if key == DRIFTED:
            stats[key] = stats.get(key, 0.0) + value
        else:
            stats[key] = max(stats.get(key, value), value)
    ranked = sorted(per_column.items(), key=lambda kv: (-kv[1].get(DRIFTED, 0.0), -kv[1].get("jensen_shannon", 0.0),
                                                        kv[0]))
    rows = tuple((c, int(s.get(DRIFTED, 0.0)), windows, s.get("jensen_shannon"), s.get("wasserstein_norm"),
                  s.get("psi")) for c, s in ranked[:TOP_FEATURES])
    return Table("top_features", TOP_COLUMNS, rows)


def _day(at: str) -> str:
    return at[:10]


def _events(store: EvidenceStore, model: str, since: str, end: str) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for move in store.promotion_log(model):
        if since <= _day(move.at) <= end:
            rows.append((move.at, _day(move.at), _event_kind(move), move.from_version, move.to_version, move.by,
                         move.reason))
    for request in store.retrain_requests(model):
        if request.state == RetrainState.RAN and since <= request.window <= end:
            rows.append((request.ran_at or request.requested_at, request.window, "retrain", None, None, "driftpilot",
                         request.reason))
    rows.sort(key=lambda r: (str(r[1]), str(r[0])))
    return Table("events", EVENT_COLUMNS, tuple(rows))


def window_page(info: ModelInfo, store: EvidenceStore, window: str, report_files: Iterable[str]) -> Page:
    """One window: the decision, its reasons and evidence, the per-column verdicts, its report files.

    The verdicts are driftpilot's own (the statistics over every row that the policy reads), not
    Evidently's sample figures; the Evidently pages are listed as files to open.
    """
    model = info.name
    decision = next((d for d in store.decisions(model) if d.window == window), None)
    record = next((w for w in store.window_evidence(model, since=window, until=window)
                   if w.evidence.window == window), None)
    if decision is None and record is None:
        raise UnknownModel(f"no monitored window {window!r} for model {model!r}: "
                           "pick one from the model's page (or run the monitoring DAG for it)")
    verdicts = []
    if record is not None:
        drifted = set(record.evidence.drifted_columns)
        for column, scores in sorted(record.evidence.column_scores.items()):
            verdicts.append((column, bool(scores.get(DRIFTED, 0.0)), column in drifted,
                             *(_number(scores.get(s)) for s in COLUMN_STATISTICS)))
    perf = store.performance(model, since=window, until=window)
    perf_rows = tuple((p.window, p.model_version, p.status.value, p.note, k, _number(v), p.labelled, p.coverage, p.as_of)
                      for p in perf if p.window == window for k, v in sorted(p.metrics.items()))
    evidence = dict(decision.evidence) if decision else {}
    facts: dict[str, Cell] = {
        "model": model, "window": window,
        "version": decision.model_version if decision else record.model_version if record else None,
        "action": decision.action.value if decision else None,
        "decided_at": decision.decided_at if decision else None,
        "rows": record.evidence.rows if record else None,
        "drift_share": record.evidence.drift_share if record else None,
        "health": record.health_score if record else None,
    }
    return Page(facts, (
        Table("reasons", ("reason",), tuple((r,) for r in (decision.reasons if decision else ()))),
        Table("evidence", ("key", "value"), tuple((k, _flat(v)) for k, v in sorted(evidence.items()))),
        Table("columns", ("column", "drifted", "deciding_feature", *COLUMN_STATISTICS), tuple(verdicts)),
        Table("performance", ("window", "version", "status", "note", "metric", "value", "labelled", "coverage", "as_of"),
              perf_rows),
        Table("reports", ("file",), tuple((f,) for f in sorted(report_files) if f.endswith((".html", ".json")))),
    ))


def _flat(value: Any) -> Cell:
    """A decision evidence value as one cell (nested values as compact text)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_flat(v)) for v in value)
    return str(value)


FEATURE_COLUMNS = ("window", "version", "drifted", *COLUMN_STATISTICS)


def feature_history(info: ModelInfo, store: EvidenceStore, column: str, days: int,
                    summary_of: Callable[[str], Mapping[str, Any] | None] | None = None) -> Page:
    """One column's drift statistics over the period, per window, and its window summaries.

    ``summary_of(window)``: the column's summary in that window's stored ``drift_stats.json``
    (count, mean, min, max, std for a number; unseen count for a category), or ``None``; asked
    only for the windows that judged the column.
    """
    if days not in PERIODS:
        raise ValueError(f"days must be one of {', '.join(map(str, PERIODS))}, not {days}")
    end = _last_window(store, info.name)
    rows = []
    if end is not None:
        since = (date.fromisoformat(end) - timedelta(days=days - 1)).isoformat()
        for record in sorted(store.window_evidence(info.name, since=since, until=end), key=lambda r: r.evidence.window):
            scores = record.evidence.column_scores.get(column)
            if scores is None:
                continue
            rows.append((record.evidence.window, record.model_version, bool(scores.get(DRIFTED, 0.0)),
                         *(_number(scores.get(s)) for s in COLUMN_STATISTICS)))
    summary_columns = ("window", "count", "mean", "min", "max", "std", "missing", "unseen")
    summaries = {str(r[0]): summary_of(str(r[0])) for r in rows} if summary_of else {}
    summary_rows = tuple((w, *(_number(s.get(k)) for k in summary_columns[1:]))
                         for w, s in sorted(summaries.items()) if s is not None)
    return Page({"model": info.name, "column": column, "days": days, "windows": len(rows)},
                (Table("history", FEATURE_COLUMNS, tuple(rows)), Table("summary", summary_columns, summary_rows)))


def feature_names(store: EvidenceStore, model: str) -> list[str]:
    """The columns the model's newest window judged (features and prediction outputs)."""
    records = sorted(store.window_evidence(model), key=lambda r: r.evidence.window)
    return sorted(records[-1].evidence.column_scores) if records else []
