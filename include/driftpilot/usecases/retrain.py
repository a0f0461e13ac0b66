"""The retraining use case, one function per DAG task: training set, candidate, gate, registry.

A retrain request carries a reason, the window that triggered it, an ``as_of`` time and an
**idempotency key**. Everything a step produces is keyed by it: the work folder, the candidate's
MLflow run, the registered version. Re-running any step with the same key reuses what exists, so
a retried task or a re-triggered request never creates a second run or version, and a crash
between registration and the alias move is completed by running again.

Training set: validated production rows (quarantined rows are never used) of the last
``retraining.training_days`` windows whose labels are **mature** as of ``as_of``, joined to their
latest label; plus, by recipe, the original training set recorded by bootstrap
(``training/model=<m>/original.parquet`` in the lake) and the user's
``retraining.extra_training_data``. The candidate is fitted by the config's trainer
(``retraining.trainer``: the built-in recipes or the user's code, ``usecases/training.py``). The most recent part of the labelled
production rows (``holdout_share``, by event time) is held out: both champion and challenger are
scored on exactly those rows. Below ``retraining.min_labelled_rows`` labelled production rows the
step refuses with a clear message; it never fills in labels and never falls back to synthetic data.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftpilot.domain import gate
from driftpilot.domain.categories import category_key, category_keys
from driftpilot.domain.config import ApprovalMode, ModelConfig, TaskType
from driftpilot.domain.contracts import EVENT_TIME, LABEL_TIME, PREDICTION, SCORE
from driftpilot.domain.labels import join_labels, window_is_mature
from driftpilot.domain.lake_layout import VALIDATED
from driftpilot.domain.trainer_contract import (
    EXTRA,
    ORIGIN,
    ORIGINAL,
    PRODUCTION,
    build_training_data,
)
from driftpilot.domain.training_data import (
    original_training_key,
    prepare_training_data,
    training_data_digest,
)
from driftpilot.errors import ConfigError, DriftpilotError, InsufficientData
from driftpilot.ports import CHALLENGER, CHAMPION, ModelRun, Ports
from driftpilot.settings import Settings
from driftpilot.usecases import approvals
from driftpilot.usecases import promote as promotion
from driftpilot.usecases.bootstrap import (
    baseline_metadata,
    reference_sample,
    trainer_params,
    training_experiment,
    write_baseline,
)
from driftpilot.usecases.training import train_model

log = logging.getLogger(__name__)

TRAINER_TAG = "driftpilot.trainer"  # on the candidate run and its version: which trainer produced it


@dataclass(frozen=True)
class RetrainRequest:
    model: str
    reason: str
    window: str  # the window that asked (ISO date) or "manual"
    as_of: datetime  # labels and data known at this time
    idempotency_key: str
    train_start: str | None = None  # ISO dates; default: the last training_days windows
    train_end: str | None = None

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.idempotency_key)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "reason": self.reason, "window": self.window, "as_of": self.as_of.isoformat(),
                "idempotency_key": self.idempotency_key, "train_start": self.train_start, "train_end": self.train_end}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> RetrainRequest:
        return RetrainRequest(
            model=str(data["model"]), reason=str(data["reason"]), window=str(data["window"]),
            as_of=_utc(datetime.fromisoformat(str(data["as_of"]))), idempotency_key=str(data["idempotency_key"]),
            train_start=data.get("train_start"), train_end=data.get("train_end"),
        )


def request_from_events(ports: Ports, model: str, params: dict[str, Any], events: list[dict[str, Any]],
                        default_as_of: str, default_key: str) -> dict[str, Any]:
    """The request one retraining run handles: the newest queued event, else the Params.

    Airflow may queue several retrain-request events for one run (``triggering_asset_events``).
    One candidate trained on the newest as-of time covers them all, so the newest is handled and
    every other one is recorded as ``superseded`` by its key in the store; none is dropped
    silently. Receiving an event also proves it was emitted (the outbox is marked if it was not).
    Event values take precedence over the Params, which fill what the event leaves out.
    """
    conf = {k: v for k, v in params.items() if v is not None}
    queued: dict[str, RetrainRequest] = {}
    for i, extra in enumerate(events):
        # The Params' key is for a manual run: an event without a key of its own gets a distinct
        # one, so two such events are never merged into one.
        merged = {"model": model, "reason": "retrain request", "window": "manual", "as_of": default_as_of,
                  **conf, "idempotency_key": f"{default_key}#event{i}",
                  **{k: v for k, v in extra.items() if v is not None}}
        event = RetrainRequest.from_dict(merged)
        queued[event.idempotency_key] = event
    if not queued:
        return RetrainRequest.from_dict({
            "model": model, "reason": conf.get("reason") or "manual retrain", "window": conf.get("window") or "manual",
            "as_of": conf.get("as_of") or default_as_of, "idempotency_key": conf.get("idempotency_key") or default_key,
            "train_start": conf.get("train_start"), "train_end": conf.get("train_end"),
        }).to_dict()
    chosen = max(queued.values(), key=lambda r: (r.as_of, r.idempotency_key))
    for key in queued:
        ports.store.mark_retrain_emitted(model, key)
    others = [r for r in queued.values() if r is not chosen]
    superseded = ports.store.supersede_retrains(
        model, [(r.idempotency_key, r.window, r.as_of.isoformat(), r.reason) for r in others], by=chosen.idempotency_key)
    if others:
        log.info("%s: %d queued retrain requests; handling %s, superseded: %s", model, len(queued),
                 chosen.idempotency_key, ", ".join(r.idempotency_key for r in others))
    return {**chosen.to_dict(), "superseded": superseded}


def _utc(moment: datetime) -> datetime:
    """A time without zone is UTC (as everywhere in driftpilot); any other zone is converted."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def work_dir(settings: Settings, request: RetrainRequest) -> Path:
    return settings.home / "retrain" / request.model / request.slug


