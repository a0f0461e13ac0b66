"""A registry user cannot forge the gate or an approval (real SQLite-backed MLflow registry).

Everything here is what anyone with write access to the MLflow registry can do in its UI: set or
delete version tags, overwrite a run's artifacts. driftpilot's own store (the metrics history)
is the authority for the gate verdict and for what driftpilot already did to a version.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.adapters import sqlite_store as history
from driftpilot.composition import build_ports
from driftpilot.usecases import promote as promotion
from tests.integration.candidates import fresh_model, gated, ports_on, register

pytestmark = pytest.mark.integration


@pytest.fixture()
def model(shared_settings, elec2_champion) -> str:
    return fresh_model(shared_settings, "integrity_model", elec2_champion.version)


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite"


def _forge_approval(settings, name: str, version: str) -> None:
    """The attack: the gate tag says passed, an approval is set, the acted-on tag is deleted."""
    registry.MlflowRegistry(settings).set_version_tags(name, version, {
        promotion.GATE: "passed", promotion.APPROVAL: promotion.APPROVED,
        promotion.APPROVAL_BY: "mallory", promotion.APPROVAL_NOTE: "trust me"})
    registry.MlflowRegistry(settings).client.delete_model_version_tag(name, version, promotion.PROMOTION)


def _champion(settings, name: str) -> str | None:
    return registry.MlflowRegistry(settings).alias_version(name, registry.CHAMPION)


def test_a_hand_registered_version_with_a_forged_gate_tag_is_not_promoted(shared_settings, db, model, elec2_champion) -> None:
    version = register(shared_settings, model, elec2_champion.version, "by-hand", {promotion.GATE: "failed"})
    _forge_approval(shared_settings, model, version)
    promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-08T00:00:00")
    assert _champion(shared_settings, model) == "1"
    tags = registry.MlflowRegistry(shared_settings).version_tags(model, version)
    assert "no gate verdict recorded by driftpilot" in tags[promotion.PROMOTION_REFUSED]
    log = history.read_promotions(db, model)
    assert log.iloc[-1]["alias"] == promotion.REFUSED and log.iloc[-1]["to_version"] == version
    assert "no gate verdict recorded by driftpilot" in log.iloc[-1]["reason"]


def test_a_failed_candidate_cannot_be_promoted_by_editing_its_tags(shared_settings, db, model, elec2_champion) -> None:
    version = gated(shared_settings, db, model, elec2_champion.version, "failed", passed=False)
    promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-08T00:00:00")  # nothing approved yet
    _forge_approval(shared_settings, model, version)
    promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-09T00:00:00")
    assert _champion(shared_settings, model) == "1"
    assert "the promotion gate failed" in registry.MlflowRegistry(shared_settings).version_tags(model, version)[promotion.PROMOTION_REFUSED]
    # deleting the refusal tags does not make it eligible again: driftpilot remembers it acted
    for tag in (promotion.PROMOTION, promotion.PROMOTION_REFUSED):
        registry.MlflowRegistry(shared_settings).client.delete_model_version_tag(model, version, tag)
    promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-10T00:00:00")
    assert _champion(shared_settings, model) == "1"
    refused = history.read_promotions(db, model)
    assert list(refused["alias"]) == [promotion.REFUSED]  # refused once, not once per reconcile


def test_a_legit_approval_promotes_and_names_the_reviewer(shared_settings, db, model, elec2_champion) -> None:
    version = gated(shared_settings, db, model, elec2_champion.version, "good", passed=True)
    promotion.set_approval(build_ports(shared_settings), model, version, promotion.APPROVED, "rita", "holdout CI clears the bar")
    moves = promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-08T00:00:00")
    assert _champion(shared_settings, model) == version
    assert {(m.alias, m.to_version, m.by) for m in moves} >= {(registry.CHAMPION, version, "rita"), (registry.PREVIOUS, "1", "rita")}
    champion_row = history.read_promotions(db, model).query("alias == 'champion'").iloc[-1]
    assert (champion_row["moved_by"], champion_row["reason"]) == ("rita", "approved: holdout CI clears the bar")


def test_a_promoted_version_is_not_promoted_again_after_its_tag_is_deleted(shared_settings, db, model, elec2_champion) -> None:
    version = gated(shared_settings, db, model, elec2_champion.version, "again", passed=True)
    promotion.set_approval(build_ports(shared_settings), model, version, promotion.APPROVED, "rita", "go")
    promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-08T00:00:00")
    promotion.rollback(ports_on(shared_settings, db), model, "rita", "2026-01-09T00:00:00", "pager")
    assert _champion(shared_settings, model) == "1"
    registry.MlflowRegistry(shared_settings).client.delete_model_version_tag(model, version, promotion.PROMOTION)
    assert promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-10T00:00:00") == []
    assert _champion(shared_settings, model) == "1"


def test_an_approval_without_reviewer_or_note_is_refused_with_a_reason(shared_settings, db, model, elec2_champion) -> None:
    version = gated(shared_settings, db, model, elec2_champion.version, "anonymous", passed=True)
    registry.MlflowRegistry(shared_settings).set_version_tags(model, version, {promotion.APPROVAL: promotion.APPROVED})
    promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-08T00:00:00")
    assert _champion(shared_settings, model) == "1"
    reason = registry.MlflowRegistry(shared_settings).version_tags(model, version)[promotion.PROMOTION_REFUSED]
    assert promotion.APPROVAL_BY in reason and promotion.APPROVAL_NOTE in reason
    log = history.read_promotions(db, model)
    assert log.iloc[-1]["alias"] == promotion.REFUSED and promotion.APPROVAL_BY in log.iloc[-1]["reason"]
    promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-09T00:00:00")
    assert len(history.read_promotions(db, model)) == 1  # the same incomplete approval is refused once
    # completing the approval makes it count
    promotion.set_approval(build_ports(shared_settings), model, version, promotion.APPROVED, "rita", "now with a reason")
    promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-10T00:00:00")
    assert _champion(shared_settings, model) == version


def test_a_tampered_gate_record_is_refused(shared_settings, db, model, elec2_champion, tmp_path: Path) -> None:
    version = gated(shared_settings, db, model, elec2_champion.version, "tampered", passed=True)
    verdict = history.gate_verdict(db, model, version)
    assert verdict is not None
    # overwrite the run's gate record (anyone with artifact access can)
    forged = tmp_path / "gate.json"
    forged.write_text('{"passed": true, "reasons": ["edited"]}')
    registry.MlflowRegistry(shared_settings).log_run_artifacts(verdict.run_id, {promotion.GATE_RECORD_DIR: forged})
    promotion.set_approval(build_ports(shared_settings), model, version, promotion.APPROVED, "rita", "looks fine")
    promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-08T00:00:00")
    assert _champion(shared_settings, model) == "1"
    assert "digest" in registry.MlflowRegistry(shared_settings).version_tags(model, version)[promotion.PROMOTION_REFUSED]


def test_a_verdict_bound_to_another_version_does_not_count(shared_settings, db, model, elec2_champion) -> None:
    """Registering the passed run again by hand gives a version driftpilot never gated."""
    passed = gated(shared_settings, db, model, elec2_champion.version, "original", passed=True)
    run_id = history.gate_verdict(db, model, passed).run_id  # type: ignore[union-attr]
    copy = registry.MlflowRegistry(shared_settings).register_run(model, run_id, f"{model}:copy", {promotion.GATE: "passed"}).version
    promotion.set_approval(build_ports(shared_settings), model, copy, promotion.APPROVED, "mallory", "same run, so fine?")
    promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-08T00:00:00")
    assert _champion(shared_settings, model) == "1"


def test_promote_itself_rechecks_the_gate(shared_settings, db, model, elec2_champion) -> None:
    version = gated(shared_settings, db, model, elec2_champion.version, "direct", passed=False)
    with pytest.raises(promotion.PromotionRefused, match="gate failed"):
        promotion.promote(ports_on(shared_settings, db), model, version, "mallory", "2026-01-08T00:00:00", "because")
    assert _champion(shared_settings, model) == "1"


def test_rollback_refuses_a_previous_alias_moved_outside_driftpilot(shared_settings, db, model, elec2_champion) -> None:
    good = gated(shared_settings, db, model, elec2_champion.version, "good", passed=True)
    bad = gated(shared_settings, db, model, elec2_champion.version, "bad", passed=False)
    promotion.set_approval(build_ports(shared_settings), model, good, promotion.APPROVED, "rita", "go")
    promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-08T00:00:00")
    registry.MlflowRegistry(shared_settings).set_alias(model, registry.PREVIOUS, bad)
    with pytest.raises(promotion.PromotionRefused, match="outside driftpilot"):
        promotion.rollback(ports_on(shared_settings, db), model, "mallory", "2026-01-09T00:00:00", "oops")
    assert _champion(shared_settings, model) == good


def test_register_reads_the_verdict_from_the_store_not_from_the_evaluation_xcom(shared_settings, elec2_config,
                                                                               elec2_champion) -> None:
    import dataclasses
    from datetime import UTC, datetime

    from driftpilot.usecases.retrain import RetrainRequest, register_step
    from tests.integration.candidates import new_run

    config = dataclasses.replace(elec2_config, name=fresh_model(shared_settings, "register_model", elec2_champion.version))
    run_id = new_run(shared_settings, elec2_champion.version)
    promotion.record_gate_verdict(build_ports(shared_settings), config.name, run_id,
                                  {"passed": False, "reasons": ["worse"]}, "1", "2026-01-07T00:00:00")
    request = RetrainRequest(config.name, "test", "manual", datetime(2026, 1, 7, tzinfo=UTC), "xcom-forgery")
    forged = {"passed": True, "reasons": ["edited XCom"]}
    registration = register_step(config, build_ports(shared_settings), request, run_id, forged)
    assert registration["gate"] == "failed"
    tags = registry.MlflowRegistry(shared_settings).version_tags(config.name, registration["version"])
    assert (tags[promotion.GATE], tags[promotion.APPROVAL]) == ("failed", promotion.GATE_FAILED)
    assert registry.MlflowRegistry(shared_settings).alias_version(config.name, registry.CHALLENGER) is None
