"""Delayed ground truth: which labels are known at a point in time, and joining them to predictions.

Labels arrive hours or days after the prediction, sometimes twice, sometimes corrected, sometimes
never, and sometimes for prediction ids that were never logged. The rules:

* **as of** a time ``t``, only labels with ``label_time <= t`` exist (labels from the future are
  invisible, which makes every recomputation replayable);
* for a prediction with several labels the **latest wins** (a correction at the same instant as
  the label it corrects wins the tie); all rows are kept in the lake for audit;
* labels for unknown prediction ids are counted and reported, never joined;
* a window is **mature** once ``maturity_hours`` have passed since its end: only then is its
  performance reported as a number. Before that its label coverage is reported.

Nothing here imputes a label: rows without one are simply not part of the performance sample.

Before any of that a label row is **screened** (``screen_labels``): a missing label, a label
that is not one of the model's classes, or a regression label that is not a finite number is
quarantined with a reason and counted, never scored as an error of the model. Prediction ids are
matched by canonical key (``categories.category_key``), so an id logged as ``123`` matches a
label written as ``"123"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from driftpilot.domain.categories import ClassSet, category_keys
from driftpilot.domain.contracts import LABEL, LABEL_SOURCE, LABEL_TIME, PREDICTION_ID

QUARANTINE_REASON = "quarantine_reason"

_SOURCE_PRIORITY = {"correction": 2, "expert": 1}


@dataclass(frozen=True, eq=False)
class ScreenedLabels:
    """Label rows split into usable ones (label as a class key or a float) and quarantined ones."""

    accepted: pd.DataFrame
    quarantined: pd.DataFrame  # the original columns + ``quarantine_reason``

    @property
    def rows_read(self) -> int:
        return len(self.accepted) + len(self.quarantined)


def screen_labels(labels: pd.DataFrame, classes: ClassSet | None) -> ScreenedLabels:
    """Quarantine label rows that cannot be scored (no id, no label, no class); canonicalise the rest.

    ``classes`` is the classifier's class set (``None`` for a regression model, whose labels
    must be finite numbers). Accepted rows carry ``label`` as the class key (classifiers) or a
    float (regression), so every later comparison is dtype-independent.
    """
    raw = labels[LABEL]
    reasons = np.full(len(labels), "", dtype=object)
    missing = raw.isna().to_numpy()
    reasons[missing] = "label is missing"
    no_id = labels[PREDICTION_ID].isna().to_numpy()
    reasons[no_id & ~missing] = "prediction_id is missing"
    missing = missing | no_id
    if classes is None:
        numbers = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = ~missing & ~np.isfinite(numbers.to_numpy())
        reasons[bad] = [f"label {v!r} is not a finite number" for v in raw[bad]]
        clean = numbers
    else:
        clean = classes.keys_of(raw)
        unknown = ~missing & ~clean.isin(set(classes.keys)).to_numpy()
        reasons[unknown] = [f"label {v!r} is not a class of the model {classes.describe()}" for v in raw[unknown]]
    bad_rows = reasons != ""
    accepted = labels.loc[~bad_rows].copy()
    accepted[LABEL] = clean[~bad_rows].to_numpy()
    quarantined = labels.loc[bad_rows].copy()
    quarantined[QUARANTINE_REASON] = reasons[bad_rows]
    return ScreenedLabels(accepted.reset_index(drop=True), quarantined.reset_index(drop=True))


def known_as_of(labels: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Label rows that exist at ``as_of`` (``label_time <= as_of``)."""
    if labels.empty:
        return labels
    return labels[labels[LABEL_TIME] <= pd.Timestamp(as_of)]


def latest_labels(labels: pd.DataFrame) -> pd.DataFrame:
    """One row per prediction id: the latest label (corrections win ties)."""
    if labels.empty:
        return pd.DataFrame(columns=[PREDICTION_ID, LABEL, LABEL_TIME, LABEL_SOURCE])
    priority = labels[LABEL_SOURCE].map(_SOURCE_PRIORITY).fillna(0)
    ordered = labels.assign(_priority=priority).sort_values(
        [PREDICTION_ID, LABEL_TIME, "_priority"], kind="stable"
    )
    return ordered.drop_duplicates(PREDICTION_ID, keep="last").drop(columns="_priority").reset_index(drop=True)


@dataclass(frozen=True)
class LabelJoin:
    """Predictions of a window with their latest known label, and the accounting around it."""

    joined: pd.DataFrame  # the window's rows that have a label, with column ``label``
    predictions: int
    labelled: int
    label_rows_seen: int  # label rows (all versions) for this window's ids
    corrected: int  # predictions whose label changed over time
    mature: bool

    @property
    def coverage(self) -> float:
        return self.labelled / self.predictions if self.predictions else 0.0

    def to_dict(self) -> dict[str, float | int | bool]:
        return {
            "predictions": self.predictions,
            "labelled": self.labelled,
            "label_rows_seen": self.label_rows_seen,
            "corrected": self.corrected,
            "coverage": round(self.coverage, 6),
            "mature": self.mature,
        }


def window_is_mature(window_end: datetime, as_of: datetime, maturity_hours: float) -> bool:
    return as_of >= window_end + timedelta(hours=maturity_hours)


def join_labels(
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    as_of: datetime,
    window_end: datetime,
    maturity_hours: float,
) -> LabelJoin:
    """Join the labels known at ``as_of`` to ``predictions`` by ``prediction_id`` (canonical key)."""
    known = known_as_of(labels, as_of)
    prediction_keys = category_keys(predictions[PREDICTION_ID])
    if not known.empty:
        known = known.assign(**{PREDICTION_ID: category_keys(known[PREDICTION_ID]).to_numpy()})
    mine = known[known[PREDICTION_ID].isin(set(prediction_keys))] if not known.empty else known
    latest = latest_labels(mine)
    corrected = 0
    if not mine.empty:
        corrected = int((mine.groupby(PREDICTION_ID)[LABEL].nunique() > 1).sum())
    keyed = predictions.assign(_prediction_key=prediction_keys.to_numpy())
    found = latest[[PREDICTION_ID, LABEL, LABEL_TIME]].rename(columns={PREDICTION_ID: "_prediction_key"})
    joined = keyed.merge(found, on="_prediction_key", how="inner").drop(columns="_prediction_key")
    return LabelJoin(
        joined=joined,
        predictions=len(predictions),
        labelled=len(joined),
        label_rows_seen=len(mine),
        corrected=corrected,
        mature=window_is_mature(window_end, as_of, maturity_hours),
    )


def unknown_id_count(labels: pd.DataFrame, known_ids: set[str], as_of: datetime) -> int:
    """Distinct prediction ids in the labels known at ``as_of`` that no logged prediction has.

    ``known_ids`` are canonical keys (``categories.category_keys`` of the logged ids).
    """
    known = known_as_of(labels, as_of)
    if known.empty:
        return 0
    ids = category_keys(known[PREDICTION_ID]).drop_duplicates()
    return int((~ids.isin(known_ids)).sum())