# --------------------------------------------------------------------------------------------
# 1. training set
# --------------------------------------------------------------------------------------------


def labelled_production_rows(config: ModelConfig, ports: Ports, request: RetrainRequest) -> pd.DataFrame:
    """Validated rows of mature windows in the training range, with their latest known label."""
    from driftpilot.usecases.monitor import label_classes, read_labels

    end = datetime.fromisoformat(request.train_end).date() if request.train_end else request.as_of.date()
    start = (datetime.fromisoformat(request.train_start).date() if request.train_start
             else end - timedelta(days=config.retraining.training_days))
    days = [d for d in ports.lake.dates(VALIDATED, config.name) if start <= d < end]
    mature = [d for d in days if window_is_mature(
        datetime(d.year, d.month, d.day, tzinfo=request.as_of.tzinfo) + timedelta(days=config.window_days),
        request.as_of, config.labels.maturity_hours)]
    if not mature:
        return pd.DataFrame()
    rows = ports.lake.read_partitions(VALIDATED, config.name, mature)
    if rows.empty:
        return pd.DataFrame()
    classes = label_classes(config, ports, None)
    labels = read_labels(ports, config, mature[0], request.as_of, classes, record=False).labels
    if labels.empty:
        return pd.DataFrame()
    joined = join_labels(rows, labels, request.as_of, request.as_of, 0).joined.drop(columns=[LABEL_TIME])
    joined[config.target] = joined["label"]
    return joined.sort_values(EVENT_TIME, kind="stable").reset_index(drop=True)


def original_training(config: ModelConfig, ports: Ports) -> pd.DataFrame:
    """The training set the first champion learned from, as bootstrap recorded it in the lake."""
    key = original_training_key(config.name)
    path = ports.lake.path(key)
    if not ports.lake.exists(key):
        raise ConfigError(
            f"{config.path}: retraining.include_original_training is true but {config.name} has no original "
            f"training set at {path}; bootstrap records it (`driftpilot bootstrap --model {config.name} --training-data "
            "FILE.parquet`), or set `retraining.include_original_training: false` (a model trained outside "
            "driftpilot: point `retraining.extra_training_data` at the data it was trained on)"
        )
    return ports.lake.read(key)


def extra_training(config: ModelConfig, ports: Ports) -> pd.DataFrame | None:
    """``retraining.extra_training_data``, checked like bootstrap's training data; ``None`` when unset."""
    where = config.retraining.extra_training_data
    if where is None:
        return None
    path = Path(where)
    if not ports.files.exists(path):
        raise ConfigError(f"{config.path}: `retraining.extra_training_data` names {path}, which does not exist; "
                          "give a Parquet file with the config's features, target and segments, or remove the key")
    return prepare_training_data(config, ports.files.read_frame(path), f"{path} (retraining.extra_training_data)")


