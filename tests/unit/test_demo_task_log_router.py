"""The demo's TaskLogRouter: what dag.test prints between a task's markers is that task's log."""

from __future__ import annotations

import io

from driftpilot_demo.airflow_runs import TaskLogRouter


def _start(task: str) -> str:
    return f"2026-01-01T00:00:00Z [info     ] [DAG TEST] starting task_id={task} map_index=-1 [airflow.sdk]\n"


def _end(task: str) -> str:
    return f"2026-01-01T00:00:01Z [info     ] [DAG TEST] end task task_id={task} map_index=-1 [airflow.sdk]\n"


def test_lines_between_markers_go_to_their_task_and_the_rest_to_the_sink() -> None:
    sink = io.StringIO()
    router = TaskLogRouter(sink)
    router.write("Created dag run.\n")
    router.write(_start("validate") + "validated m window 2026-01-01: 3 read")  # a line written in two pieces
    router.write(", 3 accepted\n" + _end("validate"))
    router.write("bookkeeping between tasks\n" + _start("decide") + "action none\n" + _end("decide"))
    router.write("run finished")
    logs = router.take()
    assert logs == {
        "validate": _start("validate") + "validated m window 2026-01-01: 3 read, 3 accepted\n" + _end("validate"),
        "decide": _start("decide") + "action none\n" + _end("decide"),
    }
    assert sink.getvalue() == "Created dag run.\nbookkeeping between tasks\nrun finished"
    assert router.take() == {}  # taken once: the next run starts empty


def test_a_task_run_again_appends_to_its_log() -> None:
    router = TaskLogRouter(io.StringIO())
    router.write(_start("drift") + "deferred\n" + _end("drift") + _start("drift") + "resumed\n" + _end("drift"))
    assert router.take()["drift"] == _start("drift") + "deferred\n" + _end("drift") + _start("drift") + "resumed\n" + _end("drift")
