"""The approvals use case: what is pending (with its comparison) and a decision with a required note."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftpilot.errors import PromotionRefused
from driftpilot.ports import CHALLENGER, CHAMPION, PREVIOUS
from driftpilot.usecases import approvals
from driftpilot.usecases import promote as promotion
from tests.fakes.registry import FakeRegistry

MODEL = "m"
AT = "2026-03-01T00:00:00+00:00"
RECORD = {"passed": True, "metric": "roc_auc", "champion": 0.80, "challenger": 0.85, "improvement": 0.05,
          "ci_low": 0.02, "ci_high": 0.08, "rows": 500, "reasons": ["CI above the bar"],
          "guards": [{"name": "accuracy", "champion": 0.7, "challenger": 0.72, "tolerance": 0.01, "passed": True}]}


def _champion(registry: FakeRegistry) -> str:
    version = registry.add_version(MODEL)
    registry.set_alias(MODEL, CHAMPION, version)
    return version


def _gated(ports, record: dict) -> str:  # type: ignore[no-untyped-def,type-arg]
    """What the retraining DAG's evaluate + register steps leave: verdict in the store, record, tags, alias."""
    registry = ports.registry
    version = registry.add_version(MODEL, tags={promotion.GATE: "passed" if record["passed"] else "failed"})
    run_id = registry.versions[MODEL][version].run_id
    promotion.record_gate_verdict(ports, MODEL, run_id, record, registry.alias_version(MODEL, CHAMPION), AT)
    promotion.bind_gate_verdict(ports, MODEL, run_id, version)
    registry.set_version_tags(MODEL, version, {promotion.APPROVAL: promotion.PENDING})
    registry.set_alias(MODEL, CHALLENGER, version)
    return version


def test_pending_lists_the_candidate_with_its_comparison(ports, registry, db: Path) -> None:
    champion = _champion(registry)
    version = _gated(ports, RECORD)
    [item] = approvals.pending(ports, [MODEL, "other_model"])
    assert (item.version, item.champion_version, item.gated_against, item.challenger) == (version, champion, champion, True)
    assert item.gate_passed and item.gate_problem is None
    primary, guard = item.metrics
    assert (primary.name, primary.champion, primary.candidate) == ("roc_auc", 0.80, 0.85)
    assert primary.delta == pytest.approx(0.05)
    assert (guard.name, guard.passed, guard.delta) == ("accuracy", True, pytest.approx(0.02))
    assert item.to_dict()["reasons"] == ["CI above the bar"] and item.rows == 500


def test_a_decided_or_promoted_version_is_not_pending(ports, registry, db: Path) -> None:
    _champion(registry)
    version = _gated(ports, RECORD)
    approvals.decide(ports, MODEL, version, promotion.APPROVED, "rita", "better AUC", AT)
    assert approvals.pending(ports, [MODEL]) == []
    with pytest.raises(approvals.NotPending, match="not awaiting approval"):
        approvals.decide(ports, MODEL, version, promotion.REJECTED, "rita", "changed my mind", AT)


@pytest.mark.parametrize("note", ["", "   ", "\n"])
@pytest.mark.parametrize("decision", [promotion.APPROVED, promotion.REJECTED])
def test_a_decision_without_a_note_is_refused_and_changes_nothing(ports, registry, db, note, decision) -> None:
    _champion(registry)
    version = _gated(ports, RECORD)
    before = registry.version_tags(MODEL, version)
    with pytest.raises(approvals.NoteRequired, match="needs a note"):
        approvals.decide(ports, MODEL, version, decision, "rita", note, AT)
    assert registry.version_tags(MODEL, version) == before


def test_approve_moves_champion_and_records_who_through_the_registry_tags(ports, registry, db) -> None:
    old = _champion(registry)
    version = _gated(ports, RECORD)
    moves = approvals.decide(ports, MODEL, version, promotion.APPROVED, "rita (Airflow user rita)", " better AUC ", AT)
    assert registry.alias_version(MODEL, CHAMPION) == version and registry.alias_version(MODEL, PREVIOUS) == old
    tags = registry.version_tags(MODEL, version)
    assert (tags[promotion.APPROVAL], tags[promotion.APPROVAL_BY], tags[promotion.APPROVAL_NOTE]) == (
        promotion.APPROVED, "rita (Airflow user rita)", "better AUC")
    assert {m.alias for m in moves} >= {CHAMPION, PREVIOUS}


def test_reject_drops_the_challenger_and_keeps_the_champion(ports, registry, db) -> None:
    old = _champion(registry)
    version = _gated(ports, RECORD)
    approvals.decide(ports, MODEL, version, promotion.REJECTED, "rita", "worse on weekends", AT)
    assert registry.alias_version(MODEL, CHAMPION) == old and registry.alias_version(MODEL, CHALLENGER) is None
    assert registry.version_tags(MODEL, version)[promotion.APPROVAL_NOTE] == "worse on weekends"


def test_the_gate_is_not_bypassed_by_an_approval(ports, registry, db) -> None:
    old = _champion(registry)
    version = _gated(ports, {**RECORD, "passed": False})
    [item] = approvals.pending(ports, [MODEL])
    assert not item.gate_passed and "gate failed" in (item.gate_problem or "")
    with pytest.raises(PromotionRefused, match="not promoted"):
        approvals.decide(ports, MODEL, version, promotion.APPROVED, "rita", "ship it", AT)
    assert registry.alias_version(MODEL, CHAMPION) == old


def test_a_pending_candidate_is_undecided_until_a_reviewer_sets_the_tag(ports, registry, db) -> None:
    """What the retraining DAG's `awaiting_decision` task waits on: the tag, not a promotion."""
    _champion(registry)
    version = _gated(ports, RECORD)
    assert approvals.decision(ports, MODEL, version) is None
    promotion.set_approval(ports, MODEL, version, promotion.APPROVED, "rita", "better AUC")
    settled = approvals.decision(ports, MODEL, version)
    assert settled is not None and settled.startswith("approved by rita")
    assert registry.alias_version(MODEL, CHALLENGER) == version  # deciding promoted nothing: reconcile does


def test_a_rejected_candidate_is_decided(ports, registry, db) -> None:
    _champion(registry)
    version = _gated(ports, RECORD)
    approvals.decide(ports, MODEL, version, promotion.REJECTED, "rita", "guard too close", AT)
    assert (approvals.decision(ports, MODEL, version) or "").startswith("rejected by rita: guard too close")


def test_a_candidate_replaced_as_challenger_is_no_longer_waited_for(ports, registry, db) -> None:
    _champion(registry)
    first = _gated(ports, RECORD)
    second = _gated(ports, RECORD)
    assert approvals.decision(ports, MODEL, second) is None
    assert approvals.decision(ports, MODEL, first) == f"no longer the challenger (v{second} now)"


def test_a_promoted_candidate_is_decided_even_without_the_approval_tag(ports, registry, db) -> None:
    _champion(registry)
    version = _gated(ports, RECORD)
    promotion.promote(ports, MODEL, version, "ops", AT, "promoted by hand")
    assert (approvals.decision(ports, MODEL, version) or "").startswith("promoted at")


def test_how_to_decide_names_the_page_and_the_command() -> None:
    text = approvals.how_to_decide(MODEL, "7")
    assert approvals.APPROVALS_PAGE in text and f"driftpilot approve --model {MODEL} --version 7" in text
