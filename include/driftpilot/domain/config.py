"""Per-model monitoring config: one YAML file per model, validated on load.

The config is the monitoring *policy* (versioned with the code): what the model is, how its
traffic is windowed and from which day, when labels count as mature, how drift is judged, when to
retrain and how to promote. It describes the monitored model only: how the demo simulates its
traffic is the demo's own business (``include/driftpilot_demo/configs``). Loading fails with a ``ConfigError`` that names the file and the dotted key at fault, so
a typo never turns into a silently ignored setting: unknown keys are errors too.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from driftpilot.errors import ConfigError

if TYPE_CHECKING:  # the domain only needs the type: settings are read by the callers
    from driftpilot.settings import Settings


class TaskType(StrEnum):
    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"


class WhenEmpty(StrEnum):
    """What a monitoring run does with a window that has no inference logs (``window.when_empty``)."""

    FAIL = "fail"  # the run fails, naming the empty partition: a logging pipeline that stopped is noticed
    SKIP = "skip"  # the run skips validation, drift and decision (a model without traffic some days)


class ApprovalMode(StrEnum):
    """Who promotes a challenger that passed the gate."""

    REGISTRY = "registry"  # a person sets the approval tag on the version in the MLflow registry
    AIRFLOW = "airflow"  # a person answers an Airflow human-in-the-loop task
    AUTO = "auto"  # promote as soon as the gate passes


# What the promotion gate computes (``domain/gate.py``: ``metric_value``; a test keeps the two
# equal). Kept here as names because this module must stay importable without numpy: DAG files
# read the configs at parse time. Evidently's report methods are checked by the Evidently adapter
# (``adapters/evidently/methods.py``), which implements them; the domain does not import adapters.
GATE_METRICS = ("accuracy", "brier", "f1", "log_loss", "macro_f1", "mae", "pr_auc", "rmse", "roc_auc")
# Which of them mean something for each task: class metrics for classifiers (the score-based
# ``brier`` / ``log_loss`` / ``roc_auc`` / ``pr_auc`` and the positive class's ``f1`` for binary
# models only, whose gate arrays carry P(positive)), error
# metrics for regression. ``promotion.primary_metric`` and ``guard_metrics`` are checked against it.
TASK_GATE_METRICS = {
    "binary": ("accuracy", "brier", "f1", "log_loss", "macro_f1", "pr_auc", "roc_auc"),
    "multiclass": ("accuracy", "macro_f1"),
    "regression": ("mae", "rmse"),
}
# ``retraining.estimator`` names a built-in recipe; the names are checked by the scikit-learn adapter
# (``adapters/sklearn_training.py``: ``ESTIMATORS``), which implements them, at ``check-config`` and fit.
DEFAULT_ESTIMATOR = "hist_gradient_boosting"
DEFAULT_TRAINER = "sklearn"  # ``domain/trainer_contract.py``: BUILTIN_TRAINER (a test keeps them equal)


@dataclass(frozen=True)
class Features:
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.numeric + self.categorical


@dataclass(frozen=True)
class LabelPolicy:
    maturity_hours: float  # after this, a window's labels are final enough to report performance
    min_labelled_rows: int


@dataclass(frozen=True)
class DriftFloors:
    """Effect-size floors of ``domain/drift.py``: a significant change below its floor is not drift."""

    ks: float = 0.05
    wasserstein: float = 0.1  # in reference standard deviations
    missing: float = 0.02  # absolute change of the missing rate
    tvd: float = 0.05
    unseen: float = 0.02  # share of window rows with a category unseen in the reference
    range: float = 0.02  # excess share of window values outside the reference [min, max]


@dataclass(frozen=True)
class DriftDecision:
    """The statistics that decide drift (``drift.decision``); defaults are ``DriftThresholds``'."""

    family_alpha: float = 0.01  # chance that a stable window raises any column alarm
    floors: DriftFloors = field(default_factory=DriftFloors)

    def thresholds(self) -> dict[str, Any]:
        """Keyword arguments of ``domain.drift.DriftThresholds`` (the config stays numpy-free)."""
        f = self.floors
        return {
            "family_alpha": self.family_alpha,
            "ks_floor": f.ks,
            "wasserstein_floor": f.wasserstein,
            "missing_floor": f.missing,
            "tvd_floor": f.tvd,
            "unseen_floor": f.unseen,
            "range_floor": f.range,
        }


