"""Benchmark driftpilot's drift statistics: cost vs Evidently, false alarms, detection power.

Run ``make bench`` (or ``.venv/bin/python benchmarks/drift_bench.py``); ``--quick`` runs small
sizes only (a smoke test, under a minute). Prints tables; figures of a full run are kept in
``benchmarks/RESULTS.md``.

1. **Cost.** Synthetic data, 20 numeric + 5 categorical columns, the same number of rows in the
   reference and the window. Every measurement runs in its own subprocess; its peak RSS is the
   child's ``ru_maxrss`` read with ``os.wait4``, so one measurement cannot inflate another.
   * ``pyarrow read``: iterate the window's record batches (same reader options as
     driftpilot) and do nothing: the I/O and decoding floor;
   * ``driftpilot``: load the profile JSON, stream the window's Parquet into window statistics,
     score every column (what a monitoring run does; the profile is built once at training);
   * ``driftpilot profile``: ``build_profile`` of the reference (training time, reported apart);
   * ``evidently``: read both sides into pandas and run ``Report([DataDriftPreset(...)])`` with
     the methods pinned to normed Wasserstein / Jensen–Shannon.
2. **False alarms.** Stable windows (same generator as the reference, 12 features: 9 numeric
   including a Poisson count, a heavily tied column with 5 % missing and one with 1 % missing;
   3 categorical including a 60-level one with 3 % missing; 5,000-row reference) at
   n = 200 ... 1M: share of windows where any feature is flagged.
3. **Detection.** 0.25 / 0.5 / 1 sigma mean shifts on 2 of the 12 features at n = 200, next to a
   fixed "PSI > 0.2 on any feature" rule.
4. **Tails.** 2 / 5 / 10 % of one feature's values just beyond the reference maximum at n = 200,
   with what KS alone (the rule before the out-of-range test) would have flagged.
5. **Constant reference column.** 1 ... 24 of 200 values off the constant.
6. **Wide table.** 150 columns (per-column level below the 1e-4 floor of a 10,000-draw
   simulation): false alarms on stable windows, and a 100 %-unseen categorical among them.
7. **Practical relevance.** A 0.02 sigma shift on 1M rows vs a 1M-row reference.

``--stats-only`` runs sections 2-7 alone (no Evidently, a few minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

from driftpilot.adapters.parquet_lake import BATCH_ROWS, READ_BUFFER_BYTES  # noqa: E402
from driftpilot.domain.drift import ks_p_value, score_window  # noqa: E402
from driftpilot.domain.drift_stats import accumulate  # noqa: E402
from driftpilot.domain.profile import build_profile  # noqa: E402

NUMERIC = tuple(f"x{i:02d}" for i in range(20))
CATEGORICAL = tuple(f"c{i}" for i in range(5))
CARDINALITY = (5, 8, 12, 20, 50)
CHUNK = 1_000_000


# --- synthetic data -----------------------------------------------------------------------------


def synthetic(n: int, seed: int, shift: float = 0.0, shifted: tuple[str, ...] = ()) -> pa.Table:
    """20 numeric columns of varied shape (normal, skewed, bounded, discrete, with nulls) + 5
    Zipf-like categorical ones. ``shift`` (in standard deviations) is added to ``shifted`` columns."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        kind = i % 5
        if kind == 0:
            values = rng.normal(10.0 * i, 1.0 + i, n)
            sd = 1.0 + i
        elif kind == 1:
            values = rng.lognormal(0.0, 0.5, n)
            sd = float(np.sqrt((np.exp(0.25) - 1) * np.exp(0.25)))
        elif kind == 2:
            values = rng.uniform(-1.0, 1.0, n)
            sd = float(np.sqrt(4 / 12))
        elif kind == 3:
            values = rng.poisson(4.0, n).astype(float)
            sd = 2.0
        else:
            values = rng.normal(0.0, 1.0, n)
            sd = 1.0
        if name in shifted:
            values = values + shift * sd
        mask = rng.random(n) < 0.01 if kind == 4 else None
        data[name] = pa.array(values, mask=mask)
    for name, k in zip(CATEGORICAL, CARDINALITY, strict=True):
        probs = 1.0 / np.arange(1, k + 1)
        labels = np.array([f"{name}_v{j}" for j in range(k)])
        data[name] = pa.array(labels[rng.choice(k, n, p=probs / probs.sum())])
    return pa.table(data)


