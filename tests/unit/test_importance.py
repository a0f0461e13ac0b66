"""Model-agnostic permutation importance, and scoring models that are not scikit-learn estimators."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from driftpilot.adapters import sklearn_training as training
from driftpilot.domain.importance import permutation_importance
from driftpilot.errors import ConfigError, SchemaViolation


def _frame(n: int = 400, seed: int = 1) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n), "weak": rng.normal(size=n)})
    target = pd.Series((frame["signal"] + 0.3 * frame["weak"] > 0).astype(int))
    return frame, target


def _predict_on(columns: dict[str, float]):  # type: ignore[no-untyped-def]
    def predict(rows: pd.DataFrame) -> pd.DataFrame:
        linear = sum(weight * rows[c].to_numpy() for c, weight in columns.items())
        return pd.DataFrame({"prediction": (linear > 0).astype(int)}, index=rows.index)
    return predict


def _accuracy(truth: pd.Series, scored: pd.DataFrame) -> float:
    return float((truth.to_numpy() == scored["prediction"].to_numpy()).mean())


def test_a_feature_the_model_ignores_has_no_importance_and_the_signal_ranks_first() -> None:
    frame, target = _frame()
    importance = permutation_importance(_predict_on({"signal": 1.0, "weak": 0.3}), _accuracy, frame, target,
                                        ["signal", "noise", "weak"], seed=3)
    assert importance["noise"] == 0.0
    assert importance["signal"] > importance["weak"] > 0.0
    assert importance["signal"] > 0.3  # shuffling the signal leaves a coin toss


def test_it_is_seeded_and_does_not_change_the_frame() -> None:
    frame, target = _frame()
    before = frame.copy()
    run = [permutation_importance(_predict_on({"signal": 1.0, "weak": 0.3}), _accuracy, frame, target,
                                  ["signal", "weak"], seed=7) for _ in range(2)]
    assert run[0] == run[1]
    pd.testing.assert_frame_equal(frame, before)
    other = permutation_importance(_predict_on({"signal": 1.0, "weak": 0.3}), _accuracy, frame, target,
                                   ["signal", "weak"], seed=8)
    assert other != run[0]


def test_a_lower_is_better_metric_counts_a_rise_as_importance() -> None:
    frame, _ = _frame()
    target = pd.Series(2.0 * frame["signal"].to_numpy())

    def predict(rows: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"prediction": 2.0 * rows["signal"].to_numpy()}, index=rows.index)

    def rmse(truth: pd.Series, scored: pd.DataFrame) -> float:
        return float(np.sqrt(((truth.to_numpy() - scored["prediction"].to_numpy()) ** 2).mean()))

    importance = permutation_importance(predict, rmse, frame, target, ["signal", "noise"], higher_is_better=False)
    assert importance["signal"] > 1.0 and importance["noise"] == 0.0


def test_bad_arguments_are_refused() -> None:
    frame, target = _frame()
    with pytest.raises(ValueError, match="not in the frame"):
        permutation_importance(_predict_on({"signal": 1.0}), _accuracy, frame, target, ["missing"])
    with pytest.raises(ValueError, match="rows"):
        permutation_importance(_predict_on({"signal": 1.0}), _accuracy, frame, target.iloc[:10], ["signal"])


# --- scoring objects that are not scikit-learn estimators (sklearn_training.predict) ---


class ProbaOnly:
    """A classifier without ``classes_``: scores in the order of the config's ``classes``."""

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-(frame["nswprice"].to_numpy(dtype=float) - 0.06) * 50))
        return np.column_stack([1 - p, p])


class PredictOnly:
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return frame["nswprice"].to_numpy(dtype=float) * 2


def _rows(elec2_config) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    n = 60
    data = {c: rng.uniform(0, 0.12, n) for c in elec2_config.features.numeric}
    data["day_of_week"] = rng.integers(1, 8, n).astype(str)
    data["class"] = (data["nswprice"] > 0.06).astype(int)
    return pd.DataFrame(data)


def test_a_classifier_without_classes_scores_in_the_configs_class_order(elec2_config) -> None:
    config = dataclasses.replace(elec2_config, classes=(0, 1))
    rows = _rows(elec2_config)
    scored = training.predict(config, ProbaOnly(), rows)
    assert list(scored.columns) == ["score", "prediction"]
    np.testing.assert_allclose(scored["score"], ProbaOnly().predict_proba(rows)[:, 1])
    assert set(scored["prediction"]) <= {0, 1}


def test_without_classes_anywhere_the_error_names_the_config_key(elec2_config) -> None:
    with pytest.raises(ConfigError, match="`classes"):
        training.predict(elec2_config, ProbaOnly(), _rows(elec2_config))


def test_a_model_without_predict_proba_does_not_fit_a_classifier_task(elec2_config) -> None:
    with pytest.raises(SchemaViolation, match="predict_proba"):
        training.predict(elec2_config, PredictOnly(), _rows(elec2_config))


def test_a_regression_model_needs_predict_only(elec2_config) -> None:
    from driftpilot.domain.config import TaskType

    config = dataclasses.replace(elec2_config, task=TaskType.REGRESSION)
    scored = training.predict(config, PredictOnly(), _rows(elec2_config))
    assert list(scored.columns) == ["prediction"]
    np.testing.assert_allclose(scored["prediction"], _rows(elec2_config)["nswprice"] * 2)


def test_score_columns_must_match_the_classes(elec2_config) -> None:
    config = dataclasses.replace(elec2_config, classes=(0, 1, 2))
    with pytest.raises(SchemaViolation, match="one score column per class"):
        training.predict(config, ProbaOnly(), _rows(elec2_config))


def test_feature_importance_works_for_an_object_with_predict_proba_only(elec2_config) -> None:
    config = dataclasses.replace(elec2_config, classes=(0, 1))
    importance = training.feature_importance(config, ProbaOnly(), _rows(elec2_config))
    assert importance["nswprice"] > 0
    assert all(v == 0.0 for c, v in importance.items() if c != "nswprice")
