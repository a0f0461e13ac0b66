"""`make demo`: the whole loop on embedded defaults, real DAGs, one process.

1. migrate the project-local Airflow metadata DB (SQLite) if it is new;
2. train and register the first Elec2 champion on the training period of the bundled dataset,
   through the product's bootstrap (reused when it exists);
3. for each simulated day: replay that day's traffic (scored by the champion of the moment),
   then run the real monitoring DAG for that window with `dag.test()` (in this process, so the
   heavy imports are paid once and a 30-window demo takes minutes, not half an hour);
4. when a window decides `retrain`, run the real retraining DAG with the request (under
   `dag.test()` an Asset-triggered run would only be queued), and, if the candidate passed the
   gate, approve it the way a reviewer would in the MLflow registry (the same tags as
   `driftpilot approve`) while the run's `awaiting_decision` task waits for that decision (a
   reviewer thread, the wait looking every second); the next monitoring run promotes it and later
   days are scored by it;
5. print a per-window table (rows, serving version, quarantined, drift share, label-confirmed
   accuracy once mature, action), accuracy before/after each promotion, and where everything is.

Running it again is safe: days already in the lake are kept, DAG runs replace their outputs.

In the Airflow UI (`make airflow-ui`) the demo's runs read like scheduler runs
(`driftpilot_demo.airflow_runs`): real durations, each task's log in Airflow's task log folder,
and a note naming the window monitored and the action decided (or the request a retraining run served).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import threading
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from driftpilot.composition import build_ports
from driftpilot.domain.reports import share_text
from driftpilot.settings import redact_uri

ROOT = Path(__file__).resolve().parents[1]


def say(text: str = "") -> None:
    sys.__stdout__.write(text + "\n")
    sys.__stdout__.flush()


def ensure_airflow_db() -> None:
    home = Path(os.environ["AIRFLOW_HOME"])
    if (home / "airflow.db").exists():
        return
    home.mkdir(parents=True, exist_ok=True)
    say(f"-- creating the Airflow metadata DB in {home} (SQLite, once)")
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="elec2_updown")
    parser.add_argument("--days", type=int, default=0, help="windows to run (default: the demo file's replay.days)")
    args = parser.parse_args()

    os.environ.setdefault("DRIFTPILOT_HOME", str(ROOT / ".driftpilot"))
    os.environ.setdefault("AIRFLOW_HOME", str(Path(os.environ["DRIFTPILOT_HOME"]) / "airflow"))
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    # regexp syntax for .airflowignore: the glob syntax goes through a deprecated pathspec class
    # whose warning would be printed once per window.
    os.environ.setdefault("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX", "regexp")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # Task logs go to Airflow's task log files at INFO (as a scheduler's would), the rest to the
    # demo log file; the console shows one line per window.
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
    os.environ.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    from driftpilot.domain.config import model_config
    from driftpilot.settings import load_settings
    from driftpilot.usecases import monitor as monitoring
    from driftpilot_demo import datasets
    from driftpilot_demo.airflow_runs import finish_run, install_router, run_dag
    from driftpilot_demo.config import demo_spec
    from driftpilot_demo.replay import replay_day
    from driftpilot_demo.traffic import bootstrap_demo, champion_scorer

    # Before Airflow is imported: its log handler keeps the stream it finds, and this one sorts
    # each task's lines into that task's log (the console until the runs start).
    router = install_router()
    settings = load_settings()
    config = model_config(settings, args.model)
    demo = demo_spec(config.name)
    days = args.days or demo.replay.days
    started = time.time()
    say(f"== driftpilot demo: {config.name} ({config.description}), {days} windows")
    ensure_airflow_db()
    say("-- initial training on the first period, registration, alias champion")
    result = bootstrap_demo(config, build_ports(settings), demo)
    say(f"   version {result.version} ({'new' if result.created else 'already registered'}), champion = v{result.champion}")

    log_path = settings.home / "demo.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sink = log_path.open("w")
    router.sink = sink  # Airflow's own chatter (INFO from here on) goes to the demo log

    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=str(ROOT / "dags" / "driftpilot_monitor.py"))
    if dagbag.import_errors:
        say(f"DAG import errors: {dagbag.import_errors} (details in {log_path})")
        return 1
    dag = dagbag.dags[f"driftpilot_monitor__{config.name}"]
    retrain_bag = DagBag(dag_folder=str(ROOT / "dags" / "driftpilot_retrain.py"))
    retrain_dag = retrain_bag.dags[f"driftpilot_retrain__{config.name}"]
    retrained: set[str] = set()
    source = datasets.load_source(config, demo, seed=demo.replay.seed)
    scorer = champion_scorer(config, settings)
    failures = []
    task_logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    say(f"-- replay + monitoring DAG per window (task logs: {task_logs}, the rest: {log_path})")
    say(f"   {'window':10s} {'served':>6s} {'by':>4s} {'state':8s} {'drift':>6s} {'action':8s} {'secs':>5s}")
    with sink:
        for day in range(days):
            t0 = time.time()
            served = replay_day(config, demo, settings.lake, source, day, scorer)
            window = monitoring.window_for(config, served.date)
            # Like the scheduler: the run for [start, end) happens once the window has ended.
            run, run_started = run_dag(dag, router, logical_date=window.end)
            state = str(getattr(run, "state", "unknown"))
            decision_file = monitoring.report_dir(settings, window) / "decision.json"
            action, share = "-", None
            if decision_file.exists() and decision_file.stat().st_mtime >= t0:
                decision = json.loads(decision_file.read_text())
                action = decision["action"]
                share = decision["evidence"].get("drift_share")
            if "success" not in state:
                failures.append(window.label)
            finish_run(dag.dag_id, run.run_id, run_started, window_note(window, action, share), router.take())
            if action == "retrain":
                key = decision["idempotency_key"]
                if key not in retrained:
                    retrained.add(key)
                    retrain(settings, config, retrain_dag, decision, router)
            say(f"   {window.label:10s} {served.rows or 0:6d} {('v' + served.model_version) if served.model_version else 'kept':>4s} "
                f"{state.split('.')[-1]:8s} {share_text(share):>6s} {action:8s} {time.time() - t0:5.1f}")
        router.sink = sys.__stdout__

    say()
    store = build_ports(settings).store
    print_table(settings, config, store, monitoring)
    print_promotion_effect(settings, config, store, monitoring)
    say()
    say("where everything is:")
    say(f"  home (delete to start over): {settings.home}")
    say(f"  HTML reports:   {settings.lake / 'reports' / f'model={config.name}'}/date=<window>/index.html")
    say(f"  quarantine:     {settings.lake / 'quarantine' / f'model={config.name}'}")
    say(f"  evidence store (SQLite): {settings.metrics_db}")
    say(f"  MLflow:         {redact_uri(settings.mlflow_tracking_uri)}  (make mlflow-ui)")
    say(f"  Airflow home:   {os.environ['AIRFLOW_HOME']}  (make airflow-ui)")
    say(f"  alerts:         {settings.home / 'alerts' / config.name}")
    say(f"demo finished in {time.time() - started:.0f} s" + (f"; FAILED windows: {failures}" if failures else ""))
    return 1 if failures else 0


def window_note(window, action: str, share: float | None) -> str:  # type: ignore[no-untyped-def]
    """The note of a monitoring run: the window monitored and what was decided."""
    return (f"window {window.label}: [{window.start:%Y-%m-%d %H:%M}, {window.end:%Y-%m-%d %H:%M}) UTC, "
            f"replayed by the demo; action {action}, drift share {share_text(share)}")


def retrain(settings, config, retrain_dag, decision, router) -> None:  # type: ignore[no-untyped-def]
    """Run the retraining DAG for a request, then review the candidate as a person would."""
    from driftpilot.adapters import mlflow_registry as registry
    from driftpilot.usecases import promote as promotion
    from driftpilot_demo.airflow_runs import finish_run, run_dag
    conf = {"reason": "; ".join(decision["reasons"])[:500], "window": decision["window"],
            "as_of": decision["window_end"], "idempotency_key": decision["idempotency_key"],
            "decision_poke_seconds": 1}
    t0 = time.time()
    stop = threading.Event()
    reviewer = threading.Thread(target=review_when_pending, args=(settings, config, decision["idempotency_key"], stop),
                                name="demo-reviewer", daemon=True)
    reviewer.start()
    try:
        run, run_started = run_dag(retrain_dag, router, run_conf=conf)
    finally:
        stop.set()
        reviewer.join()
    state = str(getattr(run, "state", "unknown")).split(".")[-1]
    finish_run(retrain_dag.dag_id, run.run_id, run_started, f"retrain request {decision['idempotency_key']} "
               f"of window {decision['window']} (labels as of {decision['window_end']}), run by the demo", router.take())
    client = registry.MlflowRegistry(settings)
    version = client.alias_version(config.name, registry.CHALLENGER)
    found = client.search_versions(config.name, registry.KEY_TAG, f"retrain:{decision['idempotency_key']}")
    say(f"   >> retraining DAG for window {decision['window']}: {state} ({time.time() - t0:.0f} s)")
    if not found:
        ti = run.get_task_instance("training_set") if hasattr(run, "get_task_instance") else None
        say(f"      no candidate registered{f' (training_set: {ti.state})' if ti else ''}; "
            f"see the run's task logs in the Airflow UI (run {run.run_id} of {retrain_dag.dag_id})")
        return
    tags = client.version_tags(config.name, found[-1])
    say(f"      candidate v{found[-1]}: gate {tags.get(promotion.GATE)} — {tags.get('driftpilot.gate_summary', '')[:160]}")
    if version == found[-1] and tags.get(promotion.APPROVAL) == promotion.APPROVED:
        say(f"      reviewer approved in the registry while the run waited (same as `driftpilot approve --model {config.name} "
            f"--version {version} --note ...`); the next monitoring run promotes it")


def review_when_pending(settings, config, key: str, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    """The demo's reviewer: approves the run's candidate once it awaits approval, as a person would
    while the retraining run's `awaiting_decision` task waits (the run ends when it sees the tags)."""
    from driftpilot.adapters import mlflow_registry as registry
    from driftpilot.usecases import promote as promotion

    client = registry.MlflowRegistry(settings)
    note = "demo reviewer: comparison read, gate passed on the out-of-time holdout"
    while not stop.wait(0.5):
        try:
            found = client.search_versions(config.name, registry.KEY_TAG, f"retrain:{key}")
            if (found and client.alias_version(config.name, registry.CHALLENGER) == found[-1]
                    and client.version_tags(config.name, found[-1]).get(promotion.APPROVAL) == promotion.PENDING):
                promotion.set_approval(build_ports(settings), config.name, found[-1], promotion.APPROVED,
                                       "demo-reviewer", note)
                return
        except Exception:  # a registry busy with the run's own writes: look again, never leave the run waiting
            logging.getLogger(__name__).exception("demo reviewer: looking again")