def write_dataset(path: Path, n: int, seed: int) -> Path:
    if path.exists():
        return path
    with pq.ParquetWriter(path, synthetic(1, 0).schema, compression="zstd") as writer:
        for start in range(0, n, CHUNK):
            writer.write_table(synthetic(min(CHUNK, n - start), seed + start), row_group_size=CHUNK)
    return path


# --- workers (each runs in its own process) ------------------------------------------------------


def work_read(window: str) -> dict[str, Any]:
    rows = 0
    handle = pq.ParquetFile(window, buffer_size=READ_BUFFER_BYTES, pre_buffer=False)  # as driftpilot reads
    for batch in handle.iter_batches(batch_size=BATCH_ROWS, columns=[*NUMERIC, *CATEGORICAL]):
        rows += batch.num_rows
    return {"rows": rows}


def work_profile(reference: str, profile_path: str) -> dict[str, Any]:
    frame = pq.read_table(reference).to_pandas()
    profile = build_profile(frame, NUMERIC, CATEGORICAL)
    Path(profile_path).write_text(json.dumps(profile))
    return {"rows": len(frame)}


def work_driftpilot(window: str, profile_path: str) -> dict[str, Any]:
    from driftpilot.adapters.parquet_lake import stats_from_parquet

    profile = json.loads(Path(profile_path).read_text())
    stats = stats_from_parquet([window], profile, NUMERIC, CATEGORICAL)
    result = score_window(profile, stats)
    return {"rows": stats.rows, "drifted": result.drifted, "status": result.status.value}


def work_evidently(window: str, reference: str) -> dict[str, Any]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=list(NUMERIC), categorical_columns=list(CATEGORICAL))
    current = Dataset.from_pandas(pq.read_table(window).to_pandas(), data_definition=definition)
    ref = Dataset.from_pandas(pq.read_table(reference).to_pandas(), data_definition=definition)
    report = Report([DataDriftPreset(num_method="wasserstein", cat_method="jensenshannon")])
    snapshot = report.run(current_data=current, reference_data=ref)
    json.loads(snapshot.json())
    return {"rows": -1}


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "read": work_read,
    "profile": work_profile,
    "driftpilot": work_driftpilot,
    "evidently": work_evidently,
}


