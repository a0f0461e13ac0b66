"""The serving helper runs in the user's serving process: it must not drag in the monitoring stack."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("mlflow", "great_expectations", "evidently", "airflow", "sklearn", "scipy", "sqlalchemy",
         "driftpilot.usecases", "driftpilot.ports", "driftpilot.adapters.parquet_lake",
         "driftpilot.adapters.mlflow_registry", "driftpilot.adapters.sqlite_store")

CODE = """
import datetime as dt, json, sys, tempfile
import pyarrow as pa
from driftpilot.serving import log_labels, log_predictions
when = pa.array([dt.datetime(2026, 1, 10, 23, 59, tzinfo=dt.timezone.utc)] * 2, pa.timestamp("us", "UTC"))
lake = tempfile.mkdtemp()
p = log_predictions(lake, "m", pa.table({"prediction_id": ["a", "b"], "event_time": when, "model_version": ["1", "1"],
                                         "prediction": [0, 1], "x": [1.0, 2.0]}), features=["x"])
l = log_labels(lake, "m", pa.table({"prediction_id": ["a", "b"], "label": [0, 1], "label_time": when}), source="outcome")
print(json.dumps({"written": p.rows_written + l.rows_written, "modules": sorted(sys.modules)}))
"""


def test_logging_a_batch_imports_none_of_the_monitoring_stack() -> None:
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["written"] == 4  # the batch really went through the writer
    loaded = [m for m in report["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == []
