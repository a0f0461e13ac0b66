"""Benchmark the real monitoring task on a generated window: peak RSS and wall time.

    .venv/bin/python benchmarks/monitor_task.py                 # 336 rows (one Elec2 day)
    .venv/bin/python benchmarks/monitor_task.py --rows 10000000

Set-up (not measured): a temporary ``DRIFTPILOT_HOME``; the Elec2 model bootstrapped with the
product's ``bootstrap_champion`` (bundled data, real MLflow registry on SQLite); a window of
``--rows`` inference-log rows written as one Parquet file, generated in chunks by tiling the
baseline's scored reference sample (features, score, prediction) with fresh prediction ids,
event times spread over the day and log-normal latencies; label rows for the first
``--label-rows`` predictions (default 100,000), arriving an hour after each prediction.

Measured: a child process runs the monitoring task functions in order, in one process, as the
DAG's tasks would (``validate_step``, ``drift_step``, ``performance_step``, ``decide_step``:
Great Expectations, Evidently, SQLite history and the MLflow monitoring run included). Before
each step the child imports the heavy libraries that step imports anyway (``STEP_IMPORTS``), so
the one-off import cost (~10 s of CPU for GX + Evidently + MLflow) is reported apart from the
steps' own work; each
phase's wall and CPU seconds (``time.process_time``: on a loaded machine compare CPU) are on the
``task:`` line. The child's peak RSS is its ``ru_maxrss`` (``os.wait4``), so set-up and
generation do not count. The last line is ``rows=<N> peak_rss_mb=<MB> wall_s=<seconds> (...)``:
``wall_s`` is the whole child (interpreter start-up and imports included), split in brackets
into start-up (interpreter, driftpilot imports, config, ports), the libraries' imports, the four
steps and the process exit.

The measured child ends the way Airflow's task process does, not by the interpreter's full
teardown: Airflow 3 runs a task in a forked child whose ``_fork_main``
(``airflow/sdk/execution_time/supervisor.py``) runs the ``atexit`` functions registered in the
child, flushes stdout and stderr, then calls ``os._exit``, so no module is torn down and no
object finalised. ``end_like_an_airflow_task`` does the same (an exception is printed and ends
with Airflow's code 126), so ``exit_s`` and the peak RSS are those of a real task, not of
tearing down GX, Evidently and MLflow.

Two starts are measured, one line each (the last line is the second):

- ``start=cold``: a fresh interpreter runs the task, as with Airflow's default start method,
  where every task imports GX, Evidently and MLflow itself;
- ``start=preloaded``: the task is ``os.fork``-ed from a process that imported
  ``driftpilot.adapters.preload`` first, as Airflow 3.3 runs it with ``[scheduler]
  mp_start_method = forkserver`` and ``mp_forkserver_preload = driftpilot.adapters.preload``
  (what ``make`` and the Compose file set): the LocalExecutor's worker is started from a fork
  server that imported those libraries, and the supervisor forks each task from that worker. The
  preloading (once per fork server, not per task) is printed, not counted; ``wall_s`` runs from
  the fork to the task's exit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

MODEL = "elec2"
WINDOW_DAY = date(2026, 1, 10)
CHUNK_ROWS = 500_000


def _environment(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DRIFTPILOT_HOME": str(home),
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow' / 'mlflow.db'}",
        "TMPDIR": str(home / "tmp"),
        "DO_NOT_TRACK": "true",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "GX_ANALYTICS_ENABLED": "false",
        "PYTHONPATH": str(ROOT / "include"),
    })
    return env


def _config() -> Any:
    from driftpilot.domain.config import load_config
    from driftpilot.settings import INCLUDE_DIR

    return load_config(INCLUDE_DIR / "config" / f"{MODEL}.yaml")


def setup(rows: int, label_rows: int) -> dict[str, Any]:
    """Bootstrap the model and write the window (runs in its own process, not measured)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from driftpilot.composition import build_ports
    from driftpilot.domain.contracts import (
        EVENT_TIME,
        LABEL,
        LABEL_SOURCE,
        LABEL_TIME,
        LATENCY_MS,
        MODEL_NAME,
        MODEL_VERSION,
        PREDICTION_ID,
    )
    from driftpilot.domain.lake_layout import INFERENCE, LABELS, partition_key
    from driftpilot.settings import load_settings
    from driftpilot_demo.traffic import bootstrap_demo

    config = _config()
    settings = load_settings()
    ports = build_ports(settings)
    version = bootstrap_demo(config, ports).champion
    baseline = ports.registry.load_baseline(config.name, version)
    reference = baseline.reference
    columns = [c for c in reference.columns if c != config.target]
    rng = np.random.default_rng(0)
    start = pd.Timestamp(datetime(WINDOW_DAY.year, WINDOW_DAY.month, WINDOW_DAY.day, tzinfo=UTC))
    step = 86_400.0 / rows
    path = settings.lake / partition_key(INFERENCE, config.name, WINDOW_DAY) / "part-0.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = []
    writer = None
    for first in range(0, rows, CHUNK_ROWS):
        n = min(CHUNK_ROWS, rows - first)
        picks = rng.integers(0, len(reference), n)
        chunk = reference.iloc[picks].reset_index(drop=True)
        index = np.arange(first, first + n)
        frame = pd.DataFrame({
            PREDICTION_ID: pc.binary_join_element_wise(
                f"{config.name}-{WINDOW_DAY:%Y%m%d}-", pc.utf8_lpad(pc.cast(pa.array(index), pa.string()), 8, "0"), ""
            ).to_pandas(),
            EVENT_TIME: start + pd.to_timedelta((index + 0.5) * step, unit="s").floor("ms"),
            MODEL_NAME: config.name,
            MODEL_VERSION: str(version),
        })
        for column in columns:
            frame[column] = chunk[column].to_numpy()
        frame[LATENCY_MS] = np.round(20.0 * rng.lognormal(0.0, 0.35, n), 3)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table)
        if first < label_rows:
            k = min(n, label_rows - first)
            labels.append(pd.DataFrame({
                PREDICTION_ID: frame[PREDICTION_ID].iloc[:k].to_numpy(),
                LABEL: chunk[config.target].iloc[:k].to_numpy(),
                LABEL_TIME: (frame[EVENT_TIME].iloc[:k] + pd.Timedelta(hours=1)).to_numpy(),
                LABEL_SOURCE: "outcome",
            }))
    assert writer is not None
    writer.close()
    if labels:
        frame = pd.concat(labels, ignore_index=True)
        frame[LABEL_TIME] = pd.to_datetime(frame[LABEL_TIME], utc=True)
        for arrival, part in frame.groupby(frame[LABEL_TIME].dt.date):
            target = settings.lake / partition_key(LABELS, config.name, arrival) / f"part-{WINDOW_DAY}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            part.reset_index(drop=True).to_parquet(target, index=False)
    return {"version": version, "bytes": path.stat().st_size}


