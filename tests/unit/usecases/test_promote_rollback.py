"""Rollback (usecases/promote.py): champion back to ``previous``, only where driftpilot put it."""

from __future__ import annotations

import pytest

from driftpilot.adapters import sqlite_store as history
from driftpilot.errors import DriftpilotError, PromotionRefused
from driftpilot.ports import CHAMPION, PREVIOUS
from driftpilot.usecases import promote as promotion
from tests.unit.usecases.test_promote_integrity import AT, MODEL, _candidate, _champion


def test_rollback_swaps_champion_and_previous_and_can_itself_be_undone(ports, registry, db) -> None:
    old = _champion(registry)
    new = _candidate(ports, db)
    promotion.promote(ports, MODEL, new, "ops", AT, "better")
    moves = promotion.rollback(ports, MODEL, "oncall", AT, "latency")
    assert registry.aliases(MODEL) == {CHAMPION: old, PREVIOUS: new}
    assert [(m.alias, m.from_version, m.to_version) for m in moves] == [(CHAMPION, new, old), (PREVIOUS, old, new)]
    assert registry.version_tags(MODEL, new)[promotion.PROMOTION] == f"rolled back at {AT} by oncall: latency"
    outcome = history.version_outcome(db, MODEL, new)
    assert outcome is not None and outcome.outcome == promotion.ROLLED_BACK and outcome.final
    promotion.rollback(ports, MODEL, "oncall", AT, "undo")
    assert registry.aliases(MODEL) == {CHAMPION: new, PREVIOUS: old}


def test_rollback_needs_a_previous_version(ports, registry, db) -> None:
    _champion(registry)
    with pytest.raises(DriftpilotError, match="has no `previous` version"):
        promotion.rollback(ports, MODEL, "oncall", AT, "why")


def test_rollback_refuses_a_previous_moved_outside_driftpilot(ports, registry, db) -> None:
    _champion(registry)
    new = _candidate(ports, db)
    promotion.promote(ports, MODEL, new, "ops", AT, "better")
    ungated = registry.add_version(MODEL)
    registry.set_alias(MODEL, PREVIOUS, ungated)  # by hand in the registry: would skip the gate
    with pytest.raises(PromotionRefused, match=rf"points to v{ungated}, but driftpilot last moved it to v1"):
        promotion.rollback(ports, MODEL, "oncall", AT, "why")
    assert registry.alias_version(MODEL, CHAMPION) == new
