"""The lake's folders and keys: one place that spells them, for the adapter and the use cases.

Keys are lake-relative and ``/``-separated (``validated/model=m/date=2026-01-01/part-0.parquet``),
so a local folder and an object store share them.
"""

from __future__ import annotations

from datetime import date

INFERENCE = "inference"
LABELS = "labels"
VALIDATED = "validated"
QUARANTINE = "quarantine"
LABEL_QUARANTINE = "label_quarantine"  # by arrival date, like the label partitions it screens
REPORTS = "reports"
METRICS = "metrics"
PART = "part-0.parquet"


def partition_key(kind: str, model: str, day: date) -> str:
    """The key of a partition folder, e.g. ``validated/model=m/date=2026-01-01``."""
    return f"{kind}/model={model}/date={day.isoformat()}"