def print_table(settings, config, store, monitoring) -> None:  # type: ignore[no-untyped-def]
    """Per-window summary from the evidence store, with performance as it stands now."""
    evidence = {r.evidence.window: r for r in store.window_evidence(config.name)}
    performance = {p.window: p for p in store.performance(config.name)}  # the latest version of each window
    decisions = {d.window: d for d in store.decisions(config.name)}
    metric = config.promotion.primary_metric
    say(f"per-window summary ({metric} is label-confirmed, shown once the window's labels matured):")
    say(f"  {'window':10s} {'ver':>4s} {'rows':>5s} {'quar':>4s} {'drift':>5s} {'health':>6s} {metric[:8]:>8s} "
        f"{'labels':>6s} {'action':8s} top drifted columns")

    def fmt(v, spec):  # type: ignore[no-untyped-def]
        return format(v, spec) if v is not None and v == v else "-"

    for window_label in sorted({*evidence, *performance, *decisions}):
        drift, perf, decision = evidence.get(window_label), performance.get(window_label), decisions.get(window_label)
        version = next((x.model_version for x in (drift, perf, decision) if x is not None), "?")
        summary = monitoring.report_dir(settings, monitoring.window_for(config, window_label)) / "validation_summary.json"
        quarantined = json.loads(summary.read_text()).get("rows_quarantined") if summary.exists() else None
        value = perf.value(metric) if perf is not None else None
        status = perf.note if perf is not None else ""
        perf_text = fmt(value, "8.3f") if value is not None else f"{'(' + status.split(' ')[0] + ')' if status else '-':>8s}"
        say(f"  {window_label:10s} {'v' + str(version):>4s} {fmt(drift.evidence.rows if drift else None, '5.0f'):>5s} "
            f"{fmt(quarantined, '4.0f'):>4s} {fmt(drift.evidence.drift_share if drift else None, '5.2f'):>5s} "
            f"{fmt(drift.health_score if drift else None, '6.0f'):>6s} {perf_text:>8s} "
            f"{fmt(perf.coverage if perf else None, '6.0%'):>6s} {decision.action.value if decision else '-':8s} "
            f"{', '.join(drift.evidence.drifted_columns[:4]) if drift else ''}")


