"""Hostile strings in a window's data stay inert in every report driftpilot writes (`make test-ui`).

A window whose category values (and one feature name) are script and markup payloads goes
through validation and the Evidently reports as in the monitoring DAG; each written file
(validation, drift, quality, performance, the window's index page and the report browser's
index) is then opened from disk in headless Chromium. No payload may open a dialog, change the
title or add an element, and every page must still render its content (an empty page would be
"inert" too, and useless).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest

from driftpilot.adapters import parquet_lake as storage
from driftpilot.adapters.evidently import EvidentlyReports
from driftpilot.adapters.gx_validation import validate_window
from driftpilot.domain.config import ModelConfig, parse_config
from driftpilot.domain.contracts import PREDICTION, PREDICTION_ID, SCORE
from driftpilot.domain.profile import build_profile
from driftpilot.usecases import browse
from tests.integration.test_reports import NUMERIC, TARGET, _rows, _window

pytestmark = pytest.mark.ui

HOSTILE_VALUES = (
    "</script><script>alert(1)</script>",
    "\"><img src=x onerror=document.title='pwned'>",
    "</SCRIPT><img src=x onerror=alert(2)>",
    "<!--<script>alert(4)//",
    "<div id=dp-injected>injected</div>",
)
HOSTILE_COLUMN = "seg</script><img src=x onerror=alert(3)>"
HOSTILE_WINDOW = "2026-01-05'><img src=x onerror=alert(6)>"
DAY = "2026-01-05"
BROWSER_MODEL = "m'><img src=x onerror=alert(7)>"
BROWSER_FILE = "x'><img src=x onerror=alert(9)>.html"

# What the page looks like once it has settled: its title, elements a payload could have added
# (any element with an inline event handler, the payloads' <img src=x>, the injected <div>),
# the scripts it runs and the text a reader sees.
FACTS = """() => ({
  title: document.title,
  handlers: [...document.querySelectorAll('*')]
      .filter(e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on')))
      .map(e => e.outerHTML.slice(0, 120)),
  images: [...document.querySelectorAll('img')].map(e => e.outerHTML.slice(0, 120)),
  injected: document.getElementById('dp-injected') !== null,
  scripts: document.scripts.length,
  text: document.body ? document.body.innerText : '',
})"""
EVIDENTLY_READY = """() => {
  const root = document.querySelector('[id^="root_"]');
  return root !== null && root.innerText.trim().length > 0;
}"""
EVIDENTLY_SCRIPTS = 4  # the data block, `var global`, the Evidently library, drawDashboard(...)


def _config() -> ModelConfig:
    return parse_config(
        {
            "name": "toy",
            "description": "toy model with hostile category values",
            "task": "binary",
            "target": TARGET,
            "features": {"numeric": list(NUMERIC), "categorical": ["cat", HOSTILE_COLUMN]},
            "labels": {"maturity_hours": 24, "min_labelled_rows": 50},
            "drift": {"share": 0.3},
            "reports": {"evidently": {"num_method": "wasserstein", "cat_method": "jensenshannon", "threshold": 0.1}},
        },
        "toy.yaml",
    )


def _hostile(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``frame`` with every fifth ``cat`` value and a whole extra column of payloads."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    out.loc[out.index[::5], "cat"] = np.resize(np.array(HOSTILE_VALUES, dtype=object), len(out.index[::5]))
    out[HOSTILE_COLUMN] = rng.choice(np.array(["plain", *HOSTILE_VALUES], dtype=object), size=len(out))
    return out


@dataclass(frozen=True)
class Written:
    files: dict[str, Path]
    window_start: datetime


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    """Validation, the Evidently reports and both index pages of one hostile window, as the DAG writes them."""
    config = _config()
    reference = _hostile(_rows(600, seed=1), seed=11)
    log, labelled = _window(_hostile(_rows(400, seed=2), seed=12), DAY)
    lake = tmp_path_factory.mktemp("lake")
    out = lake / storage.REPORTS / "model=toy" / f"date={DAY}"
    start = datetime(2026, 1, 5, tzinfo=UTC)
    profile = build_profile(reference, config.features.numeric, config.features.categorical, (SCORE,), (PREDICTION,))
    result = validate_window(log, config, profile, start, start + timedelta(days=1), out)
    assert result.rows_accepted == len(log), result.failure_message  # the payloads are valid categories
    accepted = labelled[labelled[PREDICTION_ID].isin(result.accepted[PREDICTION_ID])]
    renderer = EvidentlyReports()
    drift = renderer.render_drift(config, reference, result.accepted, out, HOSTILE_WINDOW, seed=0)
    performance = renderer.render_performance(config, reference, result.accepted, accepted, out, HOSTILE_WINDOW, seed=0)
    # The report browser's index: the listing skips folders it could not serve, so its entries
    # are built here with payloads for names (as a decision.json could hold one for the action).
    entries = [*browse.list_windows(lake),
               browse.WindowEntry(BROWSER_MODEL, '1"><svg onload=alert(8)>', "<b id=dp-injected>", None,
                                  (BROWSER_FILE, "drift.html"))]
    browser_index = lake / "browser-index.html"
    browser_index.write_text(browse.index_html(entries, "/driftpilot/reports"))
    written = {**drift.files, **performance.files}
    files = {kind: out / written[f"{kind}_html"] for kind in ("drift", "quality", "performance")}
    return Written({**files, "validation": out / "validation.html", "index": out / "index.html",
                    "browser_index": browser_index}, start)


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def _open(page: Any, path: Path, ready: str | None = None) -> dict[str, Any]:
    page.goto(path.as_uri(), wait_until="load")
    if ready is not None:
        try:
            page.wait_for_function(ready, timeout=30_000)
        except Exception as exc:  # the page never rendered: reported by the assertions below
            page.rendered_error = str(exc)
    page.wait_for_timeout(500)  # let late image errors fire their handlers
    facts: dict[str, Any] = page.evaluate(FACTS)
    facts["dialogs"] = list(page.dialogs)
    return facts


def _assert_inert(facts: dict[str, Any], title: str) -> None:
    assert facts["dialogs"] == [], f"a payload opened dialogs: {facts['dialogs']}"
    assert facts["title"] == title
    assert facts["handlers"] == [], f"elements with inline handlers: {facts['handlers']}"
    assert not any("src=\"x\"" in image for image in facts["images"]), facts["images"]
    assert not facts["injected"], "the <div id=dp-injected> payload became an element"


@pytest.mark.parametrize("kind", ["drift", "quality", "performance"])
def test_evidently_reports_are_inert_and_still_render(written: Written, page: Any, kind: str) -> None:
    facts = _open(page, written.files[kind], EVIDENTLY_READY)
    _assert_inert(facts, "")  # Evidently's page has no <title>
    assert facts["scripts"] == EVIDENTLY_SCRIPTS, "a payload added or swallowed a <script> element"
    assert not hasattr(page, "rendered_error"), f"the report did not render: {page.rendered_error}"
    assert "driftpilot · " in facts["text"]  # the banner
    # The dashboard itself, with the payloads shown as plain text where Evidently shows them.
    expected = {"drift": ["Drifted Columns", HOSTILE_COLUMN], "quality": ["Dataset Summary", HOSTILE_COLUMN, HOSTILE_VALUES[2]],
                "performance": ["Accuracy", "Confusion Matrix"]}[kind]
    for text in expected:
        assert text in facts["text"], text


def test_validation_page_is_inert_and_shows_the_values_as_text(written: Written, page: Any) -> None:
    facts = _open(page, written.files["validation"])
    _assert_inert(facts, f"Validation: toy {written.window_start.isoformat()}")
    assert facts["scripts"] == 0
    assert HOSTILE_COLUMN in facts["text"]
    assert HOSTILE_VALUES[0] in facts["text"]  # the reference's categories, shown literally


def test_window_index_is_inert(written: Written, page: Any) -> None:
    facts = _open(page, written.files["index"])
    _assert_inert(facts, f"toy · {HOSTILE_WINDOW}")
    assert facts["scripts"] == 0
    assert f"window {HOSTILE_WINDOW}" in facts["text"]
    assert page.locator("a", has_text="Data drift").count() == 1


def test_report_browser_index_is_inert_and_links_the_hostile_names(written: Written, page: Any) -> None:
    facts = _open(page, written.files["browser_index"])
    _assert_inert(facts, "driftpilot reports")
    assert BROWSER_MODEL in facts["text"]
    assert page.locator("a", has_text="drift.html").count() == 2  # the real window and the hostile one
    link = page.locator("a", has_text=BROWSER_FILE)
    assert link.count() == 1
    href = link.get_attribute("href")
    assert href == browse.report_href("/driftpilot/reports", BROWSER_MODEL, '1"><svg onload=alert(8)>', BROWSER_FILE)
    assert unquote(href.split("/")[-1]) == BROWSER_FILE  # each part percent-encoded, nothing lost


def test_a_report_served_with_the_plugin_headers_renders_in_an_opaque_origin(written: Written, page: Any) -> None:
    """The plugin's headers, enforced by Chromium: the report's scripts still draw the dashboard,
    but run in an opaque origin that cannot read the session cookie of the site serving it."""
    url = "http://airflow.test/driftpilot/reports/toy/2026-01-05/drift.html"
    page.context.add_cookies([{"name": "session", "value": "secret", "url": url}])
    page.route(url, lambda route: route.fulfill(path=written.files["drift"], status=200,
                                                headers={**browse.RESPONSE_HEADERS, "content-type": "text/html"}))
    page.goto(url, wait_until="load")
    page.wait_for_function(EVIDENTLY_READY, timeout=30_000)
    assert page.evaluate("window.origin") == "null"
    cookie = page.evaluate("() => { try { return document.cookie; } catch (e) { return 'refused: ' + e.name; } }")
    assert cookie == "refused: SecurityError"
    assert HOSTILE_COLUMN in page.evaluate("document.body.innerText")
    assert page.dialogs == []
