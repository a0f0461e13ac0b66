"""The words of an alert: subject, plain text, HTML and Slack text, from the decision payload.

Pure, so every channel (Slack, e-mail, whatever comes next) says the same thing and the escaping
is tested once. Model names, windows and reasons come from the config and the data, so they are
treated as hostile: Slack's mrkdwn control characters (``&``, ``<``, ``>``) are escaped (a reason
cannot turn into a link or an ``<!channel>`` ping), the HTML body is HTML-escaped, and the subject
holds no CR, LF or other control character (no header can be injected into the e-mail).

The link points at the monitoring view's window page; its path is built from ``WINDOW_ROUTE``, the
same constant the view registers its route with (``driftpilot_ui.view``), so the two cannot drift
apart. The base URL is the deployment's (Airflow's ``[api] base_url``), passed in by the caller.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

PLUGIN_PREFIX = "/driftpilot"  # where the Airflow plugin mounts its app (plugins/driftpilot_reports.py)
VIEW_PREFIX = "/view"  # the monitoring view inside that app (driftpilot_ui.app)
APPROVALS_PREFIX = "/approvals"  # the approvals page inside that app (driftpilot_ui.app)
WINDOW_ROUTE = "/models/{model}/windows/{window}"  # the view's window page (driftpilot_ui.view)

SUBJECT_LIMIT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")


@dataclass(frozen=True)
class AlertMessage:
    subject: str  # one line, no control characters
    text: str  # plain text
    html: str  # the e-mail body (the SMTP provider sends HTML)
    slack_text: str  # Slack mrkdwn, hostile characters escaped
    link: str


def window_page_path(model: str, window: str) -> str:
    """The view's window page under the Airflow base URL, each part URL-quoted whole."""
    return PLUGIN_PREFIX + VIEW_PREFIX + WINDOW_ROUTE.format(model=quote(model, safe=""), window=quote(window, safe=""))


def window_page_url(base_url: str, model: str, window: str) -> str:
    return base_url.rstrip("/") + window_page_path(model, window)


def one_line(value: str, limit: int = SUBJECT_LIMIT) -> str:
    """``value`` without CR/LF or other control characters (runs become one space), at most ``limit`` chars."""
    flat = _CONTROL.sub(" ", value).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def slack_escape(value: str) -> str:
    """Slack's mrkdwn escaping: the three characters Slack says to escape in message text."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_alert_message(alert: Mapping[str, Any], base_url: str) -> AlertMessage:
    """The message for one decision payload (``decide_step``'s: model, window, action, reasons, drift)."""
    model, window = str(alert["model"]), str(alert["window"])
    action = str(alert.get("action", "alert"))
    reasons = [one_line(str(r), 1000) for r in alert.get("reasons") or []]
    drift = alert.get("drift") or {}
    share = drift.get("drift_share_shown")
    version = alert.get("model_version")
    link = window_page_url(base_url, model, window)

    facts = [("Model", model), ("Window", window), ("Action", action)]
    if version is not None:
        facts.append(("Model version", str(version)))
    if share is not None:
        facts.append(("Drift share (driftpilot)", str(share)))

    subject = one_line(f"[driftpilot] {action} for {model}, window {window}")
    text = "\n".join([
        f"driftpilot decided `{action}` for model {model}, window {window}.", "",
        *(f"{k}: {v}" for k, v in facts), "", "Reasons:",
        *([f"- {r}" for r in reasons] or ["- (none given)"]), "",
        f"Window page: {link}",
    ])
    esc = html.escape
    body = "".join([
        f"<p>driftpilot decided <b>{esc(action)}</b> for model <b>{esc(model)}</b>, window <b>{esc(window)}</b>.</p>",
        "<table>", *(f"<tr><th align='left'>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in facts), "</table>",
        "<p>Reasons:</p><ul>", *([f"<li>{esc(r)}</li>" for r in reasons] or ["<li>(none given)</li>"]), "</ul>",
        f"<p><a href=\"{esc(link, quote=True)}\">Open the window page</a>: {esc(link)}</p>",
    ])
    s = slack_escape
    slack_text = "\n".join([
        f":rotating_light: *driftpilot: {s(action)}* for model *{s(model)}*, window *{s(window)}*",
        *(f"*{s(k)}:* {s(v)}" for k, v in facts[3:]),
        *(f"• {s(r)}" for r in reasons),
        # The link's parts are URL-quoted; `|` (Slack's link/label separator) is quoted too.
        f"<{s(link).replace('|', '%7C')}|Open the window page>",
    ])
    return AlertMessage(subject=subject, text=text, html=body, slack_text=slack_text, link=link)
