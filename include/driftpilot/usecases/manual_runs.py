"""Monitoring of one window and retraining of one outbox request, in this process, as the DAGs run them.

``driftpilot monitor --model M --window D`` and ``driftpilot retrain --model M`` call these, so a
user can run driftpilot from a shell, a cron job or a notebook without Airflow, and without
Airflow's data-interval arithmetic: the window is named by its first day. The steps and their
order are the DAGs' (``dags/driftpilot_monitor.py``, ``dags/driftpilot_retrain.py``), and so are
the outcomes: the labels step runs whatever validation did (earlier windows still mature), a
step that finds nothing to do skips the steps after it, and a failed step fails the run after
the labels step. Outputs are the same files, history rows and MLflow runs, so a window monitored
here and later by the DAG (or the reverse) is replaced, never duplicated.

A ``retrain`` decision is recorded in the outbox (``retrains``, as the DAG's first outbox step
does); no Asset event is emitted (no scheduler is listening). ``retrain_request`` then runs the
retraining steps for a recorded request with its idempotency key, so running it again, or the
retraining DAG with the same key, reuses the candidate run and the registered version.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from driftpilot.domain.config import ModelConfig
from driftpilot.domain.evidence import RetrainOutboxEntry, RetrainState
from driftpilot.domain.reports import share_text
from driftpilot.errors import DriftpilotError, InsufficientData
from driftpilot.ports import Ports
from driftpilot.usecases import monitor as monitoring
from driftpilot.usecases import retrain as retraining

Say = Callable[[str], None]

SUCCESS, SKIPPED, FAILED = "success", "skipped", "failed"


@dataclass
class StepOutcome:
    step: str
    state: str  # success | skipped | failed
    result: dict[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass
class ManualRun:
    """The steps of one in-process run, in order, and the error that failed it (if one did)."""

    steps: list[StepOutcome] = field(default_factory=list)
    error: DriftpilotError | None = None

    def state(self, step: str) -> str | None:
        return next((s.state for s in self.steps if s.step == step), None)

    def result(self, step: str) -> dict[str, Any]:
        return next((s.result for s in self.steps if s.step == step and s.state == SUCCESS), {})


def _step(run: ManualRun, name: str, action: Callable[[], Any], say: Say) -> Any:
    """Run one step like a DAG task: nothing to do skips, a driftpilot error fails (and is kept)."""
    try:
        result = action()
    except InsufficientData as exc:
        run.steps.append(StepOutcome(name, SKIPPED, message=str(exc)))
        say(f"  {name:12s} skipped: {exc}")
        return None
    except DriftpilotError as exc:
        run.steps.append(StepOutcome(name, FAILED, message=f"{type(exc).__name__}: {exc}"))
        say(f"  {name:12s} FAILED: {type(exc).__name__}: {exc}")
        run.error = run.error or exc
        return None
    outcome = result if isinstance(result, dict) else {"value": result}
    run.steps.append(StepOutcome(name, SUCCESS, outcome))
    return result


def airflow_monitor_command(config: ModelConfig, window: monitoring.Window) -> str:
    """The ``airflow dags test`` command that monitors exactly ``window``.

    A data-interval DAG run for logical date ``D`` monitors the window that *ends* at ``D``
    (``[D - window.days, D)``); the ``window_start`` param names the window outright.
    """
    conf = json.dumps({"window_start": window.label})
    return f"airflow dags test driftpilot_monitor__{config.name} {window.end.date().isoformat()} -c {shlex.quote(conf)}"


def monitor_window(config: ModelConfig, ports: Ports, window: monitoring.Window, *, alerts: bool = True,
                   connection_url: Callable[[str], str] | None = None, say: Say = lambda _: None) -> ManualRun:
    """The monitoring DAG's tasks for ``window``, in its order, with its trigger rules."""
    run = ManualRun()
    reconciled = _step(run, "reconcile", lambda: monitoring.reconcile_step(config, ports, window), say)
    validated = None
    if reconciled:  # the DAG's validate waits for reconcile_approvals; labels runs regardless
        validated = _step(run, "validate", lambda: monitoring.validate_step(config, ports, window), say)
    if validated:
        say(f"  {'validate':12s} {validated['rows_read']} rows read, {validated['rows_accepted']} accepted, "
            f"{validated['rows_quarantined']} quarantined (serving version {validated['serving_version']})")
    drift = None
    if validated:
        drift = _step(run, "drift", lambda: monitoring.drift_step(config, ports, window, validated["serving_version"]), say)
        if drift:
            say(f"  {'drift':12s} drift share {share_text(drift['drift_share'])} (driftpilot, decides; Evidently's "
                f"{share_text(drift['evidently_drift_share'])}), health {drift['health_score']}; "
                f"reports in {drift['report_dir']}")
    labels = _step(run, "labels", lambda: monitoring.performance_step(config, ports, window), say)  # all done
    if labels:
        for window_result in labels["recomputed"]:
            say(f"  {'labels':12s} window {window_result['window']}: {window_result['status']}")
    if not (validated and drift and labels):
        return run
    decision = _step(run, "decide", lambda: monitoring.decide_step(config, ports, window, validated["serving_version"]), say)
    if not decision:
        return run
    say(f"  {'decide':12s} {decision['action']}: {'; '.join(decision['reasons']) or '-'}")
    if decision["action"] == "retrain":
        request = _step(run, "request_retrain", lambda: monitoring.request_retrain(config, ports, decision), say)
        if request:
            say(f"  {'outbox':12s} retrain request {request['idempotency_key']} is {request['state']}; run it with "
                f"`driftpilot retrain --model {config.name} --window {window.label}`")
    elif decision["action"] == "alert" and alerts:
        sent = _step(run, "send_alert", lambda: {"channels": ports.alerts.notify(
            config.alert_channels, decision, connection_url=connection_url)}, say)
        if sent:
            say(f"  {'alert':12s} " + ", ".join(f"{c['channel']}: {c['status']}" for c in sent["channels"]))
    return run


