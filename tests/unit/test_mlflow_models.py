"""What driftpilot reads from a pyfunc's output, and which objects go through which MLflow flavour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftpilot.adapters.mlflow_models import PyfuncModel, is_sklearn_estimator
from driftpilot.errors import SchemaViolation

ROWS = pd.DataFrame({"x": [0.1, 0.9, 0.4]})


class Outputs:
    """Stands for a loaded pyfunc: ``predict`` returns whatever the test hands it."""

    def __init__(self, output: object) -> None:
        self.output = output

    def predict(self, frame: pd.DataFrame) -> object:
        return self.output


def test_a_per_class_dataframe_gives_scores_and_classes() -> None:
    model = PyfuncModel(Outputs(pd.DataFrame({"down": [0.8, 0.3, 0.6], "up": [0.2, 0.7, 0.4]})), "models:/m/1")
    assert not hasattr(model, "classes_")  # unknown until the pyfunc has answered
    np.testing.assert_allclose(model.predict_proba(ROWS), [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert list(model.classes_) == ["down", "up"]
    assert list(model.predict(ROWS)) == ["down", "up", "down"]


def test_an_unnamed_matrix_gives_scores_but_no_classes() -> None:
    model = PyfuncModel(Outputs(np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])), "models:/m/1")
    assert model.predict_proba(ROWS).shape == (3, 2)
    assert not hasattr(model, "classes_")  # the config's `classes` name the columns


def test_one_value_per_row_is_a_prediction_not_scores() -> None:
    for output in ([1.5, 2.5, 3.5], pd.Series([1.5, 2.5, 3.5]), pd.DataFrame({"y": [1.5, 2.5, 3.5]})):
        model = PyfuncModel(Outputs(output), "runs:/r/model")
        np.testing.assert_allclose(model.predict(ROWS), [1.5, 2.5, 3.5])
        with pytest.raises(SchemaViolation, match="runs:/r/model returns one value per row"):
            model.predict_proba(ROWS)


def test_an_output_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(SchemaViolation, match="shape"):
        PyfuncModel(Outputs([1.0, 2.0]), "models:/m/1").predict(ROWS)


def test_only_scikit_learn_estimators_take_the_sklearn_flavour() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    assert is_sklearn_estimator(LogisticRegression())
    assert is_sklearn_estimator(Pipeline([("m", LogisticRegression())]))
    assert not is_sklearn_estimator(Outputs(None))
    assert not is_sklearn_estimator(np.zeros(2))
