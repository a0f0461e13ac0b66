"""The demo's entry points: bootstrap a demo model from its bundled data, replay its traffic.

A client of the product like any user's code: it exports the training period of the model's
dataset and hands it to the product's ``bootstrap_champion`` (which records it as the model's
original training set), and it writes inference logs and labels into the lake where the
product's monitoring reads them. Results are small plain values (paths and figures, never frames).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from driftpilot.composition import build_ports
from driftpilot.domain.config import ModelConfig
from driftpilot.errors import BaselineNotFound, ConfigError
from driftpilot.ports import CHAMPION, Ports
from driftpilot.settings import Settings
from driftpilot.usecases.bootstrap import BootstrapResult, bootstrap_champion
from driftpilot_demo import datasets
from driftpilot_demo.config import DemoSpec, demo_spec
from driftpilot_demo.replay import ChampionScorer, DayResult, replay_day

log = logging.getLogger(__name__)


def bootstrap_demo(config: ModelConfig, ports: Ports, demo: DemoSpec | None = None) -> BootstrapResult:
    """The product's bootstrap on the training period of the demo dataset (``source.train_rows``)."""
    demo = demo or demo_spec(config.name)
    source = datasets.load_source(config, demo, seed=demo.replay.seed)
    return bootstrap_champion(config, ports, training_data=datasets.training_period(demo, source))


def champion_scorer(config: ModelConfig, settings: Settings) -> ChampionScorer:
    registry = build_ports(settings).registry

    def resolve() -> str:
        version = registry.alias_version(config.name, CHAMPION)
        if version is None:
            raise BaselineNotFound(
                f"model {config.name!r} has no champion to score traffic with; "
                f"run `python -m driftpilot_demo bootstrap --model {config.name}` first"
            )
        return version

    return ChampionScorer(resolve, lambda version: registry.load_model(config.name, version))


@dataclass(frozen=True)
class ReplaySummary:
    model_name: str
    days: list[DayResult]


def replay_traffic(
    config: ModelConfig,
    settings: Settings,
    days: range,
    rebuild: bool = False,
    progress: Callable[[DayResult], None] | None = None,
    demo: DemoSpec | None = None,
) -> ReplaySummary:
    """Replay ``days`` of traffic for ``config`` into the lake, scoring with the live champion.

    ``demo`` defaults to the demo settings of ``config.name``; a test model derived from a demo
    model passes that model's settings."""
    demo = demo or demo_spec(config.name)
    source = datasets.load_source(config, demo, seed=demo.replay.seed)
    available = datasets.available_days(demo, source)
    if days.stop > available:
        raise ConfigError(
            f"{demo.path}: replay asks for days up to {days.stop - 1} but the dataset holds "
            f"{available} replay days of {demo.source.rows_per_day} rows"
        )
    scorer = champion_scorer(config, settings)
    results = []
    for day in days:
        result = replay_day(config, demo, settings.lake, source, day, scorer, rebuild=rebuild)
        results.append(result)
        if progress is not None:
            progress(result)
    return ReplaySummary(config.name, results)
