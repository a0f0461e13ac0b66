"""Approval and promotion in the MLflow registry: aliases, approval tags, and the promotion log.

How users work: a reviewer approves a challenger **in the registry** by setting the version tag
``driftpilot.approval`` to ``approved`` (or ``rejected``), with ``driftpilot.approval_note`` and
``driftpilot.approval_by`` — in the MLflow UI, with the MLflow client, or with
``driftpilot approve|reject`` which sets exactly those tags. driftpilot does not block a worker
while it waits: ``reconcile`` runs at the start of every scheduled monitoring run (and on
``driftpilot reconcile``) and acts on the tags it finds:

* ``approved`` (with who and why, and the gate passed): alias ``champion`` moves to the version,
  the old champion gets alias ``previous``, ``challenger`` is removed;
* ``rejected``: the version keeps its tags and note, loses ``challenger``, is never champion;
* an approval without ``approval_by`` and a note, of a version whose gate did not pass, or older
  than the champion, is refused and says why (tag ``driftpilot.promotion_refused`` and the log).

Registry tags are editable by every registry user, so they decide nothing about the gate: the
verdict is read from driftpilot's store (``EvidenceStore.gate_verdict``, written by the retraining
DAG with the SHA-256 of the gate record it logged to the candidate run, which is re-checked), and
what driftpilot already did to a version is kept there too (``EvidenceStore.version_outcome``).
Promotions of one model hold a lock in the store, so reconcile, the retraining DAG's approval and
the CLI never interleave.

Aliases keep no history, so every alias move is appended to the promotion log (table
``promotions`` of the metrics history: who, when, why, from -> to; refusals with alias
``refused``). ``rollback`` moves ``champion`` back to ``previous`` (and the rolled-back version
becomes ``previous``, so a rollback can itself be undone), logged the same way. Monitoring follows
automatically: it loads the baseline of the version that served each window.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from driftpilot.domain.evidence import (
    AliasMove as AliasMove,  # the promotion log's entry; re-exported
)
from driftpilot.domain.evidence import GateVerdict
from driftpilot.errors import DriftpilotError
from driftpilot.errors import (
    PromotionRefused as PromotionRefused,  # raised here; re-exported for callers
)
from driftpilot.ports import CHALLENGER, CHAMPION, PREVIOUS, Ports

log = logging.getLogger(__name__)

APPROVAL = "driftpilot.approval"
APPROVAL_NOTE = "driftpilot.approval_note"
APPROVAL_BY = "driftpilot.approval_by"
GATE = "driftpilot.gate"  # a copy for people; the verdict that counts is in driftpilot's store
GATE_DIGEST = "driftpilot.gate_digest"  # a copy for people, likewise
PROMOTION = "driftpilot.promotion"
PROMOTION_REFUSED = "driftpilot.promotion_refused"

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
GATE_FAILED = "gate_failed"

GATE_RECORD_DIR = "gate"  # the candidate run's gate record: gate/gate.json
GATE_RECORD = f"{GATE_RECORD_DIR}/gate.json"
REFUSED = "refused"  # the `alias` of a promotion-log entry that records a refusal (no alias moved)
PROMOTED = "promoted"
ROLLED_BACK = "rolled back"
LOCK_TIMEOUT = 120.0  # seconds a promotion waits for another one of the same model


def _log_move(ports: Ports, move: AliasMove) -> None:
    ports.store.append_promotion(move)
    log.info("%s: alias %s %s -> %s by %s (%s)", move.model, move.alias, move.from_version, move.to_version, move.by, move.reason)


@contextmanager
def _serialised(ports: Ports, model: str, what: str, timeout: float) -> Iterator[None]:
    """One promotion of ``model`` at a time, across the monitoring DAG, the retraining DAG and the CLI."""
    with ports.store.held_lock(f"promotion:{model}", f"{what} on {socket.gethostname()}", timeout=timeout):
        yield


# --------------------------------------------------------------------------------------------
# the gate verdict: recorded by the retraining DAG, re-checked before every promotion
# --------------------------------------------------------------------------------------------


def gate_record_bytes(record: dict[str, Any]) -> bytes:
    return json.dumps(record, indent=2, sort_keys=True, default=str).encode()


def record_gate_verdict(ports: Ports, model: str, run_id: str, record: dict[str, Any],
                        champion_version: str, at: str) -> GateVerdict:
    """Log the gate record to the candidate run and keep its verdict and SHA-256 digest in the store.

    The store is what promotion trusts; the run artifact is the readable copy, checked against
    the digest so that an edited copy is noticed.
    """
    data = gate_record_bytes(record)  # ASCII JSON: written as text, these exact bytes
    with ports.files.scratch("gate-") as folder:
        local = folder / "gate.json"
        ports.files.write_text(local, data.decode("ascii"))
        ports.registry.log_run_artifacts(run_id, {GATE_RECORD_DIR: local})
    return ports.store.record_gate_verdict(model, run_id, bool(record["passed"]), hashlib.sha256(data).hexdigest(),
                                       str(champion_version), at)


def bind_gate_verdict(ports: Ports, model: str, run_id: str, version: str) -> GateVerdict:
    """Tie the candidate run's verdict to the version registered from it (the register step)."""
    return ports.store.bind_gate_verdict(model, run_id, version)


