"""The retraining use case's registry side (usecases/retrain.py) on fakes: candidate, register, approval.

A candidate run is logged once per idempotency key, a version is registered once per key, the
``challenger`` alias only moves forward, the gate verdict comes from driftpilot's store (never
the registry tags), and the approval mode decides whether the champion moves at once.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from driftpilot.adapters import parquet_lake as storage
from driftpilot.domain.config import ApprovalMode
from driftpilot.errors import DriftpilotError
from driftpilot.ports import CHALLENGER, CHAMPION, KEY_TAG, PREVIOUS
from driftpilot.usecases import promote as promotion
from driftpilot.usecases import retrain
from tests.fakes.registry import ConstantModel

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


def _request(key: str = "elec2_updown:2026-02-27:v1") -> retrain.RetrainRequest:
    return retrain.RetrainRequest(model="elec2_updown", reason="drift", window="2026-02-27", as_of=AS_OF,
                                  idempotency_key=key)


def _config(elec2_config, **promotion_changes):  # type: ignore[no-untyped-def]
    approval = promotion_changes.pop("approval", elec2_config.approval)
    changed = dataclasses.replace(elec2_config.promotion, **promotion_changes)
    return dataclasses.replace(elec2_config, promotion=changed, approval=approval)


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: rng.normal(0.5, 0.2, rows) for c in
                          ("period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer")})
    frame["day_of_week"] = rng.integers(1, 8, rows).astype(str)
    frame["class"] = (frame["period"] + rng.normal(0, 0.05, rows) > 0.5).astype(int)
    return frame


def _with_champion(ports, config) -> str:  # type: ignore[no-untyped-def]
    version = ports.registry.add_version(config.name, model=ConstantModel("period", 0.9))
    ports.registry.set_alias(config.name, CHAMPION, version)
    return version


def _gated_run(ports, config, db, *, passed: bool) -> str:  # type: ignore[no-untyped-def]
    """A candidate run with its gate verdict recorded in the store, as the evaluate step leaves it."""
    run_id = ports.registry.log_model_run(dataclasses.replace(
        _model_run(), experiment=retrain.training_experiment(config), idempotency_key=f"candidate:{len(ports.registry.runs)}"))
    promotion.record_gate_verdict(ports, config.name, run_id, {"passed": passed}, "1", AS_OF.isoformat())
    return run_id


def _model_run():  # type: ignore[no-untyped-def]
    from driftpilot.ports import ModelRun

    return ModelRun(experiment="x", model=ConstantModel("period", 0.5), input_example=pd.DataFrame(), params={},
                    metrics={}, baseline_dir=None, idempotency_key="k", run_name="candidate", tags={})


EVALUATION = {"reasons": ["accuracy +0.05 (CI 0.01..0.09)"]}


def test_a_candidate_is_trained_and_logged_once_per_key_with_its_baseline(ports, trainer, elec2_config) -> None:
    request = _request()
    out = retrain.work_dir(ports.settings, request)
    storage.write_parquet_atomic(_frame(400, 1), out / "train.parquet")
    storage.write_parquet_atomic(_frame(100, 2), out / "holdout.parquet")
    storage.write_json_atomic({"rows": 500}, out / "training_set.json")
    first = retrain.train_candidate_step(elec2_config, ports, request)
    again = retrain.train_candidate_step(elec2_config, ports, request)
    assert first["reused"] is False and again == {"run_id": first["run_id"], "reused": True}
    assert trainer.fits == 1
    run = ports.registry.runs[first["run_id"]]
    assert run.tags[KEY_TAG] == f"candidate:{request.idempotency_key}"
    assert "training_set/training_set.json" in run.artifacts
    reference, profile, metadata = run.baseline
    assert len(reference) == 100 and metadata["reason"] == "drift" and metadata["classes"] == ["0", "1"]
    assert metadata["feature_importance"]["period"] == 1.0
    assert set(profile["columns"]) >= {"period", "day_of_week"} and profile["rows"] == 100
    assert run.metrics["holdout_accuracy"] == pytest.approx(first["holdout_metrics"]["accuracy"])


def test_a_passed_candidate_is_registered_once_per_key_as_challenger(ports, registry, db, elec2_config) -> None:
    champion = _with_champion(ports, elec2_config)
    run_id = _gated_run(ports, elec2_config, db, passed=True)
    first = retrain.register_step(elec2_config, ports, _request(), run_id, EVALUATION)
    again = retrain.register_step(elec2_config, ports, _request(), run_id, EVALUATION)
    assert first == {"registered": True, "version": "2", "created": True, "gate": "passed"}
    assert again == {**first, "created": False}
    assert sorted(registry.versions[elec2_config.name]) == [champion, "2"]
    assert registry.aliases(elec2_config.name) == {CHAMPION: champion, CHALLENGER: "2"}
    tags = registry.version_tags(elec2_config.name, "2")
    assert tags[promotion.APPROVAL] == promotion.PENDING
    assert tags[KEY_TAG] == f"retrain:{_request().idempotency_key}"
    assert tags["driftpilot.source_run"] == run_id and tags[promotion.GATE] == "passed"
    assert registry.search_versions(elec2_config.name, KEY_TAG, f"retrain:{_request().idempotency_key}") == ["2"]


def test_the_gate_verdict_comes_from_the_store_not_the_registry_tags(ports, registry, db, elec2_config) -> None:
    _with_champion(ports, elec2_config)
    run_id = _gated_run(ports, elec2_config, db, passed=False)
    registry.runs[run_id].tags[promotion.GATE] = "passed"  # a registry user's edit
    result = retrain.register_step(elec2_config, ports, _request(), run_id, EVALUATION)
    assert result["gate"] == "failed"  # registered (register_failed_candidates) but never challenger
    assert registry.version_tags(elec2_config.name, result["version"])[promotion.APPROVAL] == promotion.GATE_FAILED
    assert CHALLENGER not in registry.aliases(elec2_config.name)


def test_a_failed_candidate_is_not_registered_when_the_config_says_so(ports, registry, db, elec2_config) -> None:
    config = _config(elec2_config, register_failed_candidates=False)
    champion = _with_champion(ports, config)
    run_id = _gated_run(ports, config, db, passed=False)
    result = retrain.register_step(config, ports, _request(), run_id, EVALUATION)
    assert result["registered"] is False and "register_failed_candidates is false" in result["why"]
    assert list(registry.versions[config.name]) == [champion]


def test_a_run_without_a_recorded_verdict_is_not_registered(ports, registry, elec2_config) -> None:
    _with_champion(ports, elec2_config)
    run_id = registry.log_model_run(_model_run())
    with pytest.raises(DriftpilotError, match="no gate verdict recorded for run"):
        retrain.register_step(elec2_config, ports, _request(), run_id, EVALUATION)
    assert len(registry.versions[elec2_config.name]) == 1


def test_the_challenger_alias_never_moves_back_to_an_older_candidate(ports, registry, db, elec2_config) -> None:
    _with_champion(ports, elec2_config)
    older_run, newer_run = (_gated_run(ports, elec2_config, db, passed=True) for _ in range(2))
    older = retrain.register_step(elec2_config, ports, _request("a"), older_run, EVALUATION)["version"]
    newer = retrain.register_step(elec2_config, ports, _request("b"), newer_run, EVALUATION)["version"]
    assert registry.alias_version(elec2_config.name, CHALLENGER) == newer
    retrain.register_step(elec2_config, ports, _request("a"), older_run, EVALUATION)  # a retried older request
    assert registry.alias_version(elec2_config.name, CHALLENGER) == newer != older


def test_approval_auto_promotes_a_passed_candidate_at_once(ports, registry, db, elec2_config) -> None:
    config = _config(elec2_config, approval=ApprovalMode.AUTO)
    champion = _with_champion(ports, config)
    run_id = _gated_run(ports, config, db, passed=True)
    registration = retrain.register_step(config, ports, _request(), run_id, EVALUATION)
    result = retrain.approval_step(config, ports, _request(), registration)
    assert result == {"state": "promoted", "version": registration["version"], "moves": 3}
    assert registry.aliases(config.name) == {CHAMPION: registration["version"], PREVIOUS: champion}
    assert registry.version_tags(config.name, registration["version"])[promotion.APPROVAL_BY] == "driftpilot (approval: auto)"


def test_approval_registry_leaves_the_candidate_awaiting_a_reviewer(ports, registry, db, elec2_config) -> None:
    champion = _with_champion(ports, elec2_config)
    run_id = _gated_run(ports, elec2_config, db, passed=True)
    registration = retrain.register_step(elec2_config, ports, _request(), run_id, EVALUATION)
    result = retrain.approval_step(elec2_config, ports, _request(), registration)
    assert result["state"] == "awaiting approval" and "driftpilot approve --model elec2_updown" in result["how"]
    assert registry.alias_version(elec2_config.name, CHAMPION) == champion


def test_approval_never_promotes_a_failed_candidate(ports, registry, db, elec2_config) -> None:
    config = _config(elec2_config, approval=ApprovalMode.AUTO)
    champion = _with_champion(ports, config)
    run_id = _gated_run(ports, config, db, passed=False)
    registration = retrain.register_step(config, ports, _request(), run_id, EVALUATION)
    result = retrain.approval_step(config, ports, _request(), registration)
    assert result["state"] == "not promoted"
    assert registry.alias_version(config.name, CHAMPION) == champion
