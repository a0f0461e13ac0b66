"""The plugin's FastAPI app: every route behind Airflow's login, every answer inert.

Built on the api-server's first request to the mount point (see ``plugins/driftpilot_reports.py``),
so Airflow processes that never serve it never import FastAPI's routes or driftpilot's use cases.
"""

from __future__ import annotations

from airflow.api_fastapi.core_api.security import requires_authenticated
from fastapi import Depends, FastAPI, Request
from starlette.responses import RedirectResponse, Response

from driftpilot.domain.alert_message import APPROVALS_PREFIX, VIEW_PREFIX
from driftpilot.usecases import browse
from driftpilot_ui import approvals, reports, view


def build_app(prefix: str) -> FastAPI:
    """The app mounted at ``prefix``; a request without a valid Airflow login gets 401.

    ``prefix/reports/``: the report browser; ``prefix/view/``: the monitoring view;
    ``prefix/approvals/``: candidates awaiting approval, approve or reject.
    """
    app = FastAPI(title="driftpilot", dependencies=[Depends(requires_authenticated())])

    @app.middleware("http")
    async def inert(request: Request, call_next):  # type: ignore[no-untyped-def]
        # Every answer (reports, the index, errors): a report's scripts run in an opaque origin,
        # never with the Airflow session, and no file is sniffed into another type. The view's
        # own answers set a policy of their own (``view.VIEW_HEADERS``), which is kept.
        response: Response = await call_next(request)
        for name, value in browse.RESPONSE_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse(prefix + "/view/", status_code=303)

    app.include_router(reports.router(prefix + "/reports"), prefix="/reports")
    app.include_router(view.router(prefix), prefix=VIEW_PREFIX)
    app.include_router(approvals.router(), prefix=APPROVALS_PREFIX)
    return app
