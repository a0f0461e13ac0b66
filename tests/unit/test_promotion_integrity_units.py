"""Pure parts of promotion integrity: the promotion lock's bookkeeping and the Airflow answer."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from driftpilot.adapters import sqlite_store as history
from driftpilot.errors import LockTimeout, PromotionRefused
from driftpilot.usecases import promote as promotion


def test_the_lock_is_released_when_the_block_raises(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    with pytest.raises(RuntimeError), history.held_lock(db, "promotion:m", "first"):
        raise RuntimeError("boom")
    with history.held_lock(db, "promotion:m", "second", timeout=0.5) as token:
        assert token.startswith("second")


def test_a_second_holder_waits_for_the_first(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    order: list[str] = []
    inside = threading.Event()

    def first() -> None:
        with history.held_lock(db, "promotion:m", "first"):
            inside.set()
            time.sleep(0.5)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait(10)
    with history.held_lock(db, "promotion:m", "second", timeout=10):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]


def test_an_expired_lock_is_taken_over_and_a_live_one_times_out_naming_its_holder(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    with history.held_lock(db, "promotion:m", "reconcile on host-a", ttl=60):
        with pytest.raises(LockTimeout, match=r"held by reconcile on host-a .* expires at"), \
                history.held_lock(db, "promotion:m", "cli", timeout=0.3):
            pass
        with history.held_lock(db, "promotion:other", "cli", timeout=0.3):
            pass  # another model's lock is independent
    with history.held_lock(db, "promotion:m", "stale", ttl=0.0), history.held_lock(db, "promotion:m", "next", timeout=1):
        pass  # a lock past its expiry does not block


def test_the_airflow_answer_names_the_responding_user_and_their_note() -> None:
    answer = {"chosen_options": ["Approve"], "params_input": {"note": " CI clears the bar "},
              "responded_by_user": {"id": "42", "name": "rita"}}
    assert promotion.airflow_approval(answer) == ("rita (Airflow user 42)", "CI clears the bar")
    no_note = {**answer, "params_input": {}}
    assert promotion.airflow_approval(no_note)[1] == "approved in the Airflow approval task"


def test_an_airflow_answer_without_a_user_is_no_approval() -> None:
    with pytest.raises(PromotionRefused, match="names no responding user"):
        promotion.airflow_approval({"chosen_options": ["Approve"], "params_input": {}, "responded_by_user": None})


def test_a_verdict_is_fixed_once_bound_to_a_version(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    history.record_gate_verdict(db, "m", "run-1", False, "aaa", "1", "t1")
    history.record_gate_verdict(db, "m", "run-1", True, "bbb", "1", "t2")  # re-evaluated before registration
    assert history.bind_gate_verdict(db, "m", "run-1", "5").digest == "bbb"
    after = history.record_gate_verdict(db, "m", "run-1", False, "ccc", "1", "t3")
    assert (after.passed, after.digest, after.version) == (True, "bbb", "5")
    assert history.gate_verdict(db, "m", "5") == after
    assert history.gate_verdict(db, "m", "6") is None
    with pytest.raises(Exception, match="belongs to version 5"):
        history.bind_gate_verdict(db, "m", "run-1", "6")
