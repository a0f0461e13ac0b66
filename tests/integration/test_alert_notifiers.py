"""Slack and e-mail alerts through Airflow's real notifiers, against real local servers.

The SMTP server is aiosmtpd on a free port (``tests/smtp_server.py``), the Slack webhook the local
HTTP server of ``tests/webhook_server.py``; each Connection is given as a deployment would give it,
an ``AIRFLOW_CONN_<ID>`` environment variable in JSON form, read by Airflow's own lookup.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from driftpilot.adapters import alert_channels as alerts
from driftpilot.adapters.sqlite_store import SqliteEvidenceStore
from driftpilot.domain.alert_message import build_alert_message
from driftpilot.errors import ConfigError
from tests.fakes import local_settings
from tests.smtp_server import free_port, smtp_server
from tests.webhook_server import TOKEN, webhook_server

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "dags") not in sys.path:  # where Airflow finds dag_support too
    sys.path.insert(0, str(ROOT / "dags"))

from dag_support.notifiers import RETRY_DELAY_VARIABLE, alert_retry_args, provided_channels  # noqa: E402

BASE = "https://airflow.example.com"
SMTP_PASSWORD = "smtp-pa55word-do-not-log"
ALERT = {"model": "elec2_updown", "window": "2026-01-05", "action": "alert", "model_version": "1",
         "reasons": ["drift share 0.40 >= 0.30 <!channel> & co"], "drift": {"drift_share_shown": "0.40"}}
LINK = f"{BASE}/driftpilot/view/models/elec2_updown/windows/2026-01-05"


def smtp_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, port: int) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port, "login": "driftpilot", "password": SMTP_PASSWORD,
        "extra": {"from_email": "driftpilot@example.org", "disable_ssl": True, "disable_tls": True,
                  "timeout": 5, "retry_limit": 0}}))


def slack_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, base: str) -> None:
    """The provider's shape: the endpoint in Host, the T…/B…/… token in Password."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({
        "conn_type": "slackwebhook", "host": base, "password": f"T0DRIFT/B0PILOT/{TOKEN}"}))


def send(tmp_path: Path, elec2_config: Any, channels: tuple[str, ...], to: tuple[str, ...] = ()) -> Any:
    config = replace(elec2_config, alert_channels=channels, alert_email_to=to)
    settings = local_settings(tmp_path)
    store = SqliteEvidenceStore(settings.metrics_db)
    provided = provided_channels(config, base_url=BASE)
    return alerts.notify(channels, settings, store, ALERT, provided=provided), store


def no_secret(secrets: tuple[str, ...], *texts: str, caplog: pytest.LogCaptureFixture) -> None:
    for secret in secrets:
        for text in texts:
            assert secret not in text
        assert not [r.getMessage() for r in caplog.records if secret in r.getMessage()]


def test_an_email_alert_reaches_the_smtp_server_once(tmp_path, monkeypatch, elec2_config, caplog) -> None:
    caplog.set_level(logging.INFO)
    to = ("ml-oncall@example.com", "owner@example.org")
    with smtp_server("driftpilot", SMTP_PASSWORD) as box:
        smtp_connection(monkeypatch, "dp_test_smtp", box.port)
        results, store = send(tmp_path, elec2_config, ("email:dp_test_smtp",), to)
        again = alerts.notify(("email:dp_test_smtp",), local_settings(tmp_path), store, ALERT,
                              provided=provided_channels(replace(elec2_config, alert_channels=("email:dp_test_smtp",),
                                                                 alert_email_to=to), base_url=BASE))
    [mail] = box.received  # the second notify found it sent: the outbox kept it to one
    assert box.logins == 1  # with the Connection's login and password
    assert [(r["channel"], r["status"]) for r in results] == [("email:dp_test_smtp", "sent")]
    assert [r["status"] for r in again] == [alerts.ALREADY_SENT]
    assert sorted(mail.recipients) == sorted(to)
    assert mail.envelope_from == "driftpilot@example.org"
    assert mail.message["Subject"] == "[driftpilot] alert for elec2_updown, window 2026-01-05"
    body = mail.html()
    assert f'href="{LINK}"' in body
    assert "drift share 0.40 &gt;= 0.30 &lt;!channel&gt; &amp; co" in body and "0.40" in body
    no_secret((SMTP_PASSWORD,), json.dumps(results), caplog=caplog)


