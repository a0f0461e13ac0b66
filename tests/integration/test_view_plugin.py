"""The monitoring view as the Airflow api-server serves it, with Airflow's real login.

Same set-up as ``test_reports_plugin.py``: ``create_app`` builds the api-server's app with the
plugins of ``plugins/``; the token comes from the simple auth manager's ``POST /auth/token``. The
data is a month of monitoring history (``tests/view_data.py``) in a world of its own.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests import view_data
from tests.isolation import World

pytestmark = pytest.mark.integration

VIEW = "/driftpilot/view"
MODEL = view_data.MODEL


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    world = World.create(tmp_path_factory.mktemp("view"))
    with world.active() as settings:
        view_data.write_history(settings.config_dir, settings.metrics_db, settings.lake)
        yield settings


@pytest.fixture(scope="module")
def client(airflow_db: Path, test_home: Path, world: Any) -> Iterator[Any]:
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app(apps="core")) as client:
        yield client


@pytest.fixture(scope="module")
def token(client: Any, test_home: Path) -> str:
    passwords = json.loads((test_home / "airflow" / "simple_auth_manager_passwords.json.generated").read_text())
    user, password = next(iter(passwords.items()))
    response = client.post("/auth/token", json={"username": user, "password": password})
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


def _get(client: Any, token: str | None, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(VIEW + path, headers=headers, **kwargs)


@pytest.mark.parametrize("path", ["/", f"/models/{MODEL}", "/api/overview", f"/api/models/{MODEL}/trends",
                                  f"/api/models/{MODEL}/trends?format=csv&table=series", "/static/view.js",
                                  "/dag/anything"])
def test_login_is_required(client: Any, path: str) -> None:
    assert _get(client, None, path).status_code == 401
    assert _get(client, "not-a-token", path).status_code in (401, 403)


def test_overview_json_lists_every_configured_model(client: Any, token: str) -> None:
    response = _get(client, token, "/api/overview")
    assert response.status_code == 200
    table = response.json()["tables"]["models"]
    rows = {r[0]: dict(zip(table["columns"], r, strict=True)) for r in table["rows"]}
    assert {"elec2_updown", MODEL} <= set(rows)
    assert rows[MODEL]["windows"] == view_data.WINDOWS and rows[MODEL]["champion"] is None  # nothing registered
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_trends_json_and_csv_agree(client: Any, token: str) -> None:
    data = _get(client, token, f"/api/models/{MODEL}/trends?days=60").json()
    series = data["tables"]["series"]
    assert len(series["rows"]) == view_data.WINDOWS and data["facts"]["days"] == 60
    assert [e[2] for e in data["tables"]["events"]["rows"]] == ["retrain", "promotion", "rollback"]
    response = _get(client, token, f"/api/models/{MODEL}/trends?days=60&format=csv&table=series")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == f'attachment; filename="{MODEL}_60d_series.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == series["columns"] and len(rows) == 1 + view_data.WINDOWS
    assert rows[1][0] == series["rows"][0][0] and float(rows[1][3]) == pytest.approx(series["rows"][0][3])
    events = _get(client, token, f"/api/models/{MODEL}/trends?format=csv&table=events").text
    assert "'=HYPERLINK" not in events and "approved: <script>" in events  # inside the cell, not at its start
    assert _get(client, token, f"/api/models/{MODEL}/trends?format=csv&table=nope").status_code == 404
    assert _get(client, token, f"/api/models/{MODEL}/trends?days=7").status_code == 422


def test_window_and_feature_answers(client: Any, token: str) -> None:
    window = _get(client, token, f"/api/models/{MODEL}/windows/2026-01-10").json()
    assert window["facts"]["action"] == "retrain"
    assert [r[0] for r in window["tables"]["reports"]["rows"]] == ["drift.html", "drift_stats.json"]
    feature = _get(client, token, f"/api/models/{MODEL}/feature?column={quote(view_data.HOSTILE_FEATURE)}").json()
    assert len(feature["tables"]["history"]["rows"]) == view_data.WINDOWS
    assert len(feature["tables"]["summary"]["rows"]) == view_data.WINDOWS  # from each drift_stats.json
    assert _get(client, token, f"/api/models/{MODEL}/windows/2030-01-01").status_code == 404
    assert _get(client, token, "/api/models/no_such_model/trends").status_code == 404


def test_pages_have_a_strict_policy_and_escape_names(client: Any, token: str) -> None:
    page = _get(client, token, f"/models/{MODEL}/feature?column={quote(view_data.HOSTILE_FEATURE)}")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'self'" in policy and "sandbox" not in policy
    assert "<img" not in page.text and "&lt;img src=x onerror=alert(3)&gt;" in page.text
    assert "<script type='module' src='/driftpilot/view/static/view.js'></script>" in page.text
    assert page.text.count("<script") == 1  # no inline script
    script = _get(client, token, "/static/view.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert _get(client, token, "/static/../view.py").status_code == 404


def test_dag_tab_opens_the_model_or_says_politely_it_is_not_ours(client: Any, token: str) -> None:
    ours = _get(client, token, f"/dag/driftpilot_monitor__{MODEL}", follow_redirects=False)
    assert ours.status_code == 303 and ours.headers["location"] == f"{VIEW}/models/{MODEL}"
    other = _get(client, token, "/dag/" + quote("example_<b>etl</b>", safe=""))
    assert other.status_code == 200 and "not a driftpilot DAG" in other.text and "<b>etl" not in other.text


def test_the_report_browser_still_answers_under_the_new_mount(client: Any, token: str) -> None:
    response = client.get(f"/driftpilot/reports/{MODEL}/2026-01-10/drift.html", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.text.endswith("drift page of the probe</body></html>")
    assert response.headers["content-security-policy"] == "sandbox allow-scripts"
