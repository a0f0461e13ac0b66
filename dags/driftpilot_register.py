"""
### driftpilot register: attach driftpilot's baseline to a model trained elsewhere

`driftpilot_register__<model>` (manual trigger only) takes a model the user already has and
builds its **baseline** from the user's reference Parquet (their validation or holdout set, with
the target): the rows are scored by the model where `prediction` / `score` columns are absent,
then profile, reference sample, metrics and feature importance are logged to a driftpilot run
(experiment `driftpilot/<model>/baselines`) that the version's tag `driftpilot.baseline_run`
names. The user's own run is not written to.

Params:
- `model_uri`: `models:/<model>/<version>` (that version is monitored: the serving code logs its
  number as `model_version`), or `runs:/<run_id>/<path>` / a folder with an `MLmodel` file
  (registered as a new version of `<model>`), readable by the workers.
- `reference`: the Parquet file (features, target and segments of the config).
- `champion`: point the alias `champion` at the version (default: leave the aliases alone).

Idempotent (same model and reference: the same baseline run, nothing duplicated); every check and
the scoring happen before the first registry write. The same as `driftpilot register --model
<model> --model-uri URI --reference FILE.parquet [--champion]`.
Logic: `include/driftpilot/usecases/register.py`.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

from dag_support import load, manual_dag, model_configs, task_errors


def build_register_dag(config) -> DAG:  # type: ignore[no-untyped-def]
    model = config.name
    with manual_dag(
        config, "register", f"Attach driftpilot's baseline to a model of {model} trained elsewhere", doc_md=__doc__,
        params={
            "model_uri": Param("", type="string", minLength=1,
                               description=f"models:/{model}/<version>, runs:/<run_id>/<path> or a model folder"),
            "reference": Param("", type="string", minLength=1,
                               description="Parquet file of the validation/holdout set, with the target"),
            "champion": Param(False, type="boolean", description="point the alias champion at the version"),
        },
    ) as dag:

        @task
        def register_model(params: dict | None = None, dag_run=None) -> dict:  # type: ignore[no-untyped-def]
            from pathlib import Path

            from driftpilot.usecases.register import register_model as run

            config_, ports = load(model)
            given = params or {}
            started = getattr(dag_run, "run_after", None) or getattr(dag_run, "logical_date", None)
            with task_errors():
                result = run(config_, ports, str(given.get("model_uri") or ""), Path(str(given.get("reference") or "")),
                             champion=bool(given.get("champion")), by=f"airflow:{dag_run.run_id if dag_run else ''}",
                             at=started.isoformat() if started is not None else "")
            return {"version": result.version, "created": result.created, "baseline_run": result.baseline_run,
                    "baseline_reused": result.baseline_reused, "champion": result.champion,
                    "reference_metrics": result.metrics}

        register_model()
    return dag


for _config in model_configs():
    globals()[f"driftpilot_register__{_config.name}"] = build_register_dag(_config)