@dataclass(frozen=True)
class DriftSpec:
    """``drift:``: how driftpilot decides drift, and the one drift share.

    ``share`` is the single "dataset drifted" share: driftpilot's verdict, the Evidently report's
    dataset test and the trigger policy (``TriggerPolicy.drift_share`` is filled from it).
    """

    share: float = 0.3
    decision: DriftDecision = field(default_factory=DriftDecision)


@dataclass(frozen=True)
class EvidentlySpec:
    """``reports.evidently:``: the methods of Evidently's human-readable drift report.

    They shape the pages (and the ``evidently.*`` trend rows) only; drift is decided by
    ``drift.decision``. Method names are checked by the Evidently adapter, which implements them.
    """

    num_method: str = "wasserstein"
    cat_method: str = "jensenshannon"
    threshold: float = 0.1
    per_column_method: Mapping[str, str] = field(default_factory=dict)
    max_rows: int = 50_000  # a larger window is reported on a seeded sample of this many rows


@dataclass(frozen=True)
class ReportSpec:
    evidently: EvidentlySpec = field(default_factory=EvidentlySpec)


@dataclass(frozen=True)
class QualitySpec:
    max_failed_row_share: float
    numeric_tolerance: float  # widen the baseline range by this share of its span
    low_confidence_band: float  # |score - 0.5| below this counts as a low-confidence prediction


@dataclass(frozen=True)
class FeatureRule:
    """"``metric`` of ``column`` above ``threshold`` in ``windows`` of the last ``lookback`` windows"."""

    column: str
    metric: str
    threshold: float
    windows: int
    lookback: int


@dataclass(frozen=True)
class TriggerPolicy:
    drift_share: float
    persistence_windows: int  # drift in at least this many ...
    persistence_lookback: int  # ... of the last this many windows
    performance_slo: float | None  # absolute floor for the primary metric
    max_performance_drop: float  # drop vs baseline that confirms a retrain
    min_samples: int
    cooldown_days: float
    max_retrains_per_30_days: int
    retrain_on_drift: bool = False  # persistent drift alone (no label confirmation) retrains
    feature_rules: tuple[FeatureRule, ...] = ()
    cost_of_error: float | None = None  # value lost per wrong prediction, for cost/benefit
    retrain_cost: float | None = None
    cost_horizon_windows: int = 30  # windows a retrained model is expected to serve


@dataclass(frozen=True)
class Recipe:
    """``retraining:``: which trainer fits a model, on what, and how it is held out.

    ``trainer`` is ``sklearn`` (the built-in recipes, ``estimator`` + ``params``), a
    ``package.module:callable`` or an entry point name of the ``driftpilot.trainers`` group
    (``domain/trainer_contract.py``); every trainer gets ``params`` and ``seed``.
    """

    estimator: str
    params: Mapping[str, Any]
    seed: int
    holdout_share: float
    include_original_training: bool
    min_labelled_rows: int
    reference_rows: int
    training_days: int = 28  # production windows (matured labels) a retrain learns from
    trainer: str = DEFAULT_TRAINER
    extra_training_data: str | None = None  # a local Parquet file (absolute path) every retrain also learns from

    @property
    def builtin(self) -> bool:
        """The built-in scikit-learn recipes fit the model (``estimator`` applies)."""
        return self.trainer == DEFAULT_TRAINER


@dataclass(frozen=True)
class PromotionGate:
    primary_metric: str
    min_improvement: float
    bootstrap_samples: int
    confidence: float
    guard_metrics: Mapping[str, float]  # metric -> allowed regression
    register_failed_candidates: bool
    segment_tolerance: float = 0.05  # allowed accuracy drop in any segment of `segments`


@dataclass(frozen=True)
class ModelConfig:
    name: str
    description: str
    task: TaskType
    target: str
    features: Features
    window_days: int
    labels: LabelPolicy
    drift: DriftSpec
    reports: ReportSpec
    quality: QualitySpec
    trigger: TriggerPolicy
    retraining: Recipe
    promotion: PromotionGate
    approval: ApprovalMode
    alert_channels: tuple[str, ...]
    alert_email_to: tuple[str, ...] = ()  # recipients of the `email:<conn_id>` channels
    segments: tuple[str, ...] = ()
    positive_label: Any = 1
    path: str = ""
    classes: tuple[Any, ...] = ()  # declared classes of a classifier (else: the baseline's)
    window_start: str = "2026-01-01"  # ISO date of the first window the DAGs cover
    when_empty: WhenEmpty = WhenEmpty.FAIL  # a window without inference logs fails the run (or skips)

    @property
    def fingerprint(self) -> str:
        """A short stable hash of the settings that shape the initial model (idempotency).

        The training data is not a setting: bootstrap adds its digest to the idempotency key."""
        payload = {
            "task": self.task.value,
            "target": self.target,
            "features": [list(self.features.numeric), list(self.features.categorical)],
            "recipe": [self.retraining.estimator, dict(self.retraining.params), self.retraining.seed],
        }
        if not self.retraining.builtin:  # the built-in recipe keeps the fingerprint it always had
            payload["trainer"] = self.retraining.trainer
        raw = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(raw).hexdigest()[:12]


