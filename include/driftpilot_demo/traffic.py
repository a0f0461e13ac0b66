"""Use cases that wire the core to its adapters: what a DAG task or a CLI command calls.

Each function takes a config and settings, does one job end to end and returns a small plain
result that fits in an XCom (paths and figures, never frames).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from driftpilot.composition import build_ports
from driftpilot.domain.config import ModelConfig, load_all_configs
from driftpilot.errors import BaselineNotFound, ConfigError
from driftpilot.ports import CHAMPION
from driftpilot.settings import Settings
from driftpilot_demo import datasets
from driftpilot_demo.replay import ChampionScorer, DayResult, replay_day

log = logging.getLogger(__name__)


def model_config(settings: Settings, name: str) -> ModelConfig:
    configs = load_all_configs(settings.config_dir)
    if name not in configs:
        raise ConfigError(f"no model named {name!r} in {settings.config_dir} (known: {', '.join(sorted(configs))})")
    return configs[name]


def champion_scorer(config: ModelConfig, settings: Settings) -> ChampionScorer:
    registry = build_ports(settings).registry

    def resolve() -> str:
        version = registry.alias_version(config.name, CHAMPION)
        if version is None:
            raise BaselineNotFound(
                f"model {config.name!r} has no champion to score traffic with; "
                f"run `driftpilot bootstrap --model {config.name}` first"
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
) -> ReplaySummary:
    """Replay ``days`` of traffic for ``config`` into the lake, scoring with the live champion."""
    source = datasets.load_source(config, settings.data_dir, seed=config.replay.seed)
    available = datasets.available_days(config, source)
    if days.stop > available:
        raise ConfigError(
            f"{config.path}: replay asks for days up to {days.stop - 1} but the dataset holds "
            f"{available} replay days of {config.source.rows_per_day} rows"
        )
    scorer = champion_scorer(config, settings)
    results = []
    for day in days:
        result = replay_day(config, settings.lake, source, day, scorer, rebuild=rebuild)
        results.append(result)
        if progress is not None:
            progress(result)
    return ReplaySummary(config.name, results)
