"""Fixtures of the use-case unit tests: fakes behind the ports, a real SQLite store on tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import local_settings, ports_with
from tests.fakes.registry import FakeAlerts, FakeRegistry, FakeTrainer


@pytest.fixture()
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture()
def trainer() -> FakeTrainer:
    return FakeTrainer()


@pytest.fixture()
def ports(tmp_path: Path, registry: FakeRegistry, trainer: FakeTrainer):  # type: ignore[no-untyped-def]
    return ports_with(local_settings(tmp_path), registry=registry, trainer=trainer, alerts=FakeAlerts())


@pytest.fixture()
def db(ports) -> Path:  # type: ignore[no-untyped-def]
    path = ports.settings.metrics_db
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