# The heavy libraries each step imports (``python -X importtime benchmarks/monitor_task.py --task``).
# The child imports them just before the step that would, timed apart: the one-off import cost
# is reported separately from the step's own work, and memory is held when it would be anyway.
# A library an earlier step already loaded costs nothing here (it is then in that step's time).
STEP_IMPORTS = {
    "validate": ("great_expectations", "great_expectations.expectations"),
    "drift": ("evidently", "evidently.presets", "evidently.metrics"),
    "labels": (),
    "decide": ("mlflow", "mlflow.store.tracking.sqlalchemy_store"),  # the monitoring run
}


def _timed(seconds: dict[str, list[float]], name: str, call: Any, *args: Any) -> Any:
    """``call(*args)``, adding its wall and CPU seconds (``time.process_time``) to ``name``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call(*args)
    spent = seconds.setdefault(name, [0.0, 0.0])
    spent[0] = round(spent[0] + time.perf_counter() - wall, 2)
    spent[1] = round(spent[1] + time.process_time() - cpu, 2)
    return result


def _import(modules: tuple[str, ...]) -> None:
    import importlib

    for module in modules:
        importlib.import_module(module)


def task() -> dict[str, Any]:
    """The monitoring task, in one process: validate, drift, labels, decide (imports timed apart)."""
    started = time.time()
    seconds: dict[str, list[float]] = {}
    from driftpilot.composition import build_ports
    from driftpilot.settings import load_settings
    from driftpilot.usecases import monitor

    config = _config()
    ports = build_ports(load_settings())
    window = monitor.window_for(config, WINDOW_DAY)
    seconds["driftpilot_imports_config_ports"] = [round(time.time() - started, 2), round(time.process_time(), 2)]

    def step(name: str, call: Any, *args: Any) -> Any:
        _timed(seconds, "imports", _import, STEP_IMPORTS[name])
        return _timed(seconds, name, call, *args)

    validated = step("validate", monitor.validate_step, config, ports, window)
    version = validated["serving_version"]
    drifted = step("drift", monitor.drift_step, config, ports, window, version)
    step("labels", monitor.performance_step, config, ports, window)
    decision = step("decide", monitor.decide_step, config, ports, window, version)
    steps = [v for k, v in seconds.items() if k in STEP_IMPORTS]
    return {
        "rows_accepted": validated["rows_accepted"], "rows_quarantined": validated["rows_quarantined"],
        "drift_share": drifted["drift_share"], "sampled": drifted["sampled"], "action": decision["action"],
        "seconds_wall_cpu": seconds,
        "steps_s": round(sum(v[0] for v in steps), 2), "steps_cpu_s": round(sum(v[1] for v in steps), 2),
        "started_at": started, "ended_at": time.time(),
    }


def end_like_an_airflow_task(code: int) -> NoReturn:
    """End the process as Airflow's ``_fork_main`` ends a task: run atexit, flush stdio, ``os._exit``.

    Airflow's task child never reaches the interpreter's own shutdown (module teardown, object
    finalisers, the garbage collector's last pass); measuring that shutdown would time work no
    task does. ``atexit`` functions still run, as they do in Airflow (it clears the ones
    inherited from the parent before the fork; this child inherited none).
    """
    import atexit

    with suppress(Exception):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with suppress(ValueError, OSError):
            stream.flush()
    os._exit(code)


def _run_task() -> NoReturn:
    """The measured child: the task, its result on stdout, then Airflow's way of ending."""
    try:
        print(json.dumps(task()))
    except SystemExit as exc:
        if not isinstance(exc.code, int) and exc.code:
            print(exc.code, file=sys.stderr)
        end_like_an_airflow_task(exc.code if isinstance(exc.code, int) else 1)
    except Exception:
        import traceback

        traceback.print_exc()
        end_like_an_airflow_task(126)  # Airflow's code for a task process that died by an exception
    end_like_an_airflow_task(0)


def _run_preloaded_task() -> NoReturn:
    """Import the preload module, then fork the task from this process, as Airflow's worker does.

    Prints one JSON line: the preload's seconds, and the forked task's output, peak RSS (KiB,
    from ``os.wait4``) and wall seconds from the fork to its exit.
    """
    started = time.perf_counter()
    import driftpilot.adapters.preload  # noqa: F401 - the import is the point

    preload_s = time.perf_counter() - started
    with tempfile.TemporaryFile(mode="w+") as out:
        forked = time.time()
        pid = os.fork()
        if pid == 0:
            os.dup2(out.fileno(), sys.stdout.fileno())
            _run_task()
        _, status, usage = os.wait4(pid, 0)
        wall = time.time() - forked
        out.seek(0)
        text = out.read()
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({"preload_s": round(preload_s, 2), "output": text, "exit_code": code,
                      "rss_kib": usage.ru_maxrss, "wall_s": wall, "forked_at": forked}))
    end_like_an_airflow_task(0)


