"""One identity for target classes and category values, whatever dtype a writer chose.

A user's writer decides the physical type of a class or a category: pandas writes an integer
column with one missing value as float64 (``1.0``), a label service may send ``0.0``/``1.0``, a
numpy pipeline ``np.int64(1)``, a boolean model ``True``. Compared as ``str(value)`` these are
different keys (``'1'``, ``'1.0'``, ``'True'``), which turned equal classes into 0 % accuracy and
equal categories into "100 % unseen" drift. Every stage (profile, validation, drift statistics,
training, evaluation, gate, reports) therefore compares values through ``category_key``:

* missing (``None``, ``NaN``, ``pd.NA``, ``NaT``) has no key (``None``);
* ``bool`` is its integer (``True`` -> ``'1'``), as in Python and numpy (``True == 1``);
* integers of any width, and floats with a whole value, are their decimal integer
  (``1``, ``1.0``, ``np.int64(1)``, ``np.float32(1)`` -> ``'1'``);
* other floats are their shortest round-trip repr (``0.5`` -> ``'0.5'``), infinities
  ``'inf'``/``'-inf'``;
* strings are themselves, untouched (``'01'`` stays ``'01'``: a zip code is not a number).
  Only for *classes* (``ClassSet.keys_of``) a numeric-looking string whose number is a known class
  maps to it (``'1.0'`` -> ``'1'`` when ``1`` is a class), because label files written through CSV
  carry numbers as text; categories stay literal.

Classes of a classifier come from the config (``classes:``, optional) or else from the baseline
(the classes the model was fitted on, stored in ``metadata.json``). A label that is none of them is
not an error of the model: monitoring quarantines it with a reason and never scores it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import numpy as np
import pandas as pd

# Integers beyond this are not exactly representable as float64 (whole floats above it are
# still keyed as integers, exactly as numpy converts them).
_INT64_LIMIT = 2.0**63


def category_key(value: Any) -> str | None:
    """The canonical key of one class or category value (``None`` when it is missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "1" if bool(value) else "0"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating | Decimal):
        number = float(value)
        if math.isnan(number):
            return None
        if math.isinf(number):
            return "inf" if number > 0 else "-inf"
        if number.is_integer() and abs(number) < _INT64_LIMIT:
            return str(int(number))
        return repr(number)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def category_keys(values: pd.Series) -> pd.Series:
    """``category_key`` of every value, as an object Series (``None`` where missing).

    Vectorised per dtype: the common integer / float / boolean columns never go through Python
    per value, object columns map each distinct value once.
    """
    out = pd.Series([None] * len(values), index=values.index, dtype=object)
    if len(values) == 0:
        return out
    series = values.astype(object) if isinstance(values.dtype, pd.CategoricalDtype) else values
    present = series.notna().to_numpy()
    if not present.any():
        return out
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        flags = series[present].astype(bool).to_numpy()
        out[present] = np.where(flags, "1", "0")
        return out
    if pd.api.types.is_unsigned_integer_dtype(dtype):
        out[present] = series[present].astype(np.uint64).astype(str).to_numpy()
        return out
    if pd.api.types.is_integer_dtype(dtype):
        out[present] = series[present].astype(np.int64).astype(str).to_numpy()
        return out
    if pd.api.types.is_float_dtype(dtype):
        numbers = series.to_numpy(dtype=float, na_value=np.nan)
        whole = present & np.isfinite(numbers) & (np.floor(numbers) == numbers) & (np.abs(numbers) < _INT64_LIMIT)
        out[whole] = numbers[whole].astype(np.int64).astype(str)
        other = present & ~whole
        if other.any():
            out[other] = [category_key(v) for v in numbers[other]]
        return out
    distinct = pd.unique(series[present])
    mapping = {value: category_key(value) for value in distinct}
    out[present] = series[present].map(mapping).to_numpy()
    return out


