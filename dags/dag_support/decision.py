"""The retraining DAG's wait for a reviewer: a reschedule-mode sensor, so no worker slot is held.

In registry approval mode the candidate is decided outside Airflow (the approvals page, the CLI,
the MLflow registry). Without this task the run would end green while nobody had decided yet;
with it the run stays running (the task *up for reschedule*) until the use case
``approvals.decision`` says the version is settled, and fails after ``DECISION_TIMEOUT`` saying
how to decide. The check itself lives in the use case; this is only the Airflow side.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException

DECISION_TIMEOUT = timedelta(days=7)
DEFAULT_POKE_SECONDS = 300


class AwaitingDecision(BaseSensorOperator):
    """Waits until the version the ``approval`` task left *awaiting approval* is decided.

    Run params: ``await_decision`` (false: skip, for scripted runs that decide afterwards) and
    ``decision_poke_seconds`` (how often to look; the demo looks every second).
    """

    template_fields = ("outcome",)

    def __init__(self, *, model: str, outcome: Any, **kwargs: Any) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("timeout", DECISION_TIMEOUT)
        kwargs.setdefault("poke_interval", DEFAULT_POKE_SECONDS)
        super().__init__(**kwargs)
        self.model = model
        self.outcome = outcome

    def execute(self, context: Any) -> Any:
        params = context["params"]
        if params.get("await_decision") is False:
            raise AirflowSkipException("await_decision is false: this run does not wait for the reviewer")
        self.poke_interval = float(params.get("decision_poke_seconds") or self.poke_interval)
        try:
            return super().execute(context)
        except AirflowSensorTimeout as exc:
            from driftpilot.usecases.approvals import how_to_decide

            version = str((self.outcome or {}).get("version"))
            raise AirflowSensorTimeout(
                f"{self.model} v{version} was never decided in {self.timeout / 86400:g} days: the candidate stays "
                f"the challenger awaiting approval; {how_to_decide(self.model, version)}; the next monitoring run "
                "promotes an approved one") from exc

    def poke(self, context: Any) -> bool:
        from driftpilot.composition import build_ports
        from driftpilot.settings import load_settings
        from driftpilot.usecases.approvals import decision, how_to_decide

        outcome = dict(self.outcome or {})
        if outcome.get("state") != "awaiting approval":
            self.log.info("nothing to decide: %s", outcome.get("why") or outcome.get("state"))
            return True
        version = str(outcome["version"])
        settled = decision(build_ports(load_settings()), self.model, version)  # registry and store only: no config
        if settled is None:
            self.log.info("%s v%s awaits a decision: %s", self.model, version, how_to_decide(self.model, version))
            return False
        self.log.info("%s v%s decided: %s", self.model, version, settled)
        return True
