"""README, "Monitoring your own model": the config it shows loads as written, and says what it says."""

from __future__ import annotations

from pathlib import Path

import yaml

from driftpilot.domain.config import TaskType, parse_config

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_own_model_config_in_the_readme_loads_as_written() -> None:
    section = README.read_text().split("## Monitoring your own model", 1)[1].split("\n## ", 1)[0]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = parse_config(yaml.safe_load(block), "README.md (Monitoring your own model)")
    assert config.name == "acme_prices" and config.task is TaskType.BINARY
    assert config.retraining.trainer == "acme_training.train:fit_model"
    assert not config.retraining.include_original_training
    # the commands above it name the same model
    assert "driftpilot register --model acme_prices" in section
    assert "driftpilot retrain --model acme_prices --reason" in section
