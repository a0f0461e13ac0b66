"""The demo's Airflow runs, made to read like scheduler runs in the Airflow UI.

The demo runs each DAG with ``dag.test()`` in its own process (a scheduler would only queue an
Asset-triggered run, and a replayed month must take minutes, not a month). ``dag.test`` leaves
three things a person notices in the UI:

* **durations of months**: it stamps a run's ``start_date`` with its logical date (the simulated
  window), so a run of seconds "lasted" from January to today. ``finish_run`` sets the start to
  the first task's real start.
* **empty task logs**: tasks run in-process and log to this process's stdout, never to Airflow's
  task log files. ``TaskLogRouter`` (this process's stdout while a DAG runs) keeps each task's
  lines apart, using the ``[DAG TEST] starting task_id=...`` / ``end task`` lines ``dag.test``
  logs around every task, and ``finish_run`` writes them where the UI reads a task's log
  (``[logging] base_log_folder`` and the run's log file template, rendered by Airflow itself).
* **no window on the run**: the run's note says which window it monitored (or which request a
  retraining run served).

Demo code only: the product's DAGs run under a real scheduler, whose runs have none of this.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+)")
_END = re.compile(r"\[DAG TEST\] end task task_id=(?P<task>\S+)")


@dataclass
class TaskLogRouter(io.TextIOBase):
    """A text stream that keeps each task's lines apart while ``dag.test`` runs tasks one by one.

    Lines between a task's start and end markers (markers included) go to that task's buffer; the
    other lines (the run's own bookkeeping) go to ``sink`` (the demo's log file). A task that runs
    again (a retry) keeps appending to its buffer, like one attempt's log.
    """

    sink: TextIO
    tasks: dict[str, list[str]] = field(default_factory=dict)
    current: str | None = None
    _partial: str = ""

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


def finish_run(dag_id: str, run_id: str, note: str, task_logs: Mapping[str, str]) -> dict[str, Any]:
    """Give a ``dag.test`` run a real start, a note, and its task logs; what was set (for the caller).

    The run's ``start_date`` becomes its first task's start (its end is already the real end),
    its note ``note``; each task's log text is written to the file Airflow's UI reads for that
    task instance's attempt (an existing file is replaced: a re-run of the demo is a new attempt
    of the same run id only if Airflow says so).
    """
    from airflow.configuration import conf
    from airflow.models.dagrun import DagRun
    from airflow.utils.log.file_task_handler import FileTaskHandler
    from airflow.utils.session import create_session
    from sqlalchemy import select

    folder = Path(conf.get("logging", "base_log_folder"))
    # Airflow's own renderer of the log file template (the one its log reader uses).
    handler = FileTaskHandler(base_log_folder=str(folder))
    written: list[str] = []
    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if run is None:
            raise LookupError(f"no run {run_id!r} of {dag_id} in the Airflow metadata DB")
        instances = run.get_task_instances(session=session)
        starts = [ti.start_date for ti in instances if ti.start_date is not None]
        if starts:
            run.start_date = min(starts)
        run.note = note
        for ti in instances:
            text = task_logs.get(ti.task_id)
            if not text:
                continue
            path = folder / handler._render_filename(ti, ti.try_number or 1, session=session)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(str(path))
        session.commit()
        return {"start_date": run.start_date, "end_date": run.end_date, "note": note, "logs": written}
