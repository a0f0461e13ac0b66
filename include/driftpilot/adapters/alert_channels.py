"""Alert channels: where an ``alert`` decision goes. Local by default; secrets never in config.

``file`` (default) writes one JSON document per model and window under
``<home>/alerts/<model>/<window>.json``. ``webhook_conn:<conn_id>`` POSTs the same JSON to the URL
held by an Airflow Connection, ``webhook_env:<VAR>`` to the URL in an environment variable of the
workers; a Slack incoming webhook is a URL of this kind. The config names where the URL lives,
never the URL (``config.py`` refuses one): a webhook URL is a secret.

``slack:<conn_id>`` and ``email:<conn_id>`` go through Airflow's Slack and SMTP providers, which
the core cannot import: the DAG layer builds those channels (``dags/dag_support/notifiers.py``) and
hands them in as ``provided`` (keyed by spec); the delivery bookkeeping below is the same for all.

Secrets: the core does not import Airflow, so a Connection is looked up by the caller (the DAG
layer passes ``connection_url``, which uses Airflow's own lookup: secrets backends, the metadata
DB, ``AIRFLOW_CONN_<ID>``). The resolved URL is used for the request and nothing else: results,
log lines, errors and the delivery store carry only the channel's name (``webhook_conn:<id>``) and
a status such as ``HTTP 200``. Errors are raised without their cause chained (an ``HTTPError``
holds the URL).

Idempotent per window and channel: each delivery is recorded through the ``EvidenceStore`` port
(``alert_deliveries`` of the SQLite store, key model, window, channel; the composition root hands
``AlertChannels`` the same store every other port writes to) as ``sending`` before the attempt and ``sent`` after a 2xx answer; a
channel already ``sent`` for the window is skipped, so a retried task (or a re-run of the window)
does not post twice. This is at-least-once: a crash between the 2xx and the ``sent`` record makes
the retry post once more. Every channel is tried even if one fails; the failures are raised
together afterwards, so Airflow's retry only re-attempts the channels that did not go out.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from driftpilot.adapters.parquet_lake import write_json_atomic
from driftpilot.errors import ConfigError, DriftpilotError
from driftpilot.ports import AlertChannel, EvidenceStore
from driftpilot.settings import Settings

log = logging.getLogger(__name__)

SENT = "sent"
ALREADY_SENT = "already sent"
DEFAULT_SLACK_WEBHOOK_BASE = "https://hooks.slack.com/services"


class AlertDeliveryError(DriftpilotError):
    """One or more channels did not take the alert; transient (Airflow retries the task)."""


class FileChannel:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, alert: Mapping[str, Any]) -> str:
        path = self.directory / str(alert["model"]) / f"{alert['window']}.json"
        write_json_atomic(dict(alert), path)
        return str(path)


class WebhookChannel:
    """POSTs JSON to a URL it keeps to itself: its status and errors never contain the URL."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._url = url
        self.timeout = timeout

    def __repr__(self) -> str:
        return "WebhookChannel(<url hidden>)"

    def send(self, alert: Mapping[str, Any]) -> str:
        body = json.dumps(dict(alert), default=str).encode()
        request = urllib.request.Request(self._url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code}"
        except urllib.error.URLError as exc:
            problem = f"{type(exc.reason).__name__}: {exc.reason}" if isinstance(exc.reason, OSError) else type(exc).__name__
        except OSError as exc:
            problem = f"{type(exc).__name__}: {exc.strerror or exc}"
        # `from None`: the original exception (and its traceback locals) may carry the URL.
        raise AlertDeliveryError(problem.replace(self._url, "<webhook url>")) from None


def webhook_url_from_connection(conn_id: str, conn_type: str | None, host: str | None, schema: str | None,
                                port: int | None, password: str | None, extra: Mapping[str, Any]) -> str:
    """The webhook URL an Airflow Connection holds, from its plain fields (no Airflow import).

    Three shapes are understood: the URI form (``AIRFLOW_CONN_X='https://host/path'`` parses into
    type ``https``, host, port, path as schema, query as extra), the whole URL in Host (JSON or UI
    form), and the Slack provider's ``slackwebhook`` connection (base URL in Host, default
    ``https://hooks.slack.com/services``, the ``T…/B…/…`` token in Password).
    """
    if conn_type == "slackwebhook" and password:
        base = host if host and "://" in host else DEFAULT_SLACK_WEBHOOK_BASE
        return f"{base.rstrip('/')}/{password.lstrip('/')}"
    if host and host.startswith(("http://", "https://")):
        return host
    if conn_type in ("http", "https") and host:
        url = f"{conn_type}://{host}{f':{port}' if port else ''}"
        if schema:
            url += "/" + quote(schema.lstrip("/"), safe="/:@-._~!$&'()*+,;=")
        if extra:
            url += "?" + urlencode({k: str(v) for k, v in extra.items()})
        return url
    raise ConfigError(
        f"Airflow Connection `{conn_id}` (type {conn_type!r}) holds no webhook URL: give it the URL "
        "(e.g. AIRFLOW_CONN_" + conn_id.upper() + "='https://hooks.slack.com/services/...'), a Host that is "
        "the whole http(s) URL, or make it a `slackwebhook` connection with the token as password"
    )


