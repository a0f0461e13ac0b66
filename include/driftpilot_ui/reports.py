"""The report browser: the windows of each model and the stored report files of one window."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from driftpilot.settings import load_settings
from driftpilot.usecases import browse


def router(prefix: str) -> APIRouter:
    """Routes under the plugin's mount point ``prefix`` (used to build links in the index)."""
    routes = APIRouter()

    @routes.get("/", response_class=HTMLResponse)
    def index() -> str:
        return browse.index_html(browse.list_windows(load_settings().lake), prefix)

    @routes.get("/{model}/{window}/{name}")
    def report(model: str, window: str, name: str) -> FileResponse:
        try:
            return FileResponse(browse.report_file(load_settings().lake, model, window, name))
        except browse.ReportNotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    return routes
