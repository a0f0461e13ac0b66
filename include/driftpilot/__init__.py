"""driftpilot: batch monitoring for production ML models.

This package is the Airflow-free core. DAG files in ``dags/`` only wire its functions into tasks;
everything here is importable and testable without Airflow (``tests/unit/test_no_airflow.py``
enforces it). Third-party libraries each have one adapter module: MLflow in ``registry``,
Parquet/pyarrow in ``storage``, scikit-learn in ``training``.
"""

__version__ = "0.1.0"