def measure(kind: str, *args: str) -> dict[str, Any]:
    """Run one worker in a fresh process: wall seconds (inside the worker) and peak RSS (MB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        proc = subprocess.Popen([sys.executable, __file__, "--worker", kind, out.name, *args],
                                env={**os.environ, "PYTHONWARNINGS": "ignore"})
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            return {"kind": kind, "error": f"exit {proc.returncode}", "rss_mb": usage.ru_maxrss / 1024}
        result = json.loads(Path(out.name).read_text())
    result["rss_mb"] = usage.ru_maxrss / 1024  # Linux: KiB
    return result


def run_worker(kind: str, out: str, args: list[str]) -> None:
    start = time.perf_counter()
    result = WORKERS[kind](*args)
    result["seconds"] = time.perf_counter() - start
    Path(out).write_text(json.dumps(result))


# --- reporting ----------------------------------------------------------------------------------


def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n### {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    sys.stdout.flush()


def cost_section(work: Path, sizes: list[int], evidently_max: int, big: int | None) -> None:
    rows: list[list[Any]] = []

    def add(label: str, n: int, result: dict[str, Any]) -> None:
        if "error" in result:
            rows.append([label, f"{n:,}", result["error"], f"{result['rss_mb']:.0f}"])
        else:
            rows.append([label, f"{n:,}", f"{result['seconds']:.2f}", f"{result['rss_mb']:.0f}"])

    for n in sizes:
        ref = write_dataset(work / f"ref-{n}.parquet", n, seed=1)
        win = write_dataset(work / f"win-{n}.parquet", n, seed=2)
        prof = str(work / f"profile-{n}.json")
        add("pyarrow read (floor)", n, measure("read", str(win)))
        add("driftpilot profile (reference, once)", n, measure("profile", str(ref), prof))
        add("driftpilot stats + scores", n, measure("driftpilot", str(win), prof))
        if n <= evidently_max:
            add("evidently DataDriftPreset", n, measure("evidently", str(win), str(ref)))
        else:
            rows.append(["evidently DataDriftPreset", f"{n:,}", "skipped", "-"])
    if big:
        prof = str(work / f"profile-{sizes[-1]}.json")
        win = write_dataset(work / f"win-{big}.parquet", big, seed=3)
        add("pyarrow read (floor)", big, measure("read", str(win)))
        add("driftpilot stats + scores", big, measure("driftpilot", str(win), prof))
    table("Cost: 20 numeric + 5 categorical columns, rows per side", ["what", "rows", "seconds", "peak RSS MB"],
          rows)


FEATURES_NUM = (*NUMERIC[:8], "xtie")
FEATURES_CAT = (*CATEGORICAL[:2], "c60")
SHIFTED = ("x00", "x04")  # two normal features
C60_LEVELS = np.array([f"l{j:02d}" for j in range(60)], dtype=object)


def _awkward(n: int, seed: int) -> dict[str, pa.Array]:
    """Two columns the stable windows must also keep quiet on: ``xtie``, a rounded log-normal
    (few distinct values, heavy ties at the minimum) with 5 % missing, and ``c60``, a 60-level
    Zipf categorical (rarest level 0.36 %) with 3 % missing."""
    rng = np.random.default_rng([seed, 60])
    tied = np.round(rng.lognormal(0.0, 0.75, n), 0)
    zipf = 1.0 / np.arange(1, 61)
    return {"xtie": pa.array(tied, mask=rng.random(n) < 0.05),
            "c60": pa.array(C60_LEVELS[rng.choice(60, n, p=zipf / zipf.sum())], mask=rng.random(n) < 0.03)}


def _features(n: int, seed: int, shift: float = 0.0) -> pa.Table:
    """The monitored table of the statistics sections: 9 numeric + 3 categorical features."""
    base = synthetic(n, seed, shift, SHIFTED)
    columns = {name: base.column(name) for name in (*NUMERIC[:8], *CATEGORICAL[:2])} | _awkward(n, seed)
    return pa.table({name: columns[name] for name in (*FEATURES_NUM, *FEATURES_CAT)})


def _score(profile: dict[str, Any], window: pa.Table, numeric: tuple[str, ...] = FEATURES_NUM,
           categorical: tuple[str, ...] = FEATURES_CAT) -> Any:
    return score_window(profile, accumulate([window], profile, numeric, categorical))


def _window_verdict(profile: dict[str, Any], n: int, seed: int, shift: float = 0.0) -> tuple[bool, bool, bool]:
    """(any feature flagged, a shifted feature flagged, PSI > 0.2 on any feature)."""
    result = _score(profile, _features(n, seed, shift))
    hit = any(result.column(c).drifted for c in SHIFTED)
    psi_rule = any((c.psi or 0.0) > 0.2 for c in result.columns)
    return result.alarm, hit, psi_rule


def _pct(hits: int, total: int) -> str:
    return f"{hits / total:.1%}"


def statistics_section(quick: bool) -> None:
    reference = _features(5_000, 11).to_pandas()
    profile = build_profile(reference, FEATURES_NUM, FEATURES_CAT)
    plan = [(200, 50), (1_000, 50)] if quick else \
        [(200, 1000), (1_000, 1000), (10_000, 300), (100_000, 100), (1_000_000, 20)]
    rows = []
    for n, windows in plan:
        start = time.perf_counter()
        verdicts = [_window_verdict(profile, n, 10_000 + s) for s in range(windows)]
        alarms = sum(v[0] for v in verdicts)
        psi_alarms = sum(v[2] for v in verdicts)
        rows.append([f"{n:,}", windows, _pct(alarms, windows), _pct(psi_alarms, windows),
                     f"{time.perf_counter() - start:.1f}"])
    table(f"False alarms on stable windows ({len(FEATURES_NUM)} numeric + {len(FEATURES_CAT)} categorical "
          "features incl. ties, missing values and a 60-level categorical; 5,000-row reference)",
          ["window rows", "windows", "driftpilot: any feature flagged", "PSI > 0.2 on any feature", "seconds"],
          rows)

    rows = []
    windows = 50 if quick else 500
    for shift in (0.25, 0.5, 1.0):
        verdicts = [_window_verdict(profile, 200, 50_000 + s, shift) for s in range(windows)]
        rows.append([f"{shift} sd", windows, _pct(sum(v[0] for v in verdicts), windows),
                     _pct(sum(v[1] for v in verdicts), windows), _pct(sum(v[2] for v in verdicts), windows)])
    table("Detection at n = 200 (mean shift on 2 of the 12 features, 5,000-row reference)",
          ["shift", "windows", "driftpilot: any feature flagged", "a shifted feature flagged",
           "PSI > 0.2 on any feature"], rows)

    tails_section(profile, quick)
    constant_section(quick)
    wide_section(quick)

    n = 100_000 if quick else 1_000_000
    big_ref = _features(n, 21).to_pandas()
    big_profile = build_profile(big_ref, FEATURES_NUM, FEATURES_CAT)
    del big_ref
    result = _score(big_profile, _features(n, 22, 0.02))
    rows = []
    for name in SHIFTED:
        col = result.column(name)
        rows.append([name, f"{col.ks:.4f}", f"{col.wasserstein_norm:.4f}", f"{col.p_value:.2g}",
                     col.status.value, col.reason])
    table(f"0.02 sd shift on {n:,} rows vs a {n:,}-row reference (dataset status: {result.status.value})",
          ["column", "KS", "W / sd", "p-value", "status", "reason"], rows)


def _ks_alone(col: Any, n: int, m: int, alpha: float) -> bool:
    """The rule before the out-of-range test: KS at the column's whole level, KS / W floors."""
    return bool(ks_p_value(col.ks, n, m) < alpha and (col.ks >= 0.05 or col.wasserstein_norm >= 0.1))


