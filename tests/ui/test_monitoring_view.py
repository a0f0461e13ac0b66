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
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests import view_data

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


@dataclass(frozen=True)
class Server:
    url: str
    user: str
    password: str
    artifacts: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _airflow(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "airflow"), *args], env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, f"airflow {' '.join(args)} failed:\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("view-ui")
    home = base / "home"
    view_data.write_history(base / "config", home / "metrics" / "history.sqlite", home / "lake")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRIFTPILOT_", "AIRFLOW", "MLFLOW_TRACKING"))}
    env |= {
        "DRIFTPILOT_HOME": str(home), "DRIFTPILOT_CONFIG_DIR": str(base / "config"),
        "AIRFLOW_HOME": str(base / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX": "regexp", "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}",
    }
    _airflow(env, "db", "migrate")
    _airflow(env, "dags", "reserialize")  # the DAG page (and its tab) needs the serialized DAG
    port = _free_port()
    log = (base / "api-server.log").open("w")
    process = subprocess.Popen([str(Path(sys.executable).parent / "airflow"), "api-server", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, (base / "api-server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the api-server did not answer within 90 s"
            time.sleep(0.5)
        passwords = json.loads((base / "airflow" / "simple_auth_manager_passwords.json.generated").read_text())
        user, password = next(iter(passwords.items()))
        artifacts = Path(os.environ.get("DRIFTPILOT_ARTIFACTS", ROOT / "tests" / "ui" / "artifacts"))
        artifacts.mkdir(parents=True, exist_ok=True)
        yield Server(url, user, password, artifacts)
    finally:
        # The api-server forks workers: stop its whole process group, politely first.
        for sig, wait in ((signal.SIGINT, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            if process.poll() is not None:
                break
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        log.close()


@pytest.fixture(scope="module")
def session(browser: Any, server: Server) -> Iterator[tuple[Any, list[str]]]:
    """A logged-in page (through Airflow's own login form) and the dialogs any page opened."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(server.url + "/")
    page.wait_for_url("**/auth/login**")
    page.fill("input[name=username]", server.user)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    try:
        yield page, dialogs
    finally:
        context.close()


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