# Fewest holdout rows the smallest allowed training set leaves the gate (segments are judged from 30).
MIN_GATE_HOLDOUT_ROWS = 30


def check_config(config: ModelConfig, ports: Ports) -> None:
    """What ``driftpilot check-config`` checks beyond the file: the config against code and data.

    The trainer imports (and the built-in recipe's estimator exists), the extra training data is
    there with the config's columns, and the smallest training set retraining accepts leaves the
    gate a holdout worth comparing on. Each failure is a ``ConfigError`` naming the file and key.
    """
    ports.trainer.check_config(config)
    extra_training(config, ports)
    recipe = config.retraining
    smallest = recipe.min_labelled_rows - int(recipe.min_labelled_rows * (1 - recipe.holdout_share))
    if smallest < MIN_GATE_HOLDOUT_ROWS:
        raise ConfigError(
            f"{config.path}: `retraining.min_labelled_rows` ({recipe.min_labelled_rows}) with `retraining.holdout_share` "
            f"({recipe.holdout_share}) lets a candidate be judged on {smallest} holdout row(s); the gate needs at "
            f"least {MIN_GATE_HOLDOUT_ROWS}: raise min_labelled_rows to {int(MIN_GATE_HOLDOUT_ROWS / recipe.holdout_share) + 1} "
            "or more, or raise holdout_share"
        )


def training_set_step(config: ModelConfig, ports: Ports, request: RetrainRequest) -> dict[str, Any]:
    """Write train.parquet and holdout.parquet for the request; refuse when labels are too few."""
    settings = ports.settings
    production = labelled_production_rows(config, ports, request)
    minimum = config.retraining.min_labelled_rows
    if len(production) < minimum:
        raise InsufficientData(
            f"{config.name}: only {len(production)} labelled production rows with mature labels as of "
            f"{request.as_of:%Y-%m-%d %H:%M} (retraining.min_labelled_rows = {minimum}); wait for labels "
            "to mature or widen the training range (train_start) — driftpilot never trains on imputed labels"
        )
    cut = int(len(production) * (1 - config.retraining.holdout_share))
    recent, holdout = production.iloc[:cut], production.iloc[cut:]
    features = [*config.features.all, *[s for s in config.segments if s not in config.features.all]]
    parts = [recent[[*features, config.target]].assign(**{ORIGIN: PRODUCTION})]
    extra = extra_training(config, ports)
    if extra is not None:
        parts.insert(0, extra[[*features, config.target]].assign(**{ORIGIN: EXTRA}))
    if config.retraining.include_original_training:
        original = original_training(config, ports)
        parts.insert(0, original[[*features, config.target]].assign(**{ORIGIN: ORIGINAL}))
    train = pd.concat(parts, ignore_index=True)
    # One type per class in the files the candidate learns from and is judged on, whatever mix
    # of dtypes the original data and the label writers used.
    train[config.target] = ports.trainer.training_target(config, train[config.target]).to_numpy()
    holdout = holdout.assign(**{config.target: ports.trainer.training_target(config, holdout[config.target]).to_numpy()})
    out = work_dir(settings, request)
    ports.files.write_frame(out / "train.parquet", train)
    ports.files.write_frame(out / "holdout.parquet", holdout.reset_index(drop=True))
    summary = {
        **request.to_dict(),
        "train_rows": len(train),
        "production_rows": len(recent),
        "original_rows": int((train[ORIGIN] == ORIGINAL).sum()),
        "extra_rows": int((train[ORIGIN] == EXTRA).sum()),
        "extra_training_data": (None if extra is None else
                                {"path": config.retraining.extra_training_data, "digest": training_data_digest(extra)}),
        "trainer": config.retraining.trainer,
        "holdout_rows": len(holdout),
        "holdout_from": str(holdout[EVENT_TIME].min()),
        "holdout_to": str(holdout[EVENT_TIME].max()),
        "production_from": str(production[EVENT_TIME].min()),
        "work_dir": str(out),
    }
    ports.files.write_json(out / "training_set.json", summary)
    return summary


# --------------------------------------------------------------------------------------------
# 2. candidate
# --------------------------------------------------------------------------------------------


