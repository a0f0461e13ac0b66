"""`driftpilot retrain`: the request a window recorded in the outbox, retrained in this process
(real MLflow on SQLite, the real retraining steps), with the key the retraining DAG would use."""

from __future__ import annotations

import json
import shlex

import pytest

from driftpilot import cli
from driftpilot.adapters import mlflow_registry as registry
from driftpilot.composition import build_ports
from driftpilot.domain.config import model_config
from driftpilot.domain.evidence import RetrainState
from driftpilot.usecases import monitor as monitoring
from driftpilot.usecases.manual_runs import outbox_request, request_of
from driftpilot.usecases.retrain import RetrainRequest

pytestmark = pytest.mark.e2e
MODEL = "elec2_updown"
WINDOW = "2026-01-06"


@pytest.fixture(scope="module")
def world(elec2_monitored, elec2_champion, tmp_path_factory):
    """The session's monitored Elec2 days with a registry of this module's own, and a retrain
    request recorded the way the monitoring DAG's `request_retrain` task records it."""
    world = elec2_monitored[0].copy(tmp_path_factory.mktemp("cli-retrain"), own_registry=True)
    key = f"{MODEL}:{WINDOW}:v{elec2_champion.version}"
    with world.active() as settings:
        config = model_config(settings, MODEL)
        decision = {"idempotency_key": key, "window": WINDOW, "window_end": "2026-01-07T00:00:00+00:00",
                    "reasons": ["test: drift persisted"]}
        assert monitoring.request_retrain(config, build_ports(settings), decision)["emit"]
    return world, key


@pytest.fixture()
def settings(world):
    with world[0].active() as settings:
        yield settings


def _versions(settings, key: str) -> list[str]:
    return registry.MlflowRegistry(settings).search_versions(MODEL, registry.KEY_TAG, f"retrain:{key}")


def test_retrain_runs_the_recorded_request_once_and_again_reuses_it(world, settings, capsys) -> None:
    _, key = world
    assert cli.main(["retrain", "--model", MODEL, "--airflow"]) == 0
    command = shlex.split(capsys.readouterr().out.strip())
    assert command[:4] == ["airflow", "dags", "test", f"driftpilot_retrain__{MODEL}"]
    conf = json.loads(command[command.index("-c") + 1])
    ports = build_ports(settings)
    recorded = request_of(outbox_request(ports, MODEL))
    assert RetrainRequest.from_dict({"model": MODEL, **conf}) == recorded  # what the DAG would run
    assert recorded.idempotency_key == key

    assert cli.main(["retrain", "--model", MODEL]) == 0
    out = capsys.readouterr().out
    [version] = _versions(settings, key)
    assert f"register     version {version}" in out
    [entry] = [e for e in ports.store.retrain_requests(MODEL) if e.idempotency_key == key]
    assert entry.state is RetrainState.RAN

    assert cli.main(["retrain", "--model", MODEL]) == 2  # nothing pending any more
    assert "no retrain request pending" in capsys.readouterr().err

    assert cli.main(["retrain", "--model", MODEL, "--window", WINDOW]) == 0  # named: run again
    out = capsys.readouterr().out
    assert "(reused)" in out
    assert _versions(settings, key) == [version]  # same key, same run and version


def test_a_window_monitored_from_the_shell_records_the_request_retrain_runs(elec2_monitored, elec2_champion,
                                                                            tmp_path, capsys) -> None:
    """The user's path: `driftpilot monitor --window` decides retrain, `driftpilot retrain` runs it."""
    world = elec2_monitored[0].copy(tmp_path / "world", own_registry=True)
    with world.active() as settings:
        assert cli.main(["monitor", "--model", MODEL, "--window", "2026-01-07", "--no-alert"]) == 0
        out = capsys.readouterr().out
        assert "decision: retrain" in out, out
        key = f"{MODEL}:2026-01-07:v{elec2_champion.version}"
        assert f"retrain request {key} is recorded" in out
        assert f"driftpilot retrain --model {MODEL} --window 2026-01-07" in out
        assert cli.main(["retrain", "--model", MODEL, "--window", "2026-01-07"]) == 0
        assert len(_versions(settings, key)) == 1