def _child(mode: str, home: Path, *args: str) -> tuple[str, int, float, float]:
    """Run this script in ``mode`` in a child; its stdout, peak RSS (KiB), wall time and start time."""
    started = time.time()
    with tempfile.TemporaryFile(mode="w+") as out:
        proc = subprocess.Popen([sys.executable, __file__, f"--{mode}", *args], env=_environment(home), stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.time() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed with exit code {proc.returncode}:\n{text}")
    return text, usage.ru_maxrss, wall, started


def _figures(start: str, rows: int, text: str, rss_kib: int, wall: float, spawned: float) -> str:
    """The task's JSON line echoed, then its figures on one line (``start`` names how it began)."""
    line = text.strip().splitlines()[-1]
    print(f"task ({start}): {line}")
    measured = json.loads(line)
    phases = measured["seconds_wall_cpu"]
    startup = measured["started_at"] - spawned + phases["driftpilot_imports_config_ports"][0]
    exiting = wall - (measured["ended_at"] - spawned)
    return (f"start={start} rows={rows} peak_rss_mb={rss_kib / 1024:.0f} wall_s={wall:.1f} "
            f"(startup_s={startup:.1f} library_imports_s={phases['imports'][0]:.1f} "
            f"steps_s={measured['steps_s']:.1f} exit_s={exiting:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=336)
    parser.add_argument("--label-rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary home (its path is printed)")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--task", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--preloaded-task", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        print(json.dumps(setup(args.rows, args.label_rows)))
        return
    if args.task:
        _run_task()
    if args.preloaded_task:
        _run_preloaded_task()
    home = Path(tempfile.mkdtemp(prefix="driftpilot-bench-"))
    copy = home.with_name(home.name + "-preloaded")
    (home / "tmp").mkdir()
    try:
        text, setup_rss, setup_wall, _ = _child("setup", home, "--rows", str(args.rows), "--label-rows", str(args.label_rows))
        print(f"setup: {text.strip()} ({setup_wall:.1f} s, peak {setup_rss / 1024:.0f} MB, not measured)")
        # The preloaded start runs on a copy of the set-up home, so both starts do the same
        # first run of the window (no output of the other one to find).
        copy = home.with_name(home.name + "-preloaded")
        shutil.copytree(home, copy, symlinks=True)
        text, rss_kib, wall, spawned = _child("task", home)
        print(_figures("cold", args.rows, text, rss_kib, wall, spawned))
        text, _, _, _ = _child("preloaded-task", copy)
        preloaded = json.loads(text.strip().splitlines()[-1])
        if preloaded["exit_code"] != 0:
            raise SystemExit(f"the preloaded task failed ({preloaded['exit_code']}):\n{preloaded['output']}")
        print(f"preload: driftpilot.adapters.preload imported in {preloaded['preload_s']:.1f} s "
              "(once per fork server, not per task; not counted)")
        print(_figures("preloaded", args.rows, preloaded["output"], preloaded["rss_kib"],
                       preloaded["wall_s"], preloaded["forked_at"]))
    finally:
        if args.keep:
            print(f"kept {home} and {copy}", file=sys.stderr)
        else:
            shutil.rmtree(home, ignore_errors=True)
            shutil.rmtree(copy, ignore_errors=True)


if __name__ == "__main__":
    main()