class _Section:
    """Reads one mapping of the YAML, tracking the dotted key path for error messages."""

    def __init__(self, data: Any, where: str, key: str) -> None:
        self.where = where
        self.key = key
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: `{key or '<top level>'}` must be a mapping, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data
        self._seen: set[str] = set()

    def _name(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def fail(self, name: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: `{self._name(name)}` {problem}")

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str, default: Any = ...) -> Any:
        self._seen.add(name)
        if name not in self.data:
            if default is ...:
                raise self.fail(name, "is required but missing")
            return default
        return self.data[name]

    def section(self, name: str, default: Any = ...) -> _Section:
        value = self.raw(name, default)
        return _Section({} if value is None else value, self.where, self._name(name))

    def string(self, name: str, default: Any = ..., choices: tuple[str, ...] | None = None) -> Any:
        value = self.raw(name, default)
        if value is None and default is None:
            return None
        if not isinstance(value, str) or (not value and value != default):
            raise self.fail(name, f"must be a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(name, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def number(
        self,
        name: str,
        default: Any = ...,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        integer: bool = False,
    ) -> Any:
        value = self.raw(name, default)
        if value is None and default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, f"must be a number, got {value!r}")
        if integer and not float(value).is_integer():
            raise self.fail(name, f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(name, f"must be >= {minimum}, got {value!r}")
        if maximum is not None and value > maximum:
            raise self.fail(name, f"must be <= {maximum}, got {value!r}")
        return int(value) if integer else float(value)

    def boolean(self, name: str, default: Any = ...) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, f"must be true or false, got {value!r}")
        return value

    def strings(self, name: str, default: Any = ...) -> tuple[str, ...]:
        value = self.raw(name, default)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(name, f"must be a list of names, got {value!r}")
        if len(set(value)) != len(value):
            raise self.fail(name, f"lists a name twice: {value!r}")
        return tuple(value)

    def mapping(self, name: str, default: Any = ...) -> dict[str, Any]:
        value = self.raw(name, default)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(name, f"must be a mapping, got {value!r}")
        return dict(value)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self._seen)
        if unknown:
            raise self.fail(unknown[0], f"is not a known setting (known here: {', '.join(sorted(self._seen))})")


# Alert channels name where a secret lives, never the secret: a webhook URL (a Slack incoming
# webhook is one) grants anyone who reads it the right to post, so it belongs in an Airflow
# Connection or an environment variable, not in this versioned file.
_CONN_ID = re.compile(r"[A-Za-z0-9_.-]+")  # an Airflow Connection id
ALERT_CHANNEL_FORMS = {
    "file": None,
    "webhook_conn": _CONN_ID,
    "webhook_env": re.compile(r"[A-Z_][A-Z0-9_]*"),  # an environment variable of the workers
    "slack": _CONN_ID,  # a Slack incoming-webhook Connection (the Slack provider's `slackwebhook`)
    "email": _CONN_ID,  # an SMTP Connection (the SMTP provider's `smtp`); recipients: alert_email_to
}
# One plain address a line: no display name, comma or whitespace (nothing a header could be split on).
_ADDR = r"[^@\s,;<>\"'\x00-\x1f\x7f]+"
_EMAIL = re.compile(rf"{_ADDR}@{_ADDR}\.{_ADDR}")


def _parse_alert_channels(top: _Section) -> tuple[str, ...]:
    raw = top.raw("alert_channels", ["file"])
    entries = list(enumerate(raw)) if isinstance(raw, list) else [(None, raw)]
    for i, entry in entries:
        if isinstance(entry, str) and ("://" in entry or entry.startswith("webhook:")):
            # Checked before anything echoes the value: the message must not repeat the URL.
            raise top.fail(
                "alert_channels" if i is None else f"alert_channels[{i}]",
                "is a webhook URL, which is a secret and must not be in the versioned config. Store it in "
                "an Airflow Connection (e.g. the environment variable AIRFLOW_CONN_DRIFTPILOT_SLACK='<the URL>') "
                "and write `webhook_conn:<conn_id>`, or in an environment variable of the workers and write "
                "`webhook_env:<VAR>`",
            )
    channels = top.strings("alert_channels", ["file"])
    for spec in channels:
        kind, sep, rest = spec.partition(":")
        form = ALERT_CHANNEL_FORMS.get(kind)
        known = kind in ALERT_CHANNEL_FORMS and (form.fullmatch(rest) is not None if form else not sep)
        if not known:
            raise top.fail(
                "alert_channels",
                f"has unknown channel {spec!r}: use `file`, `webhook_conn:<conn_id>` (an Airflow Connection "
                "id), `webhook_env:<VAR>` (an upper-case environment variable name), `slack:<conn_id>` (a Slack "
                "webhook Connection) or `email:<conn_id>` (an SMTP Connection, with `alert_email_to`)",
            )
    return channels


