"""The integrity rules of promotion (usecases/promote.py) on a fake registry and a real SQLite store.

Registry tags are editable by anyone, so these tests play the registry user: they set tags, forge
a gate tag, edit the gate record, move aliases, and check that only what driftpilot's store
vouches for becomes champion, that every move and refusal is logged, and that refusals say why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from driftpilot.adapters import sqlite_store as history
from driftpilot.errors import DriftpilotError, PromotionRefused, RegistryInconsistent
from driftpilot.ports import CHALLENGER, CHAMPION, PREVIOUS
from driftpilot.usecases import promote as promotion
from tests.fakes.registry import FakeRegistry

MODEL = "m"
AT = "2026-03-01T00:00:00+00:00"


def _champion(registry: FakeRegistry) -> str:
    version = registry.add_version(MODEL)
    registry.set_alias(MODEL, CHAMPION, version)
    return version


def _candidate(ports, db: Path, *, passed: bool = True, challenger: bool = True) -> str:  # type: ignore[no-untyped-def]
    """A version that went through the gate: verdict (and its digest) in the store, record on the run."""
    registry = ports.registry
    version = registry.add_version(MODEL, tags={promotion.GATE: "passed" if passed else "failed"})
    run_id = registry.versions[MODEL][version].run_id
    champion = registry.alias_version(MODEL, CHAMPION) or "none"
    promotion.record_gate_verdict(ports, MODEL, run_id, {"passed": passed, "reasons": ["test"]}, champion, AT)
    promotion.bind_gate_verdict(ports, MODEL, run_id, version)
    registry.set_version_tags(MODEL, version, {promotion.APPROVAL: promotion.PENDING})
    if challenger:
        registry.set_alias(MODEL, CHALLENGER, version)
    return version


def _approve(registry: FakeRegistry, version: str, by: str = "rita", note: str = "CI clears the bar") -> None:
    registry.set_version_tags(MODEL, version, {promotion.APPROVAL: promotion.APPROVED, promotion.APPROVAL_BY: by,
                                               promotion.APPROVAL_NOTE: note})


def _log(db: Path) -> list[tuple[str, str | None, str | None]]:
    frame = history.read_promotions(db, MODEL)
    return [(a, f, t) for a, f, t in zip(frame["alias"], frame["from_version"], frame["to_version"], strict=True)]


def test_an_approved_candidate_becomes_champion_and_every_move_is_logged(ports, registry, db) -> None:
    old = _champion(registry)
    new = _candidate(ports, db)
    _approve(registry, new)
    moves = promotion.reconcile(ports, MODEL, AT)
    assert registry.aliases(MODEL) == {CHAMPION: new, PREVIOUS: old}  # challenger gone
    assert {(m.alias, m.from_version, m.to_version, m.by) for m in moves} == {
        (PREVIOUS, None, old, "rita"), (CHAMPION, old, new, "rita"), (CHALLENGER, new, None, "rita")}
    assert _log(db) == [(PREVIOUS, None, old), (CHAMPION, old, new), (CHALLENGER, new, None)]
    assert registry.version_tags(MODEL, new)[promotion.PROMOTION].startswith(f"promoted at {AT} by rita")
    assert all(m.reason == "approved: CI clears the bar" for m in moves[:2])
    # acted on once: a second reconcile moves nothing and logs nothing
    assert promotion.reconcile(ports, MODEL, AT) == []
    assert len(_log(db)) == 3


@pytest.mark.parametrize("by, note", [("", "fine"), ("rita", "  "), ("", "")])
def test_an_approval_without_who_and_why_is_refused_once_and_can_be_completed(ports, registry, db, by, note) -> None:
    old = _champion(registry)
    new = _candidate(ports, db)
    _approve(registry, new, by=by, note=note)
    assert promotion.reconcile(ports, MODEL, AT) == []
    assert registry.alias_version(MODEL, CHAMPION) == old
    refused = registry.version_tags(MODEL, new)[promotion.PROMOTION_REFUSED]
    assert "must name who approved" in refused and f"--version {new}" in refused
    assert promotion.PROMOTION not in registry.version_tags(MODEL, new)  # not final: the reviewer can fix it
    promotion.reconcile(ports, MODEL, AT)
    assert _log(db) == [(promotion.REFUSED, None, new)]  # the same refusal is not logged on every reconcile
    _approve(registry, new)  # now with who and why
    promotion.reconcile(ports, MODEL, AT)
    assert registry.alias_version(MODEL, CHAMPION) == new


def test_a_failed_gate_is_refused_for_good_whatever_the_registry_tags_say(ports, registry, db) -> None:
    old = _champion(registry)
    new = _candidate(ports, db, passed=False, challenger=False)
    registry.set_version_tags(MODEL, new, {promotion.GATE: "passed"})  # a forged copy for people
    _approve(registry, new)
    promotion.reconcile(ports, MODEL, AT)
    assert registry.alias_version(MODEL, CHAMPION) == old
    tags = registry.version_tags(MODEL, new)
    assert "the promotion gate failed" in tags[promotion.PROMOTION_REFUSED]
    assert tags[promotion.PROMOTION].startswith("refused")  # final: never acted on again
    with pytest.raises(PromotionRefused, match="gate failed"):
        promotion.promote(ports, MODEL, new, "ops", AT, "manual")


def test_a_version_that_never_went_through_the_gate_is_refused(ports, registry, db) -> None:
    old = _champion(registry)
    forged = registry.add_version(MODEL, tags={promotion.GATE: "passed", promotion.GATE_DIGEST: "0" * 64})
    _approve(registry, forged)
    promotion.reconcile(ports, MODEL, AT)
    assert registry.alias_version(MODEL, CHAMPION) == old
    assert "no gate verdict recorded by driftpilot" in registry.version_tags(MODEL, forged)[promotion.PROMOTION_REFUSED]


@pytest.mark.parametrize("edit, why", [
    (lambda artifacts: artifacts.update({promotion.GATE_RECORD: b'{"passed": true, "forged": 1}'}), "was changed afterwards"),
    (lambda artifacts: artifacts.pop(promotion.GATE_RECORD), "is missing"),
])
def test_an_edited_or_deleted_gate_record_is_refused(ports, registry, db, edit, why) -> None:
    old = _champion(registry)
    new = _candidate(ports, db)
    edit(registry.runs[registry.versions[MODEL][new].run_id].artifacts)
    _approve(registry, new)
    promotion.reconcile(ports, MODEL, AT)
    assert registry.alias_version(MODEL, CHAMPION) == old
    assert why in registry.version_tags(MODEL, new)[promotion.PROMOTION_REFUSED]


def test_an_approved_version_older_than_champion_is_refused_unless_it_is_the_challenger(ports, registry, db) -> None:
    _champion(registry)
    older = _candidate(ports, db, challenger=False)
    newer = _candidate(ports, db, challenger=False)
    promotion.promote(ports, MODEL, newer, "ops", AT, "first")
    _approve(registry, older)
    promotion.reconcile(ports, MODEL, AT)
    assert registry.alias_version(MODEL, CHAMPION) == newer
    assert "older than champion" in registry.version_tags(MODEL, older)[promotion.PROMOTION]


def test_a_rejected_challenger_loses_its_alias_and_is_never_champion(ports, registry, db) -> None:
    old = _champion(registry)
    new = _candidate(ports, db)
    registry.set_version_tags(MODEL, new, {promotion.APPROVAL: promotion.REJECTED, promotion.APPROVAL_BY: "rita",
                                           promotion.APPROVAL_NOTE: "worse on weekends"})
    moves = promotion.reconcile(ports, MODEL, AT)
    assert registry.aliases(MODEL) == {CHAMPION: old}
    assert [(m.alias, m.from_version, m.to_version, m.reason) for m in moves] == [
        (CHALLENGER, new, None, "rejected: worse on weekends")]
    assert registry.version_tags(MODEL, new)[promotion.APPROVAL_NOTE] == "worse on weekends"  # kept


@pytest.mark.parametrize("decision, by, note, message", [
    ("maybe", "rita", "ok", "approval must be"),
    (promotion.APPROVED, "rita", " ", "needs a note"),
    (promotion.APPROVED, " ", "ok", "needs the name of who approved"),
])
def test_set_approval_needs_a_decision_a_reviewer_and_a_note(ports, registry, decision, by, note, message) -> None:
    version = registry.add_version(MODEL)
    with pytest.raises(DriftpilotError, match=message):
        promotion.set_approval(ports, MODEL, version, decision, by, note)
    assert promotion.APPROVAL not in registry.version_tags(MODEL, version)


def test_approve_raises_when_the_version_did_not_become_champion(ports, registry, db) -> None:
    old = _champion(registry)
    new = _candidate(ports, db, passed=False)
    with pytest.raises(PromotionRefused, match=rf"v{new} approved by ops but not promoted: the promotion gate failed"):
        promotion.approve(ports, MODEL, new, "ops", "looks good", AT)
    assert registry.alias_version(MODEL, CHAMPION) == old
    assert registry.version_tags(MODEL, new)[promotion.APPROVAL_BY] == "ops"


def test_an_interrupted_promotion_is_completed_not_repeated(ports, registry, db) -> None:
    _champion(registry)
    new = _candidate(ports, db)
    registry.set_alias(MODEL, CHAMPION, new)  # the crash came right after the champion move
    moves = promotion.promote(ports, MODEL, new, "ops", AT, "manual")
    assert [(m.alias, m.from_version, m.to_version) for m in moves] == [(CHAMPION, None, new)]
    assert "completed after an interruption" in moves[0].reason
    assert CHALLENGER not in registry.aliases(MODEL)
    assert promotion.promote(ports, MODEL, new, "ops", AT, "manual") == []  # done: nothing again


def test_an_alias_moved_during_a_promotion_stops_it(ports, registry, db) -> None:
    _champion(registry)
    new = _candidate(ports, db)
    registry.moved_outside(lambda model, alias: registry.alias_table[model].__setitem__(alias, "1")
                           if alias == CHAMPION else None)
    with pytest.raises(RegistryInconsistent):
        promotion.promote(ports, MODEL, new, "ops", AT, "manual")
    assert promotion.PROMOTION not in registry.version_tags(MODEL, new)  # not recorded as promoted
