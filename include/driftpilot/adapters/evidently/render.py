"""What a person reads around Evidently's pages: the banner, inert pages, the window's index.

* **Inert pages.** Evidently embeds the dashboard as JSON in an inline ``<script>``, where a
  category value or column name ``</script>...`` would end the script and inject markup. Each
  page goes through ``inert_evidently_html`` before it is written (``<``, ``>``, ``&`` in the
  embedded JSON become ``\\u003c``-style escapes); a page of an unknown layout is refused.
* **The index** (``index.html``) is rendered from the typed records of what each step wrote
  (``WindowReports``); it escapes every value and percent-encodes its links.

Pure string functions: no Evidently import, no file I/O.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from urllib.parse import quote

from driftpilot.domain.reports import INSUFFICIENT_LABELS, DecidingDrift, WindowReports, share_text
from driftpilot.errors import DriftpilotError


def banner(title: str, lines: Sequence[str], warning: str | None) -> str:
    style = "font-family:sans-serif;padding:10px 16px;margin:0;border-bottom:1px solid #ccc;"
    parts = [f'<div id="driftpilot-banner" style="{style}background:#f4f6f8">',
             f"<strong>{html.escape(title)}</strong>"]
    parts += [f"<div>{html.escape(line)}</div>" for line in lines]
    if warning:
        parts.append(f'<div style="color:#9a3412;font-weight:bold">{html.escape(warning)}</div>')
    parts.append("</div>")
    return "".join(parts)


def verdict_lines(verdict: DecidingDrift | None) -> list[str]:
    """The banner lines of driftpilot's deciding verdict: the share, then each drifted feature's reason."""
    if verdict is None:
        return ["driftpilot's deciding verdict: not given to the renderer (see decision.json)"]
    return [f"Decides: {verdict.headline()}",
            *(f"  {c.column}: {c.reason}" for c in verdict.columns if c.drifted and c.reason)]


def with_banner(page: str, banner: str) -> str:
    match = re.search(r"<body[^>]*>", page)
    if match is None:
        return banner + page
    return page[: match.end()] + banner + page[match.end():]


class UnsafeReportPage(DriftpilotError):
    """Evidently's page does not have the layout ``inert_evidently_html`` knows how to make safe."""


# Evidently 0.7's page template (evidently/legacy/utils/dashboard.py, ``file_html_template``)
# embeds the whole dashboard in one inline script in <head>:
#     <script>
#         var <id> = {json};
#         var additional_graphs_<id> = {json};
#     </script>
# json.dumps leaves "<" and "/" alone, so a category value or column name "</script>..." ends the
# script block and the rest of the value is parsed as markup.
_DATA_BLOCK = re.compile(r"<script>\s*var (?P<id>[A-Za-z_][A-Za-z0-9_]*) = ")
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})


def script_safe_json(text: str) -> str:
    """JSON text that cannot end or alter the inline <script> it is embedded in.

    ``<``, ``>`` and ``&`` (and the JavaScript line separators) become ``\\uXXXX`` escapes. JSON
    has these characters only inside strings, where the escape means the same character, and a
    backslash is never followed by one of them, so the decoded value is unchanged while no
    ``</script``, ``<!--`` or ``<script`` (in any case) is left for the HTML parser to see.
    """
    return text.translate(_SCRIPT_SAFE)


def inert_evidently_html(page: str) -> str:
    """Evidently's standalone page with its embedded data made inert (``script_safe_json``).

    The two JSON values are found with a JSON decoder (not by searching for ``</script>``, which a
    hostile value may contain) and rewritten in place; the rest of the page, Evidently's own
    library included, is left byte for byte. A page of another layout raises ``UnsafeReportPage``
    rather than being written unsafe.
    """
    start = _DATA_BLOCK.search(page)
    if start is None:
        raise UnsafeReportPage(
            "Evidently's HTML has no embedded data block where driftpilot expects it (did the Evidently "
            "version change?); the report is not written because its data could not be made inert")
    decoder = json.JSONDecoder()
    try:
        _, info_end = decoder.raw_decode(page, start.end())
        graphs = re.compile(rf";\s*var additional_graphs_{start['id']} = ").match(page, info_end)
        if graphs is None:
            raise ValueError("no additional_graphs after the dashboard")
        _, graphs_end = decoder.raw_decode(page, graphs.end())
        if re.compile(r";\s*</script>").match(page, graphs_end) is None:
            raise ValueError("no </script> right after the data")
    except ValueError as exc:
        raise UnsafeReportPage(
            f"Evidently's embedded data block has an unexpected layout ({exc}); the report is not "
            "written because its data could not be made inert") from exc
    return "".join([
        page[: start.end()], script_safe_json(page[start.end():info_end]),
        page[info_end:graphs.end()], script_safe_json(page[graphs.end():graphs_end]),
        page[graphs_end:],
    ])


