from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftpilot.usecases import browse


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


@pytest.fixture()
def outside(lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the reports root holding report-looking files, linked in three ways."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "drift.html").write_text("outside")
    (elsewhere / "decision.json").write_text(json.dumps({"action": "retrain"}))
    model = lake / "reports" / "model=m"
    (model / "date=2026-01-03").symlink_to(elsewhere, target_is_directory=True)
    (lake / "reports" / "model=linked").symlink_to(elsewhere.parent, target_is_directory=True)
    (model / "date=2026-01-02" / "linked.html").symlink_to(elsewhere / "drift.html")
    return elsewhere


@pytest.mark.parametrize(
    ("model", "window", "name"),
    [
        ("..", "2026-01-02", "drift.html"),  # traversal in the model
        ("m/../m", "2026-01-02", "drift.html"),
        ("m", "../../../..", "secret.html"),  # ... in the window
        ("m", "2026-01-02/..", "drift.html"),
        ("m", "2026-01-02\\..", "drift.html"),
        ("m", "2026-01-02", "../../../secret.html"),  # ... in the file name
        ("m", "2026-01-02", "..\\drift.html"),
        ("m", "2026-01-02", "..html"),
        ("/etc", "2026-01-02", "drift.html"),  # absolute parts
        ("m", "2026-01-02", "/etc/passwd.html"),
        ("", "2026-01-02", "drift.html"),  # empty parts
        ("m", "", "drift.html"),
        ("m", "2026-01-02", ""),
        ("%2e%2e", "2026-01-02", "drift.html"),  # encoded forms arrive here still encoded...
        ("m", "2026-01-02", "..%2fsecret.html"),
        ("m", "2026-01-02", "%2e%2e%2f%2e%2e%2fsecret.html"),
        ("m", "\uff0e\uff0e", "drift.html"),  # ...or as look-alikes (fullwidth full stops)
        ("m", "2026-01-02", "drift.html\x00.json"),  # NUL byte
        ("m\n", "2026-01-02", "drift.html"),
    ],
)
def test_every_path_part_is_checked(lake: Path, model: str, window: str, name: str) -> None:
    with pytest.raises(browse.ReportNotFound):
        browse.report_file(lake, model, window, name)


def test_symlinks_out_of_the_reports_root_are_refused(lake: Path, outside: Path) -> None:
    for model, window, name in (("m", "2026-01-03", "drift.html"),  # a symlinked window folder
                                ("linked", "2026-01-02", "drift.html"),  # a symlinked model folder
                                ("m", "2026-01-02", "linked.html")):  # a symlinked file
        with pytest.raises(browse.ReportNotFound):
            browse.report_file(lake, model, window, name)
    assert [(e.model, e.window) for e in browse.list_windows(lake)] == [("m", "2026-01-02"), ("m", "2026-01-01")]
    assert "linked.html" not in browse.list_windows(lake)[0].files


def test_a_symlink_inside_the_reports_root_is_served(lake: Path) -> None:
    (lake / "reports" / "model=m" / "date=2026-01-04").symlink_to(lake / "reports" / "model=m" / "date=2026-01-02")
    assert browse.report_file(lake, "m", "2026-01-04", "drift.html").read_text() == "<html>drift</html>"


def test_index_escapes_and_percent_encodes_every_part() -> None:
    entry = browse.WindowEntry("m'><b>", '2026"><i>', "<script>", None, ("a b'<x>.html",))
    page = browse.index_html([entry], "/driftpilot/reports")
    assert "<b>" not in page and "<i>" not in page and "<script>" not in page and "<x>" not in page
    assert 'href="/driftpilot/reports/m%27%3E%3Cb%3E/2026%22%3E%3Ci%3E/a%20b%27%3Cx%3E.html"' in page
    assert "&lt;script&gt;" in page


def test_a_symlink_loop_is_not_found_and_not_listed(lake: Path) -> None:
    loop = lake / "reports" / "model=m" / "date=2026-01-05"
    loop.symlink_to(loop)
    with pytest.raises(browse.ReportNotFound):
        browse.report_file(lake, "m", "2026-01-05", "drift.html")
    assert "2026-01-05" not in [e.window for e in browse.list_windows(lake)]
