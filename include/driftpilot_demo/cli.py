"""The demo's command line (`python -m driftpilot_demo` or `driftpilot-demo`), outside the product's.

    python -m driftpilot_demo bootstrap --model elec2_updown    first champion from the bundled training period
    python -m driftpilot_demo replay --model elec2_updown --days 30
    python -m driftpilot_demo run                               bootstrap + replay the default demo model

``make demo`` (``scripts/demo.py``) runs the whole loop with the real DAGs. Errors raised on
purpose are printed as one line (exit code 2), like ``driftpilot``'s.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from driftpilot.cli import DEFAULT_MODEL, print_bootstrap, print_locations
from driftpilot.composition import build_ports
from driftpilot.domain.config import model_config
from driftpilot.errors import DriftpilotError
from driftpilot.settings import Settings, load_settings
from driftpilot_demo.config import demo_spec


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def cmd_bootstrap(args: argparse.Namespace, settings: Settings) -> int:
    from driftpilot_demo.traffic import bootstrap_demo

    print_bootstrap(bootstrap_demo(model_config(settings, args.model), build_ports(settings)))
    return 0


def _replay(settings: Settings, model: str, days: int, start: int, rebuild: bool) -> None:
    from driftpilot_demo.traffic import replay_traffic

    config = model_config(settings, model)

    def progress(result) -> None:  # type: ignore[no-untyped-def]
        if result.skipped:
            _out(f"  day {result.day:3d} {result.date}  already in the lake, kept")
        else:
            _out(f"  day {result.day:3d} {result.date}  {result.rows:6d} predictions (champion v{result.model_version}), "
                 f"{result.label_rows:6d} label rows")

    _out(f"replaying {days} day(s) of {model} traffic from day {start}")
    replay_traffic(config, settings, range(start, start + days), rebuild=rebuild, progress=progress)


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    days = args.days or demo_spec(args.model).replay.days
    _replay(settings, args.model, days, args.start, args.rebuild)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from driftpilot_demo.traffic import bootstrap_demo

    config = model_config(settings, args.model)
    _out(f"== driftpilot demo: {config.name} ({config.description})")
    _out("-- initial training (first period only) and champion registration")
    result = bootstrap_demo(config, build_ports(settings))
    _out(f"   version {result.version} ({'new' if result.created else 'reused'}), champion = v{result.champion}")
    days = args.days or demo_spec(config.name).replay.days
    _replay(settings, config.name, days, 0, args.rebuild)
    _out()
    print_locations(settings, config.name)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="driftpilot_demo", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("bootstrap", help="train the first champion on the bundled dataset's training period")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.set_defaults(func=cmd_bootstrap)

    p = sub.add_parser("replay", help="replay real traffic days into the lake")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--days", type=int, default=0, help="number of days (default: the demo file's replay.days)")
    p.add_argument("--start", type=int, default=0, help="first simulated day")
    p.add_argument("--rebuild", action="store_true", help="rewrite days already in the lake")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("run", help="bootstrap + replay the demo model and print where things are")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--days", type=int, default=0)
    p.add_argument("--rebuild", action="store_true")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args, load_settings()))
    except DriftpilotError as exc:
        sys.stderr.write(f"driftpilot_demo: error: {exc}\n")
        return 2
