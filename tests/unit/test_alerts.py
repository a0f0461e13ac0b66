"""Alert channels: secrets stay out of config, results and logs; one delivery per window and channel.

Deliveries go to a real local HTTP server started by the test (``tests/webhook_server.py``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from driftpilot.adapters import alert_channels as alerts
from driftpilot.adapters import sqlite_store as history
from driftpilot.adapters.sqlite_store import SqliteEvidenceStore
from driftpilot.errors import ConfigError
from driftpilot.settings import Settings
from tests.fakes import local_settings
from tests.fakes.evidence import InMemoryEvidenceStore
from tests.webhook_server import TOKEN, webhook_server

ALERT = {"model": "m", "window": "2026-01-05", "action": "alert", "reasons": ["drift share 0.40 >= 0.30"]}


def _store(settings: Settings) -> SqliteEvidenceStore:
    return SqliteEvidenceStore(settings.metrics_db)


def no_secret_anywhere(url: str, results: object, caplog: pytest.LogCaptureFixture, folder: Path) -> None:
    """Neither the URL nor its token part in the results, any log record or any file written."""
    assert caplog.records, "nothing was logged: the log check would prove nothing"
    for secret in (url, TOKEN):
        assert secret not in repr(results)
        assert not [r for r in caplog.records if secret in r.getMessage()]
        for path in folder.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"{path} holds the webhook URL"


def test_webhook_from_an_environment_variable_is_posted_and_never_echoed(tmp_path, monkeypatch, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    settings = local_settings(tmp_path)
    with webhook_server() as hook:
        monkeypatch.setenv("DRIFTPILOT_TEST_HOOK", hook.url)
        results = alerts.notify(("file", "webhook_env:DRIFTPILOT_TEST_HOOK"), settings, _store(settings), ALERT)
    assert hook.posts == [ALERT]
    assert [(r["channel"], r["status"]) for r in results] == [("file", "sent"), ("webhook_env:DRIFTPILOT_TEST_HOOK", "sent")]
    assert results[1]["detail"] == "HTTP 200"
    no_secret_anywhere(hook.url, results, caplog, tmp_path)


def test_a_retry_does_not_resend_what_was_sent(tmp_path, monkeypatch) -> None:
    """First POST answered 500: the task fails (Airflow retries); the retry sends once; a third attempt sends nothing."""
    settings = local_settings(tmp_path)
    with webhook_server(statuses=(500, 200)) as hook:
        monkeypatch.setenv("DRIFTPILOT_TEST_HOOK", hook.url)
        channels = ("webhook_env:DRIFTPILOT_TEST_HOOK", "file")
        with pytest.raises(alerts.AlertDeliveryError, match=r"webhook_env:DRIFTPILOT_TEST_HOOK: HTTP 500") as failure:
            alerts.notify(channels, settings, _store(settings), ALERT)
        assert hook.url not in str(failure.value) and failure.value.__cause__ is None
        assert (tmp_path / "alerts" / "m" / "2026-01-05.json").exists()  # the other channel still went out
        second = alerts.notify(channels, settings, _store(settings), ALERT)
        third = alerts.notify(channels, settings, _store(settings), ALERT)
    assert len(hook.posts) == 2
    assert [r["status"] for r in second] == ["sent", "already sent"]
    assert [r["status"] for r in third] == ["already sent", "already sent"]
    deliveries = history.read_alert_deliveries(settings.metrics_db, "m")
    assert deliveries.set_index("channel").loc["webhook_env:DRIFTPILOT_TEST_HOOK", ["status", "attempts"]].tolist() == ["sent", 2]


def test_another_window_is_a_new_delivery(tmp_path, monkeypatch) -> None:
    settings = local_settings(tmp_path)
    with webhook_server() as hook:
        monkeypatch.setenv("DRIFTPILOT_TEST_HOOK", hook.url)
        alerts.notify(("webhook_env:DRIFTPILOT_TEST_HOOK",), settings, _store(settings), ALERT)
        alerts.notify(("webhook_env:DRIFTPILOT_TEST_HOOK",), settings, _store(settings), {**ALERT, "window": "2026-01-06"})
    assert [p["window"] for p in hook.posts] == ["2026-01-05", "2026-01-06"]


def test_connection_channels_are_resolved_by_the_caller(tmp_path) -> None:
    settings = local_settings(tmp_path)
    seen: list[str] = []
    with webhook_server() as hook:
        def lookup(conn_id: str) -> str:
            seen.append(conn_id)
            return hook.url

        results = alerts.notify(("webhook_conn:driftpilot_slack",), settings, _store(settings), ALERT, connection_url=lookup)
    assert seen == ["driftpilot_slack"] and len(hook.posts) == 1
    assert results == [{"channel": "webhook_conn:driftpilot_slack", "status": "sent", "detail": "HTTP 200"}]
    with pytest.raises(ConfigError, match="Airflow Connection"):
        alerts.notify(("webhook_conn:driftpilot_slack",), settings, _store(settings), {**ALERT, "window": "2026-01-07"})


def test_a_missing_or_malformed_variable_says_what_to_set(tmp_path, monkeypatch) -> None:
    settings = local_settings(tmp_path)
    monkeypatch.delenv("DRIFTPILOT_NO_HOOK", raising=False)
    with pytest.raises(ConfigError, match=r"DRIFTPILOT_NO_HOOK is not set"):
        alerts.notify(("webhook_env:DRIFTPILOT_NO_HOOK",), settings, _store(settings), ALERT)
    monkeypatch.setenv("DRIFTPILOT_NO_HOOK", "hooks.example.com/not-a-url-s3cr3t")
    with pytest.raises(ConfigError, match=r"not an http\(s\) URL") as info:
        alerts.notify(("webhook_env:DRIFTPILOT_NO_HOOK",), settings, _store(settings), ALERT)
    assert "s3cr3t" not in str(info.value)


@pytest.mark.parametrize(
    ("conn_type", "host", "schema", "port", "password", "extra", "url"),
    [
        # AIRFLOW_CONN_X='https://hooks.slack.com/services/T0/B0/XX' (Airflow's URI form)
        ("https", "hooks.slack.com", "services/T0/B0/XX", None, None, {}, "https://hooks.slack.com/services/T0/B0/XX"),
        ("http", "127.0.0.1", "hook/a", 8080, None, {}, "http://127.0.0.1:8080/hook/a"),
        ("https", "chat.example.com", "v1/spaces/S/messages", None, None, {"key": "K", "token": "T"},
         "https://chat.example.com/v1/spaces/S/messages?key=K&token=T"),
        # JSON / UI form: the whole URL in Host
        ("http", "https://hooks.slack.com/services/T0/B0/XX", None, None, None, {}, "https://hooks.slack.com/services/T0/B0/XX"),
        # the Slack provider's webhook connection: base in Host, token in Password
        ("slackwebhook", "https://hooks.slack.com/services", None, None, "T0/B0/XX", {"channel": "#ml"}, "https://hooks.slack.com/services/T0/B0/XX"),
        ("slackwebhook", None, None, None, "T0/B0/XX", {}, "https://hooks.slack.com/services/T0/B0/XX"),
    ],
)
def test_webhook_url_from_connection_fields(conn_type, host, schema, port, password, extra, url) -> None:
    assert alerts.webhook_url_from_connection("c", conn_type, host, schema, port, password, extra) == url


def test_a_connection_without_a_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError, match=r"Connection `c` .* no webhook URL"):
        alerts.webhook_url_from_connection("c", "postgres", "db.internal", "s3cr3t", 5432, "pw", {})


def test_a_misconfigured_channel_does_not_stop_the_others(tmp_path, monkeypatch) -> None:
    """A missing variable is a config error (no retry), raised after every other channel was tried."""
    settings = local_settings(tmp_path)
    monkeypatch.delenv("DRIFTPILOT_NO_HOOK", raising=False)
    with webhook_server() as hook:
        monkeypatch.setenv("DRIFTPILOT_TEST_HOOK", hook.url)
        with pytest.raises(ConfigError, match=r"DRIFTPILOT_NO_HOOK is not set.*delivered: webhook_env:DRIFTPILOT_TEST_HOOK"):
            alerts.notify(("webhook_env:DRIFTPILOT_NO_HOOK", "webhook_env:DRIFTPILOT_TEST_HOOK"), settings,
                          _store(settings), ALERT)
    assert len(hook.posts) == 1


def test_the_alerts_port_sends_once_per_window_and_channel(tmp_path) -> None:
    """What the monitoring DAG calls: ``ports.alerts.notify``, with the same once-per-window rule."""
    from driftpilot.composition import build_ports

    port = build_ports(local_settings(tmp_path)).alerts
    assert [r["status"] for r in port.notify(("file",), ALERT)] == ["sent"]
    assert [r["status"] for r in port.notify(("file",), ALERT)] == [alerts.ALREADY_SENT]
    assert (tmp_path / "alerts" / "m" / "2026-01-05.json").exists()


def test_deliveries_go_through_the_evidence_store_port(tmp_path, monkeypatch) -> None:
    """``AlertChannels`` records through the store it is given, never straight into a SQLite file."""
    settings = local_settings(tmp_path)
    store = InMemoryEvidenceStore()
    port = alerts.AlertChannels(settings, store)
    with webhook_server(statuses=(500, 200)) as hook:
        monkeypatch.setenv("DRIFTPILOT_TEST_HOOK", hook.url)
        channels = ("file", "webhook_env:DRIFTPILOT_TEST_HOOK")
        with pytest.raises(alerts.AlertDeliveryError):
            port.notify(channels, ALERT)
        assert [r["status"] for r in port.notify(channels, ALERT)] == [alerts.ALREADY_SENT, "sent"]
    assert [(d.channel, d.status, d.attempts) for d in store.alert_deliveries("m")] == [
        ("file", "sent", 1), ("webhook_env:DRIFTPILOT_TEST_HOOK", "sent", 2)]
    assert store.alert_deliveries("m")[1].detail == "HTTP 200"
    assert not settings.metrics_db.exists()  # nothing bypassed the port


def test_the_composition_root_gives_alerts_the_ports_store(tmp_path) -> None:
    from driftpilot.composition import build_ports

    ports = build_ports(local_settings(tmp_path))
    ports.alerts.notify(("file",), ALERT)
    assert [(d.channel, d.status) for d in ports.store.alert_deliveries("m")] == [("file", "sent")]
