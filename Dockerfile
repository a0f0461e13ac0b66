# driftpilot image for docker-compose.yaml: Airflow 3 + the locked dependencies + driftpilot.
# Not built or tested on the development machine (no Docker engine there).
FROM apache/airflow:3.3.2-python3.11

USER root
RUN mkdir -p /opt/driftpilot/state && chown -R airflow:0 /opt/driftpilot
USER airflow
WORKDIR /opt/driftpilot

# Dependencies first (cached while only the code changes). requirements.txt is the full lock
# compiled from requirements.in (`make lock`); it pins apache-airflow==3.3.2 like the base image.
COPY --chown=airflow:0 requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The project, installed in editable mode so that the bind mounts of include/ and dags/ in
# docker-compose.yaml replace the code without a rebuild. `dag_support` is installed with the core
# because Airflow 3 does not put the DAGs folder on sys.path.
COPY --chown=airflow:0 pyproject.toml README.md ./
COPY --chown=airflow:0 include/ include/
COPY --chown=airflow:0 dags/ dags/
COPY --chown=airflow:0 plugins/ plugins/
RUN pip install --no-cache-dir --no-deps -e .

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/driftpilot/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/driftpilot/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX=regexp \
    DRIFTPILOT_HOME=/opt/driftpilot/state \
    MLFLOW_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=true \
    GX_ANALYTICS_ENABLED=false
