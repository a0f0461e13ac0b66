"""The MLflow adapter against a registry that fails: only "not found" means absent.

A tiny HTTP server in the test speaks MLflow's REST protocol (JSON bodies, ``error_code``) and
answers each call as the test tells it: a 500 ``INTERNAL_ERROR`` (a registry that is down or
broken), a 404 ``RESOURCE_DOES_NOT_EXIST`` (genuinely absent), or a normal answer. The MLflow
client is the real one, pointed at the server by tracking URI; nothing is patched.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

import pytest
from mlflow.exceptions import MlflowException

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.composition import build_ports
from driftpilot.errors import BaselineNotFound, RegistryInconsistent

pytestmark = pytest.mark.integration
API = "/api/2.0/mlflow"
BROKEN = (500, {"error_code": "INTERNAL_ERROR", "message": "database is locked"})
ABSENT = (404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "not found"})


class FakeMlflow:
    """Answers (method, path) with canned (status, JSON body)s, in turn; records every request.

    Each ``answer`` for the same call queues one more reply; the last one repeats.
    """

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
        self.requests: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                path = urlparse(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                fake.requests.append((self.command, path))
                queued = fake.answers.get((self.command, path)) or [
                    (501, {"error_code": "NOT_IMPLEMENTED", "message": f"{self.command} {path}"})]
                status, body = queued.pop(0) if len(queued) > 1 else queued[0]
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, method: str, path: str, status: int, body: dict[str, Any]) -> None:
        key = (method, API + path if not path.startswith("/api") else path)
        self.answers.setdefault(key, []).append((status, body))

    def called(self, method: str, path: str) -> bool:
        return (method, API + path) in self.requests

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def fake(monkeypatch, shared_settings) -> Iterator[FakeMlflow]:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # the client's own retries: Airflow retries
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    server = FakeMlflow()
    yield server
    server.close()
    # Nothing to point back: the registry adapter keeps its URI in its own client (and sets
    # MLflow's global one only right before a fluent call, to its own store).


@pytest.fixture()
def settings(fake, shared_settings, tmp_path):
    return dataclasses.replace(shared_settings, mlflow_tracking_uri=fake.uri, home=tmp_path)


def _model(name: str, aliases: dict[str, str]) -> dict[str, Any]:
    return {"registered_model": {"name": name, "aliases": [{"alias": a, "version": v} for a, v in aliases.items()]}}


def _run(run_id: str, tags: dict[str, str]) -> dict[str, Any]:
    return {"run": {"info": {"run_id": run_id, "run_uuid": run_id, "experiment_id": "0", "status": "FINISHED",
                             "start_time": 0, "lifecycle_stage": "active",
                             "artifact_uri": f"mlflow-artifacts:/0/{run_id}/artifacts"},
                    "data": {"tags": [{"key": k, "value": v} for k, v in tags.items()]}}}


def test_a_broken_registry_is_an_error_not_a_missing_alias(fake, settings) -> None:
    fake.answer("GET", "/registered-models/get", *BROKEN)
    with pytest.raises(MlflowException) as raised:
        registry.MlflowRegistry(settings).alias_version("m", registry.CHAMPION)
    assert not registry.is_not_found(raised.value)


def test_a_model_that_does_not_exist_has_no_alias(fake, settings) -> None:
    fake.answer("GET", "/registered-models/get", *ABSENT)
    assert registry.MlflowRegistry(settings).alias_version("m", registry.CHAMPION) is None


def test_a_failed_search_does_not_read_as_never_registered(fake, settings) -> None:
    """Else a retried register step registers the same candidate a second time."""
    fake.answer("GET", "/model-versions/search", *BROKEN)
    # the rest of the registry works: a client that took the error for "absent" would register now
    fake.answer("GET", "/runs/get", 200, _run("run-1", {registry.MODEL_URI_TAG: "runs:/run-1/model"}))
    fake.answer("GET", "/registered-models/get", 200, _model("m", {}))
    fake.answer("POST", "/registered-models/create", 200, _model("m", {}))
    with pytest.raises(MlflowException):
        registry.MlflowRegistry(settings).register_run("m", "run-1", "retrain:key-1", {})
    assert [call for call in fake.requests if call[0] != "GET"] == [], fake.requests  # nothing was registered


def test_bootstrap_does_not_reset_champion_when_the_registry_errors(fake, settings, elec2_config) -> None:
    from tests.bundled import bootstrap_from_bundled

    fake.answer("GET", "/model-versions/search", 200, {"model_versions": [
        {"name": elec2_config.name, "version": "1", "run_id": "run-1"}]})
    fake.answer("GET", "/registered-models/get", *BROKEN)  # champion is v7, but this read fails ...
    fake.answer("GET", "/registered-models/get", 200, _model(elec2_config.name, {registry.CHAMPION: "7"}))  # ... once
    fake.answer("POST", "/registered-models/alias", 200, {})
    with pytest.raises(MlflowException):
        bootstrap_from_bundled(elec2_config, build_ports(settings))
    assert [call for call in fake.requests if call[0] != "GET"] == [], fake.requests  # champion was not touched


def test_deleting_an_alias_on_a_broken_registry_raises(fake, settings) -> None:
    fake.answer("DELETE", "/registered-models/alias", *BROKEN)
    with pytest.raises(MlflowException):
        registry.MlflowRegistry(settings).delete_alias("m", registry.CHALLENGER)


def test_an_alias_that_does_not_read_back_raises(fake, settings) -> None:
    fake.answer("POST", "/registered-models/alias", 200, {})
    fake.answer("GET", "/registered-models/get", 200, _model("m", {registry.CHAMPION: "3"}))
    with pytest.raises(RegistryInconsistent, match="reads '3' right after driftpilot set it to '4'"):
        registry.MlflowRegistry(settings).set_alias("m", registry.CHAMPION, "4")


def test_an_unregistered_version_fails_at_once_with_how_to_register_it(fake, settings) -> None:
    fake.answer("GET", "/model-versions/get", *ABSENT)
    with pytest.raises(BaselineNotFound, match=r"m version 9 is not registered.*driftpilot bootstrap --model m"):
        registry.MlflowRegistry(settings).load_baseline("m", "9")


def _version_with_artifacts(fake: FakeMlflow) -> None:
    fake.answer("GET", "/model-versions/get", 200, {"model_version": {"name": "m", "version": "2", "run_id": "r2"}})
    fake.answer("GET", "/runs/get", 200, _run("r2", {}))


def test_a_baseline_that_cannot_be_read_is_retried_not_reported_missing(fake, settings) -> None:
    _version_with_artifacts(fake)
    fake.answer("GET", "/api/2.0/mlflow-artifacts/artifacts", *BROKEN)
    with pytest.raises(Exception) as raised:
        registry.MlflowRegistry(settings).load_baseline("m", "2")
    assert not isinstance(raised.value, BaselineNotFound)


def test_a_run_without_baseline_artifacts_is_reported_missing(fake, settings) -> None:
    _version_with_artifacts(fake)
    fake.answer("GET", "/api/2.0/mlflow-artifacts/artifacts", 200, {"files": []})
    fake.answer("POST", "/logged-models/search", 200, {"models": []})  # MLflow 3 also looks for logged models
    with pytest.raises(BaselineNotFound, match="no baseline artifacts under run r2"):
        registry.MlflowRegistry(settings).load_baseline("m", "2")

