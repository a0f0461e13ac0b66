"""Airflow plugin: driftpilot's monitoring view and its HTML reports inside the Airflow UI.

Mounts a small FastAPI app on the api-server at `/driftpilot` (login required, like the rest of
the UI): the monitoring view at `/driftpilot/view/` (a "Model monitoring" nav entry, and a
"Monitoring" tab on every DAG page: a driftpilot DAG opens its model's page, another DAG a short
"not a driftpilot DAG" note) and the report browser at `/driftpilot/reports/` (Browse menu). What it lists and serves
comes from the `driftpilot_ui` package (routes) and `driftpilot.usecases` (answers); this file only
registers it. Every report response carries
`Content-Security-Policy: sandbox allow-scripts` and `X-Content-Type-Options: nosniff`
(`driftpilot.browse.RESPONSE_HEADERS`): reports are served on the Airflow origin, where a
logged-in session lives, so their scripts must run in an opaque origin of their own; the view's
pages have a strict same-origin policy instead (see `driftpilot_ui.view`). Airflow imports plugins in every
process (task workers too), so the app is a small ASGI shim that builds the real FastAPI app on
its first request: importing this module costs nothing beyond `airflow.plugins_manager`.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from driftpilot.domain.alert_message import (
    PLUGIN_PREFIX as PREFIX,  # alert links are built from it too
)


class LazyApp:
    """An ASGI app that builds the FastAPI app when the api-server first routes a request to it."""

    def __init__(self) -> None:
        self._app = None

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if self._app is None:
            from driftpilot_ui.app import build_app

            self._app = build_app(PREFIX)
        await self._app(scope, receive, send)


class DriftpilotReportsPlugin(AirflowPlugin):
    name = "driftpilot_reports"
    fastapi_apps = [{"app": LazyApp(), "url_prefix": PREFIX, "name": "driftpilot reports"}]  # noqa: RUF012 - AirflowPlugin API
    external_views = [  # noqa: RUF012 - AirflowPlugin API
        {"name": "Drift reports", "href": PREFIX + "/reports/", "destination": "nav", "category": "browse"},
        # `url_route` embeds the page in the Airflow UI (an iframe under /plugin/...); a `dag` tab
        # is only shown with one.
        {"name": "Model monitoring", "href": PREFIX + "/view/", "destination": "nav", "url_route": "driftpilot"},
        {"name": "Monitoring", "href": PREFIX + "/view/dag/{DAG_ID}", "destination": "dag",
         "url_route": "driftpilot-monitoring"},
    ]
