"""driftpilot's pages inside the Airflow UI: the FastAPI app the Airflow plugin mounts.

This package is Airflow shell, not core: it may import Airflow and FastAPI (the core in
``driftpilot/`` may not). It only turns HTTP requests into calls of driftpilot's use cases and
their answers into responses. ``plugins/driftpilot_reports.py`` registers it with Airflow.
"""