def with_canonical_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with each of ``columns`` that holds a mix of Python types as canonical keys.

    Files from several writers concatenate into object columns of ints, floats and strings,
    which Parquet cannot store and ``str`` would spell three ways. Keys are one type and compare
    as every stage compares them; single-typed columns are left as the writer sent them.
    """
    out = frame
    for column in columns:
        if column in frame.columns and frame[column].dtype == object:
            kind = pd.api.types.infer_dtype(frame[column], skipna=True)
            if kind not in ("string", "empty"):
                out = out.assign(**{column: category_keys(frame[column]).to_numpy()})
    return out


def key_counts(values: pd.Series) -> dict[str, int]:
    """Counts per canonical key (missing values are not counted), sorted by key."""
    counts = category_keys(values).dropna().value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def _number_key(text: str) -> str | None:
    """The key of a string that spells a number (``' 1.0 '`` -> ``'1'``), else ``None``."""
    try:
        return category_key(float(text.strip()))
    except ValueError:
        return None


@dataclass(frozen=True)
class ClassSet:
    """The classes of a classifier, as canonical keys, and where they were learned from."""

    keys: tuple[str, ...]
    source: str  # "config" (declared by the user) or "baseline" (what the model was fitted on)

    @staticmethod
    def of(values: Iterable[Any], source: str) -> ClassSet:
        keys = sorted({k for k in (category_key(v) for v in values) if k is not None}, key=_sort_key)
        return ClassSet(tuple(keys), source)

    @property
    def numeric(self) -> bool:
        """Every class is a whole number: training and scoring see integers, not strings."""
        return bool(self.keys) and all(_is_int_key(k) for k in self.keys)

    def keys_of(self, values: pd.Series) -> pd.Series:
        """Canonical class keys of ``values``; numeric-looking strings map to a numeric class."""
        keys = category_keys(values)
        known = set(self.keys)
        raw = keys.to_numpy(dtype=object)
        for position in np.flatnonzero(keys.notna().to_numpy() & ~keys.isin(known).to_numpy()):
            number = _number_key(str(raw[position]))
            if number is not None and number in known:
                raw[position] = number
        return pd.Series(raw, index=values.index, dtype=object)

    def unknown(self, values: pd.Series) -> pd.Series:
        """True where a present value is not one of the classes."""
        keys = self.keys_of(values)
        return keys.notna() & ~keys.isin(set(self.keys))

    def typed(self, values: pd.Series) -> pd.Series:
        """``values`` as the classes' natural type (int64 for whole-number classes, else str).

        Used where a model is fitted or scored, so that an estimator sees one type of class
        whatever mix of dtypes its training rows came in. Unknown values raise: quarantine them
        first (``unknown``).
        """
        keys = self.keys_of(values)
        bad = keys.isna() | ~keys.isin(set(self.keys))
        if bad.any():
            shown = sorted({str(v) for v in values[bad].head(20)})
            raise ValueError(f"values {shown} are not among the classes {list(self.keys)}")
        if self.numeric:
            return keys.astype(np.int64)
        return keys.astype(str)

    def describe(self) -> str:
        shown = ", ".join(self.keys[:12]) + (", ..." if len(self.keys) > 12 else "")
        return f"{{{shown}}} (from the {self.source})"


def _is_int_key(key: str) -> bool:
    """``key`` is how ``category_key`` spells an integer (``'7'``, ``'-3'``; not ``'07'`` or ``'+7'``)."""
    digits = key[1:] if key.startswith("-") else key
    return digits.isascii() and digits.isdigit() and (digits == "0" or not digits.startswith("0")) and key != "-0"


def _sort_key(key: str) -> tuple[int, float, str]:
    """Numbers in numeric order before other strings, so ``2`` comes before ``10``."""
    if _is_int_key(key):
        return (0, float(key), key)
    return (1, 0.0, key)


def legacy_profile_keys(frequencies: Mapping[str, int]) -> dict[str, int]:
    """Frequencies of a profile written before canonical keys (``profile_version`` < 3).

    Those profiles keyed values as ``str(value)``: an integer-coded column with a missing value
    was stored as ``'1.0'``, a boolean as ``'True'``. The same spelling is what pandas' ``str``
    gives for a float or bool, so such keys are re-keyed as that number; any other string is kept.
    """
    out: dict[str, int] = {}
    for raw, count in frequencies.items():
        key = str(raw)
        if key in ("True", "False"):
            key = "1" if key == "True" else "0"
        elif _looks_like_float_repr(key):
            key = category_key(float(key)) or key
        out[key] = out.get(key, 0) + int(count)
    return dict(sorted(out.items()))


def _looks_like_float_repr(text: str) -> bool:
    """``'1.0'``, ``'-3.0'``, ``'1e+20'``: how ``str(float)`` spells a whole number."""
    if not text or text != text.strip():
        return False
    try:
        number = float(text)
    except ValueError:
        return False
    return math.isfinite(number) and number.is_integer() and ("." in text or "e" in text) and repr(number) == text


class BaselineLike(Protocol):
    """What ``model_classes`` reads of a baseline (``registry.Baseline`` is one)."""

    @property
    def metadata(self) -> Mapping[str, Any]: ...

    @property
    def profile(self) -> Mapping[str, Any]: ...

    @property
    def reference(self) -> pd.DataFrame: ...


def model_classes(declared: Iterable[Any], target: str, baseline: BaselineLike) -> ClassSet:
    """The classes of a classifier: declared in the config, else those of its baseline.

    A baseline records the classes the model was fitted on (``metadata.json`` ``classes``);
    baselines written before that give the classes seen in their reference sample: its target
    and its predictions.
    """
    declared = list(declared)
    if declared:
        return ClassSet.of(declared, "config")
    recorded = baseline.metadata.get("classes")
    if recorded:
        return ClassSet.of(recorded, "baseline")
    seen: set[str] = set(baseline.profile.get("predictions", {}).get("prediction", {}).get("frequencies", {}))
    if target in baseline.reference.columns:
        seen |= set(category_keys(baseline.reference[target]).dropna())
    return ClassSet.of(seen, "baseline reference sample")