def gate_problem(ports: Ports, model: str, version: str) -> str | None:
    """Why ``version`` may not be promoted as far as the gate goes, or ``None`` when it may."""
    verdict = ports.store.gate_verdict(model, version)
    if verdict is None:
        return ("no gate verdict recorded by driftpilot for this version (only versions registered by the "
                "retraining DAG went through the gate; the registry tag driftpilot.gate does not count): "
                "retrain to get a candidate through the gate")
    if not verdict.passed:
        return (f"the promotion gate failed (run {verdict.run_id}, evaluated against champion "
                f"v{verdict.champion_version} at {verdict.recorded_at}); see the comparison logged with that run")
    data = ports.registry.read_run_artifact(verdict.run_id, GATE_RECORD)
    if data is None:
        return f"the gate record {GATE_RECORD} of run {verdict.run_id} is missing: it was deleted after the gate ran"
    if hashlib.sha256(data).hexdigest() != verdict.digest:
        return (f"the gate record {GATE_RECORD} of run {verdict.run_id} does not match the digest driftpilot "
                "recorded when the gate ran: it was changed afterwards")
    return None


# --------------------------------------------------------------------------------------------
# approvals, promotion, reconcile, rollback
# --------------------------------------------------------------------------------------------


def set_approval(ports: Ports, model: str, version: str, decision: str, by: str, note: str) -> None:
    """What a reviewer does in the registry UI: set the approval tags of a version."""
    if decision not in (APPROVED, REJECTED):
        raise DriftpilotError(f"approval must be {APPROVED!r} or {REJECTED!r}, got {decision!r}")
    if not note.strip():
        raise DriftpilotError("an approval needs a note saying why (it is kept with the version)")
    if not by.strip():
        raise DriftpilotError("an approval needs the name of who approved (--by, DRIFTPILOT_REVIEWER or the OS user)")
    ports.registry.set_version_tags(model, version, {APPROVAL: decision, APPROVAL_NOTE: note.strip(),
                                                         APPROVAL_BY: by.strip()})


def _refuse(ports: Ports, model: str, version: str, by: str, at: str, reason: str,
            *, final: bool) -> None:
    """Say why on the version and in the promotion log, once per distinct (reason, approval)."""
    tags = ports.registry.version_tags(model, version)
    fingerprint = json.dumps([reason, tags.get(APPROVAL_BY, ""), tags.get(APPROVAL_NOTE, "")])
    done = ports.store.version_outcome(model, version)
    if done is not None and done.outcome == REFUSED and done.detail == fingerprint:
        return  # refused for exactly this before: do not log it again on every reconcile
    text = f"refused at {at}: {reason}"
    ports.registry.set_version_tags(model, version, {PROMOTION_REFUSED: text, **({PROMOTION: text} if final else {})})
    _log_move(ports, AliasMove(model, REFUSED, None, str(version), by, at, reason))
    ports.store.record_outcome(model, version, REFUSED, False, fingerprint, at)
    log.warning("%s v%s not promoted: %s", model, version, reason)


