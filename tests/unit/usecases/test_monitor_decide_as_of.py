"""decide reads its evidence as of the window's end: a re-run after late labels decides the same.

Use-case tests on the in-memory store (``tests/fakes/evidence.py``); no lake, registry or MLflow.
Elec2's policy: 1-day windows, labels mature after 96 h, accuracy SLO 0.65, allowed drop 0.05.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from driftpilot.domain.evidence import (
    PerformanceRecord,
    PerformanceStatus,
    WindowRecord,
    window_evidence,
)
from driftpilot.domain.policy import Action
from driftpilot.usecases import monitor as monitoring
from tests.fakes.evidence import InMemoryEvidenceStore

VERSION = "1"
HOLDOUT = 0.90


def reference(version: str) -> float | None:
    return HOLDOUT if version == VERSION else None


def window(config, day: int) -> monitoring.Window:
    return monitoring.window_for(config, f"2026-01-{day:02d}")


def put_window(store, config, day: int, share: float = 0.1) -> None:
    w = window(config, day)
    store.put_window_evidence(WindowRecord(config.name, VERSION, window_evidence(w.label, 336, share, [], []),
                                           w.end.isoformat()))


def put_accuracy(store, config, day: int, accuracy: float, known_at_day: int) -> None:
    """Window ``day``'s accuracy as the run of window ``known_at_day`` computed it (as of that window's end)."""
    store.put_performance(PerformanceRecord(
        model=config.name, model_version=VERSION, window=window(config, day).label,
        as_of=window(config, known_at_day).end.isoformat(), status=PerformanceStatus.FINAL, note="final",
        metrics={"accuracy": accuracy, "n": 300.0}, labelled=300, coverage=0.9, corrected=0, mature=True, late=0))


@pytest.fixture
def store(elec2_config):
    store = InMemoryEvidenceStore()
    for day in range(1, 9):
        put_window(store, elec2_config, day)
    return store


def decide(config, store, day: int):
    return monitoring.decide_window(config, store, window(config, day), VERSION, reference)[0]


def test_rerun_after_late_labels_and_later_windows_gives_the_first_decision(elec2_config, store) -> None:
    put_accuracy(store, elec2_config, 1, 0.88, known_at_day=5)  # window 1 matures at the end of window 5
    first = decide(elec2_config, store, 5)
    assert first.action is Action.NONE
    assert first.evidence["performance"]["value"] == pytest.approx(0.88)
    # later runs: late labels for window 1 (after maturity) move its figure; window 2 matures badly
    put_accuracy(store, elec2_config, 1, 0.40, known_at_day=8)
    put_accuracy(store, elec2_config, 2, 0.50, known_at_day=6)
    put_window(store, elec2_config, 6, share=0.9)
    later = decide(elec2_config, store, 8)
    assert later.action is Action.RETRAIN  # what is known now does change a new decision ...
    again = decide(elec2_config, store, 5)
    assert again == first  # ... and not the re-run of the old one: same action, reasons and evidence


def test_performance_learned_after_the_window_end_is_invisible(elec2_config, store) -> None:
    put_accuracy(store, elec2_config, 1, 0.40, known_at_day=7)  # first known two windows after window 5
    decision = decide(elec2_config, store, 5)
    assert "performance" not in decision.evidence
    assert any("performance not judged" in r for r in decision.reasons)
    assert decide(elec2_config, store, 7).action is Action.RETRAIN


def test_only_windows_mature_at_the_window_end_are_judged(elec2_config, store) -> None:
    """Window 2 is not mature at the end of window 5 (96 h after 01-03 is 01-07), whatever the store says."""
    put_accuracy(store, elec2_config, 1, 0.88, known_at_day=5)
    put_accuracy(store, elec2_config, 2, 0.40, known_at_day=5)  # maturing figures must never be final; be safe anyway
    assert decide(elec2_config, store, 5).evidence["performance"]["window"] == window(elec2_config, 1).label


def test_drift_history_is_the_windows_up_to_this_one(elec2_config, store) -> None:
    put_window(store, elec2_config, 3, share=0.5)
    put_window(store, elec2_config, 4, share=0.5)
    assert decide(elec2_config, store, 4).action is Action.ALERT  # persisted in 2 of the last 3
    before = decide(elec2_config, store, 3)
    put_window(store, elec2_config, 5, share=0.9)  # a later window never leaks into an earlier decision
    assert decide(elec2_config, store, 3) == before
    assert before.evidence["drifted_windows"] == [window(elec2_config, 3).label]


def test_a_window_without_drift_evidence_is_not_decided(elec2_config) -> None:
    with pytest.raises(monitoring.InsufficientData, match="run the drift step first"):
        decide(elec2_config, InMemoryEvidenceStore(), 3)


def test_only_retrains_that_ran_before_the_window_end_hold_back(elec2_config, store) -> None:
    put_accuracy(store, elec2_config, 1, 0.40, known_at_day=5)
    end = window(elec2_config, 5).end
    store.mark_retrain_ran(elec2_config.name, "later", "2026-01-07", (end + timedelta(days=2)).isoformat(), "r")
    assert decide(elec2_config, store, 5).action is Action.RETRAIN  # a retrain after the window end is not seen
    store.mark_retrain_ran(elec2_config.name, "earlier", "2026-01-04", (end - timedelta(days=1)).isoformat(), "r")
    held = decide(elec2_config, store, 5)
    assert held.action is Action.ALERT and any("cooldown" in r for r in held.reasons)
