"""The approvals page: candidates awaiting a decision, with the gate's comparison; approve or reject.

Routes are relative to the router's prefix (``/approvals`` in ``app.py``), so they work whatever
the plugin's mount point is; the page's script posts to the relative URL ``api/<model>/<version>``.

* ``GET  /``                       the HTML page (any logged-in user)
* ``GET  /api/pending``            the same as JSON (``?model=NAME`` adds models not in the config)
* ``POST /api/{model}/{version}``  ``{"decision": "approved"|"rejected", "note": "..."}``

Who decides is the logged-in Airflow user (``GetUserDep``), never a value the client sends. A user
may decide only if Airflow's auth manager lets them trigger **and** edit runs of the model's
retraining DAG (``driftpilot_retrain__<model>``, the DAG that registers and promotes candidates):
a viewer can look, not approve (403).

Cross-site requests: Airflow's UI session is a cookie, so a hostile page could make a logged-in
browser POST here. The POST therefore requires ``Content-Type: application/json`` (a cross-site
``<form>`` cannot send it, and a cross-site ``fetch`` with it needs a CORS preflight the api-server
does not grant), and refuses a request whose ``Sec-Fetch-Site`` is ``cross-site``/``same-site`` or
whose ``Origin`` is not this server's. API clients with a bearer token send neither header and pass.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from driftpilot.composition import build_ports
from driftpilot.domain.config import load_all_configs
from driftpilot.errors import DriftpilotError, PromotionRefused
from driftpilot.ports import CHAMPION
from driftpilot.settings import load_settings
from driftpilot.usecases import approvals
from driftpilot.usecases import promote as promotion

# The page runs its own script (same origin, so its POST carries the session); nothing else loads.
PAGE_CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
            "form-action 'none'; base-uri 'none'; frame-ancestors 'self'")


def retrain_dag_id(model: str) -> str:
    """The DAG that registers and promotes ``model``'s candidates (``dags/driftpilot_retrain.py``)."""
    return f"driftpilot_retrain__{model}"


def may_decide(user: Any, model: str) -> bool:
    """Whether Airflow lets ``user`` trigger and edit runs of ``model``'s retraining DAG."""
    manager = get_auth_manager()
    details = DagDetails(id=retrain_dag_id(model))
    return all(manager.is_authorized_dag(method=method, access_entity=DagAccessEntity.RUN, details=details, user=user)
               for method in ("POST", "PUT"))


def reviewer(user: Any) -> str:
    """The identity written to ``driftpilot.approval_by``, as the Airflow approval task writes it."""
    name, user_id = str(user.get_name() or "").strip(), str(user.get_id() or "").strip()
    return f"{name or user_id} (Airflow user {user_id or name})"