def _promote(ports: Ports, model: str, version: str, by: str, at: str, reason: str) -> list[AliasMove]:
    current = ports.registry.alias_version(model, CHAMPION)
    moves: list[AliasMove] = []
    done = ports.store.version_outcome(model, version)
    if current == str(version):
        # Already champion: finish a promotion that was interrupted after the alias move.
        if done is None or done.outcome != PROMOTED:
            if ports.registry.alias_version(model, CHALLENGER) == str(version):
                ports.registry.delete_alias(model, CHALLENGER)
            ports.registry.set_version_tags(model, version, {PROMOTION: f"promoted at {at} by {by}"})
            move = AliasMove(model, CHAMPION, None, str(version), by, at, f"{reason} (completed after an interruption)")
            _log_move(ports, move)
            ports.store.record_outcome(model, version, PROMOTED, True, reason, at)
            moves.append(move)
        return moves
    if current is not None:
        old_previous = ports.registry.alias_version(model, PREVIOUS)
        ports.registry.set_alias(model, PREVIOUS, current)
        moves.append(AliasMove(model, PREVIOUS, old_previous, current, by, at, reason))
    ports.registry.set_alias(model, CHAMPION, str(version))
    moves.append(AliasMove(model, CHAMPION, current, str(version), by, at, reason))
    if ports.registry.alias_version(model, CHALLENGER) == str(version):
        ports.registry.delete_alias(model, CHALLENGER)
        moves.append(AliasMove(model, CHALLENGER, str(version), None, by, at, f"promoted; {reason}"))
    ports.registry.set_version_tags(model, version, {PROMOTION: f"promoted at {at} by {by}"})
    for move in moves:
        _log_move(ports, move)
    ports.store.record_outcome(model, version, PROMOTED, True, reason, at)
    return moves


def promote(ports: Ports, model: str, version: str, by: str, at: str, reason: str,
            *, lock_timeout: float = LOCK_TIMEOUT) -> list[AliasMove]:
    """Move ``champion`` to ``version`` (old champion -> ``previous``) if its gate passed. Idempotent."""
    with _serialised(ports, model, f"promote v{version} by {by}", lock_timeout):
        problem = gate_problem(ports, model, str(version))
        if problem is not None:
            raise PromotionRefused(f"{model} v{version} is not promoted: {problem}")
        return _promote(ports, model, str(version), by, at, reason)


def _approval_problem(model: str, version: str, tags: dict[str, str]) -> str | None:
    if tags.get(APPROVAL_BY, "").strip() and tags.get(APPROVAL_NOTE, "").strip():
        return None
    return (f"an approval must name who approved ({APPROVAL_BY}) and why ({APPROVAL_NOTE}): set both with "
            f"the approval, e.g. `driftpilot approve --model {model} --version {version} --by NAME --note WHY`")


def _reconcile(ports: Ports, model: str, at: str) -> list[AliasMove]:
    moves: list[AliasMove] = []
    challenger = ports.registry.alias_version(model, CHALLENGER)
    for version in ports.registry.search_versions(model, APPROVAL, APPROVED):
        tags = ports.registry.version_tags(model, version)
        done = ports.store.version_outcome(model, version)
        if tags.get(PROMOTION) or (done is not None and done.final):
            continue  # already acted on (promoted, refused, or later rolled back): never again
        who = tags.get(APPROVAL_BY, "").strip() or "unknown reviewer"
        problem = _approval_problem(model, version, tags)
        champion = ports.registry.alias_version(model, CHAMPION)
        if problem is not None:
            _refuse(ports, model, version, who, at, problem, final=False)
            continue
        if version != challenger and champion is not None and int(version) < int(champion):
            _refuse(ports, model, version, who, at, f"older than champion v{champion} and not the "
                    "challenger (use rollback to go back to an older version)", final=True)
            continue
        problem = gate_problem(ports, model, version)
        if problem is not None:
            _refuse(ports, model, version, who, at, problem, final=True)
            continue
        moves += _promote(ports, model, version, who, at, f"approved: {tags[APPROVAL_NOTE].strip()}")
    if challenger is not None:
        tags = ports.registry.version_tags(model, challenger)
        if tags.get(APPROVAL) == REJECTED:
            ports.registry.delete_alias(model, CHALLENGER)
            move = AliasMove(model, CHALLENGER, challenger, None, tags.get(APPROVAL_BY, "unknown reviewer"),
                             at, f"rejected: {tags.get(APPROVAL_NOTE, '')}")
            _log_move(ports, move)
            moves.append(move)
    return moves


