from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from driftpilot.domain.labels import join_labels, known_as_of, latest_labels, unknown_id_count

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def labels(*rows: tuple[str, int, float, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"prediction_id": p, "label": v, "label_time": pd.Timestamp(T0 + timedelta(hours=h)), "source": s}
         for p, v, h, s in rows]
    )


PREDICTIONS = pd.DataFrame({"prediction_id": ["a", "b", "c", "d"], "prediction": [1, 0, 1, 0]})


def test_latest_label_wins_and_corrections_win_ties() -> None:
    frame = labels(("a", 0, 5, "outcome"), ("a", 1, 9, "correction"), ("b", 1, 7, "correction"), ("b", 0, 7, "outcome"))
    latest = latest_labels(frame).set_index("prediction_id")["label"]
    assert latest.to_dict() == {"a": 1, "b": 1}


def test_future_labels_are_invisible() -> None:
    frame = labels(("a", 1, 5, "outcome"), ("b", 0, 50, "outcome"))
    assert known_as_of(frame, T0 + timedelta(hours=10))["prediction_id"].tolist() == ["a"]


def test_join_counts_coverage_corrections_and_maturity() -> None:
    frame = labels(("a", 0, 5, "outcome"), ("a", 1, 9, "correction"), ("b", 1, 7, "outcome"),
                   ("zzz", 1, 3, "outcome"), ("c", 1, 200, "outcome"))
    window_end = T0 + timedelta(days=1)
    early = join_labels(PREDICTIONS, frame, T0 + timedelta(hours=30), window_end, maturity_hours=96)
    assert (early.predictions, early.labelled, early.corrected, early.mature) == (4, 2, 1, False)
    assert early.coverage == 0.5
    assert dict(zip(early.joined["prediction_id"], early.joined["label"], strict=True)) == {"a": 1, "b": 1}
    late = join_labels(PREDICTIONS, frame, T0 + timedelta(hours=300), window_end, maturity_hours=96)
    assert (late.labelled, late.mature) == (3, True)
    assert "d" not in set(late.joined["prediction_id"])  # never labelled: not imputed
    assert unknown_id_count(frame, set(PREDICTIONS["prediction_id"]), T0 + timedelta(hours=300)) == 1


def test_no_labels_at_all() -> None:
    empty = pd.DataFrame(columns=["prediction_id", "label", "label_time", "source"])
    result = join_labels(PREDICTIONS, empty, T0, T0, 1)
    assert result.labelled == 0
    assert result.coverage == 0.0
