"""The plugin's FastAPI app: every route behind Airflow's login, every answer inert.

Built on the api-server's first request to the mount point (see ``plugins/driftpilot_reports.py``),
so Airflow processes that never serve it never import FastAPI's routes or driftpilot's use cases.
"""

from __future__ import annotations

from airflow.api_fastapi.core_api.security import requires_authenticated
from fastapi import Depends, FastAPI, Request
from starlette.responses import Response

from driftpilot.usecases import browse
from driftpilot_ui import approvals, reports


def build_app(prefix: str) -> FastAPI:
    """The app mounted at ``prefix``; a request without a valid Airflow login gets 401."""
    app = FastAPI(title="driftpilot", dependencies=[Depends(requires_authenticated())])

    @app.middleware("http")
    async def inert(request: Request, call_next):  # type: ignore[no-untyped-def]
        # Every answer (reports, JSON, the index, errors): a report's scripts run in an opaque
        # origin, never with the Airflow session, and no file is sniffed into another type.
        response: Response = await call_next(request)
        for name, value in browse.RESPONSE_HEADERS.items():
            # A route that sets its own stricter policy keeps it (the approvals page runs its own
            # script, same-origin, so that its POST carries the session; see driftpilot_ui.approvals).
            if name not in response.headers:
                response.headers[name] = value
        return response

    app.include_router(approvals.router(), prefix="/approvals")
    app.include_router(reports.router(prefix))
    return app
