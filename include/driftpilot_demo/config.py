"""The demo's own settings per model: which bundled dataset plays the model's world, and how.

The product's model config (``include/config/<model>.yaml``) says what the monitored model is and
how it is monitored. Everything that only exists because the demo *simulates* production lives
here instead, in ``include/driftpilot_demo/configs/<model>.yaml``:

* ``source:`` the bundled dataset (``include/driftpilot_demo/data``) or a Parquet path, its row
  order, how many rows are the initial training period and how many rows make one simulated day;
* ``replay:`` the calendar of the simulation (start date, days, seed, serving latency), the label
  delays, and the seeded ``scenarios`` injected on top of the real data.

A demo file names the product model it plays (``model:``); ``demo_spec(name)`` finds it. Loading
fails with a ``ConfigError`` that names the file and the dotted key, like the product's configs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from driftpilot.domain.config import _Section
from driftpilot.errors import ConfigError

DEMO_DIR = Path(__file__).resolve().parent

SCENARIO_KINDS = (
    "covariate_shift",
    "gradual_decay",
    "concept_drift",
    "nulls",
    "unseen_category",
    "renamed_column",
    "wrong_dtype",
    "volume_drop",
)


def data_dir() -> Path:
    """Folder of the bundled datasets (``DRIFTPILOT_DEMO_DATA_DIR`` overrides it)."""
    return Path(os.environ.get("DRIFTPILOT_DEMO_DATA_DIR", DEMO_DIR / "data"))


def config_dir() -> Path:
    """Folder of the demo files (``DRIFTPILOT_DEMO_CONFIG_DIR`` overrides it)."""
    return Path(os.environ.get("DRIFTPILOT_DEMO_CONFIG_DIR", DEMO_DIR / "configs"))


@dataclass(frozen=True)
class SourceSpec:
    """Where the real data of a demo model comes from and how it is ordered.

    The first ``train_rows`` rows (in ``order_by`` order) are the initial training period; the
    replay turns the rows after them into simulated production days of ``rows_per_day`` rows.
    """

    dataset: str
    order_by: tuple[str, ...]
    train_rows: int
    rows_per_day: int
    shuffle_within: str | None = None


@dataclass(frozen=True)
class LabelDelay:
    """How late ground truth arrives in the replay (hours after the prediction)."""

    distribution: str  # "exponential" | "uniform" | "fixed"
    mean_hours: float
    max_hours: float
    never_share: float
    correction_share: float
    duplicate_share: float


@dataclass(frozen=True)
class Scenario:
    """A documented, seeded injection on top of real data (see ``driftpilot_demo.scenarios``)."""

    kind: str
    start_day: int
    end_day: int | None
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ReplaySpec:
    start_date: str  # ISO date of simulated day 0
    days: int
    seed: int
    label_delay: LabelDelay
    latency_ms_median: float
    scenarios: tuple[Scenario, ...] = ()


@dataclass(frozen=True)
class DemoSpec:
    """The demo settings of one product model (``model``), read from ``path``."""

    model: str
    source: SourceSpec
    replay: ReplaySpec
    path: str = ""
    data_dir: Path = DEMO_DIR / "data"  # where a bare ``source.dataset`` name is looked up


def parse_demo(data: Any, where: str = "<demo config>", data_dir_: Path | None = None) -> DemoSpec:
    """Validate a parsed demo YAML document; ``where`` names it in errors."""
    top = _Section(data, where, "")
    model = top.string("model")

    src = top.section("source")
    source = SourceSpec(
        dataset=src.string("dataset"),
        order_by=src.strings("order_by"),
        train_rows=src.number("train_rows", minimum=50, integer=True),
        rows_per_day=src.number("rows_per_day", minimum=1, integer=True),
        shuffle_within=src.string("shuffle_within", None),
    )
    src.done()

    rp = top.section("replay", {})
    ld = rp.section("label_delay", {})
    delay = LabelDelay(
        distribution=ld.string("distribution", "exponential", choices=("exponential", "uniform", "fixed")),
        mean_hours=ld.number("mean_hours", 24.0, minimum=0),
        max_hours=ld.number("max_hours", 96.0, minimum=0),
        never_share=ld.number("never_share", 0.05, minimum=0, maximum=1),
        correction_share=ld.number("correction_share", 0.01, minimum=0, maximum=1),
        duplicate_share=ld.number("duplicate_share", 0.01, minimum=0, maximum=1),
    )
    ld.done()
    if delay.max_hours < delay.mean_hours:
        raise ld.fail("max_hours", f"({delay.max_hours}) must be >= mean_hours ({delay.mean_hours})")
    scenarios = tuple(
        _parse_scenario(s, where, f"replay.scenarios[{i}]") for i, s in enumerate(rp.raw("scenarios", []) or [])
    )
    start_date = str(rp.raw("start_date", "2026-01-01"))
    try:
        date.fromisoformat(start_date)
    except ValueError:
        raise rp.fail("start_date", f"must be an ISO date like 2026-01-01, got {start_date!r}") from None
    replay = ReplaySpec(
        start_date=start_date,
        days=rp.number("days", 30, minimum=1, integer=True),
        seed=rp.number("seed", 7, minimum=0, integer=True),
        label_delay=delay,
        latency_ms_median=rp.number("latency_ms_median", 12.0, minimum=0),
        scenarios=scenarios,
    )
    rp.done()
    top.done()
    return DemoSpec(model=model, source=source, replay=replay, path=where, data_dir=data_dir_ or data_dir())


def _parse_scenario(data: Any, where: str, key: str) -> Scenario:
    sec = _Section(data, where, key)
    kind = sec.string("kind", choices=SCENARIO_KINDS)
    start = sec.number("start_day", minimum=0, integer=True)
    end = sec.number("end_day", None, minimum=0, integer=True)
    params = sec.mapping("params", {})
    sec.done()
    if end is not None and end < start:
        raise sec.fail("end_day", f"({end}) must be >= start_day ({start})")
    return Scenario(kind=kind, start_day=start, end_day=end, params=params)


def load_demo(path: Path) -> DemoSpec:
    """Load and validate one demo YAML file."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read demo config: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_demo(data, str(path))


def load_all_demos(directory: Path | None = None) -> dict[str, DemoSpec]:
    """Every demo file in ``directory`` (default ``config_dir()``) by the model it plays."""
    directory = directory or config_dir()
    demos: dict[str, DemoSpec] = {}
    for path in sorted(directory.glob("*.yaml")):
        demo = load_demo(path)
        if demo.model in demos:
            raise ConfigError(f"{path}: model {demo.model!r} already has demo settings in {demos[demo.model].path}")
        demos[demo.model] = demo
    return demos


def demo_spec(model: str, directory: Path | None = None) -> DemoSpec:
    """The demo settings of product model ``model``; a clear error when the demo has none."""
    demos = load_all_demos(directory)
    if model not in demos:
        raise ConfigError(
            f"model {model!r} has no demo settings in {directory or config_dir()} (demo models: "
            f"{', '.join(sorted(demos)) or 'none'}); the demo replays bundled data only for those. "
            f"For your own model, bootstrap it with `driftpilot bootstrap --model {model} --training-data FILE.parquet`"
        )
    return demos[model]
