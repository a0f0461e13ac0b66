"""
### driftpilot monitor: one DAG per configured model

For each model in `include/config/*.yaml` this file defines `driftpilot_monitor__<model>`,
scheduled once per monitoring window (daily by default):

0. **reconcile approvals**: versions approved (or rejected) in the MLflow registry since the
   last run are promoted (alias `champion`, old champion `previous`) or dropped;
1. **validate** the window's Parquet inference logs with Great Expectations; bad rows and
   unreadable files go to the quarantine area with a reason (`read = accepted + quarantined`);
   a window over the configured failure rate fails with a message that says what broke; a
   window without inference rows fails naming the empty partition folders (or skips, with
   `window.when_empty: skip` in the config);
2. **labels**: join delayed ground truth by `prediction_id`, as of the window end, and
   recompute the performance of earlier windows whose labels matured since; it runs even
   when this window had no traffic, so the last windows of a period still mature;
3. **drift**: full-data drift statistics against the serving version's baseline from MLflow,
   Evidently HTML/JSON reports and operational metrics, upserted into the metrics history;
4. **decide**: the pure trigger policy turns the evidence into `none` / `alert` / `retrain`
   with readable reasons, stored with the window;
5. **branch**: `retrain` puts the request in the outbox (state `recorded`, idempotency key),
   emits the `driftpilot://<model>/retrain-requests` Asset event the retraining DAG listens to,
   and `confirm_retrain_emitted` then marks it `emitted` (a retry re-emits a request still
   `recorded`); `alert` sends the decision once per window to each configured channel (webhook
   URLs come from Airflow Connections or environment variables, never from the config; Slack and
   e-mail go through Airflow's Slack / SMTP notifiers and a Connection), with 3 tries and backoff;
   a failed alert never changes the stored decision; `none` ends.

Runs of one model are serialised (`max_active_runs=1`): the policy reads the history of earlier
windows, so window *n* must see window *n-1*. Manual runs accept a `window_start` override;
`airflow dags test <dag> D` monitors the window that ends at D (the data interval `[D - 1 day, D)`
for daily windows), and `driftpilot monitor --model <m> --window <first day>` runs the same steps
without Airflow.
All logic lives in `include/driftpilot/usecases/monitor.py`; reports land under
`$DRIFTPILOT_HOME/lake/reports/model=<model>/date=<window>/`.
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param, TriggerRule, task
from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable

from dag_support import (
    DEFAULT_ARGS,
    catchup_enabled,
    load,
    model_configs,
    retrain_asset,
    task_errors,
)
from dag_support.notifiers import alert_retry_args


def build_monitor_dag(config) -> DAG:  # type: ignore[no-untyped-def]
    model = config.name
    with DAG(
        dag_id=f"driftpilot_monitor__{model}",
        description=f"Monitor {model}: validate, labels, drift, decide",
        doc_md=__doc__,
        # Data-interval timetables: the run for [D, D + window) starts when the window has ended.
        schedule=CronDataIntervalTimetable("@daily", timezone="UTC")
        if config.window_days == 1
        else DeltaDataIntervalTimetable(pendulum.duration(days=config.window_days)),
        start_date=pendulum.parse(config.window_start, tz="UTC"),
        catchup=catchup_enabled(),
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        dagrun_timeout=pendulum.duration(hours=2),
        tags=["driftpilot", "monitoring", model],
        params={
            "window_start": Param(
                None,
                type=["null", "string"],
                format="date",
                description="Monitor this window (YYYY-MM-DD) instead of the run's data interval.",
            ),
        },
    ) as dag:

        @task
        def window_bounds(params=None, data_interval_start=None, logical_date=None) -> str:
            """The window this run monitors: the param override, else the data interval start."""
            chosen = (params or {}).get("window_start")
            start = chosen or (data_interval_start or logical_date).strftime("%Y-%m-%d")
            return start

        @task
        def reconcile_approvals(window_start: str) -> dict:
            """Promote versions approved in the MLflow registry since the last run."""
            from driftpilot.usecases.monitor import reconcile_step, window_for

            config_, ports = load(model)
            with task_errors():
                return reconcile_step(config_, ports, window_for(config_, window_start))

        @task
        def validate(window_start: str) -> dict:
            from driftpilot.usecases.monitor import validate_step, window_for

            config_, ports = load(model)
            with task_errors():
                return validate_step(config_, ports, window_for(config_, window_start))

        @task(trigger_rule=TriggerRule.ALL_DONE)
        def labels(window_start: str) -> dict:
            """Runs whatever validate and drift did: matured windows are recomputed even when this
            window had no traffic (validate skipped) or bad data."""
            from driftpilot.usecases.monitor import performance_step, window_for

            config_, ports = load(model)
            with task_errors():
                return performance_step(config_, ports, window_for(config_, window_start))

        @task
        def drift(window_start: str, validated: dict) -> dict:
            from driftpilot.usecases.monitor import drift_step, window_for

            config_, ports = load(model)
            with task_errors():
                return drift_step(config_, ports, window_for(config_, window_start), validated["serving_version"])

        @task
        def decide(window_start: str, validated: dict, drift_summary: dict, label_summary: dict) -> dict:
            from driftpilot.usecases.monitor import decide_step, window_for

            config_, ports = load(model)
            with task_errors():
                return decide_step(config_, ports, window_for(config_, window_start), validated["serving_version"])

        @task.branch
        def route(decision: dict) -> str:
            return {"retrain": "request_retrain", "alert": "send_alert"}.get(decision["action"], "no_action")

        @task(outlets=[retrain_asset(model)])
        def request_retrain(decision: dict, outlet_events=None) -> dict:
            """Outbox, step 1-2: record the request, then emit its Asset event (on this task's success)."""
            from airflow.sdk.exceptions import AirflowSkipException

            from driftpilot.usecases.monitor import RETRAIN_EVENT_KEYS
            from driftpilot.usecases.monitor import request_retrain as record

            config_, ports = load(model)
            with task_errors():
                conf = record(config_, ports, decision)
            if not conf["emit"]:
                # A re-run of this window: the request went out before; asking again would retrain twice.
                raise AirflowSkipException(f"retrain {conf['idempotency_key']} was already {conf['state']}")
            # Still `recorded` (first attempt, or a retry after a crash before the emission was
            # confirmed): Airflow registers the event when this task succeeds.
            if outlet_events is not None:
                outlet_events[retrain_asset(model)].extra = {k: conf[k] for k in RETRAIN_EVENT_KEYS}
            return conf

        @task
        def confirm_retrain_emitted(emitted: dict) -> dict:
            """Outbox, step 3: runs only after `request_retrain` succeeded, i.e. its event exists."""
            from driftpilot.usecases.monitor import confirm_retrain_emitted as confirm

            config_, ports = load(model)
            with task_errors():
                return confirm(config_, ports, emitted)

        @task(**alert_retry_args())
        def send_alert(decision: dict, ti=None) -> list:
            """Each channel once per window; returns channel names and statuses only (no URL).

            Runs after decide stored the decision: a failure here is the alert's, never the verdict's."""
            from dag_support.notifiers import send_alert as deliver

            config_, ports = load(model)
            with task_errors():
                return deliver(config_, ports, decision, ti.try_number if ti else 1, (ti.max_tries + 1) if ti else 1)

        start = window_bounds()
        approvals = reconcile_approvals(start)
        validated = validate(start)
        approvals >> validated
        # Sequential on purpose: both write report folders, and labels may touch this window's.
        drift_summary = drift(start, validated)
        label_summary = labels(start)
        drift_summary >> label_summary
        decision = decide(start, validated, drift_summary, label_summary)
        branch = route(decision)
        retrain_request = request_retrain(decision)
        branch >> [retrain_request, send_alert(decision), EmptyOperator(task_id="no_action")]
        confirm_retrain_emitted(retrain_request)
    return dag


for _config in model_configs():
    globals()[f"driftpilot_monitor__{_config.name}"] = build_monitor_dag(_config)