def _parse_alert_email_to(top: _Section, channels: tuple[str, ...]) -> tuple[str, ...]:
    """Recipients of every ``email:`` channel: required with one, refused without (it would do nothing)."""
    recipients = top.strings("alert_email_to", [])
    emails = [c for c in channels if c.startswith("email:")]
    if emails and not recipients:
        raise top.fail("alert_email_to", f"is missing: the channel `{emails[0]}` sends e-mail, so list its "
                       "recipients, e.g. `alert_email_to: [ml-oncall@example.com]`")
    if recipients and not emails:
        raise top.fail("alert_email_to", "is set but no alert channel sends e-mail: add `email:<conn_id>` "
                       "(an SMTP Connection) to `alert_channels`, or remove `alert_email_to`")
    for address in recipients:
        if not _EMAIL.fullmatch(address):
            raise top.fail("alert_email_to", f"has {address!r}, which is not one plain e-mail "
                           "address (name@domain, no display name, comma or spaces): list each address on its own")
    return recipients


def parse_config(data: Any, where: str = "<config>") -> ModelConfig:
    """Validate a parsed YAML document into a ``ModelConfig``; ``where`` names it in errors.

    One small parser per section (``_parse_<section>``), each reading its own keys and failing on
    unknown ones; the checks that span sections (the one drift share, multiclass gate metrics,
    the positive label) follow them.
    """
    top = _Section(data, where, "")
    name, task, target = _parse_identity(top)
    features = _parse_features(top, target)
    segments = top.strings("segments", [])
    window_days, window_start, when_empty = _parse_window(top)
    labels = _parse_labels(top)
    drift, legacy = _parse_drift(top)
    reports = _parse_reports(top, features, legacy)
    quality = _parse_quality(top)
    trigger, trigger_share = _parse_trigger(top, features)
    drift = _one_drift_share(top, drift, legacy, trigger_share)
    trigger = replace(trigger, drift_share=drift.share)
    gate = _parse_promotion(top, task)
    _check_slo_scale(top, gate, trigger)
    config = ModelConfig(
        name=name,
        description=top.string("description", ""),
        task=task,
        target=target,
        features=features,
        window_days=window_days,
        labels=labels,
        drift=drift,
        reports=reports,
        quality=quality,
        trigger=trigger,
        retraining=_parse_retraining(top),
        promotion=gate,
        approval=_parse_approval(top),
        alert_channels=(channels := _parse_alert_channels(top)),
        alert_email_to=_parse_alert_email_to(top, channels),
        segments=segments,
        positive_label=top.raw("positive_label", 1),
        path=where,
        classes=_parse_classes(top, task),
        window_start=window_start,
        when_empty=when_empty,
    )
    top.done()
    _check_positive_label(top, config)
    return config


def _parse_identity(top: _Section) -> tuple[str, TaskType, str]:
    """``name``, ``task`` and ``target``."""
    name = top.string("name")
    if not name.replace("_", "").replace("-", "").isalnum():
        raise top.fail("name", f"must use letters, digits, '_' or '-' only; got {name!r}")
    task_raw = top.string("task")
    try:
        task = TaskType(task_raw)
    except ValueError:
        raise top.fail(
            "task", f"is an unknown task type {task_raw!r}; use one of {', '.join(t.value for t in TaskType)}"
        ) from None
    return name, task, top.string("target")


def _parse_features(top: _Section, target: str) -> Features:
    feats = top.section("features")
    features = Features(numeric=feats.strings("numeric", []), categorical=feats.strings("categorical", []))
    feats.done()
    if not features.all:
        raise top.fail("features", "must list at least one numeric or categorical feature")
    both = set(features.numeric) & set(features.categorical)
    if both:
        raise top.fail("features", f"lists {sorted(both)} as both numeric and categorical")
    if target in features.all:
        raise top.fail("target", f"{target!r} is also listed as a feature (that would leak the label)")
    return features