def tails_section(profile: dict[str, Any], quick: bool) -> None:
    """5 % of one feature's values just beyond the reference maximum, at n = 200."""
    ref_col = profile["columns"]["x00"]
    high, sd = ref_col["high"], ref_col["summary"]["std"]
    windows = 100 if quick else 1000
    rows = []
    for share in (0.05, 0.02, 0.10):
        hits = ks_hits = others = 0
        for s in range(windows):
            frame = _features(200, 70_000 + s).to_pandas()
            rng = np.random.default_rng([s, 5])
            hit = rng.random(len(frame)) < share
            frame.loc[hit, "x00"] = high + rng.uniform(1e-9, 0.25 * sd, int(hit.sum()))
            result = _score(profile, pa.Table.from_pandas(frame, preserve_index=False))
            col = result.column("x00")
            hits += col.drifted
            ks_hits += _ks_alone(col, 200, int(ref_col["count"]), result.alpha_per_column)
            others += any(c.drifted for c in result.columns if c.column != "x00")
        rows.append([f"{share:.0%}", windows, _pct(hits, windows), _pct(ks_hits, windows), _pct(others, windows)])
    table("Tails at n = 200: a share of x00's values replaced by values just beyond the reference maximum "
          "(uniform in (max, max + 0.25 sd); 12 features, 5,000-row reference)",
          ["share beyond max", "windows", "x00 flagged", "KS alone would flag (the rule before)",
           "another feature flagged"], rows)


def constant_section(quick: bool) -> None:
    """A constant reference column (Elec2's Victoria columns) and windows with some values off it."""
    numeric = (*FEATURES_NUM, "k")
    reference = _features(5_000, 12).append_column("k", pa.array(np.full(5_000, 0.003467)))
    profile = build_profile(reference.to_pandas(), numeric, FEATURES_CAT)
    windows = 100 if quick else 500
    rows = []
    for off in (1, 2, 5, 10, 24):
        hits = 0
        for s in range(windows):
            values = np.full(200, 0.003467)
            values[:off] = np.random.default_rng([s, 6]).uniform(0.0, 0.01, off)
            window = _features(200, 80_000 + s).append_column("k", pa.array(values))
            hits += _score(profile, window, numeric).column("k").drifted
        rows.append([f"{off} ({off / 200:.1%})", windows, _pct(hits, windows)])
    table("Constant reference column at n = 200: values off the constant (13 features, 5,000-row reference)",
          ["values off the constant", "windows", "column flagged"], rows)


