"""The demo's ``dag.test()`` runs, made to read like scheduler runs in the Airflow UI.

The demo runs each DAG with ``dag.test()`` in its own process (a scheduler would only queue an
Asset-triggered run, and a replayed month must take minutes, not a month). Out of the box that
leaves three things a person notices in the UI (`make airflow-ui`):

* **durations of months**: ``dag.test`` creates its run with ``start_date=logical_date`` (Airflow
  3.3 ``get_or_create_dagrun``; upstream bug apache/airflow#66127, fix not released), so a run of
  seconds for a January window "lasted" until today. ``finish_run`` gives the run the moment
  ``dag.test`` was called as its start; its ``end_date`` is already the real end.
* **empty task logs**: ``dag.test`` runs tasks in this process; their log lines go to this
  process's stdout (Airflow's log handler and structlog write to it), never to Airflow's task log
  files, which are what the api-server serves. ``TaskLogRouter`` (installed as stdout before
  Airflow configures its logging) keeps each task's lines apart, using the
  ``[DAG TEST] starting task_id=...`` / ``end task`` lines ``dag.test`` logs around every task, and
  ``finish_run`` writes them to the file Airflow's log reader opens for that task instance's
  attempt (rendered by Airflow's own ``FileTaskHandler``, from the run's log filename template).
* **no window on the run**: the run's note names the window monitored and the action decided
  (or the request a retraining run served).

Only the demo's runs get notes: a task of a scheduler run cannot set its run's note (the Task
SDK's Execution API has no such call in Airflow 3.3; only the authenticated public REST API
can, and a task must not hold API credentials).

Demo code only: runs made by a real scheduler have real start dates and task logs already.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+)")
_END = re.compile(r"\[DAG TEST\] end task task_id=(?P<task>\S+)")


class TaskLogRouter(io.TextIOBase):
    """A text stream that keeps each task's lines apart while ``dag.test`` runs tasks one by one.

    ``dag.test`` runs one task at a time and logs ``[DAG TEST] starting task_id=<t>`` before
    each and ``[DAG TEST] end task task_id=<t>`` after it; the lines between (markers included)
    are that task's. The run's own bookkeeping between tasks goes to ``sink`` (the demo's log file, or the console). A task run again (a retry, a deferral)
    appends to its text.
    """

    def __init__(self, sink: TextIO) -> None:
        super().__init__()
        self.sink = sink
        self.tasks: dict[str, list[str]] = {}
        self.current: str | None = None
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            self._route(line + "\n")
        return len(text)

    def _route(self, line: str) -> None:
        started = _START.search(line)
        if started:
            self.current = started["task"]
        if self.current is not None:
            self.tasks.setdefault(self.current, []).append(line)
        else:
            self.sink.write(line)
        ended = _END.search(line)
        if ended and ended["task"] == self.current:
            self.current = None

    def flush(self) -> None:
        if self._partial:
            self._route(self._partial)
            self._partial = ""
        self.sink.flush()

    def take(self) -> dict[str, str]:
        """Each task's text so far, and forget it (the next run starts empty)."""
        self.flush()
        out = {task: "".join(lines) for task, lines in self.tasks.items()}
        self.tasks.clear()
        self.current = None
        return out


def install_router() -> TaskLogRouter:
    """Make this process's stdout a ``TaskLogRouter`` (to the console until a sink is set).

    Call it before Airflow is imported: Airflow's stdlib log handler keeps the stream it finds
    when it configures logging, so a later ``redirect_stdout`` would not reach it.
    """
    if "airflow" in sys.modules:
        raise RuntimeError("install the task log router before importing airflow (its log handler keeps sys.stdout)")
    router = TaskLogRouter(sys.__stdout__ or sys.stdout)
    sys.stdout = router
    return router


def run_dag(dag: Any, router: TaskLogRouter, **test_kwargs: Any) -> Any:
    """``dag.test(**test_kwargs)`` with its output through ``router``; the run and when it started."""
    router.take()  # lines of an earlier run that nobody collected are not this run's
    started = datetime.now(UTC)
    with contextlib.redirect_stdout(router), contextlib.redirect_stderr(router):
        root = logging.getLogger()
        handlers = root.handlers[:]
        try:
            run = dag.test(**test_kwargs)
        finally:
            root.handlers = handlers
            router.flush()
    return run, started


def finish_run(dag_id: str, run_id: str, started: datetime, note: str, task_logs: Mapping[str, str]) -> dict[str, Any]:
    """Give a ``dag.test`` run its real start, a note, and its task logs; what was set.

    ``started`` (when ``dag.test`` was called) replaces the logical date ``dag.test`` stored as
    the start. Each task's text is written to the file Airflow's log reader opens for that task
    instance's attempt (a re-run of the demo is a new run that replaced the old one, so an
    existing file is overwritten, atomically).
    """
    from airflow.configuration import conf
    from airflow.models.dagrun import DagRun
    from airflow.utils.log.file_task_handler import FileTaskHandler
    from airflow.utils.session import create_session
    from sqlalchemy import select

    folder = Path(conf.get("logging", "base_log_folder"))
    # Airflow's own renderer of the run's log filename template (the one its log reader uses).
    handler = FileTaskHandler(base_log_folder=str(folder))
    written: dict[str, str] = {}
    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if run is None:
            raise LookupError(f"no run {run_id!r} of {dag_id} in the Airflow metadata DB; was it deleted meanwhile?")
        run.start_date = started
        run.note = note[:1000]  # the API's limit for a note
        for ti in run.get_task_instances(session=session):
            text = task_logs.get(ti.task_id)
            if not text or not ti.try_number:
                continue
            path = folder / handler._render_filename(ti, ti.try_number, session=session)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text)
            tmp.replace(path)
            written[ti.task_id] = str(path)
        session.commit()
        return {"start_date": run.start_date, "end_date": run.end_date, "note": run.note, "logs": written}