def _parse_window(top: _Section) -> tuple[int, str, WhenEmpty]:
    """``window:``: its length in days, ``start`` (the first window the DAGs cover) and
    ``when_empty`` (what a run does with a window that has no inference logs)."""
    win = top.section("window", {})
    window_days: int = win.number("days", 1, minimum=1, integer=True)
    window_start = str(win.raw("start", "2026-01-01"))
    try:
        date.fromisoformat(window_start)
    except ValueError:
        raise win.fail("start", f"must be an ISO date like 2026-01-01, got {window_start!r}") from None
    when_empty = WhenEmpty(win.string("when_empty", WhenEmpty.FAIL.value, choices=tuple(w.value for w in WhenEmpty)))
    win.done()
    return window_days, window_start, when_empty


def _parse_labels(top: _Section) -> LabelPolicy:
    lab = top.section("labels")
    labels = LabelPolicy(
        maturity_hours=lab.number("maturity_hours", minimum=0),
        min_labelled_rows=lab.number("min_labelled_rows", 50, minimum=1, integer=True),
    )
    lab.done()
    return labels


# Keys that moved (accepted for one release, with a warning): old dotted key -> new dotted key.
MOVED_KEYS = {
    "drift.num_method": "reports.evidently.num_method",
    "drift.cat_method": "reports.evidently.cat_method",
    "drift.threshold": "reports.evidently.threshold",
    "drift.per_column_method": "reports.evidently.per_column_method",
    "drift.max_report_rows": "reports.evidently.max_rows",
    "drift.drift_share": "drift.share",
    "trigger.drift_share": "drift.share",
}


def _moved(sec: _Section, old: str) -> None:
    """Warn that ``old`` (a key of ``sec``) moved; the value is still used for one release."""
    warnings.warn(
        f"{sec.where}: `{sec._name(old)}` is deprecated and will stop working in the next release; "
        f"write it as `{MOVED_KEYS[sec._name(old)]}` (see README, 'Model config')",
        FutureWarning,
        stacklevel=4,
    )


@dataclass(frozen=True)
class _Legacy:
    """Old ``drift:`` keys found in a config (``MOVED_KEYS``), read where they moved to."""

    where: str
    evidently: Mapping[str, Any]  # old key under drift -> raw value
    share: float | None  # drift.drift_share
    new_share: float | None  # drift.share


_OLD_EVIDENTLY_KEYS = ("num_method", "cat_method", "threshold", "per_column_method", "max_report_rows")


def _parse_drift(top: _Section) -> tuple[DriftSpec, _Legacy]:
    """``drift:``: ``share`` and the ``decision`` block (``family_alpha``, ``floors``)."""
    dr = top.section("drift", {})
    old: dict[str, Any] = {}
    for key in _OLD_EVIDENTLY_KEYS:
        if dr.has(key):
            _moved(dr, key)
            old[key] = dr.raw(key)
    old_share = dr.number("drift_share", None, minimum=0, maximum=1)
    if old_share is not None:
        _moved(dr, "drift_share")
    share = dr.number("share", None, minimum=0, maximum=1)
    de = dr.section("decision", {})
    fl = de.section("floors", {})
    default = DriftFloors()
    floors = DriftFloors(
        ks=fl.number("ks", default.ks, minimum=0, maximum=1),
        wasserstein=fl.number("wasserstein", default.wasserstein, minimum=0),
        missing=fl.number("missing", default.missing, minimum=0, maximum=1),
        tvd=fl.number("tvd", default.tvd, minimum=0, maximum=1),
        unseen=fl.number("unseen", default.unseen, minimum=0, maximum=1),
        range=fl.number("range", default.range, minimum=0, maximum=1),
    )
    fl.done()
    # A family level is a probability of a false alarm: above 0.5 a stable window alarms half the time.
    decision = DriftDecision(
        family_alpha=de.number("family_alpha", DriftDecision.family_alpha, minimum=1e-12, maximum=0.5),
        floors=floors,
    )
    de.done()
    dr.done()
    spec = DriftSpec(share=DriftSpec.share if share is None else share, decision=decision)
    return spec, _Legacy(top.where, old, old_share, share)