def train_candidate_step(config: ModelConfig, ports: Ports, request: RetrainRequest) -> dict[str, Any]:
    """Fit the config's trainer (seeded), log it with its baseline to MLflow; reuse the run on a re-run.

    The trainer's model is checked and scored on the holdout before the first registry write
    (``usecases/training.py``), so a trainer that fails leaves no run behind.
    """
    settings = ports.settings
    out = work_dir(settings, request)
    experiment = training_experiment(config)
    key = f"candidate:{request.idempotency_key}"
    existing = ports.registry.find_run_by_key(experiment, key)
    if existing is not None:
        _mark_ran(ports, request)
        return {"run_id": existing, "reused": True}
    train = ports.files.read_frame(out / "train.parquet")
    holdout = ports.files.read_frame(out / "holdout.parquet")
    trained = train_model(config, ports, build_training_data(config, "retrain", train, holdout))
    scored = trained.scored_holdout
    metrics = ports.trainer.evaluate(config, holdout[config.target], scored)
    metadata = baseline_metadata(ports.trainer, config, trained.scorer, holdout, metrics, {
        "reason": request.reason,
        "trigger_window": request.window,
        "idempotency_key": request.idempotency_key,
        "train_rows": len(train),
        "trainer": trained.trainer,
        **({"model_uri": trained.uri} if trained.uri else {}),
    })
    baseline_dir = write_baseline(ports.files, config, reference_sample(config, holdout, scored), metadata,
                                  out / "baseline", seen=pd.concat([train, holdout], ignore_index=True))
    run_id = ports.registry.log_model_run(ModelRun(
        experiment=experiment,
        model=trained.model,
        input_example=ports.trainer.feature_frame(config, holdout.head(5)),
        params={**trainer_params(config), "train_rows": len(train), "holdout_rows": len(holdout),
                "reason": request.reason, "trigger_window": request.window, "as_of": request.as_of.isoformat()},
        metrics={f"holdout_{k}": v for k, v in metrics.items()},
        baseline_dir=baseline_dir,
        idempotency_key=key,
        run_name=f"{config.name}-candidate-{request.window}",
        tags={"driftpilot.reason": request.reason[:4000], "driftpilot.trigger_window": request.window,
              TRAINER_TAG: trained.trainer},
        artifacts={"training_set": out / "training_set.json"},
    ))
    _mark_ran(ports, request)
    return {"run_id": run_id, "reused": False, "holdout_metrics": metrics}


def _mark_ran(ports: Ports, request: RetrainRequest) -> None:
    """A candidate exists for the request: from now on it counts for the cooldown and the budget."""
    ports.store.mark_retrain_ran(request.model, request.idempotency_key, request.window,
                                 request.as_of.isoformat(), request.reason)


# --------------------------------------------------------------------------------------------
# 3. champion vs challenger on the same holdout
# --------------------------------------------------------------------------------------------


