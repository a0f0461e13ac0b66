"""Model recipes: scikit-learn pipelines with proper preprocessing, seeded and reproducible.

The only module that imports scikit-learn; ``SklearnTrainer`` binds these functions (the pipeline
is stateless) and ``trainer_plugins.PluginTrainer`` builds the ``Trainer`` port on it. The built-in
trainer (``retraining.trainer: sklearn``, the default) is ``train_recipe``: a recipe names an
estimator (``ESTIMATORS``) and its params; numeric features are median-imputed and scaled, categorical features
are imputed and one-hot encoded with unknown categories ignored at serving time (an unseen
category must not crash scoring: monitoring reports it instead).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from driftpilot.domain.categories import ClassSet, category_key, category_keys
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import PREDICTION, SCORE
from driftpilot.errors import ConfigError, InsufficientData, SchemaViolation

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from driftpilot.domain.trainer_contract import TrainingData

# scikit-learn is imported inside the functions that use it: building the ports (every task, every
# CLI command) must not pay its import (seconds here) when nothing is trained or scored.


def _hist_gradient_boosting(classify: bool, seed: int, params: dict[str, Any]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
    return cls(random_state=seed, **params)


def _random_forest(classify: bool, seed: int, params: dict[str, Any]) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestClassifier if classify else RandomForestRegressor
    return cls(random_state=seed, n_jobs=1, **params)


def _linear(classify: bool, seed: int, params: dict[str, Any]) -> Any:
    from sklearn.linear_model import LinearRegression, LogisticRegression

    if classify:
        return LogisticRegression(random_state=seed, max_iter=1000, **params)
    return LinearRegression(**params)


# The built-in recipes' estimators (``retraining.estimator``), the one list of their names:
# ``check_config`` (``driftpilot check-config``) and every fit read it. ``logistic_regression`` is
# a linear regression for a regression task.
ESTIMATORS: dict[str, Callable[[bool, int, dict[str, Any]], Any]] = {
    "hist_gradient_boosting": _hist_gradient_boosting,
    "logistic_regression": _linear,
    "random_forest": _random_forest,
}


def check_config(config: ModelConfig) -> None:
    """``ConfigError`` naming the file and key when the built-in recipe's estimator is unknown."""
    if config.retraining.builtin and config.retraining.estimator not in ESTIMATORS:
        raise ConfigError(
            f"{config.path}: `retraining.estimator` must be one of {', '.join(ESTIMATORS)}; got "
            f"{config.retraining.estimator!r} (or name your own trainer in `retraining.trainer`)"
        )


def _estimator(estimator: str, classify: bool, seed: int, params: dict[str, Any]) -> Any:
    if estimator not in ESTIMATORS:
        raise ConfigError(f"`retraining.estimator` must be one of {', '.join(ESTIMATORS)}; got {estimator!r}")
    return ESTIMATORS[estimator](classify, seed, params)


def canonical_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical inputs as canonical keys (missing as NaN), the first step of every pipeline.

    Inside the model, so whoever scores it (monitoring, the gate, the user's serving code) gets
    the same categories whatever dtype the rows arrive in: an integer code with a missing value
    (float64) or a day written by another writer as strings is the category the model learned,
    not an unknown one. Models fitted before this step score their inputs as they arrive.
    """
    out = {}
    for column in frame.columns:
        keys = category_keys(frame[column])
        out[column] = keys.where(keys.notna(), np.nan)
    return pd.DataFrame(out, index=frame.index)


def build_pipeline(numeric: list[str], categorical: list[str], model: Any) -> Pipeline:
    """Preprocessing of the features (see the module docstring), then ``model``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric)
        )
    if categorical:
        transformers.append(
            (
                "categorical",
                Pipeline(
                    [
                        ("canonical", FunctionTransformer(canonical_categories, feature_names_out="one-to-one")),
                        ("impute", SimpleImputer(strategy="constant", fill_value="__missing__")),
                        ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False, min_frequency=5)),
                    ]
                ),
                categorical,
            )
        )
    preprocess = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    return Pipeline([("preprocess", preprocess), ("model", model)])