def _parse_reports(top: _Section, features: Features, legacy: _Legacy) -> ReportSpec:
    """``reports.evidently:``: Evidently's report methods (shape only: names are the adapter's)."""
    rp = top.section("reports", {})
    ev = rp.section("evidently", {})
    max_rows = "max_rows"
    if legacy.evidently:
        if ev.data:
            raise rp.fail("evidently", "is set together with the deprecated "
                          f"{', '.join(f'`drift.{k}`' for k in legacy.evidently)}; keep `reports.evidently` only")
        ev = _Section(legacy.evidently, legacy.where, "drift")  # read them where they are, for messages
        max_rows = "max_report_rows"
    per_column = {str(k): v for k, v in ev.mapping("per_column_method", {}).items()}
    for column, method in per_column.items():
        if column not in features.all:
            raise ev.fail("per_column_method", f"names {column!r}, which is not a feature")
        if not isinstance(method, str) or not method:
            raise ev.fail("per_column_method", f"gives {column!r} the method {method!r}; write a method name")
    default = EvidentlySpec()
    spec = EvidentlySpec(
        num_method=ev.string("num_method", default.num_method),
        cat_method=ev.string("cat_method", default.cat_method),
        threshold=ev.number("threshold", default.threshold, minimum=0),
        per_column_method=per_column,
        max_rows=ev.number(max_rows, default.max_rows, minimum=100, integer=True),
    )
    ev.done()
    rp.done()
    return ReportSpec(evidently=spec)


def _one_drift_share(top: _Section, drift: DriftSpec, legacy: _Legacy, trigger_share: float | None) -> DriftSpec:
    """The one drift share: ``drift.share``, or the deprecated ``drift.drift_share`` /
    ``trigger.drift_share``; set in several places, they must agree."""
    given = {key: value for key, value in (("drift.share", legacy.new_share), ("drift.drift_share", legacy.share),
                                           ("trigger.drift_share", trigger_share)) if value is not None}
    if len(set(given.values())) > 1:
        raise ConfigError(
            f"{top.where}: {' and '.join(f'`{k}` ({v})' for k, v in given.items())} are one setting now "
            "(the share of drifted features that makes a window drifted); write a single `drift.share`")
    return replace(drift, share=next(iter(given.values()))) if given else drift


def _parse_quality(top: _Section) -> QualitySpec:
    qu = top.section("quality", {})
    quality = QualitySpec(
        max_failed_row_share=qu.number("max_failed_row_share", 0.2, minimum=0, maximum=1),
        numeric_tolerance=qu.number("numeric_tolerance", 0.5, minimum=0),
        low_confidence_band=qu.number("low_confidence_band", 0.1, minimum=0, maximum=0.5),
    )
    qu.done()
    return quality


def _parse_trigger(top: _Section, features: Features) -> tuple[TriggerPolicy, float | None]:
    """``trigger:`` and the deprecated ``trigger.drift_share`` (``drift_share`` is filled later)."""
    tr = top.section("trigger", {})
    old_share = tr.number("drift_share", None, minimum=0, maximum=1)
    if old_share is not None:
        _moved(tr, "drift_share")
    trigger = TriggerPolicy(
        drift_share=DriftSpec.share,
        persistence_windows=tr.number("persistence_windows", 2, minimum=1, integer=True),
        persistence_lookback=tr.number("persistence_lookback", 3, minimum=1, integer=True),
        performance_slo=tr.number("performance_slo", None, minimum=0),
        max_performance_drop=tr.number("max_performance_drop", 0.05, minimum=0),
        min_samples=tr.number("min_samples", 100, minimum=1, integer=True),
        cooldown_days=tr.number("cooldown_days", 7, minimum=0),
        max_retrains_per_30_days=tr.number("max_retrains_per_30_days", 3, minimum=1, integer=True),
        retrain_on_drift=tr.boolean("retrain_on_drift", False),
        feature_rules=tuple(
            _parse_feature_rule(r, top.where, f"trigger.feature_rules[{i}]", features)
            for i, r in enumerate(tr.raw("feature_rules", []) or [])
        ),
        cost_of_error=tr.number("cost_of_error", None, minimum=0),
        retrain_cost=tr.number("retrain_cost", None, minimum=0),
        cost_horizon_windows=tr.number("cost_horizon_windows", 30, minimum=1, integer=True),
    )
    tr.done()
    if (trigger.cost_of_error is None) != (trigger.retrain_cost is None):
        raise tr.fail("retrain_cost", "and `cost_of_error` must be set together (cost/benefit rule)")
    if trigger.persistence_windows > trigger.persistence_lookback:
        raise tr.fail("persistence_windows", "cannot exceed `persistence_lookback`")
    return trigger, old_share


