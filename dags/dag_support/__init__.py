"""Airflow-aware glue shared by the DAG files (ignored by the DAG processor via .airflowignore).

Keeps the DAG files to wiring: default args, error translation from driftpilot's exceptions to
Airflow task outcomes, and the cheap config look-ups needed at parse time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "driftpilot",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}


def manual_dag(config: Any, kind: str, description: str, params: dict[str, Any], doc_md: str | None) -> Any:
    """A DAG of one model that a user triggers by hand (``driftpilot_<kind>__<model>``): no
    schedule, one run at a time, its Params the form the Airflow UI shows."""
    import pendulum
    from airflow.sdk import DAG

    return DAG(
        dag_id=f"driftpilot_{kind}__{config.name}",
        description=description,
        doc_md=doc_md,
        schedule=None,
        start_date=pendulum.parse(config.window_start, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["driftpilot", kind, config.name],
        params=params,
    )


def model_configs() -> list[Any]:
    """Every model config, read at parse time (YAML only: no heavy imports)."""
    from driftpilot.domain.config import load_all_configs
    from driftpilot.settings import load_settings

    return list(load_all_configs(load_settings().config_dir).values())


def catchup_enabled() -> bool:
    """Catch-up is off by default (a fresh `airflow standalone` must not launch a year of runs);
    set DRIFTPILOT_CATCHUP=true to let the scheduler backfill from the config's ``window.start``."""
    return os.environ.get("DRIFTPILOT_CATCHUP", "false").lower() in ("1", "true", "yes")


def load(model: str) -> tuple[Any, Any]:
    """(config, ports) of ``model``, resolved inside the task at run time (never at parse time:
    the composition root imports the adapters)."""
    from driftpilot.composition import build_ports
    from driftpilot.domain.config import model_config
    from driftpilot.settings import load_settings

    settings = load_settings()
    _log_preload_once()
    return model_config(settings, model), build_ports(settings)


_preload_logged = False


def _log_preload_once() -> None:
    """Say once per process whether the worker handed this task GX, Evidently and MLflow imported.

    Checked before anything imports them: ``driftpilot.adapters.preload`` is only ever imported by
    a fork server configured to preload it, so its presence means the task inherited them.
    """
    global _preload_logged
    if _preload_logged:
        return
    _preload_logged = True
    import logging
    import sys

    log = logging.getLogger("driftpilot")
    if "driftpilot.adapters.preload" in sys.modules:
        log.info("driftpilot: GX, Evidently and MLflow were preloaded by the worker (driftpilot.adapters.preload)")
    else:
        log.info("driftpilot: this task imports GX, Evidently and MLflow itself (about 9 s); to preload them, "
                 "set [scheduler] mp_start_method = forkserver and mp_forkserver_preload = "
                 "driftpilot.adapters.preload (see `driftpilot env`)")


@contextmanager
def task_errors() -> Iterator[None]:
    """Map driftpilot's exceptions to Airflow outcomes.

    Deterministic data and config problems fail at once (a retry would fail the same way);
    "nothing to do yet" skips; anything else is left to Airflow's retries with backoff.
    """
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from driftpilot.errors import (
        BaselineNotFound,
        ConfigError,
        CorruptFile,
        EmptyWindow,
        InsufficientData,
        SchemaViolation,
    )

    try:
        yield
    except InsufficientData as exc:
        raise AirflowSkipException(str(exc)) from exc
    except (ConfigError, SchemaViolation, CorruptFile, BaselineNotFound, EmptyWindow) as exc:
        raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc


def retrain_asset(model: str) -> Any:
    """The Asset the monitoring DAG emits a retrain request on and the retraining DAG listens to."""
    from airflow.sdk import Asset

    return Asset(name=f"driftpilot_retrain_requests__{model}", uri=f"driftpilot://{model}/retrain-requests")


def webhook_url(conn_id: str) -> str:
    """The webhook URL held by the Airflow Connection ``conn_id``, for ``webhook_conn:<conn_id>`` channels.

    Airflow's own lookup (secrets backend, ``AIRFLOW_CONN_<ID>`` environment variable, metadata
    DB), so the URL lives wherever the deployment keeps its secrets. The URL is registered with
    Airflow's secrets masker before it is returned, in case anything ever prints it; driftpilot
    itself only passes it to the HTTP request (see ``driftpilot.adapters.alert_channels``).
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException
    from airflow.sdk.log import mask_secret

    from driftpilot.adapters.alert_channels import webhook_url_from_connection
    from driftpilot.errors import ConfigError

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise ConfigError(
            f"alert channel webhook_conn:{conn_id}: Airflow has no Connection `{conn_id}`; create it in the "
            f"UI, with `airflow connections add`, in your secrets backend, or as the environment variable "
            f"AIRFLOW_CONN_{conn_id.upper()}"
        ) from None
    url = webhook_url_from_connection(conn_id, conn.conn_type, conn.host, conn.schema, conn.port, conn.password,
                                      conn.extra_dejson)
    mask_secret(url)
    return url
