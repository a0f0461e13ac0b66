"""Promotions of one model are serialised: threads and processes racing on a real registry."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.adapters import sqlite_store as history
from driftpilot.errors import LockTimeout
from driftpilot.usecases import promote as promotion
from tests.integration.candidates import fresh_model, gated, ports_on

pytestmark = pytest.mark.integration


@pytest.fixture()
def model(shared_settings, elec2_champion) -> str:
    return fresh_model(shared_settings, "race_model", elec2_champion.version)


def test_racing_promotions_leave_a_consistent_chain(shared_settings, model, elec2_champion, tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    candidates = [gated(shared_settings, db, model, elec2_champion.version, f"c{i}", passed=True) for i in range(4)]
    start = threading.Barrier(len(candidates))
    errors: list[BaseException] = []

    def promote(version: str) -> None:
        try:
            start.wait()
            promotion.promote(ports_on(shared_settings, db), model, version, f"racer-{version}", "2026-01-08T00:00:00", "race")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=promote, args=(v,)) for v in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    log = history.read_promotions(db, model)
    champion_moves = log[log["alias"] == registry.CHAMPION]
    chain = list(zip(champion_moves["from_version"], champion_moves["to_version"], strict=True))
    assert len(chain) == len(candidates)
    # each promotion started from where the one before it left champion: nothing was lost
    assert all(chain[i][1] == chain[i + 1][0] for i in range(len(chain) - 1)), chain
    client = registry.MlflowRegistry(shared_settings)
    assert client.alias_version(model, registry.CHAMPION) == chain[-1][1]
    assert client.alias_version(model, registry.PREVIOUS) == chain[-1][0]


def test_a_held_lock_makes_a_promotion_wait_then_fail_naming_the_holder(shared_settings, model, tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from pathlib import Path\n"
         "from driftpilot.adapters import sqlite_store as history\n"
         f"with history.held_lock(Path({str(db)!r}), 'promotion:{model}', 'the other process'):\n"
         "    print('held', flush=True)\n"
         "    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        began = time.monotonic()
        with pytest.raises(LockTimeout, match="held by the other process"):
            promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-08T00:00:00", lock_timeout=1.0)
        assert time.monotonic() - began >= 1.0  # it waited before giving up
    finally:
        holder.kill()
        holder.wait()
    # the holder died without releasing its row: a process on this machine that is gone holds nothing
    assert promotion.reconcile(ports_on(shared_settings, db), model, "2026-01-08T00:00:00", lock_timeout=1.0) == []
