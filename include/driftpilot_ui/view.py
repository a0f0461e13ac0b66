"""The monitoring view: HTML pages, their JSON API and a CSV of every table.

Pages are empty shells (a heading and ``data-*`` attributes, every value HTML-escaped); the
browser module ``static/view.js`` fetches the JSON API from the same origin and draws tables and
SVG charts with ``textContent`` / ``setAttribute`` only, so no stored string is ever parsed as
markup. Answers come from ``driftpilot.usecases.dashboard`` (SQLite reads and one registry call per
model for its aliases).

Security headers (``VIEW_HEADERS``), set here and kept by the app's middleware: the report
browser's ``sandbox allow-scripts`` would put the view in an opaque origin, where ``fetch`` of
its own API could not send the Airflow login cookie. The view's pages are driftpilot's own code,
so they run in the Airflow origin under a strict policy instead: scripts and styles only from
this origin (no inline script or style, no ``eval``), ``connect-src 'self'`` for the API,
``img-src 'self' data:``, no plugins or objects, ``base-uri 'none'``, ``form-action 'self'`` and
``frame-ancestors 'self'`` (the Airflow UI embeds the view's pages in an iframe; another site
may not). The JSON and CSV answers keep a policy that allows nothing at all and are never sniffed.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from driftpilot.composition import build_ports
from driftpilot.domain.alert_message import WINDOW_ROUTE
from driftpilot.domain.config import ModelConfig, load_all_configs
from driftpilot.errors import DriftpilotError
from driftpilot.settings import load_settings
from driftpilot.usecases import browse, dashboard

STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = {"view.js": "text/javascript", "view.css": "text/css"}
VIEW_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
VIEW_HEADERS = {"Content-Security-Policy": VIEW_CSP, "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
DATA_HEADERS = {"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
                "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
# The DAGs driftpilot defines: driftpilot_<kind>__<model> (monitor, retrain, register, ...).
DAG_ID = re.compile(r"driftpilot_[a-z_]+?__(?P<model>[A-Za-z0-9_-]+)")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _configs() -> dict[str, ModelConfig]:
    return load_all_configs(load_settings().config_dir)


def _info(config: ModelConfig) -> dashboard.ModelInfo:
    return dashboard.ModelInfo(config.name, config.description, config.promotion.primary_metric,
                               config.trigger.performance_slo)


def _model(model: str) -> ModelConfig:
    configs = _configs()
    if model not in configs:
        raise HTTPException(status_code=404, detail=f"no model named {model!r} in the config folder "
                                                    f"(known: {', '.join(sorted(configs)) or 'none'})")
    return configs[model]


def _days(days: int) -> int:
    if days not in dashboard.PERIODS:
        raise HTTPException(status_code=422, detail=f"days must be one of {', '.join(map(str, dashboard.PERIODS))}")
    return days


def csv_cell(value: Any) -> str:
    """A cell as CSV text; text that a spreadsheet would run as a formula is quoted with ``'``."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_START) else text


def table_csv(table: dashboard.Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows([csv_cell(v) for v in row] for row in table.rows)
    return out.getvalue()


def _answer(page: dashboard.Page, fmt: str, table: str | None, filename: str) -> Response:
    """The page as JSON, or one of its tables as a CSV download (``format=csv&table=NAME``)."""
    if fmt == "json":
        return JSONResponse(page.as_json(), headers=DATA_HEADERS)
    if fmt != "csv":
        raise HTTPException(status_code=422, detail="format must be json or csv")
    try:
        chosen = page.table(table or page.tables[0].name)
    except KeyError as exc:
        raise HTTPException(status_code=404, detail=str(exc.args[0])) from exc
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{filename}_{chosen.name}")[:120] + ".csv"
    headers = DATA_HEADERS | {"Content-Disposition": f'attachment; filename="{safe}"'}
    return Response(table_csv(chosen), media_type="text/csv; charset=utf-8", headers=headers)


def page_html(prefix: str, title: str, kind: str, data: dict[str, str], body: str = "") -> HTMLResponse:
    """A view page: a heading, the data its script reads, and the script and style from ``static/``."""
    esc = html.escape
    attributes = " ".join(f'data-{k}="{esc(v, quote=True)}"' for k, v in {"page": kind, "base": prefix, **data}.items())
    static = esc(prefix, quote=True) + "/view/static/"
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title><link rel='stylesheet' href='{static}view.css'>"
        f"<script type='module' src='{static}view.js'></script></head>"
        f"<body {attributes}><header class='dp-header'><a class='dp-home' href='{esc(prefix, quote=True)}/view/'>"
        f"driftpilot</a><h1 id='dp-title'>{esc(title)}</h1></header>"
        f"<main id='dp-main'>{body}</main></body></html>"
    )
    return HTMLResponse(document, headers=VIEW_HEADERS)


