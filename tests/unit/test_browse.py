from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftpilot import browse


@pytest.fixture()
def lake(tmp_path: Path) -> Path:
    folder = tmp_path / "reports" / "model=m" / "date=2026-01-02"
    folder.mkdir(parents=True)
    (folder / "drift.html").write_text("<html>drift</html>")
    (folder / "decision.json").write_text(json.dumps({"action": "alert", "evidence": {"drift_share": 0.5}}))
    (folder / "notes.txt").write_text("not a report")
    (tmp_path / "reports" / "model=m" / "date=2026-01-01").mkdir()
    (tmp_path / "secret.html").write_text("outside")
    return tmp_path


def test_lists_windows_newest_first_with_their_decision(lake: Path) -> None:
    entries = browse.list_windows(lake)
    assert [(e.window, e.action, e.drift_share) for e in entries] == [("2026-01-02", "alert", 0.5), ("2026-01-01", "-", None)]
    assert entries[0].files == ("decision.json", "drift.html")


def test_serves_report_files_only(lake: Path) -> None:
    assert browse.report_file(lake, "m", "2026-01-02", "drift.html").read_text() == "<html>drift</html>"
    for name in ("../../../secret.html", "notes.txt", ".hidden.html", "missing.html"):
        with pytest.raises(browse.ReportNotFound):
            browse.report_file(lake, "m", "2026-01-02", name)
    with pytest.raises(browse.ReportNotFound):
        browse.report_file(lake, "..", "..", "secret.html")


def test_index_links_and_escapes(lake: Path) -> None:
    page = browse.index_html(browse.list_windows(lake), "/driftpilot/reports")
    assert "/driftpilot/reports/m/2026-01-02/drift.html" in page
    assert "notes.txt" not in page
    assert "No reports yet" in browse.index_html([], "/x")
