"""A reviewer approves a waiting candidate on the approvals page, in headless Chromium (`make test-ui`).

The candidate is made in the session's real MLflow registry the way the retraining DAG makes it
(``tests.integration.candidates.gated``), under a model name that is hostile in HTML. A real
``airflow api-server`` serves the page on that same driftpilot home; the test logs in through
Airflow's login form as the generated admin, writes the note, clicks Approve, waits for the
page's ``<output>``, and then reads the registry: ``champion`` moved to the candidate and
``driftpilot.approval_by`` names the logged-in user. The screenshot goes to
``$DRIFTPILOT_ARTIFACTS`` or ``tests/ui/artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.usecases import promote as promotion
from driftpilot.usecases.monitor import metrics_db
from plugins.driftpilot_reports import PREFIX
from tests.integration.candidates import gated
from tests.ui.conftest import Server, api_server, logged_in

pytestmark = pytest.mark.ui

HOSTILE = "<img src=x onerror=alert(1)>"  # hostile in HTML; MLflow accepts it (no / or :)
MODEL = f"approvals_ui_{HOSTILE}"
NOTE = "read the comparison: better on the out-of-time holdout, guards within tolerance"
# What a hostile string could have changed once the page settled.
FACTS = """() => ({
  title: document.title,
  handlers: [...document.querySelectorAll('*')]
      .filter(e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on'))).length,
  images: document.querySelectorAll('img').length,
  scripts: document.scripts.length,
})"""


@pytest.fixture(scope="module")
def candidate(session_settings: Any, elec2_champion: Any) -> tuple[str, str]:
    """(champion, candidate) of MODEL: a champion, and one gated candidate awaiting approval as challenger."""
    db = metrics_db(session_settings)
    client = registry.MlflowRegistry(session_settings)
    champion = gated(session_settings, db, MODEL, elec2_champion.version, "approvals-ui-0", passed=True)
    client.set_alias(MODEL, registry.CHAMPION, champion)
    client.set_version_tags(MODEL, champion, {promotion.APPROVAL: promotion.APPROVED})
    version = gated(session_settings, db, MODEL, elec2_champion.version, "approvals-ui-1", passed=True)
    client.set_alias(MODEL, registry.CHALLENGER, version)
    return champion, version


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, session_settings: Any, candidate: tuple[str, str]) -> Iterator[Server]:
    """The api-server on the session's driftpilot home, where the candidate was made."""
    with api_server(tmp_path_factory.mktemp("approvals-ui"), session_settings.home, session_settings.config_dir) as running:
        yield running


def test_admin_approves_a_waiting_candidate_with_a_note(browser: Any, server: Server, session_settings: Any,
                                                         candidate: tuple[str, str]) -> None:
    champion, version = candidate
    client = registry.MlflowRegistry(session_settings)
    assert client.alias_version(MODEL, registry.CHAMPION) == champion
    with logged_in(browser, server) as (page, dialogs):
        page.goto(f"{server.url}{PREFIX}/approvals/?model={quote(MODEL, safe='')}")
        form = page.locator(f'form.decide[data-version="{version}"]')
        form.wait_for(timeout=20_000)
        assert page.locator("section h2").first.inner_text() == f"{MODEL} v{version}"  # shown as text
        form.locator("textarea[name=note]").fill(NOTE)
        form.locator('button[value="approved"]').click()
        out = form.locator("output")
        out.filter(has_text="champion is").wait_for(timeout=30_000)
        result = out.inner_text()
        page.screenshot(path=str(server.artifacts / "approvals-approved.png"), full_page=True)
        facts = page.evaluate(FACTS)
        assert dialogs == []
    assert result == f"approved; champion is v{version}"
    assert (facts["title"], facts["handlers"], facts["images"], facts["scripts"]) == ("driftpilot approvals", 0, 0, 1)
    assert client.alias_version(MODEL, registry.CHAMPION) == version
    assert client.alias_version(MODEL, registry.PREVIOUS) == champion
    assert client.alias_version(MODEL, registry.CHALLENGER) is None
    tags = client.version_tags(MODEL, version)
    assert tags[promotion.APPROVAL] == promotion.APPROVED and tags[promotion.APPROVAL_NOTE] == NOTE
    assert tags[promotion.APPROVAL_BY] == f"{server.user} (Airflow user {server.user})"
