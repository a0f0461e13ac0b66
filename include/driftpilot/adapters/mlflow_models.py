"""MLflow model flavours: any model into an MLflow run, and any MLflow model back out, scorable.

The registry adapter (``mlflow_registry``) calls these two functions; nothing else in driftpilot
knows about flavours. A model may come from driftpilot's own recipes, from a user's trainer or
from a user's tracking server, so both directions accept more than scikit-learn:

* ``log_model`` (inside an active run): a ``ModelUri`` is not logged again (it already lives in
  MLflow: its URI is returned and registered as is); a scikit-learn estimator goes through
  ``mlflow.sklearn`` (skops, trusting the types of this very object); any other object with
  ``predict`` is logged as a pyfunc whose Python model wraps it (``DriftpilotPythonModel``), so
  MLflow can serve it and driftpilot gets the object itself back.
* ``load_model``: the flavours in the model's ``MLmodel`` decide. A native flavour whose object
  scores like an estimator (``predict_proba`` or ``classes_``; scikit-learn always) is loaded
  natively, so the gate and monitoring score it exactly as it was fitted; driftpilot's own pyfunc
  wrapper is unwrapped; anything else is an MLflow pyfunc behind ``PyfuncModel`` (``predict``, and
  ``predict_proba`` when the pyfunc returns one score per class).

This module imports ``mlflow.pyfunc`` at import time (``DriftpilotPythonModel`` must be a class
MLflow's unpickler can import); ``mlflow_registry`` imports it lazily, only when a model moves.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PythonModel

from driftpilot.errors import ConfigError, SchemaViolation
from driftpilot.ports import ModelUri

log = logging.getLogger(__name__)

MODEL_NAME = "model"  # the artifact name of a model logged by driftpilot
PYFUNC = "python_function"
# Flavours that are not a library's native object (or that load only through pyfunc).
_NOT_NATIVE = frozenset({PYFUNC, "sklearn"})
# What a model URI that does not load leaves to check, shared by every error below.
_CHECK = ("check the URI (models:/<name>/<version>, runs:/<run_id>/<path>, or a folder holding an MLmodel file), "
          "that MLFLOW_TRACKING_URI points at the server that holds it, and that the libraries the model "
          "needs are installed where driftpilot runs")


class DriftpilotPythonModel(PythonModel):
    """A pyfunc around any object with ``predict``: MLflow serves it, driftpilot unwraps it.

    ``predict`` gives the object's predictions (its ``predict``), which is what a serving
    endpoint is asked for; driftpilot itself never scores through here: ``load_model`` returns
    ``self.model`` (with its ``predict_proba`` and ``classes_``, when it has them).
    """

    def __init__(self, model: Any) -> None:
        self.model = model

    # No type hints on purpose: MLflow reads them as the serving schema, and the input example
    # (a DataFrame of the features) is the schema here.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return self.model.predict(model_input)


def is_sklearn_estimator(model: Any) -> bool:
    """An instance of scikit-learn's ``BaseEstimator`` (found by its class tree, without importing sklearn)."""
    return any(c.__name__ == "BaseEstimator" and c.__module__.startswith("sklearn.")
               for c in type(model).__mro__)


def _skops_trusted_types(model: Any) -> list[str]:
    """Types skops must trust to load ``model``: the model is ours, built by this process."""
    import skops.io

    return list(skops.io.get_untrusted_types(data=skops.io.dumps(model)))


def log_model(model: Any, input_example: pd.DataFrame | None) -> str:
    """Log ``model`` in the active run (a ``ModelUri`` is returned as is); the URI to register.

    Raises ``ConfigError`` for an object MLflow could not score (no ``predict``).
    """
    if isinstance(model, ModelUri):
        return model.uri
    if is_sklearn_estimator(model):
        from mlflow import sklearn as mlflow_sklearn

        info = mlflow_sklearn.log_model(model, name=MODEL_NAME, input_example=input_example,
                                        skops_trusted_types=_skops_trusted_types(model))
        return str(info.model_uri)
    if not callable(getattr(model, "predict", None)):
        raise ConfigError(
            f"cannot log a {type(model).__module__}.{type(model).__qualname__} as a model: it has no `predict` "
            "method. A trainer must return a scikit-learn-compatible estimator, an object with `predict` "
            "(and `predict_proba` / `classes_` for classifiers), or a ModelUri of a model it logged to MLflow"
        )
    info = mlflow.pyfunc.log_model(name=MODEL_NAME, python_model=DriftpilotPythonModel(model),
                                   input_example=input_example)
    return str(info.model_uri)


def _load_error(uri: str, exc: BaseException) -> ConfigError:
    return ConfigError(f"model URI {uri!r} does not load ({type(exc).__name__}: {exc}); {_CHECK}")


