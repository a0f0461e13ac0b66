"""The benchmark's measured child ends as Airflow's task process does, not by interpreter teardown.

Airflow's ``_fork_main`` runs the child's atexit functions, flushes stdio and calls ``os._exit``:
module teardown and object finalisers never run in a real task, so the benchmark must not time
them. A child interpreter loads ``benchmarks/monitor_task.py`` (the benchmark itself is not run)
and ends through ``end_like_an_airflow_task``; a control child that exits normally shows that the
finaliser check would see a teardown.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "monitor_task.py"

CHILD = """
import atexit, importlib.util, os, sys
spec = importlib.util.spec_from_file_location("monitor_task", {benchmark!r})
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
marks = os.open({marks!r}, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

class Finalised:
    def __del__(self):
        os.write(marks, b"teardown;")

kept = Finalised()
atexit.register(lambda: os.write(marks, b"atexit;"))
sys.stdout.write("result without a newline")  # buffered: lost unless flushed
{end}
"""


def _run(tmp_path: Path, end: str) -> tuple[int, str, str]:
    marks = tmp_path / "marks"
    script = CHILD.format(benchmark=str(BENCHMARK), marks=str(marks), end=end)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, marks.read_text() if marks.exists() else ""


def test_the_child_flushes_runs_atexit_and_skips_teardown(tmp_path: Path) -> None:
    code, out, marks = _run(tmp_path, "bench.end_like_an_airflow_task(3)")
    assert (code, out) == (3, "result without a newline")
    assert marks == "atexit;"  # atexit ran, no finaliser did


def test_the_control_child_would_show_a_teardown(tmp_path: Path) -> None:
    """Without it (a normal exit) the finaliser runs: the check above can fail."""
    code, out, marks = _run(tmp_path, "sys.exit(3)")
    assert (code, out) == (3, "result without a newline")
    assert marks == "atexit;teardown;"


@pytest.mark.parametrize(("body", "code"), [("raise RuntimeError('boom')", 126), ("raise SystemExit(4)", 4)])
def test_a_failing_task_ends_with_airflows_codes(tmp_path: Path, body: str, code: int) -> None:
    end = f"def failing():\n    {body}\nbench.task = failing\nbench._run_task()"
    returncode, _, marks = _run(tmp_path, end)
    assert returncode == code and marks == "atexit;"
