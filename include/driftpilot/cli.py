"""``driftpilot`` command line: set up and inspect without the Airflow UI.

    driftpilot bootstrap --model M --training-data FILE.parquet   train + register the first champion
    driftpilot bootstrap --all                    re-run for every model from its recorded training set
    driftpilot register --model M --model-uri models:/M/3 --reference FILE.parquet [--champion]
                                                  attach a baseline to a model trained elsewhere
    driftpilot status --model elec2_updown        champion, pending approvals, lake partitions
    driftpilot check-config [FILE ...]            validate model configs
    driftpilot check-lake --model elec2_updown    read every partition, report damaged files
    driftpilot approve --model M --version V --note "..." [--by NAME]   approve a challenger (registry tags)
    driftpilot reject  --model M --version V --note "..."   reject it (it keeps the tags and note)
    driftpilot reconcile --model M                 act on approvals now (monitoring runs do it too)
    driftpilot rollback --model M --reason "..."   champion back to previous
    driftpilot promotions --model M                the promotion log (who, when, why, from -> to)
    driftpilot trend --model M --metric drift.share --days 30   one metric over the last N days
    driftpilot monitor --model M --window 2026-01-10   monitor that window now, in this process
    driftpilot retrain --model M [--window W]      run the retrain request a window recorded
    driftpilot retrain --model M --reason "..."    retrain now (a manual request, labels known now)
    eval "$(driftpilot env)"                       set what the Makefile sets (Airflow, MLflow, driftpilot)

The reviewer named on an approval, rejection or rollback is ``--by``, else ``$DRIFTPILOT_REVIEWER``,
else the OS user running the command; an approval without a name or a note is refused.

Errors the user can fix (driftpilot's own, and the registry's "no such model or version") are
printed as one line on stderr with exit code 2, not as a traceback; anything else (a bug, a
registry or store that is down) keeps its traceback and exit code 1, which is what a bug report needs.
`driftpilot trend --list` prints the recorded metric names; an unknown `--metric` is such a one-line error.
The demo's commands (bootstrap from the bundled data, replay, a quick run) are its own CLI, `driftpilot-demo`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, timedelta
from pathlib import Path

from driftpilot.composition import build_ports
from driftpilot.errors import DriftpilotError
from driftpilot.ports import Ports
from driftpilot.settings import Settings, load_settings, redact_uri

DEFAULT_MODEL = "elec2_updown"


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def cmd_bootstrap(args: argparse.Namespace, settings: Settings) -> int:
    from driftpilot.domain.config import load_all_configs
    from driftpilot.usecases.bootstrap import bootstrap_champion

    model = args.model_arg or args.model
    if args.all and args.training_data:
        raise DriftpilotError("--training-data names one model's data; give --model, not --all")
    configs = load_all_configs(settings.config_dir)
    names = sorted(configs) if args.all else [model]
    for name in names:
        if name not in configs:
            raise DriftpilotError(f"no model named {name!r} in {settings.config_dir}")
        data = Path(args.training_data) if args.training_data else None
        print_bootstrap(bootstrap_champion(configs[name], build_ports(settings), training_data=data))
    return 0


def cmd_register(args: argparse.Namespace, settings: Settings) -> int:
    """Attach driftpilot's baseline to a model the user already has (``usecases.register``)."""
    from driftpilot.domain.config import model_config
    from driftpilot.usecases.register import register_model

    config = model_config(settings, args.model)
    result = register_model(config, build_ports(settings), args.model_uri, Path(args.reference),
                            champion=args.champion, by=_reviewer(args), at=_now())
    if result.created:
        state = f"registered as version {result.version} of {result.model_name}"
    else:
        state = f"version {result.version} of {result.model_name}"
    baseline = "reused" if result.baseline_reused else "logged"
    _out(f"{args.model_uri}: {state}; baseline {baseline} (run {result.baseline_run})")
    _out(f"  champion = {'version ' + result.champion if result.champion else 'none (pass --champion to set it)'}")
    if result.metrics:
        _out("  reference metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in sorted(result.metrics.items())))
    if result.scored_columns:
        _out(f"  scored by the model: {', '.join(result.scored_columns)}")
    _out(f"  your serving code logs model_version={result.version} for this model")
    return 0


def print_bootstrap(result) -> None:  # type: ignore[no-untyped-def]
    state = "registered" if result.created else "already registered, reused"
    _out(f"{result.model_name}: version {result.version} {state}; champion = version {result.champion}")
    if result.metrics:
        _out("  holdout: " + ", ".join(f"{k}={v:.4f}" for k, v in sorted(result.metrics.items())))


def print_locations(settings: Settings, model: str) -> None:
    from driftpilot.adapters import parquet_lake as storage
    from driftpilot.domain.training_data import original_training_key

    _out("where everything is:")
    _out(f"  home (delete to start over): {settings.home}")
    tracking = redact_uri(settings.mlflow_tracking_uri)  # shown, so without its credentials
    _out(f"  MLflow store:                {tracking}")
    _out(f"  MLflow artifacts:            {settings.mlflow_artifacts}")
    _out(f"  inference logs:              {settings.lake / storage.INFERENCE / f'model={model}'}")
    _out(f"  labels (by arrival day):     {settings.lake / storage.LABELS / f'model={model}'}")
    _out(f"  original training set:       {settings.lake / original_training_key(model)}")
    _out(f"  browse MLflow:  .venv/bin/mlflow ui --backend-store-uri {tracking}")


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from driftpilot.adapters import parquet_lake as storage
    from driftpilot.composition import build_read_ports
    from driftpilot.domain.reports import share_text
    from driftpilot.ports import CHAMPION

    ports = build_read_ports(settings)  # status only looks: answers without importing MLflow
    champion = ports.registry.alias_version(args.model, CHAMPION)
    _out(f"{args.model}: champion = {'v' + champion if champion else 'none (run bootstrap)'}")
    decided = ports.store.decisions(args.model)
    if decided:
        last = decided[-1]
        _out(f"  last window {last.window} (v{last.model_version}): {last.action.value}, drift share "
             f"{share_text(last.evidence.get('drift_share'))} (driftpilot, decides)")
    for kind in (storage.INFERENCE, storage.LABELS):
        dates = storage.list_partition_dates(settings.lake, kind, args.model)
        span = f"{dates[0]} .. {dates[-1]}" if dates else "-"
        _out(f"  {kind:10s} {len(dates):4d} partition(s)  {span}")
    _print_pending(ports, args.model)
    print_locations(settings, args.model)
    return 0


def _print_pending(ports: Ports, model: str) -> None:
    """The candidates awaiting a reviewer, and how to decide each (`status` is where people look first)."""
    from driftpilot.usecases import approvals

    waiting = approvals.pending(ports, [model])
    _out(f"  pending approvals: {len(waiting) or 'none'}")
    for item in waiting:
        gate = "passed" if item.gate_problem is None else f"would be refused: {item.gate_problem}"
        _out(f"    v{item.version} (challenger: {'yes' if item.challenger else 'no'}), gate {gate}, awaiting since "
             f"{item.gated_at or 'unknown'} (gated against v{item.gated_against})")
        _out(f"      decide: approvals page {approvals.APPROVALS_PAGE} under the Airflow api-server, or "
             f"`driftpilot approve --model {model} --version {item.version} --note '...'` "
             f"(or `driftpilot reject`)")


def cmd_check_config(args: argparse.Namespace, settings: Settings) -> int:
    from driftpilot.composition import build_ports
    from driftpilot.domain.config import load_all_configs, load_config
    from driftpilot.usecases import retrain

    # The adapters check the names they implement (Evidently's report methods, the trainer and
    # its estimators), which the domain's config parser cannot know without importing them.
    ports = build_ports(settings)
    if args.files:
        for file in args.files:
            config = load_config(Path(file))
            ports.reports.check_config(config)
            retrain.check_config(config, ports)
            _out(f"ok: {file} ({config.name})")
    else:
        for name, config in load_all_configs(settings.config_dir).items():
            ports.reports.check_config(config)
            retrain.check_config(config, ports)
            _out(f"ok: {config.path} ({name})")
    return 0


def cmd_check_lake(args: argparse.Namespace, settings: Settings) -> int:
    from driftpilot.adapters import parquet_lake as storage
    from driftpilot.errors import CorruptFile

    bad = 0
    total = 0
    for kind in (storage.INFERENCE, storage.LABELS):
        for day in storage.list_partition_dates(settings.lake, kind, args.model):
            for path in storage.partition_files(storage.partition_dir(settings.lake, kind, args.model, day)):
                total += 1
                try:
                    storage.read_parquet(path)
                except CorruptFile as exc:
                    bad += 1
                    _out(f"damaged: {exc}")
    _out(f"{total} file(s) read, {bad} damaged")
    return 1 if bad else 0


def _reviewer(args: argparse.Namespace) -> str:
    """Who acts: ``--by``, else ``DRIFTPILOT_REVIEWER``, else the OS user (recorded, not authenticated)."""
    import getpass
    import os

    return str(args.by.strip() or os.environ.get("DRIFTPILOT_REVIEWER", "").strip() or getpass.getuser())


def _now() -> str:
    from datetime import datetime

    return datetime.now(UTC).isoformat()


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    """Set the approval tags on a version, exactly as a reviewer would in the MLflow UI."""
    from driftpilot.usecases import promote as promotion
    decision = promotion.APPROVED if args.command == "approve" else promotion.REJECTED
    promotion.set_approval(build_ports(settings), args.model, str(args.version), decision, _reviewer(args), args.note)
    _out(f"{args.model} v{args.version}: {promotion.APPROVAL}={decision} (by {_reviewer(args)}: {args.note})")
    _out("the next monitoring run acts on it; `driftpilot reconcile` does it now")
    return 0


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from driftpilot.usecases import promote as promotion

    moves = promotion.reconcile(build_ports(settings), args.model, _now())
    for move in moves:
        _out(f"{move.alias}: {move.from_version} -> {move.to_version} ({move.reason})")
    if not moves:
        _out("nothing to do")
    return 0


def cmd_rollback(args: argparse.Namespace, settings: Settings) -> int:
    from driftpilot.usecases import promote as promotion

    for move in promotion.rollback(build_ports(settings), args.model, _reviewer(args), _now(), args.reason):
        _out(f"{move.alias}: {move.from_version} -> {move.to_version} ({move.reason})")
    return 0


def cmd_promotions(args: argparse.Namespace, settings: Settings) -> int:
    moves = build_ports(settings).store.promotion_log(args.model)
    for move in moves:
        _out(f"{move.at}  {move.alias:10s} {move.from_version} -> {move.to_version}  by {move.by}: {move.reason}")
    if not moves:
        _out("no alias moves yet")
    return 0


def cmd_trend(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import date

    from driftpilot.usecases import trends

    store = build_ports(settings).store
    if args.list:
        catalog = trends.metric_catalog(store, args.model)
        if not catalog:
            _out(f"{args.model}: no metrics recorded yet")
        for name in catalog:
            _out(name.metric + (f"  columns: {', '.join(name.columns)}" if name.per_column else ""))
        return 0
    until = date.fromisoformat(args.until) if args.until else None
    if until is None:
        decided = store.decisions(args.model)
        until = date.fromisoformat(decided[-1].window) if decided else date.today()
    frame = trends.metric_trend(store, args.model, args.metric, args.column, until, args.days)
    if frame.empty:
        _out(f"no {args.metric}{'[' + args.column + ']' if args.column else ''} rows in the {args.days} days up to {until}")
        return 0
    values = frame["value"].dropna()
    # Four decimals, as the summary line below: a drift share reads the same here as anywhere else.
    _out(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    _out(f"{len(frame)} window(s); mean {values.mean():.4f}, min {values.min():.4f}, max {values.max():.4f}"
         if len(values) else f"{len(frame)} window(s), no values")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="driftpilot", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("bootstrap", help="train and register the first champion of a model")
    p.add_argument("model_arg", nargs="?", default="", metavar="MODEL", help="the model (same as --model)")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--training-data", default="", metavar="FILE.parquet",
                   help="the training data (features, target, segments; in time order); recorded in the lake "
                        "as the model's original training set (default: the one recorded before)")
    p.add_argument("--all", action="store_true", help="every configured model, from its recorded training set")
    p.set_defaults(func=cmd_bootstrap)

    p = sub.add_parser("register", help="attach driftpilot's baseline to a model trained elsewhere")
    p.add_argument("--model", required=True, help="the model config's name (its registered model name)")
    p.add_argument("--model-uri", required=True,
                   help="models:/<name>/<version> (monitor that version), or runs:/<run_id>/<path> or a folder "
                        "with an MLmodel file (registered as a new version)")
    p.add_argument("--reference", required=True, metavar="FILE.parquet",
                   help="your validation/holdout set with the target (prediction/score columns optional)")
    p.add_argument("--champion", action="store_true", help="point the alias champion at the version")
    p.add_argument("--by", default="", help="who registers (default: $DRIFTPILOT_REVIEWER, else the OS user)")
    p.set_defaults(func=cmd_register)

    p = sub.add_parser("status", help="champion, pending approvals and lake partitions of a model")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("check-config", help="validate model config files")
    p.add_argument("files", nargs="*")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("check-lake", help="read every lake file of a model and report damaged ones")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.set_defaults(func=cmd_check_lake)

    for name, text in (("approve", "approve a challenger version"), ("reject", "reject a challenger version")):
        p = sub.add_parser(name, help=f"{text} (sets its approval tags in the MLflow registry)")
        p.add_argument("--model", default=DEFAULT_MODEL)
        p.add_argument("--version", required=True)
        p.add_argument("--note", required=True, help="why (kept with the version)")
        p.add_argument("--by", default="", help="reviewer name (default: $DRIFTPILOT_REVIEWER, else the OS user)")
        p.set_defaults(func=cmd_review)

    p = sub.add_parser("reconcile", help="act on approval tags now (promote approved, drop rejected)")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser("rollback", help="move champion back to the previous version")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--reason", required=True)
    p.add_argument("--by", default="")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("trend", help="one metric of the metrics history over the last N days (30/60/90)")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--metric", default="drift.share", help="e.g. drift.share, perf.accuracy, ops.latency_p95_ms")
    p.add_argument("--column", default="", help="for per-column metrics, e.g. drift.psi --column nswprice")
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--until", default="", help="last day (default: the latest decided window)")
    p.add_argument("--list", action="store_true", help="list the recorded metric names (and their columns) instead")
    p.set_defaults(func=cmd_trend)

    p = sub.add_parser("promotions", help="the promotion log of a model")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.set_defaults(func=cmd_promotions)
    add_run_commands(sub)
    return parser


# --------------------------------------------------------------------------------------------
# monitor, retrain, env: run driftpilot without the Makefile and without Airflow's date arithmetic
# --------------------------------------------------------------------------------------------


def add_run_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("monitor", help="monitor one window now, in this process (the monitoring DAG's steps)")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--window", required=True, metavar="YYYY-MM-DD", help="the window's first day (UTC)")
    p.add_argument("--no-alert", action="store_true", help="decide, but send no alert")
    p.add_argument("--airflow", action="store_true",
                   help="print the `airflow dags test` command that monitors this window instead")
    p.set_defaults(func=cmd_monitor)

    p = sub.add_parser("retrain", help="run a retrain request recorded in the outbox, in this process")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--window", default="", metavar="YYYY-MM-DD", help="the request of this window (default: the latest pending)")
    p.add_argument("--key", default="", help="the request with this idempotency key")
    p.add_argument("--reason", default="", help="make a manual request (retrain now) with this reason, instead of "
                                                "running a recorded one")
    p.add_argument("--as-of", default="", metavar="ISO-TIME", help="a manual request's as-of time (default: now, UTC)")
    p.add_argument("--airflow", action="store_true",
                   help="print the `airflow dags test` command that runs the same request instead")
    p.set_defaults(func=cmd_retrain)

    p = sub.add_parser("env", help="print the environment the Makefile sets, as `export` lines for eval")
    p.add_argument("--format", choices=("export", "dotenv"), default="export",
                   help="`export NAME=value` (default) or `NAME=value` for an .env or systemd file")
    p.set_defaults(func=cmd_env)


def cmd_monitor(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import date

    from driftpilot.domain.config import model_config
    from driftpilot.usecases import manual_runs
    from driftpilot.usecases.monitor import window_for

    config = model_config(settings, args.model)
    try:
        day = date.fromisoformat(args.window)
    except ValueError:
        raise DriftpilotError(f"--window must be the window's first day as an ISO date like 2026-01-10, "
                              f"got {args.window!r}") from None
    # Only the config's windows: a shifted one would overwrite a day's outputs and count twice in the policy.
    offset = (day - date.fromisoformat(config.window_start)).days
    if offset % config.window_days:
        raise DriftpilotError(f"--window {day}: {config.name}'s windows are {config.window_days} days from "
                              f"window.start {config.window_start}; the window holding {day} starts on "
                              f"{day - timedelta(days=offset % config.window_days)}")
    window = window_for(config, day)
    if args.airflow:
        _out(manual_runs.airflow_monitor_command(config, window))
        return 0
    _out(f"{config.name}: window {window.label} [{window.start:%Y-%m-%d %H:%M} .. {window.end:%Y-%m-%d %H:%M}) UTC")
    run = manual_runs.monitor_window(config, build_ports(settings), window, alerts=not args.no_alert, say=_out)
    if run.error is not None:
        raise run.error
    decided = run.result("decide")
    _out(f"decision: {decided['action']}" if decided else "decision: none taken (see the skipped steps above)")
    return 0


def cmd_retrain(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import datetime

    from driftpilot.domain.config import model_config
    from driftpilot.errors import ConfigError
    from driftpilot.usecases import manual_runs
    from driftpilot.usecases.retrain import RetrainRequest

    config = model_config(settings, args.model)
    ports = build_ports(settings)
    if args.reason:
        # A manual request ("retrain now"), as the retraining DAG's Params make one: labels known
        # at --as-of (default: now); the same --key again reuses its candidate and version.
        if args.window:
            raise ConfigError("--reason makes a manual request; --window names a recorded one: give one of them")
        try:
            as_of = datetime.fromisoformat(args.as_of or _now())
        except ValueError:
            raise ConfigError(f"--as-of must be an ISO time like 2026-03-12T00:00:00+00:00, got {args.as_of!r}") from None
        as_of = as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)
        request = RetrainRequest(model=config.name, reason=args.reason, window="manual", as_of=as_of,
                                 idempotency_key=args.key or f"{config.name}:manual:{as_of:%Y%m%dT%H%M%S}")
        state = "manual"
    else:
        entry = manual_runs.outbox_request(ports, config.name, window=args.window or None, key=args.key or None)
        request = manual_runs.request_of(entry)
        state = entry.state.value
    if args.airflow:
        _out(manual_runs.airflow_retrain_command(request))
        return 0
    _out(f"{config.name}: retrain request {request.idempotency_key} ({state}) of window "
         f"{request.window}, as of {request.as_of.isoformat()}: {request.reason}")
    run = manual_runs.retrain_request(config, ports, request, say=_out)
    if run.error is not None:
        raise run.error
    skipped = [s for s in run.steps if s.state == manual_runs.SKIPPED]
    if skipped:
        raise DriftpilotError(f"retraining stopped at {skipped[0].step}: {skipped[0].message}")
    return 0


# What the Makefile exports (its `export NAME ?= value` lines); values already in the
# environment win, like `?=`. Paths are resolved from the installed project and the settings.
def env_lines(settings: Settings) -> list[tuple[str, str]]:
    import os

    from driftpilot.settings import PROJECT_DIR

    defaults = [
        ("DRIFTPILOT_HOME", str(settings.home)),
        ("AIRFLOW_HOME", str(settings.home / "airflow")),
        ("AIRFLOW__CORE__DAGS_FOLDER", str(PROJECT_DIR / "dags")),
        ("AIRFLOW__CORE__PLUGINS_FOLDER", str(PROJECT_DIR / "plugins")),
        ("AIRFLOW__CORE__LOAD_EXAMPLES", "False"),
        ("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX", "regexp"),
        ("AIRFLOW__CORE__PARALLELISM", "4"),
        ("AIRFLOW__SCHEDULER__MP_START_METHOD", "forkserver"),
        ("AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD", "driftpilot.adapters.preload"),
        ("MLFLOW_DISABLE_TELEMETRY", "true"),
        ("DO_NOT_TRACK", "true"),
        ("GX_ANALYTICS_ENABLED", "false"),
        ("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false"),
    ]
    return [(name, os.environ.get(name) or value) for name, value in defaults]


def cmd_env(args: argparse.Namespace, settings: Settings) -> int:
    import shlex

    lines = env_lines(settings)
    dags = dict(lines)["AIRFLOW__CORE__DAGS_FOLDER"]
    if not Path(dags).is_dir():
        raise DriftpilotError(f"no DAG folder at {dags}: set AIRFLOW__CORE__DAGS_FOLDER to the project's dags/ "
                              "(driftpilot is installed outside its source tree)")
    prefix = "export " if args.format == "export" else ""
    for name, value in lines:
        _out(f"{prefix}{name}={shlex.quote(value)}")
    if args.format == "export":  # Airflow's standalone and dags test start the venv's executables
        _out(f'export PATH={shlex.quote(str(Path(sys.executable).parent))}:"$PATH"')
    return 0


def _one_line(exc: BaseException) -> str | None:
    """The one-line message of an error the user can act on; ``None`` for a bug or an outage.

    driftpilot's own errors, and the registry's "no such model / version / alias" (a mistyped
    ``--model`` or ``--version``), are the user's to fix: one line says what and what next. Anything
    else (a bug, a registry that is down) keeps its traceback, which is what a bug report needs.
    """
    from driftpilot.adapters.mlflow_registry import is_not_found

    if isinstance(exc, DriftpilotError):
        return " ".join(str(exc).split())
    if is_not_found(exc):
        detail = " ".join(str(getattr(exc, "message", exc)).split())
        return (f"the MLflow registry has no such model or version ({detail}); check --model and --version "
                "(`driftpilot status --model M` shows the champion)")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; an error the user can fix is one line on stderr and exit code 2 (``_one_line``)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args, load_settings()))
    except Exception as exc:
        line = _one_line(exc)
        if line is None:
            raise
        sys.stderr.write(f"driftpilot: error: {line}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
