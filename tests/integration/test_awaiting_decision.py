"""The retraining DAG's `awaiting_decision` task in a real Airflow run (`dag.test()`, SQLite metadata DB).

The task is the DAG's own sensor (``dag_support.decision.AwaitingDecision``) on a candidate made in
the session's real registry the way the retraining DAG makes it. While nobody has decided, the
task is *up for reschedule* (no worker slot held, the run not green); a reviewer's approval in
the registry, set from another thread while the run waits, ends it in success. A wait that is
never answered fails the task and the run.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.composition import build_ports
from driftpilot.usecases import promote as promotion
from driftpilot.usecases.monitor import metrics_db
from tests.integration.candidates import gated

pytestmark = pytest.mark.integration
_models = itertools.count()


@pytest.fixture
def pending(shared_settings: Any, elec2_champion: Any) -> tuple[str, str]:
    """(model, version): a model of this test's own whose challenger awaits approval."""
    name = f"awaiting_decision_{next(_models)}"
    db = metrics_db(shared_settings)
    client = registry.MlflowRegistry(shared_settings)
    champion = gated(shared_settings, db, name, elec2_champion.version, "wait-0", passed=True)
    client.set_alias(name, registry.CHAMPION, champion)
    version = gated(shared_settings, db, name, elec2_champion.version, "wait-1", passed=True)
    client.set_alias(name, registry.CHALLENGER, version)
    return name, version


DAG_FILE = """
import pendulum
from airflow.sdk import DAG
from dag_support.decision import AwaitingDecision

with DAG({dag_id!r}, schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")) as dag:
    AwaitingDecision(task_id="awaiting_decision", model={model!r}, poke_interval=1, timeout={timeout!r}, retries=0,
                     outcome={outcome!r})
"""


def _dag(folder: Path, model: str, outcome: dict[str, Any], timeout: float) -> Any:
    """A one-task DAG with the retraining DAG's sensor, written to a file and stored in the metadata DB
    (``dag.test()`` runs only serialized DAGs; it re-parses the dags folder, not this file)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    dag_id = f"test_{model}"
    file = folder / f"{dag_id}.py"
    file.write_text(DAG_FILE.format(dag_id=dag_id, model=model, timeout=timeout, outcome=outcome))
    bag = DagBag(dag_folder=str(file))
    assert not bag.import_errors, bag.import_errors
    DagBundlesManager().sync_bundles_to_db()  # the bundle row the DAG row refers to
    sync_bag_to_db(bag, "dags-folder", None)
    return bag.dags[dag_id]


def _states(airflow_db: Path, dag_id: str) -> list[str]:
    with sqlite3.connect(airflow_db, timeout=30) as db:
        return [str(r[0]) for r in db.execute("SELECT state FROM task_instance WHERE dag_id = ?", (dag_id,))]


def test_the_run_waits_rescheduled_until_a_reviewer_decides(pending, shared_settings, airflow_db, tmp_path) -> None:
    model, version = pending
    dag = _dag(tmp_path, model, {"state": "awaiting approval", "version": version}, timeout=600)
    seen: list[str] = []
    stop = threading.Event()

    def reviewer() -> None:
        """Looks at the task like the Airflow UI does; approves once it saw the run waiting."""
        while not stop.wait(0.3):
            seen.extend(s for s in _states(airflow_db, dag.dag_id) if not seen or seen[-1] != s)
            if "up_for_reschedule" in seen:
                promotion.set_approval(build_ports(shared_settings), model, version, promotion.APPROVED,
                                       "rita", "read the comparison")
                return

    thread = threading.Thread(target=reviewer, daemon=True)
    thread.start()
    try:
        run = dag.test()
    finally:
        stop.set()
        thread.join()
    assert "up_for_reschedule" in seen, seen  # not green while pending
    assert str(run.state) == "success"
    assert _states(airflow_db, dag.dag_id) == ["success"]
    # waiting decided nothing by itself: the approval is the reviewer's, promotion is reconcile's
    assert registry.MlflowRegistry(shared_settings).alias_version(model, registry.CHALLENGER) == version


def test_a_wait_nobody_answers_fails_the_run(pending, airflow_db, tmp_path) -> None:
    model, version = pending
    dag = _dag(tmp_path, model, {"state": "awaiting approval", "version": version}, timeout=2)
    run = dag.test()
    assert str(run.state) == "failed"
    assert _states(airflow_db, dag.dag_id) == ["failed"]


def test_a_candidate_that_is_not_waiting_ends_the_task_at_once(pending, airflow_db, tmp_path) -> None:
    model, _ = pending
    dag = _dag(tmp_path, model, {"state": "not promoted", "version": None, "why": "the gate did not pass"}, timeout=5)
    assert str(dag.test().state) == "success"
