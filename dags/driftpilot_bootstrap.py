"""
### driftpilot bootstrap: train and register a model's first champion

`driftpilot_bootstrap__<model>` (manual trigger only) trains the config's recipe on the first
period of its dataset, logs the model with its metrics and its **baseline** (reference sample +
profile) to MLflow, registers it and points alias `champion` at it if the model has none.
Running it again reuses the registered version (idempotency key: the config's fingerprint).
The same as `driftpilot bootstrap --model <model>`. Logic: `include/driftpilot/bootstrap.py`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

from dag_support import DEFAULT_ARGS, load, model_configs, task_errors


def build_bootstrap_dag(config) -> DAG:  # type: ignore[no-untyped-def]
    model = config.name
    with DAG(
        dag_id=f"driftpilot_bootstrap__{model}",
        description=f"Train and register the first champion of {model}",
        doc_md=__doc__,
        schedule=None,
        start_date=pendulum.parse(config.replay.start_date, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["driftpilot", "bootstrap", model],
    ) as dag:

        @task
        def bootstrap_champion() -> dict:
            from driftpilot.usecases.bootstrap import bootstrap_champion as run

            config_, ports = load(model)
            with task_errors():
                result = run(config_, ports)
            return {"version": result.version, "created": result.created, "champion": result.champion,
                    "holdout_metrics": result.metrics}

        bootstrap_champion()
    return dag


for _config in model_configs():
    globals()[f"driftpilot_bootstrap__{_config.name}"] = build_bootstrap_dag(_config)
