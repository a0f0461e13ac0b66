"""The real retraining DAG (`dag.test()`), with approval and rejection through the MLflow registry.

Runs in a world of its own (`tests.isolation.World`: registry, lake, history, home), a copy of the
session's `elec2_monitored` (champion, six windows monitored), so the lake holds validated windows
and matured labels. Each test starts from a fresh copy of the state it names with `starts_from`
(default: "monitored"); the states a candidate's life goes through ("pending": t-approve awaits
approval; "promoted": t-approve approved and champion) are built once each, by the real DAG and
the real approval, so every test runs alone and in any order. The gate is made deterministic
with config copies: `min_improvement: -1` (passes) or `+1` (never passes), so each registry path
is exercised on purpose, not by luck.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.adapters import sqlite_store as history
from driftpilot.composition import build_ports
from driftpilot.errors import InsufficientData
from driftpilot.usecases import monitor as monitoring
from driftpilot.usecases import promote as promotion
from tests.isolation import World

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-01-07T00:00:00+00:00"
MODEL = "elec2_updown"


@contextmanager
def gate_margin(tmp: Path, min_improvement: float, approval: str = "registry") -> Iterator[None]:
    """Point DRIFTPILOT_CONFIG_DIR at a copy of the configs with another gate margin (and approval)."""
    target = tmp / f"config{min_improvement:+.0f}{approval}"
    target.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "include" / "config").glob("*.yaml"):
        shutil.copy(path, target / path.name)
    data = yaml.safe_load((target / "elec2.yaml").read_text())
    data["promotion"].update(min_improvement=min_improvement, guard_metrics={}, segment_tolerance=1.0)
    data["approval"] = approval
    (target / "elec2.yaml").write_text(yaml.safe_dump(data))
    old = os.environ.get("DRIFTPILOT_CONFIG_DIR")
    os.environ["DRIFTPILOT_CONFIG_DIR"] = str(target)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("DRIFTPILOT_CONFIG_DIR", None)
        else:
            os.environ["DRIFTPILOT_CONFIG_DIR"] = old


@pytest.fixture(scope="module")
def monitored(elec2_monitored, tmp_path_factory) -> World:
    """This module's world: a copy of the session's monitored Elec2 days with a registry of its own
    (a copy of the session's, champion included: the aliases this module moves are its own)."""
    return elec2_monitored[0].copy(tmp_path_factory.mktemp("retrain-dag"), own_registry=True)


@pytest.fixture(scope="module")
def lake_with_labels(monitored, dagbag):
    """The retraining DAG; the validated windows and labels it trains on are in `monitored`."""
    return dagbag.dags[f"driftpilot_retrain__{MODEL}"]


@pytest.fixture(scope="module")
def states(monitored, lake_with_labels, tmp_path_factory) -> Callable[[str], World]:
    """The world in the state named, built the first time a test asks for it (once per module)."""
    built: dict[str, World] = {"monitored": monitored}

    def pending(world: World) -> None:
        with gate_margin(tmp_path_factory.mktemp("gate"), -1.0):
            assert str(run_retrain(lake_with_labels, "t-approve").state) == "success"

    def promoted(world: World) -> None:
        settings = world.settings
        [version] = versions_with_key(settings, "t-approve")
        promotion.set_approval(build_ports(settings), MODEL, version, promotion.APPROVED, "ana", "holdout gain is real")
        assert reconcile(settings)

    steps = {"pending": ("monitored", pending), "promoted": ("pending", promoted)}

    def state(name: str) -> World:
        if name not in built:
            before, step = steps[name]
            world = state(before).copy(tmp_path_factory.mktemp(name))
            with world.active():
                step(world)
            built[name] = world
        return built[name]

    return state


@pytest.fixture(autouse=True)
def shared_settings(request, states, tmp_path) -> Iterator[object]:
    """This test's own copy of the state it starts from, active (the DAG tasks read it)."""
    marker = request.node.get_closest_marker("starts_from")
    with states(marker.args[0] if marker else "monitored").copy(tmp_path / "world").active() as settings:
        yield settings


def run_retrain(dag, key: str, as_of: str = AS_OF):
    # The tests decide after the run (in the registry, like a reviewer), so the run does not wait.
    return dag.test(run_conf={"reason": "test: drift persisted", "window": "2026-01-06", "as_of": as_of,
                              "idempotency_key": key, "await_decision": False})


def versions_with_key(settings, key: str) -> list[str]:
    return registry.MlflowRegistry(settings).search_versions(MODEL, registry.KEY_TAG, f"retrain:{key}")


def aliases(settings) -> dict[str, str | None]:
    client = registry.MlflowRegistry(settings)
    return {a: client.alias_version(MODEL, a)
            for a in (registry.CHAMPION, registry.CHALLENGER, registry.PREVIOUS)}


def reconcile(settings) -> list:
    return promotion.reconcile(build_ports(settings), MODEL, AS_OF)


def test_candidate_awaits_approval_and_the_champion_does_not_move(lake_with_labels, shared_settings, elec2_champion, tmp_path) -> None:
    with gate_margin(tmp_path, -1.0):
        run = run_retrain(lake_with_labels, "t-approve")
    assert str(run.state) == "success"
    [version] = versions_with_key(shared_settings, "t-approve")
    tags = registry.MlflowRegistry(shared_settings).version_tags(MODEL, version)
    assert tags[promotion.GATE] == "passed"
    assert tags[promotion.APPROVAL] == promotion.PENDING
    assert tags["driftpilot.reason"] == "test: drift persisted"
    assert tags["driftpilot.comparison"].endswith("comparison/comparison.md")
    assert aliases(shared_settings)[registry.CHALLENGER] == version
    # the challenger has its own baseline, from the out-of-time holdout
    baseline = registry.MlflowRegistry(shared_settings).load_baseline(MODEL, version)
    assert baseline.metadata["idempotency_key"] == "t-approve"
    # without approval, nothing moves however often we reconcile
    assert reconcile(shared_settings) == []
    assert aliases(shared_settings)[registry.CHAMPION] == elec2_champion.version


@pytest.mark.starts_from("pending")
def test_same_idempotency_key_creates_no_new_version_and_restores_a_lost_alias(lake_with_labels, shared_settings, tmp_path) -> None:
    [version] = versions_with_key(shared_settings, "t-approve")
    registry.MlflowRegistry(shared_settings).delete_alias(MODEL, registry.CHALLENGER)  # as if it crashed before the alias move
    client = registry.MlflowRegistry(shared_settings)
    before = len(client.client.search_model_versions(f"name='{MODEL}'"))
    with gate_margin(tmp_path, -1.0):
        run = run_retrain(lake_with_labels, "t-approve")
    assert str(run.state) == "success"
    assert len(client.client.search_model_versions(f"name='{MODEL}'")) == before
    assert versions_with_key(shared_settings, "t-approve") == [version]
    assert aliases(shared_settings)[registry.CHALLENGER] == version


@pytest.mark.starts_from("pending")
def test_approval_in_the_registry_promotes_and_is_logged(lake_with_labels, shared_settings, elec2_champion) -> None:
    [version] = versions_with_key(shared_settings, "t-approve")
    promotion.set_approval(build_ports(shared_settings), MODEL, version, promotion.APPROVED, "ana", "holdout gain is real")
    moves = reconcile(shared_settings)
    assert aliases(shared_settings) == {registry.CHAMPION: version, registry.CHALLENGER: None,
                                        registry.PREVIOUS: elec2_champion.version}
    assert {(m.alias, m.from_version, m.to_version) for m in moves} >= {
        (registry.CHAMPION, elec2_champion.version, version), (registry.PREVIOUS, None, elec2_champion.version)}
    log = history.read_promotions(monitoring.metrics_db(shared_settings), MODEL)
    assert (log["moved_by"] == "ana").all() and log["reason"].str.contains("holdout gain is real").all()
    assert registry.MlflowRegistry(shared_settings).champion_baseline(MODEL).version == version  # monitoring follows
    assert reconcile(shared_settings) == []  # acting twice changes nothing


@pytest.mark.starts_from("promoted")
def test_repeating_a_request_after_promotion_changes_nothing(lake_with_labels, shared_settings, tmp_path) -> None:
    """A cleared or re-run request must not re-judge the champion against itself."""
    [version] = versions_with_key(shared_settings, "t-approve")
    before = registry.MlflowRegistry(shared_settings).version_tags(MODEL, version)
    with gate_margin(tmp_path, -1.0):
        run = run_retrain(lake_with_labels, "t-approve")
    assert str(run.state) == "success"
    assert registry.MlflowRegistry(shared_settings).version_tags(MODEL, version) == before
    assert aliases(shared_settings)[registry.CHAMPION] == version
    assert aliases(shared_settings)[registry.CHALLENGER] is None


def test_rejected_candidate_keeps_its_note_and_never_becomes_champion(lake_with_labels, shared_settings, tmp_path) -> None:
    champion = aliases(shared_settings)[registry.CHAMPION]
    with gate_margin(tmp_path, -1.0):
        run_retrain(lake_with_labels, "t-reject")
    [version] = versions_with_key(shared_settings, "t-reject")
    assert aliases(shared_settings)[registry.CHALLENGER] == version
    promotion.set_approval(build_ports(shared_settings), MODEL, version, promotion.REJECTED, "bo", "segment 3 looks worse")
    reconcile(shared_settings)
    assert aliases(shared_settings)[registry.CHAMPION] == champion
    assert aliases(shared_settings)[registry.CHALLENGER] is None
    tags = registry.MlflowRegistry(shared_settings).version_tags(MODEL, version)
    assert (tags[promotion.APPROVAL], tags[promotion.APPROVAL_NOTE]) == (promotion.REJECTED, "segment 3 looks worse")


def test_failed_gate_is_registered_but_an_approval_cannot_promote_it(lake_with_labels, shared_settings, tmp_path) -> None:
    champion = aliases(shared_settings)[registry.CHAMPION]
    with gate_margin(tmp_path, 1.0):
        run = run_retrain(lake_with_labels, "t-fail")
    assert str(run.state) == "success"
    [version] = versions_with_key(shared_settings, "t-fail")
    tags = registry.MlflowRegistry(shared_settings).version_tags(MODEL, version)
    assert tags[promotion.GATE] == "failed"
    assert "does not clear the margin" in tags["driftpilot.gate_summary"]
    assert aliases(shared_settings)[registry.CHALLENGER] != version
    promotion.set_approval(build_ports(shared_settings), MODEL, version, promotion.APPROVED, "eve", "ship it anyway")
    reconcile(shared_settings)
    assert aliases(shared_settings)[registry.CHAMPION] == champion
    assert "refused" in registry.MlflowRegistry(shared_settings).version_tags(MODEL, version)[promotion.PROMOTION]


def test_too_few_mature_labels_refuses_with_a_clear_message(lake_with_labels, shared_settings, elec2_config) -> None:
    from driftpilot.usecases.retrain import RetrainRequest, training_set_step

    early = RetrainRequest.from_dict({"model": MODEL, "reason": "r", "window": "2026-01-02",
                                      "as_of": "2026-01-03T00:00:00+00:00", "idempotency_key": "t-early"})
    with pytest.raises(InsufficientData, match=r"only 0 labelled production rows .* never trains on imputed labels"):
        training_set_step(elec2_config, build_ports(shared_settings), early)


@pytest.mark.starts_from("promoted")
def test_rollback_restores_the_previous_champion_and_its_baseline(lake_with_labels, shared_settings, elec2_champion) -> None:
    promoted = aliases(shared_settings)[registry.CHAMPION]
    assert promoted != elec2_champion.version
    promotion.rollback(build_ports(shared_settings), MODEL, "ana", AS_OF, "incident 42")
    assert aliases(shared_settings)[registry.CHAMPION] == elec2_champion.version
    assert aliases(shared_settings)[registry.PREVIOUS] == promoted
    assert registry.MlflowRegistry(shared_settings).champion_baseline(MODEL).version == elec2_champion.version
    log = history.read_promotions(monitoring.metrics_db(shared_settings), MODEL)
    assert log.iloc[-2]["reason"] == "rollback: incident 42"
    # a rolled-back version is not re-promoted by its old approval
    assert reconcile(shared_settings) == []


def test_auto_approval_promotes_a_passed_candidate_at_once(lake_with_labels, shared_settings, elec2_champion, tmp_path) -> None:
    with gate_margin(tmp_path, -1.0, approval="auto"):
        run = run_retrain(lake_with_labels, "t-auto")
    assert str(run.state) == "success"
    [version] = versions_with_key(shared_settings, "t-auto")
    assert aliases(shared_settings)[registry.CHAMPION] == version
    assert registry.MlflowRegistry(shared_settings).version_tags(MODEL, version)[promotion.APPROVAL_BY] == "driftpilot (approval: auto)"
    # and a rollback puts the original champion back
    promotion.rollback(build_ports(shared_settings), MODEL, "tests", AS_OF, "restore")
    assert aliases(shared_settings)[registry.CHAMPION] == elec2_champion.version
