"""Candidate versions in a real registry for the promotion tests, made the way driftpilot makes them.

Each candidate gets a run of its own (holding a copy of the Elec2 champion's model), so its gate
record is its own; ``gated`` records the verdict with the same functions the retraining DAG's
evaluate and register steps use.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.composition import build_ports
from driftpilot.ports import Ports
from driftpilot.settings import Settings
from driftpilot.usecases import promote as promotion


def ports_on(settings: Settings, db: Path) -> Ports:
    """The production ports of ``settings``, with the evidence store on ``db`` (a test's own file)."""
    return build_ports(dataclasses.replace(settings, metrics_db=db))


def new_run(settings: Settings, elec2_version: str) -> str:
    """A finished run whose model is the Elec2 model of ``elec2_version``."""
    client = registry.MlflowRegistry(settings)
    model_uri = client.run_model_uri(client.version_run_id("elec2_updown", elec2_version))
    experiment = client.ensure_experiment("driftpilot-tests/candidates")
    run_id = str(client.client.create_run(experiment, tags={registry.MODEL_URI_TAG: model_uri}).info.run_id)
    client.client.set_terminated(run_id)
    return run_id


def register(settings: Settings, name: str, elec2_version: str, key: str, tags: dict[str, str] | None = None) -> str:
    """A version of ``name`` registered by hand (no gate ever ran on it)."""
    return registry.MlflowRegistry(settings).register_run(name, new_run(settings, elec2_version), f"{name}:{key}", tags or {}).version


def gated(settings: Settings, db: Path, name: str, elec2_version: str, key: str, passed: bool) -> str:
    """What evaluate + register do: gate record on the run, verdict in the store, version tags."""
    run_id = new_run(settings, elec2_version)
    record = {"passed": passed, "reasons": ["test verdict"], "improvement": 0.01 if passed else -0.02}
    promotion.record_gate_verdict(ports_on(settings, db), name, run_id, record, champion_version="1", at="2026-01-07T00:00:00")
    tags = {promotion.GATE: "passed" if passed else "failed",
            promotion.APPROVAL: promotion.PENDING if passed else promotion.GATE_FAILED}
    version = registry.MlflowRegistry(settings).register_run(name, run_id, f"{name}:{key}", tags).version
    promotion.bind_gate_verdict(ports_on(settings, db), name, run_id, version)
    return version


_names = itertools.count()


def fresh_model(settings: Settings, prefix: str, elec2_version: str) -> str:
    """A registered model of its own (champion v1: a copy of the Elec2 model), so tests do not meet."""
    name = f"{prefix}_{next(_names)}"
    version = register(settings, name, elec2_version, "bootstrap")
    registry.MlflowRegistry(settings).set_alias(name, registry.CHAMPION, version)
    return name
