"""An e2e module's own driftpilot world: lake, evidence store and config folder of its own.

The tasks read these locations from environment variables, so a module that sets them runs next
to the session's MLflow store and champion and leaves no trace the other modules could see.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def isolate(env: pytest.MonkeyPatch, base: Path,
            edit: Callable[[str, dict[str, Any]], None] | None = None) -> tuple[Any, Path]:
    """Point the tasks at ``base`` (lake, history, a copy of the configs); returns (settings, config_dir).

    ``edit(file_name, data)`` may change a copied YAML config before it is written.
    """
    from driftpilot.settings import load_settings

    config_dir = base / "config"
    config_dir.mkdir()
    for path in (ROOT / "include" / "config").glob("*.yaml"):
        if edit is None:
            shutil.copy(path, config_dir / path.name)
            continue
        data = yaml.safe_load(path.read_text())
        edit(path.name, data)
        (config_dir / path.name).write_text(yaml.safe_dump(data))
    env.setenv("DRIFTPILOT_CONFIG_DIR", str(config_dir))
    env.setenv("DRIFTPILOT_LAKE", str(base / "lake"))
    env.setenv("DRIFTPILOT_METRICS_DB", str(base / "history.sqlite"))
    return load_settings(), config_dir
