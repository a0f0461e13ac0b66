"""The user's trainer through the real registry: it trains the champion and the candidate, the gate compares them.

A world of its own (MLflow on SQLite, lake, store) whose elec2 config names the trainer of
``tests/trainers/acme_trainer`` (plain scikit-learn, no driftpilot code). Bootstrap trains the
first champion with it, the demo's replay writes ten days of real Elec2 traffic and labels, the
real validation step accepts them, and the retraining use case trains, gates and registers a
candidate with the same trainer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from driftpilot.composition import build_ports
from driftpilot.domain.config import load_config
from driftpilot.ports import CHAMPION
from driftpilot.usecases import monitor, retrain
from tests.bundled import bootstrap_from_bundled
from tests.isolation import World
from tests.trainers.acme_trainer import TRAINED_BY

pytestmark = pytest.mark.integration

ACME = "tests.trainers.acme_trainer:fit_model"
DAYS = 8


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:  # type: ignore[no-untyped-def]
    world = World.create(tmp_path_factory.mktemp("trainer-plugin"))
    path = world.config_dir / "elec2.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["retraining"].pop("estimator")
    raw["retraining"].update(trainer=ACME, params={"C": 1.0})
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    for other in world.config_dir.glob("*.yaml"):
        if other != path:
            other.unlink()
    return world


def test_the_users_trainer_makes_the_champion_and_the_candidate_the_gate_compares(world: World) -> None:
    from driftpilot_demo.traffic import replay_traffic

    with world.active() as settings:
        config = load_config(world.config_dir / "elec2.yaml")
        ports = build_ports(settings)
        first = bootstrap_from_bundled(config, ports)
        assert first.created and ports.registry.alias_version(config.name, CHAMPION) == first.version
        champion = ports.registry.load_model(config.name, first.version)
        assert getattr(champion, "trained_by", None) == TRAINED_BY  # the user's pipeline, not driftpilot's recipe
        assert ports.registry.version_tags(config.name, first.version)["driftpilot.trainer"] == ACME

        replay_traffic(config, settings, range(DAYS))
        start = datetime.fromisoformat(config.window_start).replace(tzinfo=UTC)
        for day in range(DAYS):
            window = monitor.Window(config.name, start + timedelta(days=day), start + timedelta(days=day + 1))
            monitor.validate_step(config, ports, window)

        request = retrain.RetrainRequest(model=config.name, reason="user trainer test", window="2026-01-08",
                                         as_of=start + timedelta(days=DAYS), idempotency_key="acme-1",
                                         train_start=config.window_start)
        summary = retrain.training_set_step(config, ports, request)
        assert summary["trainer"] == ACME and summary["production_rows"] > 0 and summary["original_rows"] > 0
        candidate = retrain.train_candidate_step(config, ports, request)
        evaluation = retrain.evaluate_step(config, ports, request, candidate["run_id"])
        registration = retrain.register_step(config, ports, request, candidate["run_id"], evaluation)

        assert evaluation["champion_version"] == first.version  # the gate judged the user's champion ...
        assert evaluation["reasons"] and 0.5 < evaluation["champion"] < 1 and 0.5 < evaluation["challenger"] < 1
        version = registration["version"]
        assert version != first.version
        tags = ports.registry.version_tags(config.name, version)
        assert tags["driftpilot.trainer"] == ACME and tags["driftpilot.source_run"] == candidate["run_id"]
        loaded = ports.registry.load_model(config.name, version)  # ... against the user's candidate
        assert getattr(loaded, "trained_by", None) == TRAINED_BY
        baseline = ports.registry.load_baseline(config.name, version)
        assert baseline.metadata["trainer"] == ACME and baseline.metadata["classes"] == ["0", "1"]

        again = retrain.train_candidate_step(config, ports, request)  # idempotent: same run, no second model
        assert again == {"run_id": candidate["run_id"], "reused": True}