def test_a_slack_alert_posts_the_escaped_text_to_the_connections_webhook(tmp_path, monkeypatch, elec2_config,
                                                                          caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with webhook_server() as hook:
        endpoint = hook.url.split("/T0DRIFT/")[0]  # http://127.0.0.1:<port>/services
        slack_connection(monkeypatch, "dp_test_slack", endpoint)
        results, _ = send(tmp_path, elec2_config, ("slack:dp_test_slack", "file"))
    [post] = hook.posts
    assert hook.paths == [f"/services/T0DRIFT/B0PILOT/{TOKEN}"]  # the provider's URL: Host + "/" + Password
    assert post["text"] == build_alert_message(ALERT, BASE).slack_text
    assert f"<{LINK}|Open the window page>" in post["text"]
    assert "&lt;!channel&gt; &amp; co" in post["text"] and "<!channel>" not in post["text"]
    assert [(r["channel"], r["status"]) for r in results] == [("slack:dp_test_slack", "sent"), ("file", "sent")]
    no_secret((TOKEN, hook.url), json.dumps(results), caplog=caplog)


@pytest.mark.parametrize("statuses", [(500,), None], ids=["webhook answers 500", "nothing listens"])
def test_a_failing_slack_webhook_names_the_connection_and_nothing_secret(tmp_path, monkeypatch, elec2_config,
                                                                         caplog, statuses) -> None:
    caplog.set_level(logging.INFO)
    with webhook_server(statuses=statuses or (200,)) as hook:
        endpoint = hook.url.split("/T0DRIFT/")[0] if statuses else f"http://127.0.0.1:{free_port()}/services"
        slack_connection(monkeypatch, "dp_test_slack", endpoint)
        with pytest.raises(alerts.AlertDeliveryError) as failure:
            send(tmp_path, elec2_config, ("slack:dp_test_slack", "file"))
    message = str(failure.value)
    assert "slack:dp_test_slack" in message and "Airflow Connection `dp_test_slack`" in message
    assert ("HTTP 500" if statuses else "ConnectionRefusedError") in message
    assert "delivered: file" in message  # the other channel still went out
    assert failure.value.__cause__ is None
    no_secret((TOKEN, hook.url, endpoint), message, caplog=caplog)


def test_an_unreachable_smtp_server_names_the_connection_not_its_password(tmp_path, monkeypatch, elec2_config,
                                                                         caplog) -> None:
    caplog.set_level(logging.INFO)
    smtp_connection(monkeypatch, "dp_test_smtp", free_port())  # a closed port
    with pytest.raises(alerts.AlertDeliveryError) as failure:
        send(tmp_path, elec2_config, ("email:dp_test_smtp",), ("ml-oncall@example.com",))
    message = str(failure.value)
    assert "email:dp_test_smtp" in message and "Airflow Connection `dp_test_smtp`" in message
    assert "ConnectionRefusedError" in message
    no_secret((SMTP_PASSWORD,), message, caplog=caplog)


def test_a_missing_connection_is_a_config_error_naming_it(tmp_path, monkeypatch, elec2_config) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_DP_NOWHERE", raising=False)
    with pytest.raises(ConfigError, match=r"no Connection `dp_nowhere`.*AIRFLOW_CONN_DP_NOWHERE"):
        send(tmp_path, elec2_config, ("slack:dp_nowhere",))


def test_outside_airflow_a_slack_channel_says_where_it_works(tmp_path, elec2_config) -> None:
    settings = local_settings(tmp_path)
    with pytest.raises(ConfigError, match=r"only the monitoring DAG can use"):
        alerts.notify(("slack:x",), settings, SqliteEvidenceStore(settings.metrics_db), ALERT)


def test_the_alert_retry_delay_comes_from_its_variable(monkeypatch) -> None:
    monkeypatch.setenv(RETRY_DELAY_VARIABLE, "15")
    args = alert_retry_args()
    assert (args["retries"], args["retry_delay"].total_seconds(), args["retry_exponential_backoff"]) == (2, 15.0, True)
    for bad in ("soon", "-1"):
        monkeypatch.setenv(RETRY_DELAY_VARIABLE, bad)
        with pytest.raises(ValueError, match=rf"{RETRY_DELAY_VARIABLE}='{bad}' is not a number of seconds"):
            alert_retry_args()
