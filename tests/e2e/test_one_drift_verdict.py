"""One drift verdict everywhere: every surface of a monitored window shows driftpilot's deciding share.

A window once showed three different, unlabelled drift shares (0.71 in the report browser, 0.56 on
its index page, 0.556 in drift.html). Here the real monitoring DAG has run six Elec2 windows; for
each one, the decision, the summary, the index page, the drift page's banner, the report
browser's index and the monitoring view's window page must carry the same deciding share (as
``share_text`` rounds it), and Evidently's own share, where shown, must be labelled as Evidently's.
"""

from __future__ import annotations

import json

import pytest

from driftpilot.domain.reports import share_text
from driftpilot.usecases import browse

pytestmark = pytest.mark.e2e


def test_every_surface_shows_the_deciding_share(elec2_monitored, elec2_config) -> None:
    world, _ = elec2_monitored
    root = world.settings.lake / "reports" / f"model={elec2_config.name}"
    listed = {e.window: e for e in browse.list_windows(world.settings.lake) if e.model == elec2_config.name}
    index_page = browse.index_html(list(listed.values()), "/driftpilot/reports")
    windows = sorted(p.name.removeprefix("date=") for p in root.glob("date=*"))
    assert len(windows) == 6
    judged = 0
    for window in windows:
        folder = root / f"date={window}"
        decision = json.loads((folder / "decision.json").read_text())
        share = decision["drift"]["drift_share"]
        shown = share_text(share)
        assert decision["drift"]["drift_share_shown"] == shown
        assert decision["evidence"]["drift_share"] == share
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["drift_share"] == pytest.approx(share)
        assert f"Drift share (driftpilot, decides): {shown}" in (folder / "index.html").read_text()
        assert f"driftpilot drift share {shown} " in (folder / "drift.html").read_text()
        assert listed[window].drift_share == share
        assert f"<td>{shown}</td>" in index_page
        if summary.get("evidently_drift_share") is not None:
            assert "Evidently's drift share" in (folder / "index.html").read_text()
        judged += share is not None
    assert judged == 6
