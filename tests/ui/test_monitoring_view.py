"""The monitoring view in a real Airflow UI, driven in headless Chromium (`make test-ui`).

The module starts a real ``airflow api-server`` (own ``AIRFLOW_HOME`` in a temporary folder, the
simple auth manager, the repo's ``plugins/`` and ``dags/``) on a month of demo-like history
(``tests/view_data.py``: 20 windows, labels final for 17, a retrain, a promotion, a rollback, a
hostile feature name, category value and reviewer note). It logs in through Airflow's login form,
opens the "Monitoring" tab of the model's DAG and the "Model monitoring" nav entry, counts the
points each chart drew, downloads a CSV, and checks that no hostile string ran (no dialog, no
injected element, no image, the title unchanged). Screenshots go to ``$DRIFTPILOT_ARTIFACTS`` or
``tests/ui/artifacts/`` (gitignored). About 40 s (migrate, reserialize, api-server start).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests import view_data
from tests.ui.conftest import Server, api_server, logged_in

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
MODEL = view_data.MODEL
DAG = f"driftpilot_monitor__{MODEL}"
# What a hostile string could have changed once the page settled (see test_reports_inert.py).
FACTS = """() => ({
  title: document.title,
  handlers: [...document.querySelectorAll('*')]
      .filter(e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on'))).length,
  images: document.querySelectorAll('img').length,
  injected: document.getElementById('dp-injected') !== null,
  scripts: document.scripts.length,
  text: document.body.innerText,
})"""
POINTS = "name => document.querySelectorAll(`svg[data-chart='${name}'] circle.dp-point`).length"
EVENTS = "name => document.querySelectorAll(`svg[data-chart='${name}'] line.dp-event`).length"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("view-ui")
    home = base / "home"
    view_data.write_history(base / "config", home / "metrics" / "history.sqlite", home / "lake")
    with api_server(base, home, base / "config") as running:
        yield running


@pytest.fixture(scope="module")
def session(browser: Any, server: Server) -> Iterator[tuple[Any, list[str]]]:
    """A logged-in page (through Airflow's own login form) and the dialogs any page opened."""
    with logged_in(browser, server) as page_and_dialogs:
        yield page_and_dialogs


def _frame(page: Any, path: str) -> Any:
    """The Airflow UI's iframe showing the view page whose URL contains ``path``, once drawn."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for frame in page.frames:
            if frame is not page.main_frame and path in frame.url:  # the UI mirrors the path in its own URL
                frame.wait_for_selector("body[data-ready]", timeout=20_000)
                return frame
        page.wait_for_timeout(200)
    raise AssertionError(f"no frame with {path!r}: {[f.url for f in page.frames]}")


def _assert_inert(target: Any, dialogs: list[str], title: str) -> dict[str, Any]:
    facts = target.evaluate(FACTS)
    assert dialogs == []
    assert facts["title"] == title
    assert (facts["handlers"], facts["images"], facts["injected"]) == (0, 0, False)
    assert facts["scripts"] == 1  # only view.js
    return facts


def test_dag_tab_draws_every_series_with_events(session: tuple[Any, list[str]], server: Server) -> None:
    page, dialogs = session
    page.goto(f"{server.url}/dags/{DAG}/plugin/driftpilot-monitoring")
    frame = _frame(page, f"/driftpilot/view/models/{MODEL}")
    assert frame.evaluate("() => document.body.dataset.ready") == "true"
    expected = {"drift_share": 20, "performance": view_data.FINAL_WINDOWS, "volume": 20, "latency_p95_ms": 20,
                "quarantined_share": 20}
    assert {name: frame.evaluate(POINTS, name) for name in expected} == expected
    assert frame.evaluate(EVENTS, "drift_share") == 3  # retrain, promotion, rollback
    assert frame.locator("svg[data-chart=performance] line.dp-ref-slo").count() == 1
    assert frame.locator("svg[data-chart=performance] line.dp-ref-baseline").count() == 1
    assert frame.locator("table[data-table=series] tbody tr").count() == view_data.WINDOWS
    facts = _assert_inert(frame, dialogs, f"{MODEL}: trends")
    assert view_data.HOSTILE_FEATURE in facts["text"]  # shown as text in the top features
    assert view_data.HOSTILE_NOTE in facts["text"]  # the promotion note, in the events table
    page.screenshot(path=str(server.artifacts / "view-dag-tab.png"))
    frame.locator("a[href$='?days=90']").click()
    frame.wait_for_url("**days=90")
    frame.wait_for_selector("body[data-ready=true]")
    assert frame.evaluate(POINTS, "drift_share") == 20


def test_overview_lists_the_model_and_downloads_a_csv(session: tuple[Any, list[str]], server: Server) -> None:
    page, dialogs = session
    page.goto(f"{server.url}/plugin/driftpilot")
    frame = _frame(page, "/driftpilot/view/")
    rows = frame.locator("table[data-table=models] tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td").first.inner_text() == MODEL
    assert frame.locator("#dp-approvals a").get_attribute("href") == "/driftpilot/approvals/"
    _assert_inert(frame, dialogs, "Monitored models")
    page.screenshot(path=str(server.artifacts / "view-overview.png"))
    with page.expect_download() as download_info:
        frame.locator("#dp-models a.dp-csv").click()
    download = download_info.value
    assert download.suggested_filename == "overview_models.csv"
    target = server.artifacts / "overview_models.csv"
    download.save_as(str(target))
    lines = list(csv.reader(target.open()))
    assert lines[0][:3] == ["model", "description", "champion"]
    assert lines[1][0] == MODEL and lines[1][10] == str(view_data.WINDOWS)
    assert view_data.HOSTILE_VALUE in lines[1][6]  # the reasons, as plain text


def test_window_and_feature_pages_keep_hostile_names_inert(session: tuple[Any, list[str]], server: Server) -> None:
    page, dialogs = session
    page.goto(f"{server.url}/driftpilot/view/models/{MODEL}/windows/2026-01-10")
    page.wait_for_selector("body[data-ready=true]")
    facts = _assert_inert(page, dialogs, f"{MODEL}: window 2026-01-10")
    assert view_data.HOSTILE_VALUE in facts["text"] and "retrain" in facts["text"]
    assert page.locator("table[data-table=columns] tbody tr").count() == len(view_data.FEATURES)
    page.locator("table[data-table=columns] a", has_text="seg</script>").click()
    page.wait_for_url(lambda url: "/feature?column=seg%3C%2Fscript%3E" in url)
    page.wait_for_selector("body[data-ready=true]")
    _assert_inert(page, dialogs, f"{MODEL}: {view_data.HOSTILE_FEATURE}")
    assert page.evaluate(POINTS, "statistics") == view_data.WINDOWS  # jensen_shannon only, for a category
    page.goto(f"{server.url}/driftpilot/view/models/{MODEL}")
    page.wait_for_selector("body[data-ready=true]")
    page.screenshot(path=str(server.artifacts / "view-model-page.png"), full_page=True)
    page.goto(f"{server.url}/driftpilot/view/dag/{quote('etl<img src=x onerror=alert(1)>', safe='')}")
    _assert_inert(page, dialogs, "etl<img src=x onerror=alert(1)>: not a driftpilot DAG")
