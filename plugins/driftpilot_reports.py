"""Airflow plugin: browse driftpilot's HTML drift reports from the Airflow UI.

Mounts a small FastAPI app on the api-server at `/driftpilot/reports` (login required, like the
rest of the UI) and adds a "Drift reports" entry to the Browse menu. What it lists and serves
comes from `driftpilot.browse`; this file only wires it. Every response carries
`Content-Security-Policy: sandbox allow-scripts` and `X-Content-Type-Options: nosniff`
(`driftpilot.browse.RESPONSE_HEADERS`): reports are served on the Airflow origin, where a
logged-in session lives, so their scripts must run in an opaque origin of their own. Airflow imports plugins in every
process (task workers too), so the app is a small ASGI shim that builds the real FastAPI app on
its first request: importing this module costs nothing beyond `airflow.plugins_manager`.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

PREFIX = "/driftpilot/reports"


def build_app():  # type: ignore[no-untyped-def]
    from airflow.api_fastapi.core_api.security import requires_authenticated
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.responses import FileResponse, HTMLResponse

    from driftpilot.settings import load_settings
    from driftpilot.usecases import browse

    app = FastAPI(title="driftpilot reports", dependencies=[Depends(requires_authenticated())])

    @app.middleware("http")
    async def inert(request: Request, call_next):  # type: ignore[no-untyped-def]
        # Every answer (reports, JSON, the index, errors): a report's scripts run in an opaque
        # origin, never with the Airflow session, and no file is sniffed into another type.
        response = await call_next(request)
        response.headers.update(browse.RESPONSE_HEADERS)
        return response

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return browse.index_html(browse.list_windows(load_settings().lake), PREFIX)

    @app.get("/{model}/{window}/{name}")
    def report(model: str, window: str, name: str) -> FileResponse:
        try:
            return FileResponse(browse.report_file(load_settings().lake, model, window, name))
        except browse.ReportNotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    return app


class LazyApp:
    """An ASGI app that builds the FastAPI app when the api-server first routes a request to it."""

    def __init__(self) -> None:
        self._app = None

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if self._app is None:
            self._app = build_app()
        await self._app(scope, receive, send)


class DriftpilotReportsPlugin(AirflowPlugin):
    name = "driftpilot_reports"
    fastapi_apps = [{"app": LazyApp(), "url_prefix": PREFIX, "name": "driftpilot reports"}]  # noqa: RUF012 - AirflowPlugin API
    external_views = [  # noqa: RUF012 - AirflowPlugin API
        {"name": "Drift reports", "href": PREFIX + "/", "destination": "nav", "category": "browse"},
    ]