def _parse_retraining(top: _Section) -> Recipe:
    """``retraining:``; the trainer's syntax is checked here, its import by the trainer adapter."""
    from driftpilot.domain.trainer_contract import parse_trainer_ref

    re_ = top.section("retraining", {})
    trainer = re_.string("trainer", DEFAULT_TRAINER)
    try:
        parse_trainer_ref(trainer)
    except ValueError as exc:
        raise re_.fail("trainer", f"{exc}; write `{DEFAULT_TRAINER}` (the built-in recipes), "
                       "`package.module:callable` or an entry point name") from None
    if trainer != DEFAULT_TRAINER and re_.has("estimator"):
        raise re_.fail("estimator", f"chooses a built-in recipe, but `retraining.trainer` is {trainer!r}: remove "
                       "`estimator` (your trainer gets `params` and `seed`) or set `trainer: sklearn`")
    recipe = Recipe(
        estimator=re_.string("estimator", DEFAULT_ESTIMATOR),
        trainer=trainer,
        extra_training_data=_extra_training_data(re_),
        params=re_.mapping("params", {}),
        seed=re_.number("seed", 42, minimum=0, integer=True),
        holdout_share=re_.number("holdout_share", 0.2, minimum=0.05, maximum=0.5),
        include_original_training=re_.boolean("include_original_training", True),
        min_labelled_rows=re_.number("min_labelled_rows", 500, minimum=10, integer=True),
        reference_rows=re_.number("reference_rows", 5000, minimum=100, integer=True),
        training_days=re_.number("training_days", 28, minimum=1, integer=True),
    )
    re_.done()
    return recipe


def _extra_training_data(re_: _Section) -> str | None:
    """``retraining.extra_training_data``: a local Parquet path or ``file://`` URI, made absolute.

    A relative path is relative to the config file's folder (the config and the data it names
    travel together). Only local files: the lake and work files are local paths today.
    """
    raw = re_.string("extra_training_data", None)
    if raw is None:
        return None
    path = raw
    if "://" in raw:
        scheme, _, rest = raw.partition("://")
        if scheme != "file":
            raise re_.fail("extra_training_data", f"is a {scheme}:// URI; only local files are supported (a path or a "
                           "file:// URI): copy the data to a path every worker can read")
        path = rest
    if not path.endswith(".parquet"):
        raise re_.fail("extra_training_data", f"must name a .parquet file, got {raw!r}")
    resolved = Path(path)
    if not resolved.is_absolute():
        base = Path(re_.where).parent if re_.where.endswith((".yaml", ".yml")) else Path()
        resolved = base / resolved
    return str(resolved.resolve())  # absolute: a worker in another folder reads the same file


def _parse_promotion(top: _Section, task: TaskType) -> PromotionGate:
    pr = top.section("promotion", {})
    default_metric = "rmse" if task is TaskType.REGRESSION else "accuracy"
    guards = {str(k): float(v) for k, v in pr.mapping("guard_metrics", {}).items()}
    for guard in guards:
        if guard not in GATE_METRICS:
            raise pr.fail("guard_metrics", f"names {guard!r}; the gate computes {', '.join(GATE_METRICS)}")
    gate = PromotionGate(
        primary_metric=pr.string("primary_metric", default_metric, choices=GATE_METRICS),
        min_improvement=pr.number("min_improvement", 0.0),
        bootstrap_samples=pr.number("bootstrap_samples", 1000, minimum=100, integer=True),
        confidence=pr.number("confidence", 0.95, minimum=0.5, maximum=0.999),
        guard_metrics=guards,
        register_failed_candidates=pr.boolean("register_failed_candidates", True),
        segment_tolerance=pr.number("segment_tolerance", 0.05, minimum=0),
    )
    pr.done()
    allowed = TASK_GATE_METRICS[task.value]
    if gate.primary_metric not in allowed:
        raise pr.fail("primary_metric", f"is {gate.primary_metric!r}, which does not apply to a {task.value} model; "
                                        f"use one of {', '.join(allowed)}")
    wrong = sorted(set(gate.guard_metrics) - set(allowed))
    if wrong:
        raise pr.fail("guard_metrics", f"names {wrong}, which do not apply to a {task.value} model; "
                                       f"use {', '.join(allowed)}")
    return gate


def _check_slo_scale(top: _Section, gate: PromotionGate, trigger: TriggerPolicy) -> None:
    """A class metric lies in [0, 1]: an SLO or an allowed drop above 1 can never fire (or always
    fires), which is a unit mistake, e.g. an RMSE threshold left on a classifier."""
    if gate.primary_metric in ("mae", "rmse"):
        return
    for key, value in (("performance_slo", trigger.performance_slo), ("max_performance_drop", trigger.max_performance_drop)):
        if value is not None and value > 1:
            raise ConfigError(f"{top.where}: `trigger.{key}` is {value}, but the primary metric "
                              f"{gate.primary_metric!r} lies between 0 and 1; write it on that scale")