# --------------------------------------------------------------------------------------------
# retraining a recorded request
# --------------------------------------------------------------------------------------------

PENDING = (RetrainState.RECORDED, RetrainState.EMITTED)


def outbox_request(ports: Ports, model: str, window: str | None = None, key: str | None = None) -> RetrainOutboxEntry:
    """The recorded request to run: by key, else the latest of ``window``, else the latest pending.

    A request that already ran may be named (by window or key): running it again reuses its
    candidate and version. Without a name only a pending one (``recorded``/``emitted``) is taken.
    """
    entries = sorted(ports.store.retrain_requests(model), key=lambda e: (e.requested_at, e.idempotency_key))
    if key:
        chosen = [e for e in entries if e.idempotency_key == key]
        what = f"with idempotency key {key!r}"
    elif window:
        chosen = [e for e in entries if e.window == window]
        what = f"for window {window}"
    else:
        chosen = [e for e in entries if e.state in PENDING]
        what = "pending (recorded or emitted)"
    if not chosen:
        known = "; ".join(f"{e.window} {e.idempotency_key} ({e.state.value})" for e in entries[-5:]) or "none"
        raise InsufficientData(
            f"{model}: no retrain request {what} in the outbox (latest: {known}). A monitoring run records one "
            f"when a window decides `retrain` (`driftpilot monitor --model {model} --window D`); name one that "
            "already ran with --window or --key to run it again"
        )
    return chosen[-1]


def request_of(entry: RetrainOutboxEntry) -> retraining.RetrainRequest:
    """The retraining request an outbox entry stands for: what the Asset event would carry."""
    as_of = datetime.fromisoformat(entry.requested_at)
    return retraining.RetrainRequest(model=entry.model, reason=entry.reason, window=entry.window,
                                     as_of=as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC),
                                     idempotency_key=entry.idempotency_key)


def airflow_retrain_command(request: retraining.RetrainRequest) -> str:
    """The ``airflow dags test`` command that runs the same request (same key: same candidate)."""
    conf = {k: v for k, v in request.to_dict().items() if k != "model" and v is not None}
    return f"airflow dags test driftpilot_retrain__{request.model} -c {shlex.quote(json.dumps(conf, sort_keys=True))}"


def retrain_request(config: ModelConfig, ports: Ports, request: retraining.RetrainRequest, *,
                    say: Say = lambda _: None) -> ManualRun:
    """The retraining DAG's tasks for ``request``: training set, candidate, gate, registry, approval."""
    run = ManualRun()
    data = _step(run, "training_set", lambda: retraining.training_set_step(config, ports, request), say)
    if not data:
        return run
    say(f"  {'training_set':12s} {data['train_rows']} training rows ({data['production_rows']} production), "
        f"{data['holdout_rows']} holdout rows")
    candidate = _step(run, "train", lambda: retraining.train_candidate_step(config, ports, request), say)
    if not candidate:
        return run
    say(f"  {'train':12s} candidate run {candidate['run_id']}{' (reused)' if candidate.get('reused') else ''}")
    evaluation = _step(run, "evaluate", lambda: retraining.evaluate_step(config, ports, request, candidate["run_id"]), say)
    if not evaluation:
        return run
    say(f"  {'evaluate':12s} gate {'passed' if evaluation['passed'] else 'failed'} against champion "
        f"v{evaluation['champion_version']}: {' / '.join(evaluation['reasons'])}")
    registration = _step(run, "register", lambda: retraining.register_step(
        config, ports, request, candidate["run_id"], evaluation), say)
    if not registration:
        return run
    say(f"  {'register':12s} " + (f"version {registration['version']}"
                                  f"{'' if registration.get('created', True) else ' (reused)'}"
                                  if registration.get("registered") else registration.get("why", "not registered")))
    outcome = _step(run, "approval", lambda: retraining.approval_step(config, ports, request, registration), say)
    if outcome:
        say(f"  {'approval':12s} {outcome['state']}" + (f": {outcome['how']}" if outcome.get("how") else ""))
    return run
