"""The real monitoring DAG (`dag.test()`): a webhook alert through an Airflow Connection, and the
retrain outbox re-emitting a request that a dead attempt recorded but never emitted.

Runs in a world of its own (`tests.isolation.World`: lake, metrics history, home and config folder,
environment variables the tasks read), next to the session's MLflow store and champion, so the
other e2e modules see nothing of it; each test starts from its own copy of the replayed days.
The webhook is a real local HTTP server; the Connection is given the way a deployment would:
as the `AIRFLOW_CONN_<ID>` environment variable, read by Airflow's own connection lookup.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from driftpilot.adapters import sqlite_store as history
from driftpilot.usecases import monitor as monitoring
from tests.isolation import World
from tests.webhook_server import TOKEN, webhook_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
MODEL = "elec2_updown"
CONN_ID = "driftpilot_test_hook"


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, elec2_config, session_settings, elec2_champion, airflow_db, dagbag) -> World:
    """Two replayed days scored by the session's champion, in a world of this module's own."""
    from driftpilot_demo.traffic import replay_traffic

    world = World.create(tmp_path_factory.mktemp("alerts-outbox"), registry=session_settings)
    with world.active() as settings:
        replay_traffic(elec2_config, settings, range(2))
    return world


@pytest.fixture()
def isolated(replayed, tmp_path, monkeypatch, elec2_champion, dagbag) -> Iterator[dict[str, Any]]:
    """This test's own copy of the replayed days: lake / history / config folder, active."""
    world = replayed.copy(tmp_path / "world")
    with world.active() as settings:
        yield {"settings": settings, "config_dir": world.config_dir, "env": monkeypatch,
               "dag": dagbag.dags[f"driftpilot_monitor__{MODEL}"], "version": elec2_champion.version}


def configure(isolated: dict[str, Any], **changes: Any) -> None:
    """Rewrite the isolated elec2.yaml: top-level keys, and `trigger` and `drift` keys merged."""
    path = isolated["config_dir"] / "elec2.yaml"
    data = yaml.safe_load((ROOT / "include" / "config" / "elec2.yaml").read_text())
    data["trigger"].update(changes.pop("trigger", {}))
    data["drift"].update(changes.pop("drift", {}))
    data.update(changes)
    path.write_text(yaml.safe_dump(data))


def xcom_values(run) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(select(XComModel.task_id, XComModel.value)
                               .where(XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id)).all()
    return {task_id: value for task_id, value in rows}


def retrain_events(key: str) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        extras = session.scalars(
            select(AssetEvent.extra).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == f"driftpilot://{MODEL}/retrain-requests")
        ).all()
    return [dict(e) for e in extras if (e or {}).get("idempotency_key") == key]


def test_webhook_alert_through_a_connection_leaves_no_url_behind(isolated, caplog) -> None:
    caplog.set_level(logging.INFO)
    settings = isolated["settings"]
    configure(isolated, alert_channels=["file", f"webhook_conn:{CONN_ID}"],
              drift={"share": 0.0}, trigger={"retrain_on_drift": False})  # any judged window alerts
    window = monitoring.window_for(isolated_config(), "2026-01-01")
    with webhook_server() as hook:
        isolated["env"].setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", hook.url)
        try:
            run = isolated["dag"].test(logical_date=window.end)
        finally:
            isolated["env"].delenv(f"AIRFLOW_CONN_{CONN_ID.upper()}")
    assert str(run.state) == "success"
    assert [(p["model"], p["window"], p["action"]) for p in hook.posts] == [(MODEL, window.label, "alert")]
    assert hook.paths == [urlparse(hook.url).path]  # the URL of the Connection, path and all

    xcoms = xcom_values(run)
    assert xcoms["send_alert"] == [{"channel": "file", "status": "sent", "detail": str(settings.home / "alerts" / MODEL / f"{window.label}.json")},
                                   {"channel": f"webhook_conn:{CONN_ID}", "status": "sent", "detail": "HTTP 200"}]
    assert any(f"webhook_conn:{CONN_ID}" in r.getMessage() for r in caplog.records), "the delivery is logged by name"
    for secret in (hook.url, TOKEN):  # the whole URL, and its token alone
        assert secret not in json.dumps(xcoms, default=str)
        assert not [r.getMessage() for r in caplog.records if secret in r.getMessage()]
        for folder in (settings.lake, settings.home / "alerts", settings.metrics_db.parent):
            for path in folder.rglob("*"):
                if path.is_file():
                    assert secret.encode() not in path.read_bytes(), f"{path} holds the webhook URL"
    deliveries = history.read_alert_deliveries(settings.metrics_db, MODEL)
    assert deliveries[["window", "channel", "status"]].values.tolist() == [
        [window.label, "file", "sent"], [window.label, f"webhook_conn:{CONN_ID}", "sent"]]


def test_a_request_recorded_by_a_dead_attempt_is_emitted_by_the_next_one(isolated) -> None:
    settings = isolated["settings"]
    configure(isolated, alert_channels=["file"],
              drift={"share": 0.0},
              trigger={"retrain_on_drift": True, "persistence_windows": 1, "persistence_lookback": 1})
    window = monitoring.window_for(isolated_config(), "2026-01-02")
    key = f"{MODEL}:{window.label}:v{isolated['version']}"
    # What an attempt that died after recording (before its Asset event went out) leaves behind:
    history.record_retrain(settings.metrics_db, MODEL, key, window.label, window.end.isoformat(), "earlier attempt")
    assert retrain_events(key) == []
    run = isolated["dag"].test(logical_date=window.end)
    assert str(run.state) == "success"
    [event] = retrain_events(key)
    assert (event["window"], event["as_of"]) == (window.label, window.end.isoformat())
    [row] = history.read_retrains(settings.metrics_db, MODEL).to_dict("records")
    assert (row["idempotency_key"], row["state"]) == (key, history.EMITTED)
    assert history.retrain_times(settings.metrics_db, MODEL) == []  # requested, not ran: no cooldown yet


def isolated_config():  # type: ignore[no-untyped-def]
    from driftpilot.domain.config import model_config
    from driftpilot.settings import load_settings

    return model_config(load_settings(), MODEL)
