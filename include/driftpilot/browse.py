"""What the report browser shows: the windows of each model and the files of one window.

Pure look-ups over the lake's ``reports/`` folder (no web framework here: the Airflow plugin in
``plugins/driftpilot_reports.py`` only serves what these functions return). File access is
confined to report folders: a name with a path separator, or one that resolves outside the
window's folder, is refused.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from driftpilot import storage
from driftpilot.errors import DriftpilotError

SAFE_SUFFIXES = (".html", ".json", ".md")


class ReportNotFound(DriftpilotError):
    """The asked-for model, window or file does not exist (or is not a report file)."""


@dataclass(frozen=True)
class WindowEntry:
    model: str
    window: str
    action: str
    drift_share: float | None
    files: tuple[str, ...]


def list_windows(lake: Path) -> list[WindowEntry]:
    """Every model/window with reports, newest window first per model."""
    root = lake / storage.REPORTS
    entries = []
    for model_dir in sorted(root.glob("model=*")):
        for window_dir in sorted(model_dir.glob("date=*"), reverse=True):
            decision = window_dir / "decision.json"
            action, share = "-", None
            if decision.exists():
                payload = json.loads(decision.read_text())
                action = str(payload.get("action", "-"))
                share = payload.get("evidence", {}).get("drift_share")
            files = tuple(sorted(p.name for p in window_dir.iterdir() if p.suffix in SAFE_SUFFIXES))
            entries.append(WindowEntry(model_dir.name.removeprefix("model="),
                                       window_dir.name.removeprefix("date="), action, share, files))
    return entries


def report_file(lake: Path, model: str, window: str, name: str) -> Path:
    """The path of one report file, refusing anything outside the window's report folder."""
    if "/" in name or "\\" in name or name.startswith(".") or Path(name).suffix not in SAFE_SUFFIXES:
        raise ReportNotFound(f"not a report file name: {name!r}")
    folder = (lake / storage.REPORTS / f"model={model}" / f"date={window}").resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise ReportNotFound(f"no report {name!r} for {model} window {window}")
    return path


def index_html(entries: list[WindowEntry], prefix: str) -> str:
    """A plain index page: one table per model, links to each window's reports."""
    parts = ["<html><head><title>driftpilot reports</title></head><body><h1>driftpilot reports</h1>"]
    if not entries:
        parts.append("<p>No reports yet: run the monitoring DAG (or <code>make demo</code>).</p>")
    models = sorted({e.model for e in entries})
    for model in models:
        parts.append(f"<h2>{html.escape(model)}</h2><table border='1' cellpadding='4'>"
                     "<tr><th>window</th><th>action</th><th>drift share</th><th>reports</th></tr>")
        for e in (e for e in entries if e.model == model):
            links = " ".join(
                f"<a href='{prefix}/{html.escape(e.model)}/{html.escape(e.window)}/{html.escape(f)}'>{html.escape(f)}</a>"
                for f in e.files if f.endswith(".html") or f == "decision.json"
            )
            share = "-" if e.drift_share is None else f"{e.drift_share:.2f}"
            parts.append(f"<tr><td>{html.escape(e.window)}</td><td>{html.escape(e.action)}</td>"
                         f"<td>{share}</td><td>{links}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)
