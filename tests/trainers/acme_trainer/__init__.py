"""A user's own training code, as a driftpilot trainer plug-in (``retraining.trainer``).

``retraining.trainer: "tests.trainers.acme_trainer:fit_model"`` in a model config makes
driftpilot call ``fit_model`` for the first champion (bootstrap) and for every retraining
candidate. It uses nothing of driftpilot: only the attributes of the ``TrainingData`` it is
handed (see README, "Retrain with your own code") and plain scikit-learn. The model it builds
carries ``trained_by = "acme_trainer"`` so a test can tell it from driftpilot's built-in recipe.
"""

from __future__ import annotations

from typing import Any

TRAINED_BY = "acme_trainer"


def fit_model(data: Any) -> Any:
    """A scikit-learn pipeline fitted on ``data.train``: one-hot categoricals, scaled numbers.

    Classifiers are a logistic regression (``C`` from ``data.params``, default 1.0), regressions
    a ridge (``alpha``); seeded with ``data.seed``.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = list(data.numeric_features)
    categorical = list(data.categorical_features)
    steps = []
    if numeric:
        steps.append(("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric))
    if categorical:
        steps.append(("categories", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="ignore")), categorical))
    if data.task == "regression":
        model: Any = Ridge(alpha=float(data.params.get("alpha", 1.0)))
    else:
        model = LogisticRegression(C=float(data.params.get("C", 1.0)), max_iter=1000, random_state=data.seed)
    pipeline = Pipeline([("features", ColumnTransformer(steps)), ("model", model)])
    frame = data.train[numeric + categorical].copy()
    for column in categorical:  # one type per category column, whatever the writer used
        frame[column] = frame[column].astype("string").astype(object).where(frame[column].notna(), "missing")
    pipeline.fit(frame, data.train[data.target])
    pipeline.trained_by = TRAINED_BY
    return pipeline
