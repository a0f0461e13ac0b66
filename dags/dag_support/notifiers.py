"""Slack and e-mail alert channels through Airflow's own notifiers, configured by Connection id.

``slack:<conn_id>`` posts with the Slack provider's ``SlackWebhookNotifier`` (a ``slackwebhook``
Connection: the webhook token in Password, Host the endpoint, default ``hooks.slack.com/services``);
``email:<conn_id>`` sends with the SMTP provider's ``SmtpNotifier`` (an ``smtp`` Connection: host,
port, login/password, ``from_email`` and TLS switches in Extra) to the config's ``alert_email_to``.
They live here, not in ``include/driftpilot`` (which never imports Airflow), and reach the core's
``Alerts`` port as ``provided`` channels keyed by spec, so the outbox (``sent`` once per model,
window and channel) and the "every channel is tried" rule are the same as for the other channels.

What the message says is ``driftpilot.domain.alert_message``'s (escaped for Slack's mrkdwn and
HTML, a one-line subject), with a link to the view's window page under Airflow's ``[api] base_url``.
The notifiers' ``notify`` is called directly, never the notifier itself: calling it renders its
fields as Jinja templates, and a model name or reason holding ``{{ ... }}`` would be evaluated.

Errors name the channel and its Connection id, never its password, token or URL: the provider's
exception is reduced to a status (``HTTP 500``, ``ConnectionRefusedError: Connection refused``,
``SMTPRecipientsRefused``) and raised without its cause. A missing Connection is a ``ConfigError``
(no retry helps); anything else an ``AlertDeliveryError``, which the alert task retries.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import urllib.error
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from driftpilot.domain.alert_message import build_alert_message  # pure, cheap at parse time
from driftpilot.errors import ConfigError

log = logging.getLogger(__name__)

ALERT_TRIES = 3
RETRY_DELAY_VARIABLE = "DRIFTPILOT_ALERT_RETRY_DELAY_SECONDS"
DEFAULT_BASE_URL = "http://localhost:8080/"  # Airflow's own fallback for links (TaskInstance.log_url)


def alert_retry_args() -> dict[str, Any]:
    """The alert task's retries: ``ALERT_TRIES`` tries, exponential backoff from the variable's delay (60 s)."""
    raw = os.environ.get(RETRY_DELAY_VARIABLE, "60")
    try:
        delay = float(raw)
    except ValueError:
        delay = -1.0
    if delay < 0:
        raise ValueError(f"{RETRY_DELAY_VARIABLE}={raw!r} is not a number of seconds >= 0: set it to e.g. 60")
    return {"retries": ALERT_TRIES - 1, "retry_delay": timedelta(seconds=delay),
            "retry_exponential_backoff": True, "max_retry_delay": timedelta(minutes=30)}


def view_base_url() -> str:
    """Where the Airflow UI (and so the monitoring view) is reached: ``[api] base_url``."""
    from airflow.sdk import conf

    return str(conf.get("api", "base_url", fallback=DEFAULT_BASE_URL) or DEFAULT_BASE_URL)


def _connection(spec: str, conn_id: str, conn_type: str) -> Any:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise ConfigError(
            f"alert channel {spec}: Airflow has no Connection `{conn_id}`; create it (type `{conn_type}`) in the UI, "
            f"with `airflow connections add`, in your secrets backend, or as AIRFLOW_CONN_{conn_id.upper()}"
        ) from None


def _problem(exc: BaseException) -> str:
    """A provider's failure as a status that cannot hold a secret (no URL, no server banner)."""
    status = re.search(r"Status Code: (\d+)", str(exc)) if type(exc).__name__ == "AirflowException" else None
    if status:  # SlackWebhookHook's non-200 answer
        code = re.search(r"Response body: b?'([a-z_]{1,60})'", str(exc))  # Slack's error codes, e.g. invalid_token
        return f"HTTP {status.group(1)}" + (f" ({code.group(1)})" if code else "")
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} (SMTP {exc.smtp_code})"
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, OSError):
        exc = exc.reason
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return type(exc).__name__