def _is_deterministic(exc: BaseException) -> bool:
    """A failure that a retry would repeat: the model is absent, malformed or needs a missing library."""
    if isinstance(exc, MlflowException):
        return exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "BAD_REQUEST")
    return isinstance(exc, (ImportError, AttributeError, FileNotFoundError, NotADirectoryError, TypeError,
                            ValueError, EOFError))


def flavors(uri: str) -> dict[str, Any]:
    """The flavours of the model at ``uri`` (its ``MLmodel`` file); ``ConfigError`` when there is none."""
    try:
        return dict(mlflow.models.get_model_info(uri).flavors)
    except Exception as exc:
        if _is_deterministic(exc):
            raise _load_error(uri, exc) from exc
        raise


def _scores_like_an_estimator(model: Any) -> bool:
    return callable(getattr(model, "predict", None)) and (
        callable(getattr(model, "predict_proba", None)) or hasattr(model, "classes_"))


def _load_native(uri: str, flavor: str) -> Any | None:
    """``mlflow.<flavor>.load_model(uri)`` when that flavour's module and library import, else ``None``."""
    try:
        module = importlib.import_module(f"mlflow.{flavor}")
    except ImportError:
        return None
    loader = getattr(module, "load_model", None)
    if not callable(loader):
        return None
    try:
        return loader(uri)
    except Exception as exc:  # library missing or of another version here: pyfunc may still load it
        log.info("native flavour %s of %s not loadable here (%s: %s); trying pyfunc", flavor, uri,
                 type(exc).__name__, exc)
        return None


def load_model(uri: str) -> Any:
    """The model at ``uri`` as an object driftpilot scores (``predict``, maybe ``predict_proba``/``classes_``).

    Raises ``ConfigError`` naming the URI when it does not load for a reason a retry would not
    change (absent, not a model, a library missing); other errors (a registry that is down) are
    raised as they are, for a retry.
    """
    found = flavors(uri)
    try:
        if "sklearn" in found:
            from mlflow import sklearn as mlflow_sklearn

            return mlflow_sklearn.load_model(uri)
        for flavor in found:
            if flavor in _NOT_NATIVE:
                continue
            native = _load_native(uri, flavor)
            if native is not None and _scores_like_an_estimator(native):
                return native
        if PYFUNC not in found:
            raise ConfigError(f"model URI {uri!r} has flavours {sorted(found)} but none that driftpilot can "
                              f"score (no python_function flavour); {_CHECK}")
        pyfunc = mlflow.pyfunc.load_model(uri)
    except ConfigError:
        raise
    except Exception as exc:
        if _is_deterministic(exc):
            raise _load_error(uri, exc) from exc
        raise
    try:
        inner = pyfunc.unwrap_python_model()
    except MlflowException:
        inner = None  # not a PythonModel (a flavour's own pyfunc loader)
    if isinstance(inner, DriftpilotPythonModel):
        return inner.model
    return PyfuncModel(pyfunc, uri)


class PyfuncModel:
    """An MLflow pyfunc as a model driftpilot scores: ``predict``, and ``predict_proba`` when it can.

    A pyfunc has one output. When it is one value per row, that is the prediction (a class or a
    number). When it is a matrix of two or more columns (or a DataFrame of one column per class),
    those are the class scores: ``predict_proba`` returns them and ``predict`` the best class;
    a DataFrame's column names become ``classes_`` (set after the first call that saw them).
    """

    def __init__(self, pyfunc: Any, uri: str) -> None:
        self.pyfunc = pyfunc
        self.uri = uri

    def __repr__(self) -> str:
        return f"PyfuncModel({self.uri!r})"

    def _output(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[Any] | None]:
        raw = self.pyfunc.predict(frame)
        columns: list[Any] | None = None
        if isinstance(raw, pd.DataFrame):
            columns = list(raw.columns)
            values = raw.to_numpy()
        elif isinstance(raw, pd.Series):
            values = raw.to_numpy()
        else:
            values = np.asarray(raw)
        if values.ndim == 2 and values.shape[1] == 1:
            values, columns = values[:, 0], None
        if values.ndim not in (1, 2) or len(values) != len(frame):
            raise SchemaViolation(f"the pyfunc model {self.uri} returned an output of shape {values.shape} "
                             f"for {len(frame)} rows; expected one value or one score per class per row")
        return values, columns

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        values, columns = self._output(frame)
        if values.ndim == 1:
            return values
        best = values.argmax(axis=1)
        labels = np.asarray(columns if columns is not None else range(values.shape[1]), dtype=object)
        return labels[best]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        values, columns = self._output(frame)
        if values.ndim == 1:
            raise SchemaViolation(f"the pyfunc model {self.uri} returns one value per row, not one score per class: "
                             "it gives predictions only. Log a model that returns class probabilities (one "
                             "column per class): monitoring, the gate and the baseline all score the model")
        if columns is not None:
            self.classes_ = np.asarray(columns, dtype=object)
        return values.astype(float)
