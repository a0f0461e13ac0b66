"""The alert's words: the link to the view's window page, Slack mrkdwn escaping, a one-line subject."""

from __future__ import annotations

import html
from urllib.parse import unquote, urlparse

import pytest

from driftpilot.domain.alert_message import (
    WINDOW_ROUTE,
    build_alert_message,
    one_line,
    slack_escape,
)

ALERT = {"model": "elec2_updown", "window": "2026-01-05", "action": "alert", "model_version": "3",
         "reasons": ["drift share 0.40 >= 0.30 (nswprice, vicprice)"], "drift": {"drift_share_shown": "0.40"}}


def test_the_message_carries_model_window_action_reasons_share_and_link() -> None:
    message = build_alert_message(ALERT, "https://airflow.example.com/")
    link = "https://airflow.example.com/driftpilot/view/models/elec2_updown/windows/2026-01-05"
    assert message.link == link
    assert message.subject == "[driftpilot] alert for elec2_updown, window 2026-01-05"
    for body in (message.text, message.html, message.slack_text):
        for fact in ("elec2_updown", "2026-01-05", "alert", "drift share 0.40 &gt;= 0.30" if body is not message.text
                     else "drift share 0.40 >= 0.30", "0.40", link):
            assert fact in body, (fact, body)
    assert f"<{link}|Open the window page>" in message.slack_text
    assert f'<a href="{link}">' in message.html


def test_the_link_follows_the_views_route_and_quotes_each_part_whole() -> None:
    hostile = {**ALERT, "model": "a/b c?d#e", "window": "2026-01-05"}
    link = build_alert_message(hostile, "http://h:8080").link
    path = urlparse(link).path
    assert "?" not in link and "#" not in link
    assert path.startswith("/driftpilot/view/models/")
    prefix, _ = WINDOW_ROUTE.split("{model}")
    model_part = path[len("/driftpilot/view" + prefix):].split("/windows/")[0]
    assert unquote(model_part) == "a/b c?d#e" and "/" not in model_part


@pytest.mark.parametrize("hostile", ["<!channel> & <https://evil.example|click>", "a > b & c < d"])
def test_hostile_names_and_reasons_cannot_make_slack_markup(hostile: str) -> None:
    message = build_alert_message({**ALERT, "model": hostile, "reasons": [hostile]}, "http://h")
    text = message.slack_text
    assert "<!channel>" not in text and "<https://evil" not in text
    assert slack_escape(hostile) in text
    assert "&lt;" in text and "&amp;" in text
    assert text.count("<") == 1 and text.count(">") == 1  # the view link's own brackets, nothing else
    assert html.escape(hostile) in message.html and hostile not in message.html


def test_the_subject_is_one_line_whatever_the_model_name() -> None:
    message = build_alert_message({**ALERT, "model": "m\r\nBcc: victim@example.com\n\x00x"}, "http://h")
    assert "\r" not in message.subject and "\n" not in message.subject and "\x00" not in message.subject
    assert "Bcc: victim@example.com" in message.subject  # kept as text on the one line, not a header
    assert one_line("x" * 500) == "x" * 199 + "…"


def test_a_decision_without_reasons_or_share_still_reads() -> None:
    message = build_alert_message({"model": "m", "window": "w", "action": "alert", "reasons": []}, "http://h/")
    assert "(none given)" in message.text and "Drift share" not in message.text