def same_origin_json(request: Request) -> None:
    """Refuse what a cross-site page could send (see the module doc)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise HTTPException(415, "send the decision as JSON (Content-Type: application/json)")
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise HTTPException(403, "cross-site request refused: decide from the driftpilot approvals page")
    origin = request.headers.get("origin")
    if origin is not None:
        expected = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
        if origin.rstrip("/") != expected:
            raise HTTPException(403, "request from another origin refused: decide from the driftpilot approvals page")


class Decision(BaseModel):
    decision: str
    note: str


def _models(extra: list[str]) -> list[str]:
    names = list(load_all_configs(load_settings().config_dir))
    return names + [m for m in extra if m not in names]


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def page_html(items: list[approvals.Candidate], allowed: dict[str, bool]) -> str:
    """The pending approvals as an inert page (every value escaped); the buttons need ``approvals.js``."""
    e = html.escape
    rows = []
    for item in items:
        metrics = "".join(
            f"<tr><td>{e(m.name)}</td><td>{_number(m.champion)}</td><td>{_number(m.candidate)}</td>"
            f"<td>{m.delta:+.4f}</td><td>{'' if m.passed is None else ('pass' if m.passed else 'FAIL')}</td></tr>"
            for m in item.metrics)
        reasons = "".join(f"<li>{e(r)}</li>" for r in item.reasons)
        gate = "passed" if item.gate_passed and item.gate_problem is None else f"will be refused: {item.gate_problem}"
        key = f"{item.model}/{item.version}"
        controls = (
            f'<form class="decide" data-model="{e(item.model)}" data-version="{e(item.version)}">'
            f'<label>Note (required) <textarea name="note" required></textarea></label>'
            f'<button type="submit" name="decision" value="{promotion.APPROVED}">Approve</button>'
            f'<button type="submit" name="decision" value="{promotion.REJECTED}">Reject</button>'
            f'<output></output></form>'
            if allowed.get(item.model) else
            "<p>You can look but not decide: your Airflow role cannot trigger and edit runs of "
            f"{e(retrain_dag_id(item.model))}.</p>")
        rows.append(
            f'<section id="{e(key)}"><h2>{e(item.model)} v{e(item.version)}</h2>'
            f"<p>champion now: v{e(item.champion_version or 'none')}; gate run against v{e(item.gated_against or '?')}"
            f" on {e(str(item.rows or '?'))} holdout rows; gate: {e(gate)}</p>"
            f"<p>improvement {_number(item.improvement)} (CI {_number(item.ci_low)} .. {_number(item.ci_high)})</p>"
            f"<table><tr><th>metric</th><th>champion</th><th>candidate</th><th>delta</th><th>guard</th></tr>{metrics}</table>"
            f"<ul>{reasons}</ul><p>why retrained: {e(item.tags.get('driftpilot.reason', ''))}</p>{controls}</section>")
    body = "".join(rows) or "<p>No candidate is awaiting approval.</p>"
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>driftpilot approvals</title></head>"
            f"<body><h1>Pending approvals</h1>{body}<script src=\"approvals.js\"></script></body></html>")


SCRIPT = """
for (const form of document.querySelectorAll("form.decide")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = form.querySelector("output");
    const url = "api/" + encodeURIComponent(form.dataset.model) + "/" + encodeURIComponent(form.dataset.version);
    const body = JSON.stringify({decision: event.submitter.value, note: form.note.value});
    const response = await fetch(url, {method: "POST", credentials: "same-origin",
                                       headers: {"Content-Type": "application/json"}, body});
    const answer = await response.json();
    out.textContent = response.ok ? (answer.decision + "; champion is v" + answer.champion) : String(answer.detail);
    if (response.ok) { for (const b of form.querySelectorAll("button")) b.disabled = true; }
  });
}
"""


def router() -> APIRouter:
    routes = APIRouter()

    @routes.get("/", response_class=HTMLResponse)
    def page(user: GetUserDep, model: list[str] = Query(default=[])) -> HTMLResponse:  # noqa: B008 - FastAPI API
        items = approvals.pending(build_ports(load_settings()), _models(model))
        allowed = {m: may_decide(user, m) for m in {i.model for i in items}}
        return HTMLResponse(page_html(items, allowed), headers={"Content-Security-Policy": PAGE_CSP})

    @routes.get("/approvals.js")
    def script() -> Response:
        return Response(SCRIPT, media_type="text/javascript", headers={"Content-Security-Policy": PAGE_CSP})

    @routes.get("/api/pending")
    def pending(user: GetUserDep, model: list[str] = Query(default=[])) -> dict[str, Any]:  # noqa: B008
        items = approvals.pending(build_ports(load_settings()), _models(model))
        return {"pending": [{**i.to_dict(), "may_decide": may_decide(user, i.model)} for i in items]}

    # The guard is a dependency so that it answers before the body is parsed (a form post gets 415, not 422).
    @routes.post("/api/{model}/{version}", dependencies=[Depends(same_origin_json)])
    def decide(model: str, version: str, body: Decision, user: GetUserDep) -> dict[str, Any]:
        if not may_decide(user, model):
            raise HTTPException(403, f"your Airflow role may look but not decide: deciding needs the right to trigger "
                                     f"and edit runs of {retrain_dag_id(model)}")
        ports = build_ports(load_settings())
        try:
            moves = approvals.decide(ports, model, version, body.decision, reviewer(user), body.note,
                                     datetime.now(UTC).isoformat())
        except approvals.NoteRequired as exc:
            raise HTTPException(422, str(exc)) from exc
        except (approvals.NotPending, PromotionRefused) as exc:
            raise HTTPException(409, str(exc)) from exc
        except DriftpilotError as exc:
            raise HTTPException(400, str(exc)) from exc
        return {"model": model, "version": version, "decision": body.decision, "by": reviewer(user),
                "champion": ports.registry.alias_version(model, CHAMPION),
                "moves": [json.loads(json.dumps(vars(m), default=str)) for m in moves]}

    return routes
