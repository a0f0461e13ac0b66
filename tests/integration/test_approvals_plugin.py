"""The approvals page as the Airflow api-server serves it: real login, two roles, real registry.

``create_app(apps="core")`` builds the api-server's app with the plugins of ``plugins/`` and the
simple auth manager configured with two users (``admin`` and a ``viewer``); tokens come from
``POST /auth/token`` with the passwords the manager generated. Candidates are made in the session's
MLflow registry the way the retraining DAG makes them (``tests.integration.candidates.gated``).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.usecases import promote as promotion
from driftpilot.usecases.monitor import metrics_db
from plugins.driftpilot_reports import PREFIX as MOUNT
from tests.integration.candidates import gated

pytestmark = pytest.mark.integration

PREFIX = MOUNT + "/approvals"
HOSTILE = "<img src=x onerror=alert(1)>"  # hostile in HTML; MLflow accepts it (no / or :)
USERS = "admin:admin,viewer:viewer"
_models = itertools.count()


@pytest.fixture
def model(shared_settings: Any, elec2_champion: Any) -> tuple[str, str, str]:
    """(name, champion, candidate): a model of this test's own with a champion and one gated, pending candidate.

    One per test, so no test sees another's decision whatever order they run in.
    """
    db = metrics_db(shared_settings)
    name = f"approvals_plugin_{next(_models)}_{HOSTILE}"
    champion = gated(shared_settings, db, name, elec2_champion.version, "approvals-plugin-0", passed=True)
    registry.MlflowRegistry(shared_settings).set_alias(name, registry.CHAMPION, champion)
    registry.MlflowRegistry(shared_settings).set_version_tags(name, champion, {promotion.APPROVAL: promotion.APPROVED})
    candidate = gated(shared_settings, db, name, elec2_champion.version, "approvals-plugin-1", passed=True)
    registry.MlflowRegistry(shared_settings).set_alias(name, registry.CHALLENGER, candidate)
    return name, champion, candidate


@pytest.fixture(scope="module")
def client(airflow_db: Path, test_home: Path) -> Iterator[Any]:
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    before = os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS")
    os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = USERS
    try:
        with TestClient(create_app(apps="core")) as client:
            yield client
    finally:
        if before is None:
            os.environ.pop("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", None)
        else:
            os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = before


def _token(client: Any, test_home: Path, user: str) -> str:
    passwords = json.loads((test_home / "airflow" / "simple_auth_manager_passwords.json.generated").read_text())
    response = client.post("/auth/token", json={"username": user, "password": passwords[user]})
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def admin(client: Any, test_home: Path) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(client, test_home, 'admin')}"}


@pytest.fixture(scope="module")
def viewer(client: Any, test_home: Path) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(client, test_home, 'viewer')}"}


def _decide(client: Any, headers: dict[str, str], model: tuple[str, str, str], body: Any, **extra: str) -> Any:
    name, _, candidate = model
    from urllib.parse import quote

    return client.post(f"{PREFIX}/api/{quote(name, safe='')}/{candidate}", headers={**headers, **extra},
                       content=json.dumps(body))


def _json(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/json"}


def test_login_is_required(client: Any, model: tuple[str, str, str]) -> None:
    assert client.get(f"{PREFIX}/api/pending").status_code == 401
    assert client.get(f"{PREFIX}/").status_code == 401
    assert _decide(client, {"Content-Type": "application/json"}, model, {"decision": "approved", "note": "x"}).status_code == 401


def test_a_viewer_sees_the_comparison_but_may_not_decide(client: Any, viewer: dict[str, str],
                                                         model: tuple[str, str, str]) -> None:
    name, champion, candidate = model
    listed = client.get(f"{PREFIX}/api/pending", params={"model": name}, headers=viewer)
    assert listed.status_code == 200, listed.text
    [item] = [i for i in listed.json()["pending"] if i["model"] == name]
    assert (item["version"], item["champion_version"], item["may_decide"]) == (candidate, champion, False)
    assert item["gate_passed"] and item["gate_problem"] is None and item["reasons"] == ["test verdict"]
    page = client.get(f"{PREFIX}/", params={"model": name}, headers=viewer)
    assert page.status_code == 200
    assert "<img" not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "can look but not decide" in page.text and "script-src 'self'" in page.headers["content-security-policy"]
    refused = _decide(client, _json(viewer), model, {"decision": "approved", "note": "looks good"})
    assert refused.status_code == 403, refused.text
    assert client.get(f"{PREFIX}/api/pending", params={"model": name}, headers=viewer).json()["pending"][0]["version"] == candidate


@pytest.mark.parametrize("body", [{"decision": "approved", "note": "   "}, {"decision": "approved"}])
def test_a_decision_without_a_note_is_refused(client: Any, admin: dict[str, str], model: tuple[str, str, str],
                                              body: dict[str, str]) -> None:
    response = _decide(client, _json(admin), model, body)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("extra", [{"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"},
                                   {"Content-Type": "application/json", "Origin": "https://evil.example"},
                                   {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}])
def test_cross_site_shaped_requests_are_refused(client: Any, admin: dict[str, str], model: tuple[str, str, str],
                                                extra: dict[str, str]) -> None:
    response = _decide(client, admin, model, {"decision": "approved", "note": "csrf"}, **extra)
    assert response.status_code in (403, 415), response.text


def test_an_approval_promotes_and_names_the_logged_in_user(client: Any, admin: dict[str, str],
                                                           model: tuple[str, str, str], shared_settings: Any) -> None:
    name, champion, candidate = model
    response = _decide(client, _json(admin), model,
                       {"decision": "approved", "note": "better on the holdout", "by": "mallory"},
                       Origin="http://testserver", **{"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200, response.text
    assert response.json()["champion"] == candidate
    client_registry = registry.MlflowRegistry(shared_settings)
    assert client_registry.alias_version(name, registry.CHAMPION) == candidate
    assert client_registry.alias_version(name, registry.PREVIOUS) == champion
    tags = client_registry.version_tags(name, candidate)
    assert tags[promotion.APPROVAL] == promotion.APPROVED
    assert tags[promotion.APPROVAL_BY] == "admin (Airflow user admin)"  # not the body's "mallory"
    assert tags[promotion.APPROVAL_NOTE] == "better on the holdout"
    again = _decide(client, _json(admin), model, {"decision": "rejected", "note": "too late"})
    assert again.status_code == 409