class SlackChannel:
    """``slack:<conn_id>``: the alert as Slack mrkdwn through ``SlackWebhookNotifier``."""

    def __init__(self, conn_id: str, base_url: str, timeout: int = 10) -> None:
        self.conn_id, self.base_url, self.timeout = conn_id, base_url, timeout
        self.spec = f"slack:{conn_id}"

    def send(self, alert: Mapping[str, Any]) -> str:
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
        from airflow.sdk.exceptions import AirflowNotFoundException

        from driftpilot.adapters.alert_channels import AlertDeliveryError

        _connection(self.spec, self.conn_id, "slackwebhook")
        message = build_alert_message(alert, self.base_url)
        notifier = SlackWebhookNotifier(slack_webhook_conn_id=self.conn_id, text=message.slack_text,
                                        unfurl_links=False, unfurl_media=False, timeout=self.timeout)
        try:
            notifier.notify({})
        except AirflowNotFoundException:  # the provider's "does not contain password"
            raise ConfigError(f"alert channel {self.spec}: the Airflow Connection `{self.conn_id}` has no webhook "
                              "token: put the T…/B…/… part of the webhook URL in its Password") from None
        except Exception as exc:
            raise AlertDeliveryError(f"Slack webhook of Airflow Connection `{self.conn_id}` failed: "
                                     f"{_problem(exc)}") from None
        return f"posted to Slack (Connection {self.conn_id})"


class EmailChannel:
    """``email:<conn_id>``: the alert as an HTML e-mail through ``SmtpNotifier``, to the config's recipients."""

    def __init__(self, conn_id: str, to: tuple[str, ...], base_url: str) -> None:
        self.conn_id, self.to, self.base_url = conn_id, to, base_url
        self.spec = f"email:{conn_id}"

    def send(self, alert: Mapping[str, Any]) -> str:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        from driftpilot.adapters.alert_channels import AlertDeliveryError

        if not self.to:
            raise ConfigError(f"alert channel {self.spec} has no recipients: list them in `alert_email_to`")
        conn = _connection(self.spec, self.conn_id, "smtp")
        sender = conn.extra_dejson.get("from_email")
        if not sender:
            raise ConfigError(f"alert channel {self.spec}: the Airflow Connection `{self.conn_id}` has no sender: "
                              'add `"from_email": "driftpilot@your.domain"` to its Extra')
        message = build_alert_message(alert, self.base_url)
        notifier = SmtpNotifier(to=list(self.to), from_email=str(sender), subject=message.subject,
                                html_content=message.html, smtp_conn_id=self.conn_id)
        try:
            notifier.notify({})  # nothing is rendered: every field is given
        except Exception as exc:
            raise AlertDeliveryError(f"SMTP server of Airflow Connection `{self.conn_id}` failed: "
                                     f"{_problem(exc)}") from None
        return f"e-mailed {len(self.to)} recipient(s) (Connection {self.conn_id})"


def provided_channels(config: Any, base_url: str | None = None) -> dict[str, Any]:
    """The config's Slack and e-mail channels, keyed by spec, for ``Alerts.notify(provided=...)``."""
    base = base_url if base_url is not None else view_base_url()
    channels: dict[str, Any] = {}
    for spec in config.alert_channels:
        kind, _, conn_id = spec.partition(":")
        if kind == "slack":
            channels[spec] = SlackChannel(conn_id, base)
        elif kind == "email":
            channels[spec] = EmailChannel(conn_id, tuple(config.alert_email_to), base)
    return channels


def verdict_stands(decision: Mapping[str, Any], problem: str, try_number: int, tries: int, final: bool) -> str:
    """The alert task's failure message: what did not go out, and that the stored decision is unaffected."""
    return (f"{problem}. Try {try_number} of {tries}"
            + ("; not retried: fix the named Airflow Connection (or the server it points at), then clear "
               "`send_alert` of this run, which sends only what did not go out" if final else "; Airflow retries")
            + f". The monitoring verdict for {decision.get('model')} window {decision.get('window')} "
            f"(`{decision.get('action')}`) is stored and stands: only its alert failed.")


def send_alert(config: Any, ports: Any, decision: Mapping[str, Any], try_number: int, tries: int) -> list[dict[str, str]]:
    """Every configured channel once per window (the outbox); a failure names its Connection, never a secret."""
    from dag_support import webhook_url
    from driftpilot.adapters.alert_channels import AlertDeliveryError

    try:
        return list(ports.alerts.notify(config.alert_channels, decision, connection_url=webhook_url,
                                        provided=provided_channels(config)))
    except (AlertDeliveryError, ConfigError) as exc:
        final = isinstance(exc, ConfigError) or try_number >= tries  # a ConfigError is never retried
        message = verdict_stands(decision, str(exc), try_number, tries, final)
        log.error("%s", message)
        raise type(exc)(message) from None
