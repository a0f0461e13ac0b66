"""The report browser plugin as the Airflow api-server serves it, with Airflow's real login.

``airflow.api_fastapi.app.create_app`` builds the api-server's app (plugins from
``plugins/``, the configured auth manager, Airflow's middlewares); requests go through
Starlette's TestClient. Nothing is patched: the token comes from ``POST /auth/token`` of the
simple auth manager with the password it generated, exactly as a user logs in, and a request
without it gets 401. About 15 s (app creation) plus the session's ``airflow db migrate``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftpilot.adapters import parquet_lake as storage
from driftpilot.usecases import browse

pytestmark = pytest.mark.integration

PREFIX = "/driftpilot/reports"
MODEL = "plugin_probe"
WINDOW = "2026-02-01"
HEADERS = {"content-security-policy": "sandbox allow-scripts", "x-content-type-options": "nosniff"}


@pytest.fixture(scope="module")
def lake(shared_settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One window of reports in the session lake, a secret next to the lake and a symlink to it."""
    folder = shared_settings.lake / storage.REPORTS / f"model={MODEL}" / f"date={WINDOW}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "drift.html").write_text("<html><body>drift of the probe</body></html>")
    (folder / "decision.json").write_text(json.dumps({"action": "none", "evidence": {"drift_share": 0.0}}))
    (shared_settings.lake / "secret.html").write_text("secret")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "drift.html").write_text("outside")
    link = folder.parent / "date=2026-02-02"
    if not link.exists():
        link.symlink_to(elsewhere, target_is_directory=True)
    return shared_settings.lake


@pytest.fixture(scope="module")
def client(airflow_db: Path, test_home: Path, lake: Path) -> Iterator[Any]:
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


def _get(client: Any, token: str | None, path: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(PREFIX + path, headers=headers)


def test_login_is_required(client: Any) -> None:
    assert _get(client, None, "/").status_code == 401
    assert _get(client, None, f"/{MODEL}/{WINDOW}/drift.html").status_code == 401
    assert _get(client, "not-a-token", f"/{MODEL}/{WINDOW}/drift.html").status_code in (401, 403)


def test_reports_are_served_sandboxed_and_not_sniffed(client: Any, token: str) -> None:
    report = _get(client, token, f"/{MODEL}/{WINDOW}/drift.html")
    assert report.status_code == 200
    assert report.text == "<html><body>drift of the probe</body></html>"
    assert report.headers["content-type"].startswith("text/html")
    decision = _get(client, token, f"/{MODEL}/{WINDOW}/decision.json")
    assert decision.status_code == 200 and decision.json()["action"] == "none"
    index = _get(client, token, "/")
    assert index.status_code == 200
    assert browse.report_href(PREFIX, MODEL, WINDOW, "drift.html") in index.text
    assert "2026-02-02" not in index.text  # the symlinked window is not listed
    for response in (report, decision, index, _get(client, token, f"/{MODEL}/{WINDOW}/missing.html")):
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (response.url, name)


@pytest.mark.parametrize(
    "path",
    [
        "/%2e%2e/%2e%2e/secret.html",  # encoded dot segments in the model and window
        f"/%2e%2e/date={WINDOW}/drift.html",
        f"/{MODEL}/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e/secret.html",  # an encoded separator in the window
        f"/{MODEL}/{WINDOW}/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.html",  # ... in the file name
        f"/{MODEL}/{WINDOW}/..%5C..%5Csecret.html",  # backslashes
        f"/{MODEL}/2026-02-02/drift.html",  # a window folder symlinked outside the reports root
        f"/{MODEL}/{WINDOW}/.hidden.html",
        f"/{MODEL}/{WINDOW}/drift.py",
        f"/{MODEL}/{WINDOW}/drift.html%00.json",
        f"/{MODEL}/%EF%BC%8E%EF%BC%8E/drift.html",  # fullwidth full stops
    ],
)
def test_traversal_attempts_get_404(client: Any, token: str, path: str) -> None:
    response = _get(client, token, path)
    assert response.status_code == 404, (path, response.status_code, response.text[:200])
    assert response.text not in ("secret", "outside")
