"""The Evidently adapter with real Evidently on small hand-built windows.

Each window's reports cost ~1-4 s here, so the windows that several tests read are built once
per module. ``_render`` runs both steps (drift, then performance) as the monitoring DAG does.
"""

from __future__ import annotations

import dataclasses
import html
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftpilot.adapters.evidently import EvidentlyReports
from driftpilot.adapters.evidently.methods import CONSTANT_REFERENCE_METHOD
from driftpilot.adapters.evidently.renderer import read_manifest
from driftpilot.domain.config import ModelConfig, parse_config
from driftpilot.domain.contracts import (
    EVENT_TIME,
    MODEL_NAME,
    MODEL_VERSION,
    PREDICTION,
    PREDICTION_ID,
    SCORE,
)
from driftpilot.domain.reports import (
    INSUFFICIENT_LABELS,
    PERFORMANCE_OK,
    ReportMetric,
    ReportStep,
    WindowReports,
)

pytestmark = pytest.mark.integration

NUMERIC = ("x1", "x2", "x3", "flat")
TARGET = "y"


def _config(task: str = "binary", **evidently: object) -> ModelConfig:
    return parse_config(
        {
            "name": "toy",
            "description": "toy model for the report tests",
            "task": task,
            "target": TARGET,
            "features": {"numeric": list(NUMERIC), "categorical": ["cat"]},
            "labels": {"maturity_hours": 24, "min_labelled_rows": 50},
            "drift": {"share": 0.3},
            "reports": {"evidently": {"num_method": "wasserstein", "cat_method": "jensenshannon", "threshold": 0.1,
                                      **evidently}},
        },
        "toy.yaml",
    )


def _rows(n: int, seed: int, task: str = "binary") -> pd.DataFrame:
    """Features, a label and a fake model's outputs (the score is a logistic of x1 + x2)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "x1": rng.normal(0.0, 1.0, n),
        "x2": rng.normal(0.0, 1.0, n),
        "x3": rng.normal(10.0, 2.0, n),
        "flat": np.full(n, 0.5),  # constant, like Elec2's Victoria columns in the reference
        "cat": rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2]),
    })
    logit = frame["x1"] + frame["x2"]
    if task == "regression":
        frame[PREDICTION] = 2.0 * logit
        frame[TARGET] = 2.0 * logit + rng.normal(0, 0.5, n)
    else:
        frame[SCORE] = 1 / (1 + np.exp(-logit))
        frame[PREDICTION] = (frame[SCORE] >= 0.5).astype(int)
        frame[TARGET] = (rng.random(n) < frame[SCORE]).astype(int)
    return frame


def _window(frame: pd.DataFrame, day: str = "2026-01-05") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(inference log without labels, labelled rows) in the contract's shape."""
    n = len(frame)
    log = frame.drop(columns=[TARGET]).copy()
    log.insert(0, PREDICTION_ID, [f"toy-{day}-{i:05d}" for i in range(n)])
    log.insert(1, EVENT_TIME, pd.date_range(f"{day} 00:00", periods=n, freq="1min", tz="UTC"))
    log.insert(2, MODEL_NAME, "toy")
    log.insert(3, MODEL_VERSION, "1")
    labelled = log.copy()
    labelled[TARGET] = frame[TARGET].to_numpy()
    return log, labelled


RENDERER = EvidentlyReports()


@dataclasses.dataclass(frozen=True)
class Bundle:
    """Both steps' records of one window, read like the one bundle the tests knew."""

    out_dir: Path
    state: WindowReports

    def __getattr__(self, name: str):
        drift, perf = self.state.drift, self.state.performance
        if name in ("performance", "performance_status", "labelled_rows"):
            return getattr(perf, name)
        return getattr(drift, name)

    @property
    def metrics(self) -> tuple[ReportMetric, ...]:
        return self.state.metrics

    @property
    def paths(self) -> dict[str, Path]:
        return {kind: self.out_dir / name for kind, name in self.state.files.items()}

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(n for s in (self.state.drift, self.state.performance) if s is not None for n in s.notes)

    def rows(self) -> list[dict]:
        return [r.to_dict() for r in self.metrics]