def router(prefix: str) -> APIRouter:
    """The view's routes, to include under ``/view`` of the plugin mounted at ``prefix``."""
    routes = APIRouter()

    # ---------------------------------------------------------------- pages
    @routes.get("/", response_class=HTMLResponse)
    def overview_page() -> HTMLResponse:
        return page_html(prefix, "Monitored models", "overview", {})

    @routes.get("/dag/{dag_id:path}", response_class=HTMLResponse)
    def dag_tab(dag_id: str) -> Response:
        found = DAG_ID.fullmatch(dag_id)
        if found and found["model"] in _configs():
            return RedirectResponse(f"{prefix}/view/models/{quote(found['model'], safe='')}", status_code=303)
        body = ("<section class='dp-card'><p>This DAG is not a driftpilot DAG, so there is nothing to monitor "
                "here.</p><p>driftpilot's DAGs are named <code>driftpilot_monitor__&lt;model&gt;</code> (and "
                "<code>driftpilot_retrain__&lt;model&gt;</code>) for each model config; "
                f"<a href='{html.escape(prefix, quote=True)}/view/'>see every monitored model</a>.</p></section>")
        return page_html(prefix, f"{dag_id}: not a driftpilot DAG", "none", {"dag": dag_id}, body)

    @routes.get("/models/{model}", response_class=HTMLResponse)
    def model_page(model: str, days: int = 30) -> HTMLResponse:
        config = _model(model)
        return page_html(prefix, f"{config.name}: trends", "model", {"model": config.name, "days": str(_days(days))})

    @routes.get(WINDOW_ROUTE, response_class=HTMLResponse)  # alert links are built from it too
    def window_page(model: str, window: str) -> HTMLResponse:
        config = _model(model)
        if not browse.safe_part(window):
            raise HTTPException(status_code=404, detail=f"not a window: {window!r}")
        return page_html(prefix, f"{config.name}: window {window}", "window", {"model": config.name, "window": window})

    @routes.get("/models/{model}/feature", response_class=HTMLResponse)
    def feature_page(model: str, column: str = Query(...), days: int = 90) -> HTMLResponse:
        config = _model(model)
        return page_html(prefix, f"{config.name}: {column}", "feature",
                         {"model": config.name, "column": column, "days": str(_days(days))})

    @routes.get("/static/{name}")
    def static(name: str) -> FileResponse:
        if name not in STATIC_FILES:
            raise HTTPException(status_code=404, detail=f"no static file {name!r}")
        return FileResponse(STATIC / name, media_type=STATIC_FILES[name], headers=VIEW_HEADERS)

    # ---------------------------------------------------------------- JSON API and CSV
    @routes.get("/api/overview")
    def overview(format: str = "json", table: str | None = None) -> Response:
        ports = build_ports(load_settings())
        page = dashboard.overview([_info(c) for c in _configs().values()], ports.store, ports.registry)
        return _answer(page, format, table, "overview")

    @routes.get("/api/models/{model}/trends")
    def trends(model: str, days: int = 30, format: str = "json", table: str | None = None) -> Response:
        config = _model(model)
        page = dashboard.trends(_info(config), build_ports(load_settings()).store, _days(days))
        return _answer(page, format, table, f"{config.name}_{days}d")

    @routes.get("/api/models/{model}/windows/{window}")
    def window(model: str, window: str, format: str = "json", table: str | None = None) -> Response:
        config = _model(model)
        if not browse.safe_part(window):
            raise HTTPException(status_code=404, detail=f"not a window: {window!r}")
        settings = load_settings()
        files = next((e.files for e in browse.list_windows(settings.lake) if e.model == config.name and e.window == window),
                     ())
        try:
            page = dashboard.window_page(_info(config), build_ports(settings).store, window, files)
        except DriftpilotError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        return _answer(page, format, table, f"{config.name}_{window}")

    @routes.get("/api/models/{model}/features")
    def features(model: str) -> JSONResponse:
        config = _model(model)
        return JSONResponse({"columns": dashboard.feature_names(build_ports(load_settings()).store, config.name)},
                            headers=DATA_HEADERS)

    @routes.get("/api/models/{model}/feature")
    def feature(model: str, column: str = Query(...), days: int = 90, format: str = "json",
                table: str | None = None) -> Response:
        config = _model(model)
        settings = load_settings()
        page = dashboard.feature_history(_info(config), build_ports(settings).store, column, _days(days),
                                         lambda window: _summary(settings.lake, config.name, column, window))
        return _answer(page, format, table, f"{config.name}_feature")

    return routes


def _summary(lake: Path, model: str, column: str, window: str) -> dict[str, Any] | None:
    """The column's summary in the window's ``drift_stats.json`` (the window's own rows), if stored."""
    try:
        stats = json.loads(browse.report_file(lake, model, window, "drift_stats.json").read_text())
    except (browse.ReportNotFound, OSError, ValueError):
        return None
    for entry in (*stats.get("columns", ()), *stats.get("predictions", ())):
        if entry.get("column") == column and isinstance(entry.get("summary"), dict):
            return dict(entry["summary"])
    return None
