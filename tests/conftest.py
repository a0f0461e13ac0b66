"""Test-wide environment: every test run gets its own throw-away driftpilot home.

Set before anything imports Airflow or MLflow, which read their homes at import time.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from driftpilot.composition import build_ports

ROOT = Path(__file__).resolve().parents[1]
_HOME = Path(tempfile.mkdtemp(prefix="driftpilot-tests-"))

os.environ["DRIFTPILOT_HOME"] = str(_HOME)
os.environ["AIRFLOW_HOME"] = str(_HOME / "airflow")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX"] = "regexp"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ["DRIFTPILOT_ALERT_RETRY_DELAY_SECONDS"] = "0"  # the alert task retries at once (dags/dag_support/notifiers.py)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "starts_from(state): the named state of its module's world the test starts from (tests/isolation.py)")


@pytest.fixture(scope="session")
def test_home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def elec2_config():
    from driftpilot.domain.config import load_config

    return load_config(ROOT / "include" / "config" / "elec2.yaml")


@pytest.fixture(scope="session")
def census_config():
    from driftpilot.domain.config import load_config

    return load_config(ROOT / "include" / "config" / "census_employment.yaml")


@pytest.fixture(scope="session")
def elec2_demo():
    """The demo settings of elec2_updown (bundled dataset, replay, label delays)."""
    from driftpilot_demo.config import demo_spec

    return demo_spec("elec2_updown")


@pytest.fixture(scope="session")
def census_demo():
    from driftpilot_demo.config import demo_spec

    return demo_spec("census_employment")


@pytest.fixture(scope="session")
def session_settings():
    """Settings of the session-wide store (real SQLite MLflow, local lake) under the test home.

    Only read-mostly state lives there: the Elec2 champion, models of their own name per test.
    Modules that change a lake, a history or the Elec2 aliases run in a `tests.isolation.World`.
    """
    from driftpilot.settings import load_settings

    return load_settings()


@pytest.fixture(scope="session")
def shared_settings(session_settings):
    """The session's settings; a module in a world of its own overrides this name with its own."""
    return session_settings


@pytest.fixture(scope="session")
def elec2_champion(elec2_config, session_settings):
    """The Elec2 initial model, trained and registered once per test session (~15 s)."""
    from tests.bundled import bootstrap_from_bundled

    shared_settings = session_settings  # the session store, whatever a module calls shared_settings
    return bootstrap_from_bundled(elec2_config, build_ports(shared_settings))


@pytest.fixture(scope="session")
def elec2_monitored(tmp_path_factory, elec2_config, session_settings, elec2_champion, airflow_db, dagbag):
    """Eight Elec2 days replayed and the first six monitored by the real DAG (~1 min, once).

    In a world of its own (`tests.isolation.World`) on the session's registry and champion;
    nobody works in it: modules start from copies (`world.copy(...)`). Returns (world, runs).
    """
    from driftpilot.usecases import monitor as monitoring
    from driftpilot_demo.traffic import replay_traffic
    from tests.isolation import World

    world = World.create(tmp_path_factory.mktemp("elec2-monitored"), registry=session_settings)
    with world.active() as settings:
        replay_traffic(elec2_config, settings, range(8))
        dag = dagbag.dags[f"driftpilot_monitor__{elec2_config.name}"]
        runs = {}
        for day in range(6):
            window = monitoring.window_for(elec2_config, f"2026-01-{day + 1:02d}")
            runs[window.label] = dag.test(logical_date=window.end)
    return world, runs


@pytest.fixture(scope="session")
def airflow_db(test_home: Path) -> Path:
    """A migrated Airflow metadata DB (SQLite) under the test home, created once (~10 s)."""
    import subprocess
    import sys

    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())
    return test_home / "airflow" / "airflow.db"


@pytest.fixture(scope="session")
def dagbag():
    """One DagBag for every DAG test (parsing is the slow part)."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))
