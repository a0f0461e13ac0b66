"""The reviewer's commands set exactly the registry tags the reconciler reads."""

from __future__ import annotations

import itertools
import sys

import pytest

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.cli import main
from driftpilot.composition import build_ports
from driftpilot.usecases import promote as promotion
from driftpilot.usecases.monitor import metrics_db
from tests.integration.candidates import gated

pytestmark = pytest.mark.integration
NAME = "cli_review_model"  # a registered model of its own, so the Elec2 aliases stay untouched
_models = itertools.count()


@pytest.fixture(autouse=True)
def _own_model(monkeypatch) -> None:
    """Each test reviews a model of its own (``NAME`` rebound per test): no test sees another's aliases."""
    monkeypatch.setattr(sys.modules[__name__], "NAME", f"cli_review_model_{next(_models)}")


@pytest.fixture()
def versions(shared_settings, elec2_champion):
    db = metrics_db(shared_settings)
    made = [gated(shared_settings, db, NAME, elec2_champion.version, f"cli-test-{i}", passed=True) for i in range(2)]
    registry.MlflowRegistry(shared_settings).set_alias(NAME, registry.CHAMPION, made[0])
    return made


def test_approve_then_reconcile_then_rollback(versions, shared_settings, capsys) -> None:
    first, second = versions
    assert main(["approve", "--model", NAME, "--version", second, "--note", "looks good", "--by", "rita"]) == 0
    tags = registry.MlflowRegistry(shared_settings).version_tags(NAME, second)
    assert (tags[promotion.APPROVAL], tags[promotion.APPROVAL_BY], tags[promotion.APPROVAL_NOTE]) == (
        promotion.APPROVED, "rita", "looks good")
    assert main(["reconcile", "--model", NAME]) == 0
    client = registry.MlflowRegistry(shared_settings)
    assert client.alias_version(NAME, registry.CHAMPION) == second
    assert main(["rollback", "--model", NAME, "--reason", "pager went off", "--by", "rita"]) == 0
    assert client.alias_version(NAME, registry.CHAMPION) == first
    assert main(["promotions", "--model", NAME]) == 0
    out = capsys.readouterr().out
    assert "rollback: pager went off" in out and "approved: looks good" in out


def test_approval_needs_a_note(versions, capsys) -> None:
    assert main(["reject", "--model", NAME, "--version", versions[1], "--note", " "]) == 2
    assert "needs a note" in capsys.readouterr().err


def test_an_old_version_is_not_promoted_over_a_newer_champion(versions, shared_settings, elec2_champion) -> None:
    newest = gated(shared_settings, metrics_db(shared_settings), NAME, elec2_champion.version, "cli-test-newest", passed=True)
    client = registry.MlflowRegistry(shared_settings)
    client.set_alias(NAME, registry.CHAMPION, newest)
    assert main(["approve", "--model", NAME, "--version", versions[0], "--note", "old but gold"]) == 0
    assert main(["reconcile", "--model", NAME]) == 0
    assert client.alias_version(NAME, registry.CHAMPION) == newest
    assert "older than champion" in registry.MlflowRegistry(shared_settings).version_tags(NAME, versions[0])[promotion.PROMOTION]


def test_an_interrupted_promotion_is_completed(versions, shared_settings, elec2_champion) -> None:
    from driftpilot.adapters import sqlite_store as history
    version = gated(shared_settings, metrics_db(shared_settings), NAME, elec2_champion.version, "cli-test-crash", passed=True)
    client = registry.MlflowRegistry(shared_settings)
    promotion.set_approval(build_ports(shared_settings), NAME, version, promotion.APPROVED, "kim", "go")
    client.set_alias(NAME, registry.CHALLENGER, version)
    client.set_alias(NAME, registry.CHAMPION, version)  # the crash came right after this move
    assert main(["reconcile", "--model", NAME]) == 0
    assert client.alias_version(NAME, registry.CHALLENGER) is None
    assert registry.MlflowRegistry(shared_settings).version_tags(NAME, version)[promotion.PROMOTION].startswith("promoted")
    log = history.read_promotions(metrics_db(shared_settings), NAME)
    assert log.iloc[-1]["reason"].endswith("(completed after an interruption)")


def test_the_reviewer_defaults_to_the_environment_then_the_os_user(versions, shared_settings, monkeypatch) -> None:
    import getpass

    monkeypatch.setenv("DRIFTPILOT_REVIEWER", "ops-oncall")
    assert main(["reject", "--model", NAME, "--version", versions[1], "--note", "not now"]) == 0
    assert registry.MlflowRegistry(shared_settings).version_tags(NAME, versions[1])[promotion.APPROVAL_BY] == "ops-oncall"
    monkeypatch.delenv("DRIFTPILOT_REVIEWER")
    assert main(["reject", "--model", NAME, "--version", versions[1], "--note", "still not"]) == 0
    assert registry.MlflowRegistry(shared_settings).version_tags(NAME, versions[1])[promotion.APPROVAL_BY] == getpass.getuser()


def test_approving_a_failed_candidate_from_the_cli_is_refused_with_a_reason(shared_settings, elec2_champion, capsys) -> None:
    from driftpilot.adapters import sqlite_store as history
    failed = gated(shared_settings, metrics_db(shared_settings), NAME, elec2_champion.version, "cli-failed", passed=False)
    before = registry.MlflowRegistry(shared_settings).alias_version(NAME, registry.CHAMPION)
    assert main(["approve", "--model", NAME, "--version", failed, "--note", "ship it", "--by", "rita"]) == 0
    assert main(["reconcile", "--model", NAME]) == 0
    assert registry.MlflowRegistry(shared_settings).alias_version(NAME, registry.CHAMPION) == before
    assert "gate failed" in registry.MlflowRegistry(shared_settings).version_tags(NAME, failed)[promotion.PROMOTION_REFUSED]
    log = history.read_promotions(metrics_db(shared_settings), NAME)
    assert log.iloc[-1]["alias"] == promotion.REFUSED and log.iloc[-1]["moved_by"] == "rita"
