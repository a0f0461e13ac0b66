"""Import, once, the heavy libraries that the task adapters import lazily.

Every adapter imports Great Expectations, Evidently, MLflow or scikit-learn inside the function
that needs it, so that a process which never validates or reports (the api-server, the
dag-processor, the CLI's ``status``) never pays for them. A task process pays instead: importing
them is ~8-10 s of CPU on the reference machine, against ~2.5 s of work for a small window.

This module is the other half of that choice: importing it imports those libraries (and the
adapter modules) at once, so that a long-lived process can do it *before* it forks task
processes, which then inherit them already imported. Airflow 3.3 does exactly that with
``[scheduler] mp_start_method = forkserver`` and ``mp_forkserver_preload =
driftpilot.adapters.preload``: the LocalExecutor's workers are started from a fork server that
imported this module, and each task is ``os.fork``-ed from a worker. ``make`` and the Compose
file set both (``driftpilot env`` prints them). Nothing here runs anything: importing it only
loads code, and starts no thread (forking a process with threads is unsafe).

``LIBRARY_MODULES`` must cover every module of those libraries that an adapter imports:
``tests/unit/test_preload.py`` reads the adapters' imports and checks it.
"""

from __future__ import annotations

import importlib

# What the task adapters import lazily from the heavy libraries, plus what those libraries load on
# first use (MLflow's SQL tracking store on a ``sqlite:``/``postgresql:`` URI, its sklearn flavour).
LIBRARY_MODULES = (
    "great_expectations",
    "great_expectations.expectations",
    "great_expectations.expectations.metadata_types",
    "great_expectations.data_context.types.base",
    "evidently",
    "evidently.presets",
    "evidently.metrics",
    "mlflow",
    "mlflow.entities",
    "mlflow.exceptions",
    "mlflow.pyfunc",
    "mlflow.sklearn",
    "mlflow.store.artifact.artifact_repository_registry",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "sklearn.compose",
    "sklearn.ensemble",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "skops.io",
)
# driftpilot's own modules that the monitoring and retraining tasks import.
DRIFTPILOT_MODULES = (
    "driftpilot.composition",
    "driftpilot.adapters.gx_validation",
    "driftpilot.adapters.evidently.run",
    "driftpilot.adapters.mlflow_registry",
    "driftpilot.adapters.mlflow_models",
    "driftpilot.adapters.sklearn_training",
    "driftpilot.usecases.monitor",
    "driftpilot.usecases.retrain",
    "driftpilot.usecases.promote",
)


def import_all() -> tuple[str, ...]:
    """Import every module above; the names, in import order."""
    names = (*LIBRARY_MODULES, *DRIFTPILOT_MODULES)
    for name in names:
        importlib.import_module(name)
    return names


import_all()
