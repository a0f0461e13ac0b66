from __future__ import annotations

import pandas as pd
import pytest

from driftpilot.domain.contracts import check_inference_log, check_labels, inference_log_columns
from driftpilot.errors import SchemaViolation


def labels(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame({
        "prediction_id": ["a", "b"],
        "label": [1, 0],
        "label_time": pd.to_datetime(["2026-01-01T05:00", "2026-01-02T06:00"], utc=True),
        "source": ["outcome", "outcome"],
    })
    return frame.assign(**overrides)


def test_valid_labels_pass() -> None:
    check_labels(labels(), "x")


def test_missing_label_column_is_named() -> None:
    with pytest.raises(SchemaViolation, match=r"lack column\(s\) \['label_time'\]"):
        check_labels(labels().drop(columns="label_time"), "labels/date=2026-01-02")


def test_naive_label_time_is_rejected() -> None:
    with pytest.raises(SchemaViolation, match="timezone-aware UTC"):
        check_labels(labels(label_time=pd.to_datetime(["2026-01-01", "2026-01-02"])), "x")


def test_label_without_prediction_id() -> None:
    with pytest.raises(SchemaViolation, match="have no prediction_id"):
        check_labels(labels(prediction_id=["a", None]), "x")


def test_inference_log_contract(elec2_config) -> None:
    columns = inference_log_columns(elec2_config)
    assert columns[:4] == ["prediction_id", "event_time", "model_name", "model_version"]
    assert {"score", "prediction", *elec2_config.features.all} <= set(columns)
    frame = pd.DataFrame({c: [1.0] for c in columns}).assign(
        prediction_id=["p"], event_time=pd.to_datetime(["2026-01-01"], utc=True))
    check_inference_log(frame, elec2_config, "x")
    with pytest.raises(SchemaViolation, match=r"lacks required column\(s\) \['score'\]"):
        check_inference_log(frame.drop(columns="score"), elec2_config, "part-0.parquet")
