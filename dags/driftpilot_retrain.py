"""
### driftpilot retrain: one DAG per configured model

`driftpilot_retrain__<model>` runs when the monitoring DAG emits a retrain request (Asset
`driftpilot://<model>/retrain-requests`, whose event carries the reason, the triggering window,
the as-of time and an idempotency key), or when a person triggers it with the validated params.

1. **training_set**: validated production rows of mature windows + matured labels (+ the original
   training set recorded by bootstrap, by recipe), with the most recent labelled period held out (out of time);
   refuses below `retraining.min_labelled_rows`;
2. **train_candidate**: the recipe, seeded; logged to MLflow with params, metrics, data window,
   reason and its own baseline;
3. **evaluate**: champion and challenger on the same holdout, paired bootstrap CI of the
   improvement, guard metrics and per-segment accuracy; the comparison is logged for reviewers;
4. **register**: a new version (once per idempotency key) with tags and alias `challenger`;
5. **approval** by config: `registry` (default) leaves the version *awaiting approval*: a
   reviewer sets its `driftpilot.approval` tag in the MLflow registry (or runs
   `driftpilot approve`, or decides on the plugin's approvals page, which promotes at once);
   otherwise the next monitoring run promotes it; `auto` promotes a passed candidate at once;
   `airflow` waits in an Airflow approval task (human-in-the-loop);
6. **awaiting_decision** (registry mode): the run is not green while nobody decided. A
   reschedule-mode sensor (no worker slot held) looks every `decision_poke_seconds` (default
   300) until the version is approved, rejected, acted on or no longer the challenger, and fails
   after 7 days saying how to decide. It only waits: promotion stays with the approvals page and
   the monitoring run's reconcile. With `max_active_runs=1` a further retrain request of this
   model queues behind a waiting run. `await_decision: false` skips the wait (scripted runs that
   decide afterwards, e.g. tests).

Re-running with the same idempotency key reuses the run and the version: no duplicates.
Logic: `include/driftpilot/usecases/retrain.py`, `usecases/promote.py`, `domain/gate.py`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param, task

from dag_support import DEFAULT_ARGS, load, model_configs, retrain_asset, task_errors
from dag_support.decision import DECISION_TIMEOUT, DEFAULT_POKE_SECONDS, AwaitingDecision


def build_retrain_dag(config) -> DAG:  # type: ignore[no-untyped-def]
    model = config.name
    with DAG(
        dag_id=f"driftpilot_retrain__{model}",
        description=f"Retrain {model}: candidate vs champion, registry approval, promotion",
        doc_md=__doc__,
        schedule=[retrain_asset(model)],
        start_date=pendulum.parse(config.window_start, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        dagrun_timeout=DECISION_TIMEOUT + timedelta(hours=4),  # training, then the reviewer's wait
        tags=["driftpilot", "retraining", model],
        params={
            "reason": Param("manual retrain", type="string", minLength=3, description="Why retrain (kept with the version)."),
            "window": Param("manual", type="string", description="The monitoring window that asked, or 'manual'."),
            "as_of": Param(None, type=["null", "string"], description="Use data and labels known at this ISO time (default: the run's logical date)."),
            "train_start": Param(None, type=["null", "string"], format="date", description="First production day to learn from."),
            "train_end": Param(None, type=["null", "string"], format="date", description="Day after the last production day."),
            "idempotency_key": Param(None, type=["null", "string"], description="Same key, same candidate: no duplicates."),
            "await_decision": Param(True, type="boolean", description="Registry approval: keep the run waiting until the candidate is decided."),
            "decision_poke_seconds": Param(DEFAULT_POKE_SECONDS, type="integer", minimum=1, description="How often the wait looks for the decision."),
        },
    ) as dag:

        @task
        def request(params=None, triggering_asset_events=None, logical_date=None, run_id=None) -> dict:
            """The retrain request: the newest triggering Asset event (the others are recorded as
            superseded by it), else the params."""
            from driftpilot.usecases.retrain import request_from_events

            events = [dict(event.extra or {}) for queued in (triggering_asset_events or {}).values() for event in queued]
            _, ports = load(model)
            with task_errors():
                return request_from_events(ports, model, dict(params or {}), events,
                                           (logical_date or pendulum.now("UTC")).isoformat(), f"{model}:{run_id}")

        @task
        def training_set(req: dict) -> dict:
            from driftpilot.usecases.retrain import RetrainRequest, training_set_step

            config_, ports = load(model)
            with task_errors():
                return training_set_step(config_, ports, RetrainRequest.from_dict(req))

        @task
        def train_candidate(req: dict, data: dict) -> dict:
            from driftpilot.usecases.retrain import RetrainRequest, train_candidate_step

            config_, ports = load(model)
            with task_errors():
                return train_candidate_step(config_, ports, RetrainRequest.from_dict(req))

        @task
        def evaluate(req: dict, candidate: dict) -> dict:
            from driftpilot.usecases.retrain import RetrainRequest, evaluate_step

            config_, ports = load(model)
            with task_errors():
                return evaluate_step(config_, ports, RetrainRequest.from_dict(req), candidate["run_id"])

        @task
        def register(req: dict, candidate: dict, evaluation: dict) -> dict:
            from driftpilot.usecases.retrain import RetrainRequest, register_step

            config_, ports = load(model)
            with task_errors():
                return register_step(config_, ports, RetrainRequest.from_dict(req), candidate["run_id"], evaluation)

        @task
        def approval(req: dict, registration: dict) -> dict:
            from driftpilot.usecases.retrain import RetrainRequest, approval_step

            config_, ports = load(model)
            with task_errors():
                return approval_step(config_, ports, RetrainRequest.from_dict(req), registration)

        req = request()
        data = training_set(req)
        candidate = train_candidate(req, data)
        evaluation = evaluate(req, candidate)
        registration = register(req, candidate, evaluation)
        outcome = approval(req, registration)

        if config.approval.value == "registry":
            AwaitingDecision(task_id="awaiting_decision", model=model, outcome=outcome)

        if config.approval.value == "airflow":
            from airflow.providers.standard.operators.hitl import ApprovalOperator

            approve_in_airflow = ApprovalOperator(
                task_id="approve_in_airflow",
                subject=f"Promote the {model} challenger?",
                body="Read the comparison logged with the candidate run (comparison/comparison.md) first.",
                params={"note": Param("", type="string", description="Why you decide so (kept with the version).")},
                response_timeout=timedelta(days=7),  # a plain timedelta: the trigger serialises it
            )

            @task
            def promote_approved(req: dict, registration: dict, ti=None) -> dict:
                """Promote as the Airflow user who answered (their id and name go on the version and the log)."""
                from airflow.sdk.exceptions import AirflowFailException

                from driftpilot.usecases import promote as promotion

                _, ports = load(model)
                with task_errors():
                    try:
                        by, note = promotion.airflow_approval(ti.xcom_pull(task_ids="approve_in_airflow") or {})
                        moves = promotion.approve(ports, model, registration["version"], by,
                                                  note, req["as_of"])
                    except promotion.PromotionRefused as exc:  # deterministic: a retry would refuse again
                        raise AirflowFailException(str(exc)) from exc
                return {"moves": len(moves), "approved_by": by}

            @task.short_circuit
            def gate_passed(registration: dict) -> bool:
                """Only a candidate that passed the gate is put to a person."""
                return registration.get("gate") == "passed" and bool(registration.get("version"))

            outcome >> gate_passed(registration) >> approve_in_airflow >> promote_approved(req, registration)
    return dag


for _config in model_configs():
    globals()[f"driftpilot_retrain__{_config.name}"] = build_retrain_dag(_config)