def render_index(reports: WindowReports) -> str:
    """A small HTML page that links the window's reports and states sample size and labels."""
    esc = html.escape
    files = reports.files
    drift, perf = reports.drift, reports.performance
    items = []
    for kind, label in (("drift_html", "Data drift"), ("quality_html", "Data summary / quality"),
                        ("performance_html", "Model performance")):
        if kind in files:
            items.append(f'<li><a href="{esc(quote(files[kind]))}">{label}</a></li>')
    if drift is None:
        items.append("<li>Data drift and quality: not rendered yet for this window</li>")
    if "performance_html" not in files:
        items.append(f"<li>Model performance: {INSUFFICIENT_LABELS} (no report for this window yet)</li>")
    current = drift or perf
    if current is None:
        sample = "<p>No report has been rendered for this window yet.</p>"
    elif current.sampled:
        sample = (f"<p><strong>Sampled:</strong> the reports were built from a seeded random sample of "
                  f"{current.sample_rows:,} of the window's {current.total_rows:,} rows.</p>")
    else:
        sample = f"<p>Built from all {current.total_rows:,} rows of the window (not sampled).</p>"
    performance = perf.performance if perf is not None else None
    perf_text = (", ".join(f"{k} {v:.3f}" for k, v in performance.items())
                 if performance is not None else INSUFFICIENT_LABELS)
    verdict = drift.verdict if drift is not None else None
    if verdict is not None:
        rows = "".join(f"<tr><td>{esc(c.column)}</td><td>{'drifted' if c.drifted else 'no drift'}</td>"
                       f"<td>{esc(c.reason)}</td></tr>" for c in verdict.columns)
        drift_text = (f"<p><strong>Drift share (driftpilot, decides): {share_text(verdict.drift_share)}</strong>; "
                      f"drifted features: {esc(', '.join(verdict.drifted_columns)) or 'none'} "
                      f"(threshold {share_text(verdict.threshold)}, on all {verdict.rows:,} rows).</p>"
                      "<table border='1' cellpadding='4'><tr><th>feature</th><th>driftpilot's verdict</th>"
                      f"<th>why</th></tr>{rows}</table>")
    elif drift is not None:
        drift_text = "<p>Drift share (driftpilot, decides): not given to the renderer; see decision.json.</p>"
    else:
        drift_text = "<p>Drift share: not rendered yet.</p>"
    if drift is not None and drift.evidently_drift_share is not None:
        drift_text += (f"<p>Evidently's drift share: {share_text(drift.evidently_drift_share)} "
                       f"(Evidently's drifted columns: {esc(', '.join(drift.evidently_drifted_columns)) or 'none'}; "
                       f"its own methods{', on the sample' if drift.sampled else ''}; shown in the drift report, "
                       "does not decide).</p>")
    notes = "".join(f"<li>{esc(n)}</li>" for s in (drift, perf) if s is not None for n in s.notes)
    reference_rows = current.reference_rows if current is not None else 0
    labelled_rows = perf.labelled_rows if perf is not None else 0
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{esc(reports.model_name)} · {esc(reports.window_label)}</title></head>"
        "<body style='font-family:sans-serif;max-width:60em;margin:2em auto'>"
        f"<h1>{esc(reports.model_name)} · window {esc(reports.window_label)}</h1>"
        f"{sample}"
        f"<p>Reference rows: {reference_rows:,}. Labelled rows: {labelled_rows:,}.</p>"
        f"{drift_text}"
        f"<p>Performance: {esc(perf_text)}.</p>"
        f"<ul>{''.join(items)}</ul>"
        + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
        + "<p><a href='summary.json'>summary.json</a> (machine-readable)</p></body></html>"
    )