def _url_from_environment(variable: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(
            f"environment variable {variable} is not set: the alert channel `webhook_env:{variable}` "
            "expects the webhook URL there (set it in the environment of the Airflow workers)"
        )
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"environment variable {variable} is not an http(s) URL: set it to the whole webhook URL")
    return value


PROVIDED_KINDS = ("slack", "email")  # channels only the DAG layer can build (Airflow providers)


def channel_for(spec: str, settings: Settings, connection_url: Callable[[str], str] | None = None,
                provided: Mapping[str, AlertChannel] | None = None) -> AlertChannel:
    """The channel named by ``spec``: one of ``provided``, else ``file``, ``webhook_conn:<conn_id>``, ``webhook_env:<VAR>``."""
    if provided and spec in provided:
        return provided[spec]
    kind, _, rest = spec.partition(":")
    if kind in PROVIDED_KINDS and rest:
        raise ConfigError(
            f"alert channel {spec!r} sends through Airflow's {kind} provider and a Connection, which only "
            "the monitoring DAG can use: send alerts from the DAG, or use `file` / `webhook_env:<VAR>` outside Airflow"
        )
    if kind == "file":
        return FileChannel(settings.home / "alerts")
    if kind == "webhook_env" and rest:
        return WebhookChannel(_url_from_environment(rest))
    if kind == "webhook_conn" and rest:
        if connection_url is None:
            raise ConfigError(
                f"alert channel {spec!r} names an Airflow Connection, which only the DAG layer can look "
                "up: send alerts from the monitoring DAG, or use `webhook_env:<VAR>` outside Airflow"
            )
        return WebhookChannel(connection_url(rest))
    raise ConfigError(f"unknown alert channel {spec!r}: use file, webhook_conn:<conn_id>, webhook_env:<VAR>, "
                      "slack:<conn_id> or email:<conn_id>")


class AlertChannels:
    """The ``Alerts`` port: the ``file`` and webhook channels, deliveries recorded in ``store``."""

    def __init__(self, settings: Settings, store: EvidenceStore) -> None:
        self.settings = settings
        self.store = store

    def notify(self, channels: tuple[str, ...], alert: Mapping[str, Any],
               connection_url: Callable[[str], str] | None = None,
               provided: Mapping[str, AlertChannel] | None = None) -> list[dict[str, str]]:
        return notify(channels, self.settings, self.store, alert, connection_url, provided)


def notify(channels: tuple[str, ...], settings: Settings, store: EvidenceStore, alert: Mapping[str, Any],
           connection_url: Callable[[str], str] | None = None,
           provided: Mapping[str, AlertChannel] | None = None) -> list[dict[str, str]]:
    """Send ``alert`` once per channel and window; returns each channel's name and status (no secret).

    ``settings`` locates the ``file`` channel's folder; every delivery state goes to ``store``.
    A channel's ``send`` raises ``AlertDeliveryError`` when it may work on a retry (a server down)
    and ``ConfigError`` when it cannot (a missing Connection); either is recorded as ``failed``.
    """
    model, window = str(alert["model"]), str(alert["window"])
    results: list[dict[str, str]] = []
    failures: list[str] = []
    misconfigured: list[str] = []
    for spec in channels:
        if store.alert_delivery_status(model, window, spec) == SENT:
            log.info("alert of %s window %s: %s already sent, not sent again", model, window, spec)
            results.append({"channel": spec, "status": ALREADY_SENT, "detail": ""})
            continue
        try:
            channel = channel_for(spec, settings, connection_url, provided)
        except ConfigError as exc:  # one channel's missing Connection must not silence the others
            log.error("alert of %s window %s: %s is misconfigured: %s", model, window, spec, exc)
            misconfigured.append(str(exc))
            continue
        store.begin_alert_delivery(model, window, spec)
        try:
            detail = channel.send(alert)
        except AlertDeliveryError as exc:
            store.finish_alert_delivery(model, window, spec, "failed", str(exc))
            log.warning("alert of %s window %s: %s failed: %s", model, window, spec, exc)
            failures.append(f"{spec}: {exc}")
            continue
        except ConfigError as exc:  # found out while sending (e.g. the Connection is missing)
            store.finish_alert_delivery(model, window, spec, "failed", str(exc))
            log.error("alert of %s window %s: %s is misconfigured: %s", model, window, spec, exc)
            misconfigured.append(f"{spec}: {exc}")
            continue
        store.finish_alert_delivery(model, window, spec, SENT, detail)
        log.info("alert of %s window %s sent to %s (%s)", model, window, spec, detail)
        results.append({"channel": spec, "status": SENT, "detail": detail})
    delivered = ", ".join(r["channel"] for r in results) or "none"
    if failures:  # transient: Airflow retries, and the retry sends only what did not go out
        raise AlertDeliveryError(
            f"alert of {model} window {window} not delivered to {'; '.join(failures + misconfigured)} "
            f"(delivered: {delivered}; a retry sends only the rest)"
        )
    if misconfigured:  # deterministic: a retry would fail the same way (ConfigError: no retry)
        raise ConfigError("; ".join(misconfigured) + f" (delivered: {delivered})")
    return results