def _arrays(config: ModelConfig, frame: pd.DataFrame, scored: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Truth, predictions and scores of both models as the gate compares them.

    Classes are compared by canonical key (``categories``), so a holdout label written ``1.0``
    and a champion that predicts ``1`` agree, whatever dtype either side came in.
    """
    truth = _gate_encoding(config, frame[config.target])
    pred = _gate_encoding(config, scored[PREDICTION])
    if config.task is TaskType.REGRESSION:
        return truth, pred, pred
    if config.task is TaskType.MULTICLASS:
        # the class keys themselves: integer codes built per call from the classes each model
        # happens to predict would give champion and challenger different codes for one class
        return truth, pred, np.zeros(len(pred))
    score = scored[SCORE].astype(float).to_numpy() if SCORE in scored.columns else pred.astype(float)
    return truth, pred, score


def _gate_encoding(config: ModelConfig, values: pd.Series) -> np.ndarray:
    """Targets or predictions as the gate compares them: numbers, class keys, or 0/1 for the positive class."""
    if config.task is TaskType.REGRESSION:
        return values.astype(float).to_numpy()
    keys = category_keys(values).fillna("").to_numpy(dtype=object)
    if config.task is TaskType.MULTICLASS:
        return keys
    return (keys == category_key(config.positive_label)).astype(int)


def evaluate_step(config: ModelConfig, ports: Ports, request: RetrainRequest, run_id: str) -> dict[str, Any]:
    """Score champion and challenger on the holdout, apply the gate, log the comparison.

    Runs once per idempotency key: a re-run returns the stored result, because the champion
    may have changed since (even to this very candidate) and a second verdict would contradict
    the tags the registry already holds.
    """
    settings = ports.settings
    out = work_dir(settings, request)
    stored = out / "evaluation.json"
    if ports.files.exists(stored):
        previous = ports.files.read_json(stored)
        # reused only with its verdict in the store (a work folder from before verdicts were kept is re-evaluated)
        if previous.get("run_id") == run_id and ports.store.gate_verdict_of_run(config.name, run_id):
            return {**previous, "reused": True}
    holdout = ports.files.read_frame(out / "holdout.parquet")
    champion_version = ports.registry.alias_version(config.name, CHAMPION)
    if champion_version is None:
        raise InsufficientData(f"{config.name} has no champion to compare with")
    champion = ports.registry.load_model(config.name, champion_version)
    challenger = ports.registry.load_run_model(run_id)
    truth, champion_pred, champion_score = _arrays(config, holdout, ports.trainer.predict(config, champion, holdout))
    _, challenger_pred, challenger_score = _arrays(config, holdout, ports.trainer.predict(config, challenger, holdout))
    segments = holdout[list(config.segments)] if config.segments else None
    # the constant to beat, fitted on what the candidate learned from (never on the holdout)
    train_target = ports.files.read_frame(out / "train.parquet", [config.target])[config.target]
    dummy = gate.dummy_baseline(config.task.value, _gate_encoding(config, train_target.dropna()), len(truth))
    result = gate.evaluate_gate(
        metric=config.promotion.primary_metric,
        truth=truth,
        champion=(champion_pred, champion_score),
        challenger=(challenger_pred, challenger_score),
        min_improvement=config.promotion.min_improvement,
        samples=config.promotion.bootstrap_samples,
        confidence=config.promotion.confidence,
        guard_metrics=config.promotion.guard_metrics,
        segments=segments,
        segment_tolerance=config.promotion.segment_tolerance,
        seed=config.retraining.seed,
        dummy=dummy,
    )
    markdown = gate.comparison_markdown(result, config.name, champion_version, f"run {run_id[:8]}")
    ports.files.write_text(out / "comparison.md", markdown)
    ports.files.write_json(out / "gate.json", result.to_dict())
    ports.registry.log_run_artifacts(
        run_id, {"comparison": out / "comparison.md"},
        metrics={"gate_improvement": result.improvement, "gate_ci_low": result.ci_low, "gate_ci_high": result.ci_high},
        tags={"driftpilot.gate": "passed" if result.passed else "failed", "driftpilot.champion_version": champion_version},
    )
    # The verdict promotion trusts: in driftpilot's store, with the digest of the logged gate record.
    verdict = promotion.record_gate_verdict(ports, config.name, run_id, result.to_dict(),
                                            champion_version, request.as_of.isoformat())
    evaluation = {"passed": result.passed, "champion_version": champion_version, "reasons": list(result.reasons),
                  "champion": result.champion, "challenger": result.challenger, "ci_low": result.ci_low,
                  "ci_high": result.ci_high, "dummy": result.dummy, "dummy_name": result.dummy_name,
                  "comparison": str(out / "comparison.md"), "run_id": run_id,
                  "gate_digest": verdict.digest}
    ports.files.write_json(stored, evaluation)
    return evaluation


# --------------------------------------------------------------------------------------------
# 4. registry: version, alias challenger, approval state
# --------------------------------------------------------------------------------------------


def register_step(config: ModelConfig, ports: Ports, request: RetrainRequest, run_id: str,
                  evaluation: dict[str, Any]) -> dict[str, Any]:
    """Register the candidate (once per key) with tags; alias ``challenger`` if the gate passed.

    Whether it passed is read from driftpilot's store (written by the evaluate step), never from
    the XCom or the registry tags, and the verdict is bound to the new version there.
    """
    verdict = ports.store.gate_verdict_of_run(config.name, run_id)
    if verdict is None:
        raise DriftpilotError(f"{config.name}: no gate verdict recorded for run {run_id} in driftpilot's store; "
                              "clear and re-run the evaluate task of this retraining run")
    passed = verdict.passed
    if not passed and not config.promotion.register_failed_candidates:
        return {"registered": False, "version": None,
                "why": "gate failed and promotion.register_failed_candidates is false: not registered; "
                       + " / ".join(evaluation["reasons"])}
    tags = {
        "driftpilot.reason": request.reason[:4000],
        "driftpilot.trigger_window": request.window,
        "driftpilot.training_window": f"{request.train_start or 'last ' + str(config.retraining.training_days) + ' days'}"
                                      f" .. {request.train_end or request.as_of.date().isoformat()}",
        "driftpilot.source_run": run_id,
        TRAINER_TAG: config.retraining.trainer,
        promotion.GATE: "passed" if passed else "failed",
        promotion.GATE_DIGEST: verdict.digest,
        "driftpilot.gate_summary": " / ".join(evaluation["reasons"])[:4000],
        "driftpilot.comparison": f"runs:/{run_id}/comparison/comparison.md",
    }
    version = ports.registry.register_run(config.name, run_id, f"retrain:{request.idempotency_key}", tags)
    # A reused version keeps the verdict it was registered with; only a step that never finished
    # (crash between registration and the binding / approval tag / alias) is completed here.
    passed = promotion.bind_gate_verdict(ports, config.name, run_id, version.version).passed
    current_tags = ports.registry.version_tags(config.name, version.version)
    if promotion.APPROVAL not in current_tags:
        state = promotion.PENDING if passed else promotion.GATE_FAILED
        ports.registry.set_version_tags(config.name, version.version, {promotion.APPROVAL: state})
        current_tags[promotion.APPROVAL] = state
    challenger = ports.registry.alias_version(config.name, CHALLENGER)
    awaiting = passed and current_tags[promotion.APPROVAL] == promotion.PENDING and not current_tags.get(promotion.PROMOTION)
    if awaiting and (challenger is None or int(challenger) < int(version.version)):
        ports.registry.set_alias(config.name, CHALLENGER, version.version)
    return {"registered": True, "version": version.version, "created": version.created,
            "gate": "passed" if passed else "failed"}


def approval_step(config: ModelConfig, ports: Ports, request: RetrainRequest, registration: dict[str, Any]) -> dict[str, Any]:
    """Auto mode promotes a passed candidate at once; registry mode leaves it awaiting approval."""
    version = registration.get("version")
    if not version or registration.get("gate") != "passed":
        return {"state": "not promoted", "version": version, "why": "the promotion gate did not pass"}
    at = request.as_of.isoformat()
    if config.approval is ApprovalMode.AUTO:
        moves = promotion.approve(ports, config.name, version, "driftpilot (approval: auto)",
                                  "gate passed; the config promotes automatically", at)
        return {"state": "promoted", "version": version, "moves": len(moves)}
    return {
        "state": "awaiting approval",
        "version": version,
        "how": approvals.how_to_decide(config.name, str(version)),
    }


def compare_on_served_windows(config: ModelConfig, ports: Ports, windows: list[str], other_version: str,
                              as_of: datetime) -> dict[str, Any]:
    """Primary metric of what was served in ``windows`` vs what ``other_version`` would have scored.

    A fair before/after: both on exactly the same labelled rows (labels known at ``as_of``). This
    is how the demo shows that a promotion helped, instead of comparing different weeks.
    """
    from datetime import date as date_type

    from driftpilot.usecases.monitor import label_classes, read_labels

    days = [date_type.fromisoformat(w) for w in windows]
    rows = ports.lake.read_partitions(VALIDATED, config.name, days)
    if rows.empty:
        raise InsufficientData(f"no validated rows in windows {windows}")
    labels = read_labels(ports, config, min(days), as_of, label_classes(config, ports, None), record=False).labels
    joined = join_labels(rows, labels, as_of, as_of, 0).joined if not labels.empty else labels
    if joined.empty:
        raise InsufficientData(f"no labels known as of {as_of} for windows {windows}")
    truth = joined["label"].rename(config.target)
    served = ports.trainer.evaluate(config, truth, joined)
    other = ports.trainer.predict(config, ports.registry.load_model(config.name, other_version), joined)
    counterfactual = ports.trainer.evaluate(config, truth, other)
    metric = config.promotion.primary_metric
    return {"metric": metric, "rows": len(joined), "served": served[metric], "other": counterfactual[metric]}