def _render(config: ModelConfig, reference: pd.DataFrame, log: pd.DataFrame, labelled: pd.DataFrame | None,
            out: Path, label: str, seed: int) -> Bundle:
    drift = RENDERER.render_drift(config, reference, log, out, label, seed=seed)
    perf = RENDERER.render_performance(config, reference, log, labelled, out, label, seed=seed)
    return Bundle(out, WindowReports(config.name, label, drift, perf))


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return _rows(600, seed=1)


@pytest.fixture(scope="module")
def same(reference: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    log, labelled = _window(_rows(400, seed=2))
    out = tmp_path_factory.mktemp("same")
    return _render(_config(), reference, log, labelled, out, "2026-01-05", seed=0)


@pytest.fixture(scope="module")
def shifted(reference: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    # Reference rows with x1 moved by 2 std, x3 by 1 std and the category mix flipped; 'flat'
    # leaves its constant reference value; x2 is untouched.
    rng = np.random.default_rng(3)
    frame = reference.sample(n=400, random_state=3).reset_index(drop=True)
    frame["x1"] += 2.0
    frame["x3"] += 2.0
    frame["cat"] = rng.choice(["a", "b", "c"], size=len(frame), p=[0.1, 0.2, 0.7])
    frame["flat"] = rng.normal(0.8, 0.1, len(frame))
    frame[SCORE] = 1 / (1 + np.exp(-(frame["x1"] + frame["x2"])))
    frame[PREDICTION] = (frame[SCORE] >= 0.5).astype(int)
    log, _ = _window(frame)
    out = tmp_path_factory.mktemp("shifted")
    config = _config(per_column_method={"x3": "ks"})
    return _render(config, reference, log, None, out, "2026-01-06", seed=0)


def _row(bundle: Bundle, metric: str, column: str | None) -> ReportMetric:
    found = [r for r in bundle.metrics if r.metric == metric and r.column == column]
    assert len(found) == 1, f"{metric}/{column}: {found}"
    return found[0]


def test_identical_distributions_give_a_low_drift_share(same: Bundle) -> None:
    assert same.evidently_drift_share <= 0.15
    assert _row(same, "value_drift", "x1").drifted is False
    assert _row(same, "value_drift", "x1").method == "wasserstein"  # pinned although ref < 1000 rows
    assert _row(same, "value_drift", "cat").method == "jensenshannon"
    assert _row(same, "drifted_columns_share", None).drifted is False
    assert {r.column for r in same.metrics if r.metric == "value_drift"} == {*NUMERIC, "cat", SCORE, PREDICTION}


def test_all_files_are_written_and_summary_is_strict_json(same: Bundle) -> None:
    out = same.out_dir
    for name in ("drift.html", "drift.json", "quality.html", "quality.json", "performance.html",
                 "performance.json", "summary.json", "index.html"):
        assert (out / name).stat().st_size > 0, name
    assert not list(out.glob(".*.tmp"))
    summary = json.loads((out / "summary.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert summary["window"] == "2026-01-05"
    assert summary["sampled"] is False
    assert summary["metrics"] == same.rows()
    assert set(summary["metrics"][0]) == {"metric", "column", "value", "method", "threshold", "drifted"}
    snapshot = json.loads((out / "drift.json").read_text())
    assert {m["config"]["type"] for m in snapshot["metrics"]} >= {
        "evidently:metric_v2:ValueDrift", "evidently:metric_v2:DriftedColumnsCount"}
    assert "driftpilot-banner" in (out / "drift.html").read_text()
    assert "not sampled" in (out / "index.html").read_text()


def test_labelled_window_gets_performance_matching_the_labels(same: Bundle) -> None:
    _, labelled = _window(_rows(400, seed=2))
    expected_accuracy = float((labelled[PREDICTION] == labelled[TARGET]).mean())
    assert same.performance_status == PERFORMANCE_OK
    assert same.performance is not None
    assert same.performance["accuracy"] == pytest.approx(expected_accuracy)
    assert {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"} <= set(same.performance)
    assert 0.5 < same.performance["roc_auc"] <= 1.0
    assert same.labelled_rows == 400
    assert _row(same, "missing_value_share", "x1").value == 0.0


def test_strong_shift_of_two_columns_is_found_by_column(shifted: Bundle) -> None:
    x1 = _row(shifted, "value_drift", "x1")
    assert (x1.method, x1.threshold, x1.drifted) == ("wasserstein", 0.1, True)
    assert x1.value > 1.0
    cat = _row(shifted, "value_drift", "cat")
    assert (cat.method, cat.drifted) == ("jensenshannon", True)
    x3 = _row(shifted, "value_drift", "x3")  # p-value method: a tiny value means drift
    assert x3.method == "ks"
    assert x3.value < 0.05
    assert x3.drifted is True
    x2 = _row(shifted, "value_drift", "x2")
    assert x2.drifted is False
    assert {"x1", "x3", "cat"} <= set(shifted.evidently_drifted_columns)
    assert "x2" not in shifted.evidently_drifted_columns


def test_constant_reference_column_gets_a_bounded_method_and_no_nan(shifted: Bundle,
                                                                     same: Bundle) -> None:
    moved = _row(shifted, "value_drift", "flat")
    assert moved.method == CONSTANT_REFERENCE_METHOD
    assert moved.drifted is True
    assert 0.1 <= moved.value <= 1.0
    still = _row(same, "value_drift", "flat")  # window still at the constant
    assert (still.value, still.drifted) == (0.0, False)
    assert any("flat" in n and "constant" in n for n in shifted.notes)
    assert np.isfinite(shifted.evidently_drift_share)


def test_unlabelled_window_says_insufficient_labels(shifted: Bundle) -> None:
    assert shifted.performance is None
    assert shifted.performance_status == INSUFFICIENT_LABELS
    assert "performance_html" not in shifted.paths
    assert not (shifted.out_dir / "performance.html").exists()
    summary = json.loads((shifted.out_dir / "summary.json").read_text())
    assert summary["performance"] == INSUFFICIENT_LABELS
    assert "insufficient labels" in (shifted.out_dir / "index.html").read_text()


def _files(out: Path, *names: str) -> dict[str, tuple[bytes, int]]:
    return {n: ((out / n).read_bytes(), (out / n).stat().st_mtime_ns) for n in names if (out / n).exists()}


DRIFT_FILES = ("drift.html", "drift.json", "quality.html", "quality.json", "drift_manifest.json")
PERFORMANCE_FILES = ("performance.html", "performance.json", "performance_manifest.json")


def test_a_performance_rerun_replaces_its_report_and_leaves_the_drift_files_alone(
        reference: pd.DataFrame, tmp_path: Path) -> None:
    config = _config()
    log, labelled = _window(_rows(200, seed=4))
    first = _render(config, reference, log, labelled, tmp_path, "w", seed=0)
    assert (tmp_path / "performance.html").exists()
    drift_files = _files(tmp_path, *DRIFT_FILES)
    assert set(drift_files) == set(DRIFT_FILES)
    # Labels matured again: the labels task re-renders performance only.
    again = RENDERER.render_performance(config, reference, log, labelled, tmp_path, "w", seed=0)
    assert again.performance == pytest.approx(first.performance)
    assert _files(tmp_path, *DRIFT_FILES) == drift_files
    assert read_manifest(tmp_path, ReportStep.DRIFT) == first.state.drift  # the drift record read back, typed
    assert f"Evidently's drift share: {first.evidently_drift_share:.2f}" in html.unescape((tmp_path / "index.html").read_text())
    # 20 labelled rows are below min_labelled_rows (50): no number, and the old report goes.
    few = RENDERER.render_performance(config, reference, log, labelled.head(20), tmp_path, "w", seed=0)
    assert few.performance is None
    assert few.performance_status == INSUFFICIENT_LABELS
    assert not (tmp_path / "performance.html").exists()
    assert _files(tmp_path, *DRIFT_FILES) == drift_files
    assert json.loads((tmp_path / "summary.json").read_text())["performance"] == INSUFFICIENT_LABELS


def test_a_drift_rerun_leaves_the_performance_files_alone(reference: pd.DataFrame, tmp_path: Path) -> None:
    config = _config()
    log, labelled = _window(_rows(200, seed=4))
    first = _render(config, reference, log, labelled, tmp_path, "w", seed=0)
    performance_files = _files(tmp_path, *PERFORMANCE_FILES)
    assert set(performance_files) == set(PERFORMANCE_FILES)
    again = RENDERER.render_drift(config, reference, log, tmp_path, "w", seed=0)
    assert again.evidently_drift_share == first.evidently_drift_share
    assert _files(tmp_path, *PERFORMANCE_FILES) == performance_files
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["performance"] == pytest.approx(first.performance)  # from the performance manifest
    assert "Model performance</a>" in (tmp_path / "index.html").read_text()


def test_large_window_is_sampled_and_says_so(reference: pd.DataFrame, tmp_path: Path) -> None:
    config = _config(max_rows=150)
    log, _ = _window(_rows(400, seed=5))
    bundle = _render(config, reference, log, None, tmp_path, "big", seed=3)
    assert (bundle.sampled, bundle.sample_rows, bundle.total_rows) == (True, 150, 400)
    assert bundle.reference_rows == 150  # the reference is bounded too
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["sampled"], summary["sample_rows"], summary["total_rows"]) == (True, 150, 400)
    assert "SAMPLED" in (tmp_path / "drift.html").read_text()
    assert "SAMPLED" in (tmp_path / "quality.html").read_text()
    assert "150 of the window" in (tmp_path / "index.html").read_text()
    assert _row(bundle, "row_count", None).value == 150.0


def test_column_missing_from_the_whole_window_counts_as_drifted(reference: pd.DataFrame, tmp_path: Path) -> None:
    log, _ = _window(_rows(300, seed=6))
    log["x2"] = np.nan
    bundle = _render(_config(), reference, log, None, tmp_path, "nulls", seed=0)
    x2 = _row(bundle, "value_drift", "x2")
    assert x2.drifted is True
    assert x2.to_dict()["value"] is None
    assert "x2" in bundle.evidently_drifted_columns
    assert _row(bundle, "missing_value_share", "x2").value == 1.0
    assert any("x2" in n and "missing" in n for n in bundle.notes)


def test_regression_window_reports_rmse_mae_r2(tmp_path: Path) -> None:
    config = _config(task="regression")
    reference = _rows(400, seed=7, task="regression")
    log, labelled = _window(_rows(200, seed=8, task="regression"))
    bundle = _render(config, reference, log, labelled, tmp_path, "reg", seed=0)
    assert bundle.performance is not None
    assert {"rmse", "mae", "r2"} <= set(bundle.performance)
    residual = labelled[TARGET] - labelled[PREDICTION]
    assert bundle.performance["rmse"] == pytest.approx(float(np.sqrt((residual**2).mean())), rel=1e-6)
    assert _row(bundle, "value_drift", PREDICTION).method == "wasserstein"  # numeric output column


class _Tags(HTMLParser):
    """The start tags an HTML parser (like a browser's) sees in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_hostile_values_and_column_names_cannot_leave_the_embedded_data(reference: pd.DataFrame, tmp_path: Path) -> None:
    # The Chromium check is `make test-ui` (tests/ui); this one runs with `make test`.
    hostile = "</SCRIPT><img src=x onerror=alert(1)>"
    column = "c</script><script>alert(2)</script>"
    config = dataclasses.replace(_config(), features=dataclasses.replace(
        _config().features, categorical=("cat", column)))
    ref = reference.assign(**{column: np.resize(np.array(["a", hostile], dtype=object), len(reference))})
    frame = _rows(200, seed=9)
    frame.loc[::3, "cat"] = hostile
    log, _ = _window(frame.assign(**{column: hostile}))
    bundle = _render(config, ref, log, None, tmp_path, "hostile", seed=0)
    for kind in ("drift_html", "quality_html"):
        parser = _Tags()
        parser.feed(bundle.paths[kind].read_text())
        assert [t for t, _ in parser.tags].count("script") == 4, kind  # Evidently's own four, no more
        assert [t for t, _ in parser.tags if t == "img"] == [], kind
        assert parser.tags[[t for t, _ in parser.tags].index("body") + 1][1].get("id") == "driftpilot-banner"
    page = bundle.paths["quality_html"].read_text()
    assert hostile not in page and "\\u003c/SCRIPT\\u003e\\u003cimg src=x onerror=alert(1)\\u003e" in page
    assert {r.column for r in bundle.metrics if r.metric == "value_drift"} >= {"cat", column}
