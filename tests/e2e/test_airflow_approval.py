"""The Airflow human-in-the-loop approval variant, answered through the REST API (`make test-slow`).

`approval: airflow` puts an Airflow ApprovalOperator after registration. Under `dags test` such a
task parks forever, so this test starts a real `airflow standalone` (scheduler, api-server,
LocalExecutor, its workers started from a fork server that preloaded GX, Evidently and MLflow) on
a free local port, triggers the retraining DAG through the REST API, waits for
the approval task to ask, answers "Approve" through the hitlDetails endpoint, and checks that the
champion alias moved and the move was logged. About 3-4 minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MODEL = "elec2_updown"
DAG_ID = f"driftpilot_retrain__{MODEL}"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def descendants(pid: int) -> list:  # type: ignore[type-arg]
    """Every process under ``pid`` (collected before stopping: workers outlive the group kill)."""
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def stop_all(processes: list) -> None:  # type: ignore[type-arg]
    import psutil

    for proc in processes:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            continue


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(base: str, method: str, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as exc:
        return exc.code, {"detail": exc.read().decode()[:500]}
    except OSError as exc:
        return 0, {"detail": str(exc)}


def wait_for(what: str, check, timeout: float, every: float = 2.0):  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture()
def prepared_home(tmp_path: Path):
    """A driftpilot home with a champion, 6 monitored windows, and an `approval: airflow` config."""
    home = tmp_path / "home"
    configs = tmp_path / "config"
    configs.mkdir()
    data = yaml.safe_load((ROOT / "include" / "config" / "elec2.yaml").read_text())
    data["approval"] = "airflow"
    data["promotion"].update(min_improvement=-1.0, guard_metrics={}, segment_tolerance=1.0)  # the gate passes
    (configs / "elec2.yaml").write_text(yaml.safe_dump(data))
    env = {**os.environ, "DRIFTPILOT_HOME": str(home), "DRIFTPILOT_CONFIG_DIR": str(configs),
           "AIRFLOW_HOME": str(home / "airflow")}
    env.pop("MLFLOW_TRACKING_URI", None)
    prep = (
        "from driftpilot.settings import load_settings\n"
        "from driftpilot.composition import build_ports\n"
        "from driftpilot.domain.config import model_config\n"
        "from driftpilot_demo.traffic import bootstrap_demo, replay_traffic\n"
        "from driftpilot.usecases import monitor as m\n"
        f"s = load_settings(); c = model_config(s, '{MODEL}'); bootstrap_demo(c, build_ports(s))\n"
        "replay_traffic(c, s, range(6))\n"
        "for d in range(6):\n"
        "    w = m.window_for(c, f'2026-01-{d + 1:02d}')\n"
        "    v = m.validate_step(c, build_ports(s), w)\n"
        "    m.drift_step(c, build_ports(s), w, v['serving_version'])\n"
        "    m.performance_step(c, build_ports(s), w)\n"
    )
    subprocess.run([sys.executable, "-c", prep], env=env, check=True, capture_output=True, timeout=600)
    return home, env


def test_airflow_approval_task_promotes_through_the_rest_api(prepared_home) -> None:
    home, env = prepared_home
    port = free_port()
    env = {
        **env,
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX": "regexp",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        # as `make` sets them: tasks are forked from a worker that has GX, Evidently and MLflow
        "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
        "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": "driftpilot.adapters.preload",
    }
    airflow = shutil.which("airflow", path=env["PATH"])
    assert airflow
    log = (home / "standalone.log").open("w")
    server = subprocess.Popen([airflow, "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for("the api-server", lambda: call(base, "GET", "/api/v2/monitor/health")[0] == 200, 240)
        passwords = home / "airflow" / "simple_auth_manager_passwords.json.generated"
        wait_for("the admin password", passwords.exists, 60)
        password = json.loads(passwords.read_text())["admin"]
        status, body = call(base, "POST", "/auth/token", body={"username": "admin", "password": password})
        assert status in (200, 201), body
        token = body["access_token"]
        wait_for("the DAG to be parsed", lambda: call(base, "GET", f"/api/v2/dags/{DAG_ID}", token)[0] == 200, 180)
        assert call(base, "PATCH", f"/api/v2/dags/{DAG_ID}", token, {"is_paused": False})[0] == 200
        conf = {"reason": "test: approve in Airflow", "window": "2026-01-06",
                "as_of": "2026-01-07T00:00:00+00:00", "idempotency_key": "hitl-1"}
        status, run = call(base, "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", token, {"logical_date": None, "conf": conf})
        assert status in (200, 201), run
        run_id = run["dag_run_id"]
        ti_path = f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/approve_in_airflow"

        def asking() -> bool:
            status, ti = call(base, "GET", ti_path, token)
            if ti.get("state") in ("failed", "upstream_failed", "skipped"):
                raise AssertionError(f"approval task ended as {ti['state']}: see {home / 'standalone.log'}")
            return status == 200 and ti.get("state") == "awaiting_input"

        wait_for("the approval task to ask", asking, 420, every=5)
        status, answer = call(base, "PATCH", ti_path + "/-1/hitlDetails", token,
                              {"chosen_options": ["Approve"], "params_input": {"note": "CI clears the bar"}})
        assert status == 200, answer

        def finished() -> str | None:
            state = call(base, "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", token)[1].get("state")
            return state if state in ("success", "failed") else None

        assert wait_for("the run to finish", finished, 300, every=5) == "success"

        # the task process inherited the preloaded libraries from the LocalExecutor's worker
        status, logs = call(base, "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/request/logs/1", token)
        assert status == 200, logs
        assert "preloaded by the worker" in json.dumps(logs), json.dumps(logs)[:2000]

        # the reports plugin is mounted on the same api-server and needs a login
        assert call(base, "GET", "/driftpilot/reports/")[0] in (401, 403)
        page = urllib.request.Request(base + "/driftpilot/reports/", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(page, timeout=30) as response:
            text = response.read().decode()
        assert f"/driftpilot/reports/{MODEL}/2026-01-06/drift.html" in text
    finally:
        family = descendants(server.pid)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(server.pid, sig)
            except ProcessLookupError:
                break
            try:
                server.wait(timeout=20)
                break
            except subprocess.TimeoutExpired:
                continue
        log.close()
        stop_all(family + descendants(server.pid))

    check = (
        "from driftpilot.settings import load_settings\n"
        "from driftpilot.adapters import mlflow_registry as registry\n"
        "from driftpilot.adapters import sqlite_store as history\n"
        "from driftpilot.usecases import monitor as monitoring\n"
        "s = load_settings(); c = registry.MlflowRegistry(s)\n"
        f"print(c.alias_version('{MODEL}', 'champion'), c.alias_version('{MODEL}', 'previous'))\n"
        f"print(history.read_promotions(monitoring.metrics_db(s), '{MODEL}')['moved_by'].tolist())\n"
        f"print(registry.MlflowRegistry(s).version_tags('{MODEL}', '2')['driftpilot.approval_note'])\n"
    )
    out = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, check=True).stdout
    champion_line, movers_line, note_line = out.strip().splitlines()[-3:]
    assert champion_line == "2 1"  # the candidate (v2) is champion, the bootstrap model (v1) previous
    assert "admin" in movers_line and "(Airflow user " in movers_line  # who answered, as Airflow authenticated them
    assert note_line == "CI clears the bar"
