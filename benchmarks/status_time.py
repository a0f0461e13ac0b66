"""Wall time of `driftpilot status` (a new interpreter each time, as a person runs it) on a state.

    .venv/bin/python benchmarks/status_time.py [--home DRIFTPILOT_HOME] [--model M] [--runs N]

Default home: the demo's `.driftpilot` (`make demo` first). Prints each run and the median, and
which heavy libraries the status path imported (none is the point: MLflow alone costs ~2-3 s).
The target is under 2 s; this prints the figure, it does not assert it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("mlflow", "pandas", "numpy", "pyarrow", "sqlalchemy", "evidently", "great_expectations", "sklearn")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("DRIFTPILOT_HOME", ROOT / ".driftpilot")))
    parser.add_argument("--model", default="elec2_updown")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not (args.home / "mlflow").is_dir():
        print(f"no driftpilot state at {args.home}: run `make demo` first, or pass --home", file=sys.stderr)
        return 2
    env = {**os.environ, "DRIFTPILOT_HOME": str(args.home)}
    env.pop("MLFLOW_TRACKING_URI", None)
    command = [sys.executable, "-m", "driftpilot", "status", "--model", args.model]
    times = []
    for run in range(args.runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
            return 1
        print(f"run {run + 1}: {times[-1]:.2f} s")
    probe = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], env=env, capture_output=True, text=True)
    imported = {line.rsplit("|", 1)[-1].strip() for line in probe.stderr.splitlines() if line.startswith("import time:")}
    print(f"median {statistics.median(times):.2f} s, max {max(times):.2f} s over {args.runs} runs "
          f"(target < 2 s); heavy libraries imported: {', '.join(sorted(set(HEAVY) & imported)) or 'none'}")
    print("pending approvals shown:", next((line for line in done.stdout.splitlines() if "pending approvals" in line), "?"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
