"""What the report browser shows: the windows of each model and the files of one window.

Pure look-ups over the lake's ``reports/`` folder (no web framework here: the Airflow plugin in
``plugins/driftpilot_reports.py`` only serves what these functions return). File access is
confined to the reports root: every part of a request (model, window, file name) must be a plain
name (letters, digits, ``_``, ``-``, ``.``; no ``..``, no separator, not empty, not hidden), and
the file must still be inside the root once symlinks are resolved; anything else is "not found".
The listing applies the same rules, so it never links what cannot be served.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from driftpilot.domain.lake_layout import REPORTS
from driftpilot.domain.reports import share_text
from driftpilot.errors import DriftpilotError

SAFE_SUFFIXES = (".html", ".json", ".md")
# What the report browser sends with every response: the page's scripts run sandboxed in an
# opaque origin (no cookies, no storage, no same-origin requests to the server that served it),
# and the browser never sniffs a file into another content type.
RESPONSE_HEADERS = {"Content-Security-Policy": "sandbox allow-scripts", "X-Content-Type-Options": "nosniff"}
# Model names (letters, digits, "_", "-": see config), window dates and report file names.
SAFE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class ReportNotFound(DriftpilotError):
    """The asked-for model, window or file does not exist (or is not a report file)."""


@dataclass(frozen=True)
class WindowEntry:
    model: str
    window: str
    action: str
    drift_share: float | None  # driftpilot's deciding share (decision.json), never Evidently's
    files: tuple[str, ...]


def safe_part(part: str) -> bool:
    """Whether ``part`` may name a model, window or file: a plain name, never ``..`` or a path."""
    return SAFE_PART.fullmatch(part) is not None and ".." not in part


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path``, symlinks resolved, is ``root`` (already resolved) or below it."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop, an unreadable folder
        return False


def list_windows(lake: Path) -> list[WindowEntry]:
    """Every servable model/window with reports, newest window first per model."""
    root = (lake / REPORTS).resolve()
    entries = []
    for model_dir in sorted(root.glob("model=*")):
        model = model_dir.name.removeprefix("model=")
        if not safe_part(model) or not _inside(model_dir, root):
            continue
        for window_dir in sorted(model_dir.glob("date=*"), reverse=True):
            window = window_dir.name.removeprefix("date=")
            if not safe_part(window) or not _inside(window_dir, root) or not window_dir.is_dir():
                continue
            decision = window_dir / "decision.json"
            action, share = "-", None
            if decision.is_file() and _inside(decision, root):
                payload = json.loads(decision.read_text())
                action = str(payload.get("action", "-"))
                share = payload.get("evidence", {}).get("drift_share")
            files = tuple(sorted(p.name for p in window_dir.iterdir()
                                 if p.suffix in SAFE_SUFFIXES and safe_part(p.name) and _inside(p, root)))
            entries.append(WindowEntry(model, window, action, share, files))
    return entries


def report_file(lake: Path, model: str, window: str, name: str) -> Path:
    """The path of one report file, refusing anything that is not a report inside the reports root.

    Each part is checked on its own (``safe_part``), then the path is resolved, so a symlinked
    model or window folder (or file) that points outside ``lake/reports`` is refused too.
    """
    for what, part in (("model", model), ("window", window), ("file name", name)):
        if not safe_part(part):
            raise ReportNotFound(f"not a report {what}: {part!r}")
    if Path(name).suffix not in SAFE_SUFFIXES:
        raise ReportNotFound(f"not a report file name: {name!r}")
    root = (lake / REPORTS).resolve()
    path = root / f"model={model}" / f"date={window}" / name
    if not _inside(path, root) or path.resolve().suffix not in SAFE_SUFFIXES or not path.is_file():
        raise ReportNotFound(f"no report {name!r} for {model} window {window}")
    return path.resolve()


def report_href(prefix: str, model: str, window: str, name: str) -> str:
    """The plugin URL of one report file, each path part percent-encoded."""
    return "/".join([prefix, *(quote(part, safe="") for part in (model, window, name))])


def index_html(entries: list[WindowEntry], prefix: str) -> str:
    """A plain index page: one table per model, links to each window's reports.

    Every value is HTML-escaped (quotes included) and every link part percent-encoded, whatever
    the folder names hold.
    """
    esc = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>driftpilot reports</title></head>"
             "<body><h1>driftpilot reports</h1>"]
    if not entries:
        parts.append("<p>No reports yet: run the monitoring DAG (or <code>make demo</code>).</p>")
    models = sorted({e.model for e in entries})
    for model in models:
        parts.append(f"<h2>{esc(model)}</h2><table border='1' cellpadding='4'>"
                     "<tr><th>window</th><th>action</th><th>drift share (driftpilot, decides)</th><th>reports</th></tr>")
        for e in (e for e in entries if e.model == model):
            links = " ".join(
                f'<a href="{esc(report_href(prefix, e.model, e.window, f))}">{esc(f)}</a>'
                for f in e.files if f.endswith(".html") or f == "decision.json"
            )
            share = share_text(e.drift_share)
            parts.append(f"<tr><td>{esc(e.window)}</td><td>{esc(e.action)}</td>"
                         f"<td>{share}</td><td>{links}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)