WIDE_NUM = tuple(f"n{i:03d}" for i in range(100))
WIDE_CAT = tuple(f"k{j:02d}" for j in range(50))


def _wide(n: int, seed: int, unseen: str | None = None) -> pa.Table:
    """150 columns: 100 numeric (normal; Poisson counts; rounded log-normal with 2 % missing) and
    50 Zipf-like categoricals of 8-20 levels (rare levels, so their p-values are simulated)."""
    rng = np.random.default_rng([seed, 150])
    data: dict[str, pa.Array] = {}
    for i, name in enumerate(WIDE_NUM):
        if i % 3 == 0:
            data[name] = pa.array(rng.normal(0.0, 1.0, n))
        elif i % 3 == 1:
            data[name] = pa.array(rng.poisson(3.0, n).astype(float))
        else:
            data[name] = pa.array(np.round(rng.lognormal(0.0, 0.5, n), 1), mask=rng.random(n) < 0.02)
    for j, name in enumerate(WIDE_CAT):
        k = 8 + j % 13
        probs = 1.0 / np.arange(1, k + 1)
        labels = np.array([f"v{v}" for v in range(k)], dtype=object)
        data[name] = pa.array(np.full(n, "never-seen", dtype=object) if name == unseen
                              else labels[rng.choice(k, n, p=probs / probs.sum())])
    return pa.table(data)


def wide_section(quick: bool) -> None:
    """150 monitored columns: per-column level 0.01 / 150, below the 1e-4 simulation floor."""
    profile = build_profile(_wide(5_000, 13).to_pandas(), WIDE_NUM, WIDE_CAT)
    rows = []
    plan = [(200, 20, 10)] if quick else [(200, 200, 50), (10_000, 30, 10)]
    for n, stable_windows, unseen_windows in plan:
        start = time.perf_counter()
        alarms = sum(_score(profile, _wide(n, 90_000 + s), WIDE_NUM, WIDE_CAT).alarm for s in range(stable_windows))
        flagged = others = 0
        for s in range(unseen_windows):
            result = _score(profile, _wide(n, 95_000 + s, unseen="k07"), WIDE_NUM, WIDE_CAT)
            flagged += result.column("k07").drifted
            others += any(c.drifted for c in result.columns if c.column != "k07")
        rows.append([f"{n:,}", stable_windows, _pct(alarms, stable_windows), unseen_windows,
                     _pct(flagged, unseen_windows), _pct(others, unseen_windows), f"{time.perf_counter() - start:.1f}"])
    table("Wide table: 100 numeric + 50 categorical columns (per-column level 0.01 / 150 = 6.7e-5), "
          "5,000-row reference",
          ["window rows", "stable windows", "any column flagged", "windows with k07 100 % unseen",
           "k07 flagged", "another column flagged", "seconds"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only (smoke test, < 1 min)")
    parser.add_argument("--skip-evidently-1m", action="store_true", help="run Evidently at 100k rows only")
    parser.add_argument("--no-evidently", action="store_true", help="never run Evidently")
    parser.add_argument("--cost-only", action="store_true", help="skip the false-alarm / detection sections")
    parser.add_argument("--stats-only", action="store_true",
                        help="only the false-alarm / detection sections (no cost section, no Evidently)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep generated data here")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker[0], args.worker[1], args.worker[2:])
        return
    np.seterr(all="ignore")
    print(f"# driftpilot drift benchmark ({'quick' if args.quick else 'full'}; {os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.quick:
            sizes, big = [20_000], None
            evidently_max = 0 if args.no_evidently else 20_000
        else:
            sizes, big = [100_000, 1_000_000], 10_000_000
            evidently_max = 0 if args.no_evidently else (100_000 if args.skip_evidently_1m else 1_000_000)
        start = time.perf_counter()
        if not args.stats_only:
            cost_section(work, sizes, evidently_max, big)
        if not args.cost_only:
            statistics_section(args.quick)
        print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
