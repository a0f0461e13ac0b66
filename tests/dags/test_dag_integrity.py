"""Every DAG file parses, and every DAG follows the project's conventions."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from driftpilot.domain.config import load_all_configs

ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((ROOT / "dags").glob("*.py"))
HEAVY = {"pandas", "numpy", "mlflow", "evidently", "great_expectations", "sklearn", "pyarrow", "scipy"}


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}


def test_one_monitor_dag_per_model_config(dagbag) -> None:
    models = load_all_configs(ROOT / "include" / "config")
    assert {f"driftpilot_monitor__{m}" for m in models} <= set(dagbag.dag_ids)


@pytest.mark.parametrize("attribute", ["doc_md", "tags"])
def test_dags_are_documented_and_tagged(dagbag, attribute) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert getattr(dag, attribute), f"{dag_id} has no {attribute}"


def test_tasks_retry_with_backoff(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"
            assert task.retry_exponential_backoff, f"{dag_id}.{task.task_id} retries without backoff"


def test_monitor_dag_shape(dagbag) -> None:
    dag = dagbag.dags["driftpilot_monitor__elec2_updown"]
    assert dag.max_active_runs == 1
    assert "window_start" in dag.params
    route = dag.get_task("route")
    assert route.downstream_task_ids == {"request_retrain", "send_alert", "no_action"}
    assert dag.get_task("labels").upstream_task_ids >= {"drift"}
    assert dag.timetable.periodic


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_keep_heavy_imports_out_of_the_top_level(path: Path) -> None:
    tree = ast.parse(path.read_text())
    top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = {(n.module or "") if isinstance(n, ast.ImportFrom) else a.name for n in top_level for a in getattr(n, "names", [])}
    roots = {name.split(".")[0] for name in names}
    assert not roots & HEAVY, f"{path.name} imports {roots & HEAVY} at parse time"


def test_retrain_dag_shape(dagbag) -> None:
    dag = dagbag.dags["driftpilot_retrain__elec2_updown"]
    assert dag.max_active_runs == 1
    assert {"reason", "as_of", "train_start", "train_end", "idempotency_key"} <= set(dag.params)
    chain = ["request", "training_set", "train_candidate", "evaluate", "register", "approval"]
    for upstream, downstream in itertools.pairwise(chain):
        assert upstream in dag.get_task(downstream).upstream_task_ids
    assert "approve_in_airflow" not in dag.task_ids  # registry approval by default


def test_registry_approval_waits_for_the_decision_without_holding_a_worker(dagbag) -> None:
    """The run is not green while the candidate awaits a reviewer: its last task waits, rescheduled."""
    from dag_support.decision import DECISION_TIMEOUT

    dag = dagbag.dags["driftpilot_retrain__elec2_updown"]
    wait = dag.get_task("awaiting_decision")
    assert wait.upstream_task_ids == {"approval"}
    assert not wait.downstream_task_ids  # the run ends only when the wait does
    assert wait.mode == "reschedule"
    assert wait.timeout == DECISION_TIMEOUT.total_seconds()
    assert dag.dagrun_timeout > DECISION_TIMEOUT  # the run outlives the wait, so the wait's message is what fails
    assert dag.params["await_decision"] is True
    assert {"await_decision", "decision_poke_seconds"} <= set(dag.params)


def test_airflow_approval_mode_adds_a_gated_approval_task(elec2_config) -> None:
    import dataclasses
    import importlib.util

    from driftpilot.domain.config import ApprovalMode

    spec = importlib.util.spec_from_file_location("retrain_dag_module", ROOT / "dags" / "driftpilot_retrain.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.build_retrain_dag(dataclasses.replace(elec2_config, approval=ApprovalMode.AIRFLOW))
    assert dag.get_task("approve_in_airflow").upstream_task_ids == {"gate_passed"}
    assert dag.get_task("gate_passed").upstream_task_ids >= {"approval"}
    assert "awaiting_decision" not in dag.task_ids  # the Airflow approval task is the wait
    assert "approve_in_airflow" in dag.get_task("promote_approved").upstream_task_ids


def test_reports_plugin_loads_and_is_cheap_to_import() -> None:
    import subprocess
    import sys

    code = (
        "import sys, time; sys.path.insert(0, 'plugins'); import airflow.plugins_manager\n"
        "t = time.time(); import driftpilot_reports as p; spent = time.time() - t\n"
        "assert p.DriftpilotReportsPlugin.fastapi_apps[0]['url_prefix'] == '/driftpilot'\n"
        "views = {v['destination']: v['href'] for v in p.DriftpilotReportsPlugin.external_views}\n"
        "assert views['dag'] == '/driftpilot/view/dag/{DAG_ID}', views\n"
        "assert 'fastapi' not in sys.modules or 'airflow.api_fastapi.core_api.security' not in sys.modules\n"
        "print(round(spent, 3))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.strip().splitlines()[-1]) < 0.5
