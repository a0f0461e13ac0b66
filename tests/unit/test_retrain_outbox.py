"""Retrain requests as an outbox, on a real SQLite file: recorded -> emitted -> superseded / ran.

A request is recorded before its Asset event goes out and marked emitted only afterwards, so a
task that dies in between re-emits on retry; queued events are each handled or superseded; the
cooldown and the retrain budget count only retrains that ran.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftpilot.adapters import sqlite_store as history
from driftpilot.composition import build_ports
from driftpilot.domain.config import TriggerPolicy
from driftpilot.domain.policy import Action, WindowEvidence, decide
from tests.fakes import local_settings

MODEL = "m"


def test_record_then_emit_then_ran(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    assert history.record_retrain(db, MODEL, "k1", "2026-01-05", "2026-01-06T00:00:00+00:00", "drift") == history.RECORDED
    # a retry after a crash before the emission was confirmed: still `recorded`, so emit again
    assert history.record_retrain(db, MODEL, "k1", "2026-01-05", "2026-01-06T00:00:00+00:00", "drift") == history.RECORDED
    assert history.mark_retrain_emitted(db, MODEL, "k1")
    assert not history.mark_retrain_emitted(db, MODEL, "k1")  # once
    assert history.record_retrain(db, MODEL, "k1", "2026-01-05", "2026-01-06T00:00:00+00:00", "drift") == history.EMITTED
    assert history.retrain_times(db, MODEL) == []  # emitted is not ran
    history.mark_retrain_ran(db, MODEL, "k1", "2026-01-05", "2026-01-06T00:00:00+00:00", "drift")
    history.mark_retrain_ran(db, MODEL, "k1", "2026-01-05", "2026-01-06T00:00:00+00:00", "drift")  # idempotent
    [row] = history.read_retrains(db, MODEL).to_dict("records")
    assert (row["state"], row["superseded_by"]) == (history.RAN, None)
    assert row["emitted_at"] and row["ran_at"]
    assert history.retrain_times(db, MODEL) == ["2026-01-06T00:00:00+00:00"]


def test_superseded_requests_are_kept_with_the_key_that_covered_them(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    history.record_retrain(db, MODEL, "k1", "2026-01-05", "2026-01-06T00:00", "a")
    history.mark_retrain_ran(db, MODEL, "k0", "2026-01-04", "2026-01-05T00:00", "ran before")
    marked = history.supersede_retrains(db, MODEL, [("k1", "2026-01-05", "2026-01-06T00:00", "a"),
                                                    ("k0", "2026-01-04", "2026-01-05T00:00", "ran before"),
                                                    ("elsewhere", "manual", "2026-01-06T00:00", "b")], by="k2")
    assert marked == ["k1", "elsewhere"]
    states = history.read_retrains(db, MODEL).set_index("idempotency_key")
    assert states.loc["k1", ["state", "superseded_by"]].tolist() == [history.SUPERSEDED, "k2"]
    assert states.loc["elsewhere", ["state", "superseded_by"]].tolist() == [history.SUPERSEDED, "k2"]
    assert states.loc["k0", "state"] == history.RAN  # a retrain that ran stays counted
    assert history.retrain_times(db, MODEL) == ["2026-01-05T00:00"]


def test_a_store_from_before_the_outbox_keeps_working(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as raw:
        raw.execute("""CREATE TABLE retrains (model TEXT NOT NULL, idempotency_key TEXT NOT NULL, window TEXT NOT NULL,
                       requested_at TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (model, idempotency_key))""")
        raw.execute("INSERT INTO retrains VALUES ('m', 'old', '2026-01-01', '2026-01-02T00:00', 'drift')")
    # the old row was emitted by the old code: not re-emitted, and kept
    assert history.record_retrain(db, MODEL, "old", "2026-01-01", "2026-01-02T00:00", "drift") == history.EMITTED
    assert history.record_retrain(db, MODEL, "new", "2026-01-03", "2026-01-04T00:00", "drift") == history.RECORDED
    assert history.read_retrains(db, MODEL)["idempotency_key"].tolist() == ["old", "new"]
    assert history.read_alert_deliveries(db, MODEL).empty  # the new table exists


POLICY = TriggerPolicy(
    drift_share=0.3, persistence_windows=1, persistence_lookback=1, performance_slo=None,
    max_performance_drop=0.05, min_samples=10, cooldown_days=7, max_retrains_per_30_days=2, retrain_on_drift=True,
)
NOW = datetime(2026, 1, 20, tzinfo=UTC)
DRIFTED = WindowEvidence(window="2026-01-19", rows=500, drift_share=0.9, drifted_columns=("x",))


def _apply(db: Path, key: str, at: str, state: str) -> None:
    history.record_retrain(db, MODEL, key, at[:10], at, "r")
    if state == history.EMITTED:
        history.mark_retrain_emitted(db, MODEL, key)
    elif state == history.SUPERSEDED:
        history.supersede_retrains(db, MODEL, [(key, at[:10], at, "r")], by="later")
    elif state == history.RAN:
        history.mark_retrain_ran(db, MODEL, key, at[:10], at, "r")


@pytest.mark.parametrize(
    ("earlier", "action", "reason"),
    [
        ([], Action.RETRAIN, ""),
        # a request 2 days ago that never ran (died, superseded, never emitted) does not cool down
        ([("2026-01-18T00:00:00+00:00", history.RECORDED)], Action.RETRAIN, ""),
        ([("2026-01-18T00:00:00+00:00", history.EMITTED)], Action.RETRAIN, ""),
        ([("2026-01-18T00:00:00+00:00", history.SUPERSEDED)], Action.RETRAIN, ""),
        ([("2026-01-18T00:00:00+00:00", history.RAN)], Action.ALERT, "cooldown"),
        # the budget (2 in 30 days) counts ran retrains only
        ([("2026-01-01T00:00:00+00:00", history.RAN), ("2026-01-05T00:00:00+00:00", history.EMITTED),
          ("2026-01-09T00:00:00+00:00", history.SUPERSEDED)], Action.RETRAIN, ""),
        ([("2026-01-01T00:00:00+00:00", history.RAN), ("2026-01-09T00:00:00+00:00", history.RAN)],
         Action.ALERT, "circuit breaker"),
    ],
)
def test_cooldown_and_budget_count_only_retrains_that_ran(tmp_path: Path, earlier, action, reason) -> None:
    db = tmp_path / "h.sqlite"
    for i, (at, state) in enumerate(earlier):
        _apply(db, f"k{i}", at, state)
    times = [datetime.fromisoformat(t) for t in history.retrain_times(db, MODEL, before=NOW.isoformat())]
    decision = decide(DRIFTED, [], None, POLICY, times, NOW)
    assert decision.action is action
    assert reason in " ".join(decision.reasons)


# --------------------------------------------------------------------------------------------
# the task functions of both DAGs, on a real store
# --------------------------------------------------------------------------------------------

DECISION = {"model": MODEL, "window": "2026-01-05", "window_end": "2026-01-06T00:00:00+00:00",
            "reasons": ["accuracy dropped"], "idempotency_key": "m:2026-01-05:v1"}


def test_a_task_that_died_between_record_and_emit_emits_on_retry(tmp_path: Path, elec2_config) -> None:
    from driftpilot.usecases import monitor as monitoring
    settings = local_settings(tmp_path)
    config = elec2_config
    first = monitoring.request_retrain(config, build_ports(settings), {**DECISION, "model": config.name})
    assert first["emit"] and first["state"] == history.RECORDED
    # ... the worker dies here: no Asset event, no confirmation. Airflow retries the task:
    retry = monitoring.request_retrain(config, build_ports(settings), {**DECISION, "model": config.name})
    assert retry["emit"], "a request recorded but never emitted must be emitted by the retry"
    assert monitoring.confirm_retrain_emitted(config, build_ports(settings), retry) == {"idempotency_key": DECISION["idempotency_key"], "marked": True}
    # a later re-run of the window finds it emitted: no second event
    again = monitoring.request_retrain(config, build_ports(settings), {**DECISION, "model": config.name})
    assert (again["emit"], again["state"]) == (False, history.EMITTED)
    assert set(monitoring.RETRAIN_EVENT_KEYS) <= set(first)


def _event(key: str, as_of: str, window: str) -> dict:
    return {"model": MODEL, "window": window, "reason": f"reason {key}", "as_of": as_of, "idempotency_key": key}


def test_queued_events_are_handled_or_superseded_never_dropped(tmp_path: Path) -> None:
    from driftpilot.usecases.retrain import request_from_events

    settings = local_settings(tmp_path)
    db = settings.metrics_db
    for key, as_of, window in (("k5", "2026-01-06T00:00:00+00:00", "2026-01-05"), ("k6", "2026-01-07T00:00:00+00:00", "2026-01-06")):
        history.record_retrain(db, MODEL, key, window, as_of, f"reason {key}")  # recorded; emission not yet confirmed
    events = [_event("k6", "2026-01-07T00:00:00+00:00", "2026-01-06"), _event("k5", "2026-01-06T00:00:00+00:00", "2026-01-05"),
              _event("k6", "2026-01-07T00:00:00+00:00", "2026-01-06"),  # re-emitted by a retry: the same request
              {"reason": "from elsewhere", "as_of": "2026-01-06T12:00:00+00:00"}]  # no key of its own
    request = request_from_events(build_ports(settings), MODEL, {"reason": "manual retrain", "window": "manual", "idempotency_key": None},
                                  events, "2026-01-08T00:00:00+00:00", f"{MODEL}:run-1")
    assert (request["idempotency_key"], request["as_of"], request["reason"]) == ("k6", "2026-01-07T00:00:00+00:00", "reason k6")
    assert sorted(request["superseded"]) == sorted(["k5", f"{MODEL}:run-1#event3"])
    states = history.read_retrains(db, MODEL).set_index("idempotency_key")
    assert states.loc["k6", "state"] == history.EMITTED  # receipt proves emission
    assert states.loc["k5", ["state", "superseded_by"]].tolist() == [history.SUPERSEDED, "k6"]
    assert states.loc[f"{MODEL}:run-1#event3", ["state", "superseded_by", "reason"]].tolist() == [history.SUPERSEDED, "k6", "from elsewhere"]


def test_without_events_the_params_are_the_request(tmp_path: Path) -> None:
    from driftpilot.usecases.retrain import request_from_events

    request = request_from_events(build_ports(local_settings(tmp_path)), MODEL, {"reason": "person asked", "train_start": "2026-01-01"},
                                  [], "2026-01-08T00:00:00+00:00", f"{MODEL}:run-2")
    assert (request["reason"], request["window"], request["idempotency_key"], request["train_start"]) == (
        "person asked", "manual", f"{MODEL}:run-2", "2026-01-01")
    assert history.read_retrains(local_settings(tmp_path).metrics_db, MODEL).empty  # counted only once it ran
