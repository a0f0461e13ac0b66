"""`driftpilot status` lists what awaits a reviewer, read straight from MLflow's SQLite store.

The candidates are made in the session's real registry the way the retraining DAG makes them
(``tests.integration.candidates.gated``); the direct reads (``SqliteRegistryReads``) must answer
exactly what the MLflow client answers on the same store.
"""

from __future__ import annotations

import itertools

import pytest

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.adapters.mlflow_sqlite_reads import SqliteRegistryReads
from driftpilot.cli import main
from driftpilot.usecases import approvals
from driftpilot.usecases import promote as promotion
from driftpilot.usecases.monitor import metrics_db
from tests.integration.candidates import gated

pytestmark = pytest.mark.integration
_models = itertools.count()


@pytest.fixture
def model(shared_settings, elec2_champion) -> tuple[str, str, str, str]:
    """(name, champion, rejected, pending) of a model of this test's own."""
    name = f"status_pending_{next(_models)}"
    db = metrics_db(shared_settings)
    client = registry.MlflowRegistry(shared_settings)
    champion, rejected, pending = (gated(shared_settings, db, name, elec2_champion.version, f"status-{i}", passed=True)
                                   for i in range(3))
    client.set_alias(name, registry.CHAMPION, champion)
    client.set_version_tags(name, champion, {promotion.APPROVAL: promotion.APPROVED})
    client.set_version_tags(name, rejected, {promotion.APPROVAL: promotion.REJECTED})
    client.set_alias(name, registry.CHALLENGER, pending)
    return name, champion, rejected, pending


def test_status_lists_the_pending_candidate_and_how_to_decide_it(model, capsys) -> None:
    name, champion, rejected, pending = model
    assert main(["status", "--model", name]) == 0
    out = capsys.readouterr().out
    assert f"{name}: champion = v{champion}" in out
    assert "pending approvals: 1" in out
    assert f"v{pending} (challenger: yes), gate passed, awaiting since 2026-01-07T00:00:00" in out
    assert approvals.APPROVALS_PAGE in out
    assert f"driftpilot approve --model {name} --version {pending} --note" in out
    assert f"v{rejected} (" not in out and f"v{champion} (challenger" not in out


def test_status_says_none_once_the_candidate_is_decided(model, shared_settings, capsys) -> None:
    name, _, _, pending = model
    assert main(["approve", "--model", name, "--version", pending, "--note", "read it", "--by", "rita"]) == 0
    capsys.readouterr()
    assert main(["status", "--model", name]) == 0
    assert "pending approvals: none" in capsys.readouterr().out


def test_direct_reads_answer_what_mlflow_answers(model, shared_settings) -> None:
    name, champion, rejected, pending = model
    mlflow, direct = registry.MlflowRegistry(shared_settings), SqliteRegistryReads(shared_settings)
    assert direct.aliases(name) == mlflow.aliases(name) == {registry.CHAMPION: champion, registry.CHALLENGER: pending}
    assert direct.aliases("no_such_model") == mlflow.aliases("no_such_model") == {}
    for version in (champion, rejected, pending):
        assert direct.version_tags(name, version) == mlflow.version_tags(name, version)
    for value in (promotion.PENDING, promotion.APPROVED, promotion.REJECTED, "nothing"):
        assert direct.search_versions(name, promotion.APPROVAL, value) == mlflow.search_versions(name, promotion.APPROVAL, value)
    run_id = mlflow.version_run_id(name, pending)
    record = direct.read_run_artifact(run_id, promotion.GATE_RECORD)
    assert record is not None and record == mlflow.read_run_artifact(run_id, promotion.GATE_RECORD)
    assert direct.read_run_artifact(run_id, "gate/none.json") is None is mlflow.read_run_artifact(run_id, "gate/none.json")
