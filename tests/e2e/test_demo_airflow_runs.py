"""The demo's runs as the Airflow UI shows them: real durations, each task's own log, a note.

Runs one window of ``scripts/demo.py`` (the code path of ``make demo``) in a fresh home, then reads
the run back through the api-server's REST API (``create_app`` in a child process on the demo's
Airflow home, so this session's Airflow configuration is not touched): the run list's dates, the
run's note, and ``GET .../taskInstances/{task}/logs/{try}`` for every task that ran, which is what
the UI's log view calls (Airflow's own log reader on ``AIRFLOW_HOME/logs``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = "elec2_updown"
DAG_ID = f"driftpilot_monitor__{MODEL}"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Runs in the demo's Airflow home: the api-server app, a real login, the REST API.
READ_BACK = r"""
import json, sys
from pathlib import Path
from airflow.api_fastapi.app import create_app
from fastapi.testclient import TestClient

home, dag_id = Path(sys.argv[1]), sys.argv[2]
with TestClient(create_app(apps="core")) as client:
    passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
    token = client.post("/auth/token", json={"username": "admin", "password": passwords["admin"]})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}", "Accept": "application/json"}
    runs = client.get(f"/api/v2/dags/{dag_id}/dagRuns", headers=headers)
    assert runs.status_code == 200, runs.text
    out = {"runs": runs.json()["dag_runs"], "logs": {}}
    for run in out["runs"]:
        base = f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances"
        for ti in client.get(base, headers=headers).json()["task_instances"]:
            if ti["try_number"]:
                log = client.get(f"{base}/{ti['task_id']}/logs/{ti['try_number']}", headers=headers)
                assert log.status_code == 200, log.text
                out["logs"][ti["task_id"]] = [str(line.get("event", "")) for line in log.json()["content"]]
print(json.dumps(out))
"""


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "DRIFTPILOT_HOME": str(home), "AIRFLOW_HOME": str(home / "airflow"),
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin"}
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


@pytest.fixture(scope="module")
def one_window(tmp_path_factory: pytest.TempPathFactory) -> tuple[datetime, dict[str, Any]]:
    """When the demo began, and what the REST API says about its one monitoring run."""
    home = tmp_path_factory.mktemp("demo-airflow-runs")
    began = datetime.now(UTC)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), "--model", MODEL, "--days", "1"],
                          env=_env(home), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    read = subprocess.run([sys.executable, "-c", READ_BACK, str(home / "airflow"), DAG_ID],
                          env=_env(home), capture_output=True, text=True, timeout=300)
    assert read.returncode == 0, read.stdout[-3000:] + read.stderr[-3000:]
    return began, json.loads(read.stdout.strip().splitlines()[-1])


def _window_label() -> str:
    from driftpilot_demo.config import demo_spec
    from driftpilot_demo.replay import simulated_date

    return simulated_date(demo_spec(MODEL), 0).isoformat()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_run_lasts_what_it_took_not_since_its_window(one_window: tuple[datetime, dict[str, Any]]) -> None:
    began, found = one_window
    [run] = found["runs"]
    start, end, logical = _when(run["start_date"]), _when(run["end_date"]), _when(run["logical_date"])
    assert logical < began - timedelta(days=30)  # the window is a simulated past one ...
    assert began <= start < end < start + timedelta(hours=1)  # ... the run's clock is the real one
    assert run["state"] == "success"


def test_the_note_names_the_window_and_the_action(one_window: tuple[datetime, dict[str, Any]]) -> None:
    [run] = one_window[1]["runs"]
    label = _window_label()
    assert run["note"].startswith(f"window {label}: [{label} 00:00, ")
    assert "action none" in run["note"] or "action alert" in run["note"] or "action retrain" in run["note"]


def test_each_task_log_holds_that_tasks_lines_only(one_window: tuple[datetime, dict[str, Any]]) -> None:
    logs = one_window[1]["logs"]
    assert {"window_bounds", "reconcile_approvals", "validate", "labels", "drift", "decide", "route"} <= set(logs)
    label = _window_label()
    for task, lines in logs.items():
        text = "\n".join(lines)
        assert f"[DAG TEST] starting task_id={task} " in text and f"[DAG TEST] end task task_id={task} " in text
        others = [t for t in logs if t != task and f"task_id={t} " in text]
        assert not others, f"{task}'s log holds lines of {others}"
    decide = "\n".join(logs["decide"])
    # the decide step's own line (driftpilot.usecases.monitor): the window, the version, the action
    assert f"{MODEL} window {label} (v1): " in decide and "[driftpilot.usecases.monitor]" in decide
    assert not any(f"{MODEL} window {label} (v1): " in line for task, ls in logs.items() if task != "decide" for line in ls)
    assert any(f"validated {MODEL} window {label}: " in line for line in logs["validate"])  # what GX read
