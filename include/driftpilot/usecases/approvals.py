"""Approvals where people look: the candidates awaiting a decision, and the decision itself.

A reviewer deciding in the Airflow UI (the plugin's approvals page) does exactly what
``driftpilot approve|reject`` and the MLflow UI do: it sets the approval tags of the version
(``promote.set_approval``), and then acts on them at once through the same ``promote`` path the
monitoring run's ``reconcile`` uses. The gate stays un-bypassable: the comparison shown comes from
the gate record whose digest driftpilot kept in its store, and an approval of a version whose gate
did not pass (or whose record was changed) is refused by ``promote``, not by this module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from driftpilot.domain.alert_message import APPROVALS_PREFIX, PLUGIN_PREFIX
from driftpilot.errors import DriftpilotError
from driftpilot.ports import CHALLENGER, CHAMPION, Ports
from driftpilot.usecases import promote as promotion

APPROVALS_PAGE = PLUGIN_PREFIX + APPROVALS_PREFIX + "/"  # the plugin's page, under the Airflow api-server


class NoteRequired(DriftpilotError):
    """A decision without a note: the note is what the next reviewer reads, so it is never optional."""


class NotPending(DriftpilotError):
    """The version is not awaiting a decision (already decided, promoted, or never gated)."""


@dataclass(frozen=True)
class Metric:
    """One metric of the comparison on the candidate's holdout: champion, candidate and the delta."""

    name: str
    champion: float
    candidate: float
    delta: float
    passed: bool | None = None  # guards pass or fail; the primary metric is judged by the gate as a whole


@dataclass(frozen=True)
class Candidate:
    """A version awaiting approval, with the gate's comparison against the champion it was measured on."""

    model: str
    version: str
    champion_version: str | None  # the champion now
    gated_against: str | None  # the champion the gate compared with
    challenger: bool  # holds alias `challenger`
    gate_passed: bool
    gate_problem: str | None  # why promote would refuse it now (None: it would promote)
    reasons: tuple[str, ...] = ()
    metrics: tuple[Metric, ...] = ()
    improvement: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    rows: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    gated_at: str | None = None  # when the gate ran (the retrain request's as-of time): awaiting since then

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "version": self.version, "champion_version": self.champion_version,
            "gated_against": self.gated_against, "challenger": self.challenger, "gate_passed": self.gate_passed,
            "gate_problem": self.gate_problem, "reasons": list(self.reasons),
            "metrics": [vars(m) for m in self.metrics], "improvement": self.improvement,
            "ci_low": self.ci_low, "ci_high": self.ci_high, "rows": self.rows, "gated_at": self.gated_at,
            "reason": self.tags.get("driftpilot.reason", ""),
            "training_window": self.tags.get("driftpilot.training_window", ""),
        }


def _gate_record(ports: Ports, model: str, version: str) -> dict[str, Any] | None:
    """The gate record driftpilot logged for ``version`` (its digest is checked by ``gate_problem``)."""
    verdict = ports.store.gate_verdict(model, version)
    if verdict is None:
        return None
    data = ports.registry.read_run_artifact(verdict.run_id, promotion.GATE_RECORD)
    if data is None:
        return None
    try:
        record = json.loads(data)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _metrics(record: dict[str, Any]) -> tuple[Metric, ...]:
    out: list[Metric] = []
    if "metric" in record and "champion" in record and "challenger" in record:
        champion, candidate = float(record["champion"]), float(record["challenger"])
        out.append(Metric(str(record["metric"]), champion, candidate, candidate - champion))
    for guard in record.get("guards") or []:
        champion, candidate = float(guard["champion"]), float(guard["challenger"])
        out.append(Metric(str(guard["name"]), champion, candidate, candidate - champion, bool(guard["passed"])))
    return tuple(out)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _is_pending(ports: Ports, model: str, version: str, tags: dict[str, str]) -> bool:
    done = ports.store.version_outcome(model, version)
    return (tags.get(promotion.APPROVAL) == promotion.PENDING and not tags.get(promotion.PROMOTION)
            and not (done is not None and done.final))