def print_promotion_effect(settings, config, store, monitoring) -> None:  # type: ignore[no-untyped-def]
    """Matured accuracy of the windows served by each version, and the alias moves."""
    moves = store.promotion_log(config.name)
    if not moves:
        say("no promotion happened in this demo")
        return
    say("promotion log:")
    for move in moves:
        say(f"  {move.at[:10]} {move.alias:10s} {move.from_version} -> {move.to_version}  by {move.by}: {move.reason[:90]}")
    from driftpilot.domain.gate import LOWER_IS_BETTER
    from driftpilot.usecases.retrain import compare_on_served_windows

    metric = config.promotion.primary_metric
    served: dict[str, dict[str, float]] = {}  # version -> window -> matured value
    for perf in store.performance(config.name):
        value = perf.value(metric)
        if value is not None:
            served.setdefault(perf.model_version, {})[perf.window] = value
    first = [m.from_version for m in moves if m.alias == "champion" and m.from_version is not None]
    original = str(first[0]) if first else None
    # labels known when the demo ends: the last window's end (no peeking at later arrivals)
    last = store.decisions(config.name)[-1].window
    as_of = datetime.fromisoformat(last).replace(tzinfo=UTC) + timedelta(days=config.window_days)
    say(f"matured {metric} by serving version, and what the first champion (v{original}) would have scored "
        "on exactly the same labelled rows:")
    for version, values in sorted(served.items()):
        windows = sorted(values)
        line = (f"  v{version}: {sum(values.values()) / len(values):.3f} mean over {len(values)} windows "
                f"({windows[0]} .. {windows[-1]})")
        if original and str(version) != original:
            compared = compare_on_served_windows(config, build_ports(settings), windows, original, as_of)
            line += (f"; on the same {compared['rows']} rows: served v{version} {compared['served']:.3f} vs "
                     f"v{original} {compared['other']:.3f} ({compared['served'] - compared['other']:+.3f}"
                     f"{', lower is better' if metric in LOWER_IS_BETTER else ''})")
        say(line)


if __name__ == "__main__":
    raise SystemExit(main())