def _parse_approval(top: _Section) -> ApprovalMode:
    approval_raw = top.string("approval", "registry")
    try:
        return ApprovalMode(approval_raw)
    except ValueError:
        raise top.fail(
            "approval", f"must be one of {', '.join(m.value for m in ApprovalMode)}; got {approval_raw!r}"
        ) from None




# Per-column scores the drift step stores (``drift.<name>`` in the metrics history).
DRIFT_METRICS = ("psi", "jensen_shannon", "wasserstein_norm", "ks", "tvd", "effect", "unseen_share")


def _parse_classes(top: _Section, task: TaskType) -> tuple[Any, ...]:
    """``classes``: the classes a classifier predicts, in any scalar spelling (see ``categories``)."""
    from driftpilot.domain.categories import category_key

    raw = top.raw("classes", None)
    if raw is None:
        return ()
    if task is TaskType.REGRESSION:
        raise top.fail("classes", "is for classifiers only; a regression model has no classes")
    if not isinstance(raw, list) or not all(isinstance(v, str | int | float | bool) for v in raw):
        raise top.fail("classes", f"must be a list of class values (numbers or strings), got {raw!r}")
    keys = [category_key(v) for v in raw]
    if any(k is None or k == "" for k in keys):
        raise top.fail("classes", f"holds a missing or empty class: {raw!r}")
    if len(set(keys)) != len(keys):
        raise top.fail("classes", f"names one class twice (1, 1.0 and true are the same class): {raw!r}")
    if task is TaskType.BINARY and len(keys) != 2:
        raise top.fail("classes", f"of a binary model must name exactly 2 classes, got {len(keys)}: {raw!r}")
    if len(keys) < 2:
        raise top.fail("classes", f"must name at least 2 classes, got {raw!r}")
    return tuple(raw)


def _check_positive_label(top: _Section, config: ModelConfig) -> None:
    from driftpilot.domain.categories import category_key

    if config.task is not TaskType.BINARY:
        return
    positive = category_key(config.positive_label)
    if positive is None or positive == "":
        raise top.fail("positive_label", f"must be a class value, got {config.positive_label!r}")
    declared = [category_key(v) for v in config.classes]
    if declared and positive not in declared:
        raise top.fail("positive_label", f"{config.positive_label!r} is not one of `classes` {list(config.classes)}")


def _parse_feature_rule(data: Any, where: str, key: str, features: Features) -> FeatureRule:
    sec = _Section(data, where, key)
    column = sec.string("column")
    if column not in features.all:
        raise sec.fail("column", f"names {column!r}, which is not a feature")
    rule = FeatureRule(
        column=column,
        metric=sec.string("metric", choices=DRIFT_METRICS),
        threshold=sec.number("threshold", minimum=0),
        windows=sec.number("windows", 1, minimum=1, integer=True),
        lookback=sec.number("lookback", 1, minimum=1, integer=True),
    )
    sec.done()
    if rule.windows > rule.lookback:
        raise sec.fail("windows", "cannot exceed `lookback`")
    return rule


def load_config(path: Path) -> ModelConfig:
    """Load and validate one YAML config file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read model config: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_config(data, str(path))


def load_all_configs(config_dir: Path) -> dict[str, ModelConfig]:
    """Every ``*.yaml`` in ``config_dir`` by model name; duplicate names are an error."""
    configs: dict[str, ModelConfig] = {}
    for path in sorted(config_dir.glob("*.yaml")):
        config = load_config(path)
        if config.name in configs:
            raise ConfigError(f"{path}: model name {config.name!r} is already used by {configs[config.name].path}")
        configs[config.name] = config
    return configs


def model_config(settings: Settings, name: str) -> ModelConfig:
    """The config of model ``name`` among those in ``settings.config_dir`` (what the DAGs load)."""
    configs = load_all_configs(settings.config_dir)
    if name not in configs:
        raise ConfigError(f"no model named {name!r} in {settings.config_dir} (known: {', '.join(sorted(configs))})")
    return configs[name]


def check_columns(config: ModelConfig, columns: list[str], what: str) -> None:
    """Fail when ``columns`` (of a dataset or log) lacks a feature or the target of ``config``."""
    needed = [*config.features.all, config.target, *config.segments]
    missing = [c for c in needed if c not in columns]
    if missing:
        raise ConfigError(
            f"{config.path}: {what} has no column(s) {missing} named in the config "
            f"(available: {sorted(columns)})"
        )