def candidate(ports: Ports, model: str, version: str) -> Candidate:
    """One version with its comparison, whatever its approval state."""
    tags = ports.registry.version_tags(model, version)
    verdict = ports.store.gate_verdict(model, version)
    record = _gate_record(ports, model, version) or {}
    return Candidate(
        model=model, version=str(version),
        champion_version=ports.registry.alias_version(model, CHAMPION),
        gated_against=verdict.champion_version if verdict is not None else None,
        gated_at=verdict.recorded_at if verdict is not None else None,
        challenger=ports.registry.alias_version(model, CHALLENGER) == str(version),
        gate_passed=bool(verdict is not None and verdict.passed),
        gate_problem=promotion.gate_problem(ports, model, str(version)),
        reasons=tuple(str(r) for r in record.get("reasons") or ()),
        metrics=_metrics(record),
        improvement=_optional_float(record.get("improvement")),
        ci_low=_optional_float(record.get("ci_low")), ci_high=_optional_float(record.get("ci_high")),
        rows=int(record["rows"]) if record.get("rows") is not None else None,
        tags=dict(tags),
    )


def pending(ports: Ports, models: Iterable[str]) -> list[Candidate]:
    """The versions of ``models`` awaiting a decision (tag ``approval=pending``), newest first per model."""
    out: list[Candidate] = []
    for model in models:
        versions = ports.registry.search_versions(model, promotion.APPROVAL, promotion.PENDING)
        for version in sorted(versions, key=int, reverse=True):
            if _is_pending(ports, model, version, ports.registry.version_tags(model, version)):
                out.append(candidate(ports, model, version))
    return out


def how_to_decide(model: str, version: str) -> str:
    """Every way a reviewer decides ``version``: what a waiting run, ``status`` and the timeout say."""
    return (f"open the approvals page ({APPROVALS_PAGE} under the Airflow api-server), or run "
            f"`driftpilot approve --model {model} --version {version} --note '...'` (or `driftpilot reject`), or "
            f"set tag {promotion.APPROVAL}=approved (or rejected) with {promotion.APPROVAL_BY} and "
            f"{promotion.APPROVAL_NOTE} on {model} v{version} in the MLflow registry")


def decision(ports: Ports, model: str, version: str) -> str | None:
    """``None`` while ``version`` still awaits a decision; else what settled it, for the log.

    Settled means a reviewer set the approval tag (approved or rejected: promotion itself is left to
    ``reconcile`` or the approvals page), driftpilot already acted on the version (promoted,
    refused, rolled back), or the version no longer holds ``challenger`` (another candidate took
    its place): in each case nobody will decide it any more, so a run waiting for it may end.
    """
    version = str(version)
    tags = ports.registry.version_tags(model, version)
    state = tags.get(promotion.APPROVAL)
    if state in (promotion.APPROVED, promotion.REJECTED):
        return f"{state} by {tags.get(promotion.APPROVAL_BY, 'unknown reviewer')}: {tags.get(promotion.APPROVAL_NOTE, '')}"
    if tags.get(promotion.PROMOTION):
        return tags[promotion.PROMOTION]
    done = ports.store.version_outcome(model, version)
    if done is not None and done.final:
        return f"{done.outcome} at {done.decided_at}"
    challenger = ports.registry.alias_version(model, CHALLENGER)
    if challenger != version:
        return f"no longer the challenger ({'v' + challenger if challenger else 'no challenger'} now)"
    return None


def decide(ports: Ports, model: str, version: str, decision: str, by: str, note: str, at: str,
           *, lock_timeout: float = promotion.LOCK_TIMEOUT) -> list[promotion.AliasMove]:
    """Approve (and promote at once, through ``promote``) or reject a pending version.

    The note is required (``NoteRequired``); ``by`` is the caller's authenticated identity. An
    approval that promote refuses (gate failed, record changed, older than the champion) raises
    ``PromotionRefused`` after the refusal was recorded on the version and in the promotion log.
    """
    if decision not in (promotion.APPROVED, promotion.REJECTED):
        raise DriftpilotError(f"decision must be {promotion.APPROVED!r} or {promotion.REJECTED!r}, got {decision!r}")
    if not note.strip():
        raise NoteRequired(f"a {'rejection' if decision == promotion.REJECTED else 'approval'} needs a note saying "
                           "why (it is kept with the version in the registry); write one and send it again")
    version = str(version)
    tags = ports.registry.version_tags(model, version)
    if not _is_pending(ports, model, version, tags):
        state = tags.get(promotion.APPROVAL, "no approval tag")
        raise NotPending(f"{model} v{version} is not awaiting approval (approval: {state}"
                         f"{'; ' + tags[promotion.PROMOTION] if tags.get(promotion.PROMOTION) else ''}); "
                         "reload the list of pending approvals")
    if decision == promotion.APPROVED:
        return promotion.approve(ports, model, version, by, note, at, lock_timeout=lock_timeout)
    promotion.set_approval(ports, model, version, promotion.REJECTED, by, note)
    return promotion.reconcile(ports, model, at, lock_timeout=lock_timeout)
