"""`usecases.manual_runs`: the DAGs' steps in one process (fakes behind the registry and trainer)."""

from __future__ import annotations

import dataclasses
import json
import shlex

import pytest

from driftpilot.domain.config import WhenEmpty
from driftpilot.domain.evidence import RetrainState
from driftpilot.errors import EmptyWindow, InsufficientData
from driftpilot.usecases import manual_runs
from driftpilot.usecases import monitor as monitoring
from driftpilot.usecases.retrain import RetrainRequest

MODEL = "elec2_updown"


def test_an_empty_window_fails_the_run_after_the_labels_step(elec2_config, ports) -> None:
    said: list[str] = []
    run = manual_runs.monitor_window(elec2_config, ports, monitoring.window_for(elec2_config, "2026-01-10"),
                                     say=said.append)
    assert [s.step for s in run.steps] == ["reconcile", "validate", "labels"]  # no drift, no decision
    assert run.state("validate") == manual_runs.FAILED
    assert isinstance(run.error, EmptyWindow)
    assert any(line.strip().startswith("validate     FAILED: EmptyWindow") for line in said)


def test_skip_runs_the_labels_step_and_fails_nothing(elec2_config, ports) -> None:
    config = dataclasses.replace(elec2_config, when_empty=WhenEmpty.SKIP)
    run = manual_runs.monitor_window(config, ports, monitoring.window_for(config, "2026-01-10"))
    assert run.state("validate") == manual_runs.SKIPPED and run.error is None
    assert run.state("labels") is not None and run.state("decide") is None


def _record(ports, window: str, key: str) -> None:  # type: ignore[no-untyped-def]
    ports.store.record_retrain(MODEL, key, window, f"{window}T00:00:00+00:00", f"drift in {window}")


def test_the_latest_pending_request_is_taken_and_one_that_ran_only_by_name(ports) -> None:
    _record(ports, "2026-01-05", "k5")
    _record(ports, "2026-01-06", "k6")
    assert manual_runs.outbox_request(ports, MODEL).idempotency_key == "k6"
    ports.store.mark_retrain_ran(MODEL, "k6", "2026-01-06", "2026-01-06T00:00:00+00:00", "drift in 2026-01-06")
    assert manual_runs.outbox_request(ports, MODEL).idempotency_key == "k5"
    ran = manual_runs.outbox_request(ports, MODEL, window="2026-01-06")
    assert (ran.idempotency_key, ran.state) == ("k6", RetrainState.RAN)
    assert manual_runs.outbox_request(ports, MODEL, key="k5").window == "2026-01-05"


def test_no_request_says_how_to_get_one(ports) -> None:
    with pytest.raises(InsufficientData, match=r"no retrain request pending.*driftpilot monitor --model elec2_updown"):
        manual_runs.outbox_request(ports, MODEL)
    _record(ports, "2026-01-05", "k5")
    with pytest.raises(InsufficientData, match=r"for window 2026-01-09.*latest: 2026-01-05 k5 \(recorded\)"):
        manual_runs.outbox_request(ports, MODEL, window="2026-01-09")


def test_the_airflow_command_carries_the_same_request(ports) -> None:
    _record(ports, "2026-01-06", f"{MODEL}:2026-01-06:v1")
    request = manual_runs.request_of(manual_runs.outbox_request(ports, MODEL))
    words = shlex.split(manual_runs.airflow_retrain_command(request))
    conf = json.loads(words[words.index("-c") + 1])
    assert RetrainRequest.from_dict({"model": MODEL, **conf}) == request
    assert request.as_of.isoformat() == "2026-01-06T00:00:00+00:00"
