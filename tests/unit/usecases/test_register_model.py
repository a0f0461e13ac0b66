"""The register use case on fakes: what it writes, in which order, and nothing on bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftpilot.errors import ConfigError, SchemaViolation
from driftpilot.ports import BASELINE_RUN_TAG, CHAMPION, PREVIOUS
from driftpilot.usecases.register import parse_model_uri, register_model
from tests.fakes.registry import ConstantModel
from tests.unit.test_training_data import frame

MODEL = "elec2_updown"


@pytest.fixture()
def reference(elec2_config, tmp_path: Path) -> Path:
    path = tmp_path / "holdout.parquet"
    frame(elec2_config).to_parquet(path)
    return path


def test_model_uris_are_told_apart() -> None:
    assert parse_model_uri("models:/m/3", is_dir=False).version == "3"
    assert parse_model_uri("models:/m@champion", is_dir=False).alias == "champion"
    assert not parse_model_uri("models:/m-0123abcd", is_dir=False).existing_version  # a LoggedModel
    assert parse_model_uri("/data/model", is_dir=True).local_dir == Path("/data/model")
    with pytest.raises(ConfigError, match="--model-uri"):
        parse_model_uri("  ", is_dir=False)


def test_an_existing_version_gets_a_baseline_run_named_last(elec2_config, ports, registry, reference) -> None:
    version = registry.add_version(MODEL, model=ConstantModel("nswprice", 0.5))
    registry.calls.clear()
    result = register_model(elec2_config, ports, f"models:/{MODEL}/{version}", reference)
    assert (result.version, result.created, result.champion) == (version, False, None)
    assert registry.calls[0].startswith("log_model_run")  # the baseline run, after every check
    assert registry.calls[-1] == f"attach_baseline v{version} {result.baseline_run}"
    assert not any(c.startswith(("set_alias", "register_run")) for c in registry.calls)
    baseline = registry.load_baseline(MODEL, version)
    assert baseline.metadata["feature_importance"]["nswprice"] == 1.0
    assert baseline.metadata["classes"] == ["0", "1"]
    calls = list(registry.calls)
    again = register_model(elec2_config, ports, f"models:/{MODEL}/{version}", reference)
    assert again.baseline_reused and again.baseline_run == result.baseline_run
    assert registry.calls == calls  # nothing written the second time


def test_champion_moves_with_previous_and_the_promotion_log(elec2_config, ports, registry, reference) -> None:
    old = registry.add_version(MODEL, model=ConstantModel("nswprice", 0.5))
    registry.set_alias(MODEL, CHAMPION, old)
    new = registry.add_version(MODEL, model=ConstantModel("nswprice", 0.4))
    result = register_model(elec2_config, ports, f"models:/{MODEL}/{new}", reference, champion=True, by="ana",
                            at="2026-01-05T00:00:00+00:00")
    assert result.champion == new
    assert registry.aliases(MODEL) == {CHAMPION: new, PREVIOUS: old}
    assert [(m.alias, m.from_version, m.to_version, m.by) for m in ports.store.promotion_log(MODEL)] == [
        (PREVIOUS, None, old, "ana"), (CHAMPION, old, new, "ana")]


def test_a_run_uri_becomes_a_new_version(elec2_config, ports, registry, reference) -> None:
    run_id = registry.add_version("elsewhere", model=ConstantModel("nswprice", 0.5))
    source_run = registry.versions["elsewhere"][run_id].run_id
    result = register_model(elec2_config, ports, f"runs:/{source_run}/model", reference)
    assert result.created and result.version == "1"
    tags = registry.version_tags(MODEL, "1")
    assert tags[BASELINE_RUN_TAG] == result.baseline_run
    assert isinstance(registry.load_model(MODEL, "1"), ConstantModel)


class Broken:
    classes_ = np.array([0, 1])

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        raise KeyError("feature 'price_eur' not found")


@pytest.mark.parametrize(("case", "error", "words"), [
    ("no-target", SchemaViolation, ["'class'"]),
    ("unlabelled", SchemaViolation, ["no `class`", "never imputes"]),
    ("broken-model", SchemaViolation, ["price_eur", "features"]),
    ("bad-given-score", SchemaViolation, ["`score`", "[0, 1]"]),
    ("no-version", ConfigError, ["no version '5'"]),
])
def test_bad_input_writes_nothing(elec2_config, ports, registry, tmp_path, case, error, words) -> None:
    version = registry.add_version(MODEL, model=Broken() if case == "broken-model" else ConstantModel("nswprice", 0.5))
    rows = frame(elec2_config)
    if case == "no-target":
        rows = rows.drop(columns=["class"])
    if case == "unlabelled":
        rows["class"] = rows["class"].astype(float).where(rows.index % 7 != 0)
    if case == "bad-given-score":
        rows["score"] = 1.5
    path = tmp_path / "ref.parquet"
    rows.to_parquet(path)
    registry.calls.clear()
    uri = f"models:/{MODEL}/5" if case == "no-version" else f"models:/{MODEL}/{version}"
    with pytest.raises(error) as raised:
        register_model(elec2_config, ports, uri, path, champion=True)
    for word in words:
        assert word in str(raised.value)
    assert registry.calls == []
    assert ports.store.promotion_log(MODEL) == []


def test_a_challenger_gated_against_another_champion_loses_its_alias(elec2_config, ports, registry,
                                                                     reference) -> None:
    """Registering the user's model as champion: a pending challenger was compared with the old
    champion, never with this one, so it must not stay one approval away from replacing it."""
    from driftpilot.ports import CHALLENGER

    old = registry.add_version(MODEL, model=ConstantModel("nswprice", 0.5))
    registry.set_alias(MODEL, CHAMPION, old)
    pending = registry.add_version(MODEL, model=ConstantModel("nswprice", 0.45))
    ports.store.record_gate_verdict(MODEL, "run-pending", True, "digest", old, "2026-01-04T00:00:00+00:00")
    ports.store.bind_gate_verdict(MODEL, "run-pending", pending)
    registry.set_alias(MODEL, CHALLENGER, pending)
    users = registry.add_version(MODEL, model=ConstantModel("nswprice", 0.4))
    register_model(elec2_config, ports, f"models:/{MODEL}/{users}", reference, champion=True, by="ana",
                   at="2026-01-05T00:00:00+00:00")
    assert registry.aliases(MODEL) == {CHAMPION: users, PREVIOUS: old}
    [dropped] = [m for m in ports.store.promotion_log(MODEL) if m.alias == CHALLENGER]
    assert (dropped.from_version, dropped.to_version) == (pending, None)
    assert "another champion" in dropped.reason
