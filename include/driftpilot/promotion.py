"""Approval and promotion in the MLflow registry: aliases, approval tags, and the promotion log.

How users work: a reviewer approves a challenger **in the registry** by setting the version tag
``driftpilot.approval`` to ``approved`` (or ``rejected``), with ``driftpilot.approval_note`` and
``driftpilot.approval_by`` — in the MLflow UI, with the MLflow client, or with
``driftpilot approve|reject`` which sets exactly those tags. driftpilot does not block a worker
while it waits: ``reconcile`` runs at the start of every scheduled monitoring run (and on
``driftpilot reconcile``) and acts on the tags it finds:

* ``approved`` (and the gate passed): alias ``champion`` moves to the version, the old champion
  gets alias ``previous``, ``challenger`` is removed;
* ``rejected``: the version keeps its tags and note, loses ``challenger``, is never champion;
* an approval of a version whose gate failed is refused and says so (tag ``driftpilot.promotion``).

Aliases keep no history, so every alias move is appended to the promotion log (table
``promotions`` of the metrics history: who, when, why, from -> to). ``rollback`` moves
``champion`` back to ``previous`` (and the rolled-back version becomes ``previous``, so a rollback
can itself be undone), logged the same way. Monitoring follows automatically: it loads the
baseline of the version that served each window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from driftpilot import history, registry
from driftpilot.errors import DriftpilotError
from driftpilot.settings import Settings

log = logging.getLogger(__name__)

APPROVAL = "driftpilot.approval"
APPROVAL_NOTE = "driftpilot.approval_note"
APPROVAL_BY = "driftpilot.approval_by"
GATE = "driftpilot.gate"
PROMOTION = "driftpilot.promotion"

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
GATE_FAILED = "gate_failed"


@dataclass(frozen=True)
class AliasMove:
    model: str
    alias: str
    from_version: str | None
    to_version: str | None
    by: str
    at: str
    reason: str


def _log_move(db: Path, move: AliasMove) -> None:
    history.append_promotion(db, move.model, move.alias, move.from_version, move.to_version, move.by, move.at, move.reason)
    log.info("%s: alias %s %s -> %s by %s (%s)", move.model, move.alias, move.from_version, move.to_version, move.by, move.reason)


def set_approval(settings: Settings, model: str, version: str, decision: str, by: str, note: str) -> None:
    """What a reviewer does in the registry UI: set the approval tags of a version."""
    if decision not in (APPROVED, REJECTED):
        raise DriftpilotError(f"approval must be {APPROVED!r} or {REJECTED!r}, got {decision!r}")
    if not note.strip():
        raise DriftpilotError("an approval needs a note saying why (it is kept with the version)")
    registry.set_version_tags(settings, model, version, {APPROVAL: decision, APPROVAL_NOTE: note, APPROVAL_BY: by})


def promote(settings: Settings, db: Path, model: str, version: str, by: str, at: str, reason: str) -> list[AliasMove]:
    """Move ``champion`` to ``version`` (old champion -> ``previous``). Idempotent."""
    client = registry.connect(settings)
    current = registry.alias_version(client, model, registry.CHAMPION)
    moves: list[AliasMove] = []
    if current == str(version):
        # Already champion: finish a promotion that was interrupted after the alias move.
        if not registry.version_tags(settings, model, version).get(PROMOTION):
            if registry.alias_version(client, model, registry.CHALLENGER) == str(version):
                registry.delete_alias(settings, model, registry.CHALLENGER)
            registry.set_version_tags(settings, model, version, {PROMOTION: f"promoted at {at} by {by}"})
            move = AliasMove(model, registry.CHAMPION, None, str(version), by, at, f"{reason} (completed after an interruption)")
            _log_move(db, move)
            moves.append(move)
        return moves
    if current is not None:
        old_previous = registry.alias_version(client, model, registry.PREVIOUS)
        registry.set_alias(client, model, registry.PREVIOUS, current)
        moves.append(AliasMove(model, registry.PREVIOUS, old_previous, current, by, at, reason))
    registry.set_alias(client, model, registry.CHAMPION, str(version))
    moves.append(AliasMove(model, registry.CHAMPION, current, str(version), by, at, reason))
    if registry.alias_version(client, model, registry.CHALLENGER) == str(version):
        registry.delete_alias(settings, model, registry.CHALLENGER)
        moves.append(AliasMove(model, registry.CHALLENGER, str(version), None, by, at, f"promoted; {reason}"))
    registry.set_version_tags(settings, model, version, {PROMOTION: f"promoted at {at} by {by}"})
    for move in moves:
        _log_move(db, move)
    return moves


def reconcile(settings: Settings, db: Path, model: str, at: str) -> list[AliasMove]:
    """Act on approval tags set in the registry since the last look (see the module doc)."""
    client = registry.connect(settings)
    moves: list[AliasMove] = []
    challenger = registry.alias_version(client, model, registry.CHALLENGER)
    for version in registry.search_versions(settings, model, APPROVAL, APPROVED):
        tags = registry.version_tags(settings, model, version)
        if tags.get(PROMOTION):
            continue  # already acted on (promoted, refused, or later rolled back): never again
        who = tags.get(APPROVAL_BY, "unknown reviewer")
        champion = registry.alias_version(client, model, registry.CHAMPION)
        if version != challenger and champion is not None and int(version) < int(champion):
            registry.set_version_tags(settings, model, version, {
                PROMOTION: f"not promoted at {at}: older than champion v{champion} and not the challenger "
                           "(use rollback to go back to an older version)"
            })
            continue
        if tags.get(GATE) != "passed":
            registry.set_version_tags(settings, model, version, {
                PROMOTION: f"refused at {at}: the promotion gate did not pass ({tags.get(GATE, 'no gate result')})"
            })
            log.warning("%s v%s approved by %s but its gate did not pass: not promoted", model, version, who)
            continue
        moves += promote(settings, db, model, version, who, at, f"approved: {tags.get(APPROVAL_NOTE, '')}")
    if challenger is not None:
        tags = registry.version_tags(settings, model, challenger)
        if tags.get(APPROVAL) == REJECTED:
            registry.delete_alias(settings, model, registry.CHALLENGER)
            move = AliasMove(model, registry.CHALLENGER, challenger, None, tags.get(APPROVAL_BY, "unknown reviewer"),
                             at, f"rejected: {tags.get(APPROVAL_NOTE, '')}")
            _log_move(db, move)
            moves.append(move)
    return moves


def rollback(settings: Settings, db: Path, model: str, by: str, at: str, reason: str) -> list[AliasMove]:
    """``champion`` back to ``previous``; the rolled-back version becomes ``previous``."""
    client = registry.connect(settings)
    current = registry.alias_version(client, model, registry.CHAMPION)
    previous = registry.alias_version(client, model, registry.PREVIOUS)
    if previous is None:
        raise DriftpilotError(f"{model} has no `previous` version to roll back to (champion is v{current})")
    registry.set_alias(client, model, registry.CHAMPION, previous)
    moves = [AliasMove(model, registry.CHAMPION, current, previous, by, at, f"rollback: {reason}")]
    if current is not None:
        registry.set_alias(client, model, registry.PREVIOUS, current)
        moves.append(AliasMove(model, registry.PREVIOUS, previous, current, by, at, f"rollback: {reason}"))
        registry.set_version_tags(settings, model, current, {PROMOTION: f"rolled back at {at} by {by}: {reason}"})
    for move in moves:
        _log_move(db, move)
    return moves
