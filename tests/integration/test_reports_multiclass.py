"""Evidently's multiclass performance page with real Evidently, on hand-built windows.

A retrained version's reference is its recent holdout, which can lack a rare class; a window that
holds that class must still get its page (Evidently's per-class metrics raise ``KeyError`` on a
current class the reference does not have).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftpilot.adapters.evidently import EvidentlyReports
from driftpilot.domain.config import parse_config
from driftpilot.domain.contracts import (
    EVENT_TIME,
    MODEL_NAME,
    MODEL_VERSION,
    PREDICTION,
    PREDICTION_ID,
)
from driftpilot.domain.reports import PERFORMANCE_OK

pytestmark = pytest.mark.integration

CONFIG = parse_config({
    "name": "toy3", "task": "multiclass", "target": "y", "classes": [1, 2, 3],
    "features": {"numeric": ["x"], "categorical": ["cat"]},
    "labels": {"maturity_hours": 24, "min_labelled_rows": 50},
}, "toy3.yaml")


def rows(n: int, seed: int, classes: list[int]) -> pd.DataFrame:
    """Features, a label and a fake model's prediction (right on 80 % of rows), as a labelled log."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(classes, n)
    frame = pd.DataFrame({
        PREDICTION_ID: [f"toy3-{seed}-{i:05d}" for i in range(n)],
        EVENT_TIME: pd.date_range("2026-01-05", periods=n, freq="1min", tz="UTC"),
        MODEL_NAME: "toy3", MODEL_VERSION: "1",
        "x": rng.normal(0, 1, n) + truth, "cat": rng.choice(["a", "b"], n),
    })
    frame[PREDICTION] = np.where(rng.random(n) < 0.8, truth, classes[0])
    frame["y"] = truth.astype(float)  # labels written as 1.0, 2.0: the same classes as 1, 2
    return frame


@pytest.mark.parametrize(("reference_classes", "window_classes", "with_reference"), [
    ([1, 2, 3], [1, 2, 3], True),
    ([1, 2, 3], [1, 2], False),  # two classes: Evidently computes it as binary, the reference has three
    ([2, 3], [2, 3], True),  # two classes, neither of them 1 (Evidently's fixed pos_label)
    ([1, 2, 3, 4], [1, 2, 3], True),
    ([1, 2, 4], [1, 2, 3], False),  # class 3 absent from the reference (a retrained version's holdout)
])
def test_multiclass_page_renders_per_class_metrics(reference_classes: list[int], window_classes: list[int],
                                                   with_reference: bool, tmp_path: Path) -> None:
    reference = rows(300, seed=1, classes=reference_classes)
    labelled = rows(200, seed=2, classes=window_classes)
    log = labelled.drop(columns=["y"])
    record = EvidentlyReports().render_performance(CONFIG, reference, log, labelled, tmp_path, "2026-01-05", seed=0)
    assert record.performance_status == PERFORMANCE_OK
    accuracy = float(np.mean(labelled[PREDICTION].to_numpy() == labelled["y"].to_numpy()))
    assert record.performance is not None
    assert record.performance["accuracy"] == pytest.approx(accuracy)
    page = json.dumps(json.loads((tmp_path / "performance.json").read_text()))
    assert "evidently:metric_v2:F1ByLabel" in page and "evidently:metric_v2:RecallByLabel" in page
    html = (tmp_path / "performance.html").read_text()
    assert ("reference vs current" in html) is with_reference
    assert ("current only" in html) is not with_reference