def feature_frame(config: ModelConfig, frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns, numeric as float and categorical as object strings."""
    return _features(config.features.numeric, config.features.categorical, frame)


def _features(numeric: tuple[str, ...], categorical: tuple[str, ...], frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for column in numeric:
        out[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    for column in categorical:
        out[column] = frame[column].astype(object).where(frame[column].notna(), np.nan)
    return out


def train_recipe(data: TrainingData, *, estimator: str) -> Pipeline:
    """The built-in trainer (``retraining.trainer: sklearn``): the recipe ``estimator`` on ``data``.

    A trainer like any other (``domain/trainer_contract.py``): it reads only ``data``, with the
    estimator bound by the trainer adapter from ``retraining.estimator``.
    """
    pipeline = build_pipeline(list(data.numeric_features), list(data.categorical_features),
                              _estimator(estimator, data.task != TaskType.REGRESSION.value, data.seed,
                                         dict(data.params)))
    pipeline.fit(_features(data.numeric_features, data.categorical_features, data.train), data.y)
    return pipeline


def fit(config: ModelConfig, frame: pd.DataFrame) -> Pipeline:
    """Fit the config's built-in recipe on ``frame``; rows without a label are refused, never imputed."""
    from driftpilot.domain.trainer_contract import build_training_data

    labelled = frame.assign(**{config.target: training_target(config, frame[config.target])}) \
        if frame[config.target].notna().all() else frame
    return train_recipe(build_training_data(config, "fit", labelled, labelled.iloc[:0]),
                        estimator=config.retraining.estimator)


def training_target(config: ModelConfig, target: pd.Series) -> pd.Series:
    """The target as the estimator sees it: floats, or one type of class whatever the mix.

    Training rows come from several writers (the original data, labels joined from production),
    so the same class may arrive as ``1``, ``1.0`` and ``"1"``; fitted as they are, the model
    would learn three classes. Classes are the config's ``classes`` when declared (a row of any
    other class is an error: monitoring quarantines such labels before they get here).
    """
    if config.task is TaskType.REGRESSION:
        return pd.to_numeric(target, errors="coerce").astype(float)
    classes = ClassSet.of(config.classes or target, "config" if config.classes else "training rows")
    try:
        return classes.typed(target)
    except ValueError as exc:
        raise SchemaViolation(f"{config.name}: training target {config.target!r}: {exc}") from exc


def fitted_classes(model: Any) -> list[str]:
    """The canonical keys of the classes a fitted classifier predicts (``[]`` for regressors)."""
    return [k for k in (category_key(c) for c in getattr(model, "classes_", [])) if k is not None]


def predict(config: ModelConfig, model: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """``prediction`` (and ``score`` for binary models) for each row of ``frame``.

    Works for any model with ``predict`` (regression) or ``predict_proba`` (classifiers), not only
    scikit-learn's: the classes are the model's ``classes_``, else the config's ``classes``.
    """
    features = feature_frame(config, frame)
    out = pd.DataFrame(index=frame.index)
    if config.task is TaskType.REGRESSION:
        values = _call(config, model, "predict", features)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise SchemaViolation(f"{config.name}: the model's predict returned shape {values.shape} for "
                                  f"{len(features)} rows; a regression model returns one number per row")
        try:
            out[PREDICTION] = values.astype(float)
        except (TypeError, ValueError) as exc:
            raise SchemaViolation(f"{config.name}: the model's predictions are not numbers ({exc}); a "
                                  "regression model returns one number per row") from exc
        return out
    proba = _call(config, model, "predict_proba", features)
    classes = model_classes(config, model)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise SchemaViolation(
            f"{config.name}: the model's predict_proba returned shape {proba.shape} for {len(features)} rows, "
            f"but the model has {len(classes)} classes {classes}: it needs one score column per class, in "
            "the order of `classes_` (or of the config's `classes`)"
        )
    if config.task is TaskType.BINARY:
        positive = _positive_index(config, classes)
        score = proba[:, positive].astype(float)
        out[SCORE] = score
        out[PREDICTION] = np.where(score >= 0.5, classes[positive], classes[1 - positive])
    else:
        for i, cls in enumerate(classes):
            # named by the class key: a class fitted as 1 or 1.0 is always ``score_1``
            out[f"{SCORE}_{category_key(cls)}"] = proba[:, i].astype(float)
        out[PREDICTION] = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    return out


def _call(config: ModelConfig, model: Any, method: str, features: pd.DataFrame) -> np.ndarray:
    """``model.<method>(features)`` as an array; a model without it is told what the task needs."""
    function = getattr(model, method, None)
    if not callable(function):
        need = ("`predict` (one number per row)" if method == "predict"
                else "`predict_proba` (one probability per class per row)")
        raise SchemaViolation(f"{config.name}: the model ({type(model).__name__}) has no {need}, which a "
                              f"{config.task.value} model needs")
    return np.asarray(function(features))


def model_classes(config: ModelConfig, model: Any) -> list[Any]:
    """The classes a classifier's score columns stand for: its ``classes_``, else the config's ``classes``."""
    fitted = getattr(model, "classes_", None)
    if fitted is not None and len(fitted):
        return list(fitted)
    if config.classes:
        return list(config.classes)
    raise ConfigError(
        f"{config.name}: the model ({type(model).__name__}) has no `classes_` and {config.path or 'the model config'} "
        "declares no `classes`: add `classes: [...]` to the config, in the order of the columns of the model's "
        "predict_proba"
    )


def _positive_index(config: ModelConfig, classes: list[Any]) -> int:
    positive = category_key(config.positive_label)
    for i, cls in enumerate(classes):
        if category_key(cls) == positive:
            return i
    raise InsufficientData(f"positive_label {config.positive_label!r} is not among the classes {classes}")


def evaluate(config: ModelConfig, y_true: pd.Series, scored: pd.DataFrame) -> dict[str, float]:
    """Performance metrics of predictions against labels (rows must be aligned, none missing).

    What users of each task expect to read: binary accuracy, F1, macro-F1, Brier, log loss, ROC
    AUC and PR AUC (average precision; both AUCs only with both classes labelled); multiclass accuracy, macro-F1, per-class recall and F1 (``recall_<class>``,
    ``f1_<class>``, class keys of ``categories``) and, when every ``score_<class>`` column is
    there, the multiclass log loss; regression RMSE, MAE, R² and MAPE (only when no true value is
    0, where it is undefined). ``n`` is the number of rows.
    """
    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        brier_score_loss,
        f1_score,
        log_loss,
        roc_auc_score,
    )

    if y_true.isna().any():
        raise InsufficientData("evaluate() got rows without a label; join matured labels only")
    n = len(y_true)
    if n == 0:
        raise InsufficientData("no labelled rows to evaluate")
    if config.task is TaskType.REGRESSION:
        return _regression_metrics(y_true, scored)
    # Classes compare by canonical key: a label written 1.0 is the prediction 1.
    truth = category_keys(y_true).to_numpy(dtype=object)
    predicted = category_keys(scored[PREDICTION]).fillna("").to_numpy(dtype=object)
    metrics = {"accuracy": float(accuracy_score(truth, predicted)), "n": float(n),
               "macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0))}
    if config.task is TaskType.MULTICLASS:
        metrics.update(_per_class_metrics(config, truth, predicted, scored))
        return metrics
    positive = category_key(config.positive_label)
    is_pos = (truth == positive).astype(int)
    score = scored[SCORE].astype(float).to_numpy()
    metrics["f1"] = float(f1_score(is_pos, (predicted == positive).astype(int), zero_division=0))
    metrics["brier"] = float(brier_score_loss(is_pos, score))
    metrics["log_loss"] = float(log_loss(is_pos, np.clip(score, 1e-6, 1 - 1e-6), labels=[0, 1]))
    if len(set(is_pos)) == 2:
        metrics["roc_auc"] = float(roc_auc_score(is_pos, score))
        metrics["pr_auc"] = float(average_precision_score(is_pos, score))
    return metrics


def _regression_metrics(y_true: pd.Series, scored: pd.DataFrame) -> dict[str, float]:
    truth = pd.to_numeric(y_true, errors="coerce").astype(float).to_numpy()
    pred = pd.to_numeric(scored[PREDICTION], errors="coerce").astype(float).to_numpy()
    if not np.isfinite(truth).all():
        raise InsufficientData("evaluate() got a regression label that is not a finite number")
    error = pred - truth
    n = len(truth)
    metrics = {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error))), "n": float(n)}
    spread = float(np.sum((truth - truth.mean()) ** 2))
    # R² is undefined on one row or a constant target (scikit-learn would return a misleading 0 or 1)
    metrics["r2"] = 1.0 - float(np.sum(error**2)) / spread if n > 1 and spread > 0 else float("nan")
    if np.all(truth != 0):
        metrics["mape"] = float(np.mean(np.abs(error / truth)))
    return metrics


