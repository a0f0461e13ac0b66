"""One identity for classes and categories: the same class is the same key whatever its dtype.

Reproduces the field reports: float labels 0.0/1.0 against int predictions scored 0.000; an
integer-coded category stored as '1.0' in a profile became 100 % unseen against a window of
'1'; a prediction column pandas wrote as float64 (one NaN) was "unknown classes".
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftpilot.adapters import sklearn_training as training
from driftpilot.domain import drift, drift_stats, gate
from driftpilot.domain.categories import (
    ClassSet,
    category_key,
    category_keys,
    legacy_profile_keys,
    with_canonical_columns,
)
from driftpilot.domain.config import TaskType
from driftpilot.domain.contracts import PREDICTION, SCORE
from driftpilot.domain.labels import screen_labels
from driftpilot.domain.profile import build_profile, canonical_profile
from driftpilot.usecases import retrain as retraining

# Ways a writer may spell the classes 0 and 1.
SPELLINGS = {
    "int64": lambda v: pd.Series(v, dtype="int64"),
    "int8": lambda v: pd.Series(v, dtype="int8"),
    "float64": lambda v: pd.Series(v, dtype="float64"),
    "float32": lambda v: pd.Series(v, dtype="float32"),
    "Int64": lambda v: pd.Series(v, dtype="Int64"),
    "bool": lambda v: pd.Series(np.asarray(v, dtype=bool)),
    "str": lambda v: pd.Series([str(x) for x in v], dtype=object),
    "numpy objects": lambda v: pd.Series([np.int64(x) for x in v], dtype=object),
    "mixed objects": lambda v: pd.Series([x if i % 3 == 0 else float(x) if i % 3 == 1 else str(x)
                                          for i, x in enumerate(v)], dtype=object),
}


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (1, "1"), (1.0, "1"), (np.int64(1), "1"), (np.float32(1.0), "1"), (True, "1"), (False, "0"),
        ("1", "1"), ("01", "01"), ("yes", "yes"), (0.5, "0.5"), (-3.0, "-3"), (float("inf"), "inf"),
        (None, None), (float("nan"), None), (pd.NA, None), (np.nan, None), (2**40 + 0.0, str(2**40)),
    ],
)
def test_category_key(value, key) -> None:
    assert category_key(value) == key


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_vectorised_keys_match_the_scalar_rule(spelling) -> None:
    values = SPELLINGS[spelling]([0, 1, 1, 0, 1])
    assert list(category_keys(values)) == ["0", "1", "1", "0", "1"]


def test_missing_values_have_no_key_in_every_dtype() -> None:
    for series in (pd.Series([1.0, np.nan]), pd.Series([1, None], dtype="Int64"),
                   pd.Series(["a", None]), pd.Series([True, None], dtype="boolean")):
        keys = category_keys(series)
        assert keys.iloc[1] is None and keys.iloc[0] is not None


def test_class_set_maps_numeric_strings_to_numeric_classes_only() -> None:
    classes = ClassSet.of([0, 1], "config")
    assert list(classes.keys_of(pd.Series(["1.0", " 0 ", "yes", 1.0]))) == ["1", "0", "yes", "1"]
    assert list(classes.unknown(pd.Series(["1.0", "yes", None]))) == [False, True, False]
    assert classes.typed(pd.Series([1.0, "0", True])).tolist() == [1, 0, 1]
    words = ClassSet.of(["no", "yes"], "config")
    assert not words.numeric
    with pytest.raises(ValueError, match="not among the classes"):
        words.typed(pd.Series(["yes", "maybe"]))


def test_labels_that_are_no_class_are_quarantined_not_scored() -> None:
    labels = pd.DataFrame({
        "prediction_id": ["a", "b", "c", "d", "e"],
        "label": pd.Series([1.0, "yes", None, "0", 0], dtype=object),
        "label_time": pd.Timestamp("2026-01-01", tz="UTC"),
        "source": "system",
    })
    screened = screen_labels(labels, ClassSet.of([0, 1], "baseline"))
    assert list(screened.accepted["label"]) == ["1", "0", "0"]
    assert list(screened.quarantined["prediction_id"]) == ["b", "c"]
    assert screened.quarantined["quarantine_reason"].tolist() == [
        "label 'yes' is not a class of the model {0, 1} (from the baseline)", "label is missing"]
    assert screened.rows_read == len(labels)


def test_regression_labels_must_be_numbers() -> None:
    labels = pd.DataFrame({"prediction_id": ["a", "b", "c"], "label": pd.Series([1.5, "x", "2"], dtype=object),
                           "label_time": pd.Timestamp("2026-01-01", tz="UTC"), "source": "system"})
    screened = screen_labels(labels, None)
    assert screened.accepted["label"].tolist() == [1.5, 2.0]
    assert "not a finite number" in screened.quarantined["quarantine_reason"].iloc[0]


def test_a_profile_of_floats_and_a_window_of_ints_share_categories() -> None:
    reference = pd.DataFrame({"code": [1.0, 2.0, np.nan, 3.0, 1.0]})  # pandas' int column with a gap
    profile = build_profile(reference, (), ("code",))
    assert profile["columns"]["code"]["frequencies"] == {"1": 2, "2": 1, "3": 1}
    window = pd.DataFrame({"code": pd.Series([1, 2, 3, 1], dtype="int64")})
    stats = drift_stats.stats_from_frame(window, profile, [], ["code"])
    assert stats.columns["code"].unseen == 0


def test_a_legacy_profile_is_rekeyed_when_loaded() -> None:
    legacy = {"profile_version": 2, "columns": {"code": {"kind": "categorical", "count": 3, "missing": 1,
                                                         "frequencies": {"1.0": 2, "2.0": 1}}},
              "predictions": {"prediction": {"kind": "categorical", "frequencies": {"True": 5, "False": 4}}}}
    canonical = canonical_profile(legacy)
    assert canonical["columns"]["code"]["frequencies"] == {"1": 2, "2": 1}
    assert canonical["predictions"]["prediction"]["frequencies"] == {"0": 4, "1": 5}
    assert legacy_profile_keys({"01": 1, "1.5": 2, "a": 3}) == {"01": 1, "1.5": 2, "a": 3}


# ---- property: any mix of dtypes gives identical metrics, drift and gate results -------------

_RNG_ROWS = 60


def _binary_config(elec2_config):
    return dataclasses.replace(elec2_config, task=TaskType.BINARY, positive_label=1)


@settings(max_examples=25, deadline=None)
@given(
    truth=st.lists(st.integers(0, 1), min_size=_RNG_ROWS, max_size=_RNG_ROWS),
    flips=st.lists(st.booleans(), min_size=_RNG_ROWS, max_size=_RNG_ROWS),
    label_spelling=st.sampled_from(sorted(SPELLINGS)),
    prediction_spelling=st.sampled_from(sorted(SPELLINGS)),
)
def test_any_dtype_mix_gives_the_same_verdicts(elec2_config, truth, flips, label_spelling, prediction_spelling) -> None:
    config = _binary_config(elec2_config)
    predicted = [t if not f else 1 - t for t, f in zip(truth, flips, strict=True)]
    scores = np.linspace(0.05, 0.95, _RNG_ROWS)

    def verdicts(labels: pd.Series, predictions: pd.Series) -> tuple:
        scored = pd.DataFrame({PREDICTION: predictions, SCORE: scores})
        metrics = training.evaluate(config, labels, scored)
        frame = pd.DataFrame({config.target: labels})
        truth_codes, pred_codes, score = retraining._arrays(config, frame, scored)
        result = gate.evaluate_gate(
            metric="accuracy", truth=truth_codes, champion=(pred_codes, score),
            challenger=(1 - pred_codes, score), min_improvement=0.0, samples=200,
            confidence=0.95, guard_metrics={"brier": 0.5}, seed=0,
        )
        profile = build_profile(pd.DataFrame({PREDICTION: SPELLINGS["int64"](predicted)}), (), (),
                                prediction_categorical=(PREDICTION,))
        # as the validated window is written: a column of mixed Python types as canonical keys
        window = with_canonical_columns(pd.DataFrame({PREDICTION: predictions}), [PREDICTION])
        stats = drift_stats.stats_from_frame(window, profile, [], [PREDICTION])
        column = drift.score_window(profile, stats).predictions[0]
        return (metrics, result.to_dict(), column.tvd, column.unseen_share)

    reference = verdicts(SPELLINGS["int64"](truth), SPELLINGS["int64"](predicted))
    assert reference[0]["accuracy"] == pytest.approx(np.mean(np.asarray(truth) == np.asarray(predicted)))
    assert verdicts(SPELLINGS[label_spelling](truth), SPELLINGS[prediction_spelling](predicted)) == reference


def test_string_classes_that_look_like_numbers_stay_strings() -> None:
    """Zero-padded codes are strings, not the integers they resemble ("01" is not class 1)."""
    classes = ClassSet.of(["01", "02", "03"], "config")
    assert not classes.numeric
    assert classes.typed(pd.Series(["01", "03"])).tolist() == ["01", "03"]
    assert set(ClassSet.of(["1", "01"], "config").keys) == {"1", "01"}  # two classes, not one
    assert ClassSet.of(["7", "-3"], "baseline").numeric


def test_unsigned_ids_keep_their_value() -> None:
    ids = pd.Series([2**64 - 1, 5], dtype="uint64")
    assert list(category_keys(ids)) == [str(2**64 - 1), "5"]
    assert list(category_keys(ids.astype(object))) == list(category_keys(ids))


def test_a_label_row_without_an_id_is_quarantined_alone() -> None:
    labels = pd.DataFrame({"prediction_id": ["a", None, "c"], "label": [1, 0, 1],
                           "label_time": pd.Timestamp("2026-01-01", tz="UTC"), "source": "system"})
    screened = screen_labels(labels, ClassSet.of([0, 1], "config"))
    assert list(screened.accepted["prediction_id"]) == ["a", "c"]
    assert screened.quarantined["quarantine_reason"].tolist() == ["prediction_id is missing"]


@pytest.mark.parametrize("spelling", ["float with a gap", "strings", "mixed objects"])
def test_a_model_scores_categories_the_same_whatever_their_dtype(census_config, spelling) -> None:
    """Fitting on integer codes and scoring float / string / mixed spellings gives the same predictions
    (and fitting on a float column with a missing value, or on mixed types, does not crash)."""
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({c: rng.normal(size=n) for c in census_config.features.numeric})
    for c in census_config.features.categorical:
        frame[c] = rng.integers(1, 5, size=n)
    frame[census_config.target] = (frame[census_config.features.numeric[0]] > 0).astype(int)
    model = training.fit(census_config, frame)
    column = census_config.features.categorical[0]
    respelled = frame.copy()
    if spelling == "float with a gap":
        respelled[column] = frame[column].astype(float)
        respelled.loc[0, column] = np.nan
    elif spelling == "strings":
        respelled[column] = frame[column].astype(str)
    else:
        respelled[column] = pd.Series([v if i % 2 else str(v) for i, v in enumerate(frame[column])], dtype=object)
    expected = training.predict(census_config, model, frame)
    got = training.predict(census_config, model, respelled)
    same = (expected[PREDICTION] == got[PREDICTION]).iloc[1:]
    assert same.all()
    training.fit(census_config, respelled)  # fitting on the respelled column works too
