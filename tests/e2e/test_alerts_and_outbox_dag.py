"""The real monitoring DAG (`dag.test()`): webhook, Slack and e-mail alerts through Airflow
Connections (an unreachable one retried, then failing with its name, the decision untouched), and
the retrain outbox re-emitting a request that a dead attempt recorded but never emitted.

Runs in a world of its own (`tests.isolation.World`: lake, metrics history, home and config folder,
environment variables the tasks read), next to the session's MLflow store and champion, so the
other e2e modules see nothing of it; each test starts from its own copy of the replayed days.
The webhook is a real local HTTP server, the SMTP server a real aiosmtpd; each Connection is given
the way a deployment would: as the `AIRFLOW_CONN_<ID>` environment variable, read by Airflow's own
connection lookup. `tests/conftest.py` sets the alert task's retry delay to 0.
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
from tests.smtp_server import free_port, smtp_server
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


SMTP_PASSWORD = "smtp-pa55word-do-not-log"
BASE_URL = "https://airflow.example.com"


def notifier_connections(env: pytest.MonkeyPatch, slack_endpoint: str, smtp_port: int) -> None:
    """A Slack webhook Connection (endpoint in Host, token in Password) and an SMTP one, as env vars."""
    env.setenv("AIRFLOW_CONN_DP_E2E_SLACK", json.dumps({
        "conn_type": "slackwebhook", "host": slack_endpoint, "password": f"T0DRIFT/B0PILOT/{TOKEN}"}))
    env.setenv("AIRFLOW_CONN_DP_E2E_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": smtp_port, "login": "driftpilot", "password": SMTP_PASSWORD,
        "extra": {"from_email": "driftpilot@example.org", "disable_ssl": True, "disable_tls": True,
                  "timeout": 5, "retry_limit": 0}}))
    env.setenv("AIRFLOW__API__BASE_URL", BASE_URL)


def alert_channels_configured(isolated: dict[str, Any]) -> None:
    configure(isolated, alert_channels=["file", "slack:dp_e2e_slack", "email:dp_e2e_smtp"],
              alert_email_to=["ml-oncall@example.com"],
              drift={"share": 0.0}, trigger={"retrain_on_drift": False})  # any judged window alerts


def task_instance(run, task_id: str):  # type: ignore[no-untyped-def]
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        ti = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id,
                                                        TaskInstance.task_id == task_id)).one()
        session.expunge(ti)
    return ti


def test_slack_and_email_alerts_go_out_through_their_connections(isolated, caplog) -> None:
    caplog.set_level(logging.INFO)
    alert_channels_configured(isolated)
    window = monitoring.window_for(isolated_config(), "2026-01-01")
    with webhook_server() as hook, smtp_server("driftpilot", SMTP_PASSWORD) as box:
        notifier_connections(isolated["env"], hook.url.split("/T0DRIFT/")[0], box.port)
        run = isolated["dag"].test(logical_date=window.end)
    assert str(run.state) == "success"
    link = f"{BASE_URL}/driftpilot/view/models/{MODEL}/windows/{window.label}"
    [post] = hook.posts
    assert f"<{link}|Open the window page>" in post["text"] and f"*{MODEL}*" in post["text"]
    [mail] = box.received
    assert mail.recipients == ["ml-oncall@example.com"]
    assert mail.message["Subject"] == f"[driftpilot] alert for {MODEL}, window {window.label}"
    assert f'href="{link}"' in mail.html()
    xcoms = xcom_values(run)
    assert [(r["channel"], r["status"]) for r in xcoms["send_alert"]] == [
        ("file", "sent"), ("slack:dp_e2e_slack", "sent"), ("email:dp_e2e_smtp", "sent")]
    for secret in (TOKEN, SMTP_PASSWORD):
        assert secret not in json.dumps(xcoms, default=str)
        assert not [r.getMessage() for r in caplog.records if secret in r.getMessage()]


def test_unreachable_alert_servers_retry_then_fail_naming_the_connections_and_the_decision_stands(isolated,
                                                                                                  caplog) -> None:
    caplog.set_level(logging.INFO)
    settings = isolated["settings"]
    alert_channels_configured(isolated)
    window = monitoring.window_for(isolated_config(), "2026-01-01")
    with webhook_server(statuses=(500,)) as hook:  # Slack answers 500; nothing listens on the SMTP port
        notifier_connections(isolated["env"], hook.url.split("/T0DRIFT/")[0], free_port())
        run = isolated["dag"].test(logical_date=window.end)
    assert str(run.state) == "failed"
    alert = task_instance(run, "send_alert")
    assert (str(alert.state), alert.try_number) == ("failed", 3)  # retried twice, then failed
    assert len(hook.posts) == 3  # one post per try, none after the last
    assert str(task_instance(run, "decide").state) == "success"

    failures = [r.getMessage() for r in caplog.records if "Try 3 of 3" in r.getMessage()]
    assert failures, "the last try says why it failed"
    last = failures[-1]
    for named in ("slack:dp_e2e_slack", "Airflow Connection `dp_e2e_slack`", "HTTP 500",
                  "email:dp_e2e_smtp", "Airflow Connection `dp_e2e_smtp`", "ConnectionRefusedError",
                  "delivered: file", "is stored and stands"):
        assert named in last, (named, last)
    for secret in (TOKEN, SMTP_PASSWORD, hook.url):
        assert not [r.getMessage() for r in caplog.records if secret in r.getMessage()]

    decided = xcom_values(run)["decide"]
    [record] = [d for d in history.read_decision_records(settings.metrics_db, MODEL) if d.window == window.label]
    assert (record.action.value, list(record.reasons)) == ("alert", decided["reasons"])  # the verdict is untouched
    stored = json.loads((monitoring.report_dir(settings, window) / "decision.json").read_text())
    assert (stored["action"], stored["reasons"]) == ("alert", decided["reasons"])
    deliveries = history.read_alert_deliveries(settings.metrics_db, MODEL)
    assert sorted(deliveries[["channel", "status"]].values.tolist()) == [
        ["email:dp_e2e_smtp", "failed"], ["file", "sent"], ["slack:dp_e2e_slack", "failed"]]


def isolated_config():  # type: ignore[no-untyped-def]
    from driftpilot.domain.config import model_config
    from driftpilot.settings import load_settings

    return model_config(load_settings(), MODEL)
