"""
### driftpilot bootstrap: train and register a model's first champion

`driftpilot_bootstrap__<model>` (manual trigger only) trains the config's recipe on the model's
**training data**, logs the model with its metrics and its **baseline** (reference sample +
profile) to MLflow, registers it and points alias `champion` at it if the model has none.

Param `training_data`: a Parquet file (features, target and segments of the config, in time
order) readable by the workers. It is validated and recorded in the lake as the model's original
training set (`training/model=<model>/original.parquet`), which retraining reads back. Left
empty, the run uses the training set recorded before. Running it again with the same config and
data reuses the registered version (idempotency key: the config's fingerprint and the data's
digest). The same as `driftpilot bootstrap --model <model> --training-data FILE.parquet`.
Logic: `include/driftpilot/usecases/bootstrap.py`.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

from dag_support import load, manual_dag, model_configs, task_errors


def build_bootstrap_dag(config) -> DAG:  # type: ignore[no-untyped-def]
    model = config.name
    with manual_dag(
        config, "bootstrap", f"Train and register the first champion of {model}", doc_md=__doc__,
        params={
            "training_data": Param(
                "", type="string",
                description="Parquet file of the training data (empty: the training set recorded before)",
            ),
        },
    ) as dag:

        @task
        def bootstrap_champion(params: dict | None = None) -> dict:
            from pathlib import Path

            from driftpilot.usecases.bootstrap import bootstrap_champion as run

            config_, ports = load(model)
            data = str((params or {}).get("training_data") or "")
            with task_errors():
                result = run(config_, ports, training_data=Path(data) if data else None)
            return {"version": result.version, "created": result.created, "champion": result.champion,
                    "holdout_metrics": result.metrics}

        bootstrap_champion()
    return dag


for _config in model_configs():
    globals()[f"driftpilot_bootstrap__{_config.name}"] = build_bootstrap_dag(_config)
