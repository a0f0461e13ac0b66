"""The drift methods of Evidently 0.7 that the reports may pin, and how each one reads. Pure.

This table is the one list of method names: config validation (``check_config``) and the
parsing of results (``is_drift``) both read it. It lives with the adapter that implements the
methods, not in ``domain/config.py``: the domain imports no adapter, so the model config only
checks the shape of ``reports.evidently`` and the Evidently adapter checks the names, when a
report is planned and in ``driftpilot check-config``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from driftpilot.domain.config import ModelConfig
from driftpilot.errors import ConfigError

# How each Evidently drift method reads: (kind, comparison that means drift).
# Taken from evidently/legacy/calculations/stattests/*.py (0.7.23).
DRIFT_METHODS: Mapping[str, tuple[str, str]] = {
    "wasserstein": ("distance", ">="),
    "psi": ("distance", ">="),
    "jensenshannon": ("distance", ">="),
    "kl_div": ("distance", ">="),
    "hellinger": ("distance", ">="),
    "ed": ("distance", ">"),
    "ks": ("p_value", "<="),
    "cramer_von_mises": ("p_value", "<="),
    "anderson": ("p_value", "<"),
    "chisquare": ("p_value", "<"),
    "z": ("p_value", "<"),
    "g_test": ("p_value", "<"),
    "fisher_exact": ("p_value", "<"),
    "mannw": ("p_value", "<"),
    "t_test": ("p_value", "<"),
    "es": ("p_value", "<"),
    "empirical_mmd": ("p_value", "<"),
    "TVD": ("p_value", "<"),
}
STD_NORMED_METHODS = frozenset({"wasserstein"})
CONSTANT_REFERENCE_METHOD = "jensenshannon"


def is_drift(method: str, value: float, threshold: float) -> bool | None:
    """Whether ``value`` of drift ``method`` means drift at ``threshold`` (``None`` if unknown/NaN).

    p-value methods flag drift when the value is *below* the threshold, distances when it is at or
    above it.
    """
    if value is None or not math.isfinite(value):
        return None
    known = DRIFT_METHODS.get(method)
    if known is None:
        return None
    comparison = known[1]
    if comparison == ">=":
        return value >= threshold
    if comparison == ">":
        return value > threshold
    if comparison == "<=":
        return value <= threshold
    return value < threshold


def check_method(method: str, where: str) -> str:
    if method not in DRIFT_METHODS:
        raise ConfigError(f"{where}: unknown drift method {method!r}; use one of {', '.join(sorted(DRIFT_METHODS))}")
    return method


def check_config(config: ModelConfig) -> None:
    """Fail with a ``ConfigError`` naming the file and key when a report method is unknown."""
    spec = config.reports.evidently
    key = "reports.evidently"
    check_method(spec.num_method, f"{config.path}: `{key}.num_method`")
    check_method(spec.cat_method, f"{config.path}: `{key}.cat_method`")
    for column, method in spec.per_column_method.items():
        check_method(method, f"{config.path}: `{key}.per_column_method.{column}`")