def _metric_suffix(key: str) -> str:
    """A class key as part of a metric name (MLflow allows letters, digits, ``_ - . /`` and spaces)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key)


def _per_class_metrics(config: ModelConfig, truth: np.ndarray, predicted: np.ndarray,
                       scored: pd.DataFrame) -> dict[str, float]:
    """Recall of each class seen in the truth, F1 of each class seen in truth or predictions, log loss."""
    from sklearn.metrics import log_loss

    declared = [k for k in (category_key(c) for c in config.classes) if k is not None]
    seen = set(truth) | (set(predicted) - {""})
    classes = declared + sorted(seen - set(declared))
    out: dict[str, float] = {}
    for key in classes:
        is_true, is_pred = truth == key, predicted == key
        tp = float(np.sum(is_true & is_pred))
        if is_true.any():
            out[f"recall_{_metric_suffix(key)}"] = tp / float(is_true.sum())
        if is_true.any() or is_pred.any():
            out[f"f1_{_metric_suffix(key)}"] = 2.0 * tp / float(is_true.sum() + is_pred.sum())
    by_key = {category_key(c.removeprefix(f"{SCORE}_")): c for c in scored.columns
              if isinstance(c, str) and c.startswith(f"{SCORE}_")}
    # log loss needs a probability for every class a label can be; a model's own score columns
    # cover the classes it was fitted on
    score_keys = sorted(k for k in classes if k in by_key)  # log_loss reads columns in sorted label order
    if score_keys and set(truth) <= set(score_keys):
        proba = scored[[by_key[k] for k in score_keys]].astype(float).to_numpy()
        if np.isfinite(proba).all():
            proba = np.clip(proba, 1e-15, 1.0)
            proba = proba / proba.sum(axis=1, keepdims=True)
            out["log_loss"] = float(log_loss(truth, proba, labels=score_keys))
    return out
def importance_metric(config: ModelConfig, available: Iterable[str]) -> tuple[str, bool]:
    """The metric feature importance is measured with, and whether higher is better.

    The gate's primary metric when ``evaluate`` gives it on these rows (``available``), else
    accuracy for classifiers (scikit-learn's default score) and RMSE for regression.
    """
    from driftpilot.domain.gate import LOWER_IS_BETTER

    primary = config.promotion.primary_metric
    metric = primary if primary in set(available) else (
        "rmse" if config.task is TaskType.REGRESSION else "accuracy")
    return metric, metric not in LOWER_IS_BETTER


def feature_importance(config: ModelConfig, model: Any, frame: pd.DataFrame, max_rows: int = 2000) -> dict[str, float]:
    """Permutation importance of each feature on labelled ``frame`` (seeded, at most ``max_rows``).

    Stored with the baseline so drifted columns can be ranked by what matters to the model.
    Model-agnostic (``domain.importance``): the model is only asked to score shuffled rows, so a
    pyfunc or any object with ``predict`` / ``predict_proba`` works, not only an estimator with
    ``fit``. Negative importances (noise) are clipped to 0.
    """
    from driftpilot.domain.importance import permutation_importance

    sample = frame.sample(n=min(max_rows, len(frame)), random_state=config.retraining.seed)
    columns = list(config.features.numeric) + list(config.features.categorical)
    rows, target = sample[columns].reset_index(drop=True), sample[config.target].reset_index(drop=True)
    name, higher_is_better = importance_metric(config, evaluate(config, target, predict(config, model, rows)))

    def metric(truth: pd.Series, scored: pd.DataFrame) -> float:
        value = evaluate(config, truth, scored).get(name, float("nan"))
        return float(value)

    return permutation_importance(
        lambda shuffled: predict(config, model, shuffled), metric, rows, target, columns,
        higher_is_better=higher_is_better, repeats=3, seed=config.retraining.seed,
    )


class SklearnTrainer:
    """Scoring with scikit-learn (predictions, metrics, permutation importance) and the built-in fit.

    The ``Trainer`` port the composition root builds is ``trainer_plugins.PluginTrainer``, which
    scores with these methods and fits with the config's trainer (this ``fit`` when it is
    ``sklearn``).
    """

    def check_config(self, config: ModelConfig) -> None:
        check_config(config)

    def fit(self, config: ModelConfig, data: TrainingData) -> Pipeline:
        return train_recipe(data, estimator=config.retraining.estimator)

    def predict(self, config: ModelConfig, model: Any, frame: pd.DataFrame) -> pd.DataFrame:
        return predict(config, model, frame)

    def evaluate(self, config: ModelConfig, y_true: pd.Series, scored: pd.DataFrame) -> dict[str, float]:
        return evaluate(config, y_true, scored)

    def training_target(self, config: ModelConfig, target: pd.Series) -> pd.Series:
        return training_target(config, target)

    def feature_frame(self, config: ModelConfig, frame: pd.DataFrame) -> pd.DataFrame:
        return feature_frame(config, frame)

    def fitted_classes(self, model: Any) -> list[str]:
        return fitted_classes(model)

    def feature_importance(self, config: ModelConfig, model: Any, frame: pd.DataFrame) -> dict[str, float]:
        return feature_importance(config, model, frame)
