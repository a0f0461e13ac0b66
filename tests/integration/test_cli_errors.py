"""User errors of the CLI: one line on stderr that says what to do, exit code 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DRIFTPILOT = Path(sys.executable).with_name("driftpilot")


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DRIFTPILOT_HOME": str(home)}
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("DRIFTPILOT_METRICS_DB", None)
    return subprocess.run([str(DRIFTPILOT), *args], capture_output=True, text=True, env=env, timeout=300)


def _errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    # MLflow's own INFO lines when it creates a fresh tracking database are not driftpilot's
    return [line for line in result.stderr.splitlines() if line.startswith("driftpilot")]


def test_approving_a_version_that_does_not_exist_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _run(tmp_path / "home", "approve", "--model", "elec2_updown", "--version", "9", "--note", "x")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = _errors(result)
    assert "no such model or version" in line and "--version" in line


def test_an_unknown_trend_metric_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _run(tmp_path / "home", "trend", "--model", "elec2_updown", "--metric", "nope")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = _errors(result)
    assert "monitor a window first" in line
