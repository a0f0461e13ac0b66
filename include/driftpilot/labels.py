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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from driftpilot.contracts import LABEL, LABEL_SOURCE, LABEL_TIME, PREDICTION_ID

_SOURCE_PRIORITY = {"correction": 2, "expert": 1}


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
    """Join the labels known at ``as_of`` to ``predictions`` by ``prediction_id``."""
    known = known_as_of(labels, as_of)
    ids = set(predictions[PREDICTION_ID])
    mine = known[known[PREDICTION_ID].isin(ids)] if not known.empty else known
    latest = latest_labels(mine)
    corrected = 0
    if not mine.empty:
        corrected = int((mine.groupby(PREDICTION_ID)[LABEL].nunique() > 1).sum())
    joined = predictions.merge(latest[[PREDICTION_ID, LABEL, LABEL_TIME]], on=PREDICTION_ID, how="inner")
    return LabelJoin(
        joined=joined,
        predictions=len(predictions),
        labelled=len(joined),
        label_rows_seen=len(mine),
        corrected=corrected,
        mature=window_is_mature(window_end, as_of, maturity_hours),
    )


def unknown_id_count(labels: pd.DataFrame, known_ids: set[str], as_of: datetime) -> int:
    """Distinct prediction ids in the labels known at ``as_of`` that no logged prediction has."""
    known = known_as_of(labels, as_of)
    if known.empty:
        return 0
    return int((~known[PREDICTION_ID].drop_duplicates().isin(known_ids)).sum())