def reconcile(ports: Ports, model: str, at: str, *, lock_timeout: float = LOCK_TIMEOUT) -> list[AliasMove]:
    """Act on approval tags set in the registry since the last look (see the module doc)."""
    with _serialised(ports, model, "reconcile", lock_timeout):
        return _reconcile(ports, model, at)


def approve(ports: Ports, model: str, version: str, by: str, note: str, at: str,
            *, lock_timeout: float = LOCK_TIMEOUT) -> list[AliasMove]:
    """Approve and act at once (Airflow approval task, ``approval: auto``): same checks as reconcile.

    Raises ``PromotionRefused`` (after recording the refusal) when ``version`` did not become
    champion, so the task that approved does not report a promotion that did not happen.
    """
    with _serialised(ports, model, f"approve v{version} by {by}", lock_timeout):
        set_approval(ports, model, str(version), APPROVED, by, note)
        moves = _reconcile(ports, model, at)
        if ports.registry.alias_version(model, CHAMPION) != str(version):
            done = ports.store.version_outcome(model, str(version))
            why = json.loads(done.detail)[0] if done is not None and done.outcome == REFUSED else "see the promotion log"
            raise PromotionRefused(f"{model} v{version} approved by {by} but not promoted: {why}")
        return moves


def rollback(ports: Ports, model: str, by: str, at: str, reason: str,
             *, lock_timeout: float = LOCK_TIMEOUT) -> list[AliasMove]:
    """``champion`` back to ``previous``; the rolled-back version becomes ``previous``.

    ``previous`` must be where driftpilot last put it (the promotion log): an alias moved by hand
    in the registry would otherwise turn a rollback into a promotion that skipped the gate.
    """
    with _serialised(ports, model, f"rollback by {by}", lock_timeout):
        current = ports.registry.alias_version(model, CHAMPION)
        previous = ports.registry.alias_version(model, PREVIOUS)
        if previous is None:
            raise DriftpilotError(f"{model} has no `previous` version to roll back to (champion is v{current})")
        _, logged = ports.store.last_alias_target(model, PREVIOUS)
        if previous != logged:
            raise PromotionRefused(
                f"alias `previous` of {model} points to v{previous}, but driftpilot last moved it to "
                f"{'v' + logged if logged else 'no version'} (see `driftpilot promotions --model {model}`): it was "
                "moved outside driftpilot, so rolling back to it could skip the gate. Put the alias back, or "
                "promote a version through the retraining DAG."
            )
        ports.registry.set_alias(model, CHAMPION, previous)
        moves = [AliasMove(model, CHAMPION, current, previous, by, at, f"rollback: {reason}")]
        if current is not None:
            ports.registry.set_alias(model, PREVIOUS, current)
            moves.append(AliasMove(model, PREVIOUS, previous, current, by, at, f"rollback: {reason}"))
            ports.registry.set_version_tags(model, current, {PROMOTION: f"rolled back at {at} by {by}: {reason}"})
            ports.store.record_outcome(model, current, ROLLED_BACK, True, reason, at)
        for move in moves:
            _log_move(ports, move)
        return moves


def airflow_approval(answer: Mapping[str, Any]) -> tuple[str, str]:
    """(by, note) of an Airflow approval task's answer: the authenticated user who responded.

    Airflow records ``responded_by_user`` (``{"id", "name"}``) from the logged-in session, so this
    identity is not typed in by the reviewer. An answer without one (e.g. a default applied on a
    timeout) is no approval.
    """
    user = answer.get("responded_by_user") or {}
    name, user_id = str(user.get("name") or "").strip(), str(user.get("id") or "").strip()
    if not name and not user_id:
        raise PromotionRefused("the Airflow approval task's answer names no responding user (a default answer or a "
                               "timeout is not an approval); answer it in the Airflow UI or its REST API as a user")
    note = str((answer.get("params_input") or {}).get("note") or "").strip()
    return f"{name or user_id} (Airflow user {user_id or name})", note or "approved in the Airflow approval task"
