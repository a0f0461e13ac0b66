"""The ``drift:`` (decision, one share) and ``reports.evidently:`` blocks of the model config."""

from __future__ import annotations

import copy
import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from driftpilot.adapters.evidently import EvidentlyReports
from driftpilot.domain import drift, gate
from driftpilot.domain.config import GATE_METRICS, DriftDecision, DriftFloors, parse_config
from driftpilot.domain.drift_stats import stats_from_frame
from driftpilot.domain.profile import build_profile
from driftpilot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
ELEC2 = ROOT / "include" / "config" / "elec2.yaml"


@pytest.fixture()
def raw() -> dict:
    return yaml.safe_load(ELEC2.read_text())


def test_defaults_are_the_drift_modules_own() -> None:
    expected = drift.DriftThresholds()
    thresholds = drift.DriftThresholds(**DriftDecision().thresholds())
    assert thresholds == expected
    assert parse_config({**_minimal(), "drift": {}}).drift.share == expected.drift_share


def _minimal() -> dict:
    return {"name": "m", "task": "binary", "target": "y", "features": {"numeric": ["x"]},
            "labels": {"maturity_hours": 1}}


def test_the_one_share_feeds_the_verdict_report_and_trigger(raw: dict) -> None:
    raw["drift"]["share"] = 0.4
    config = parse_config(raw)
    assert (config.drift.share, config.trigger.drift_share) == (0.4, 0.4)


def test_old_keys_still_load_with_a_deprecation_warning(raw: dict) -> None:
    new = parse_config(copy.deepcopy(raw), "new.yaml")
    old = copy.deepcopy(raw)
    old["drift"] = {"num_method": "wasserstein", "cat_method": "jensenshannon", "threshold": 0.1,
                    "drift_share": 0.3, "max_report_rows": 50_000}
    del old["reports"]
    old["trigger"]["drift_share"] = 0.3
    with pytest.warns(FutureWarning, match=r"`drift\.max_report_rows` is deprecated.*`reports\.evidently\.max_rows`"):
        legacy = parse_config(old, "new.yaml")
    assert legacy == new


def test_the_bundled_configs_use_no_deprecated_key() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in (ROOT / "include" / "config").glob("*.yaml"):
            parse_config(yaml.safe_load(path.read_text()), str(path))


@pytest.mark.parametrize(
    ("drift_block", "trigger_share"),
    [({"share": 0.3, "drift_share": 0.5}, None), ({"share": 0.3}, 0.2), ({"drift_share": 0.5}, 0.3)],
)
def test_two_different_drift_shares_are_refused(raw: dict, drift_block: dict, trigger_share: float | None) -> None:
    raw["drift"] = drift_block
    if trigger_share is not None:
        raw["trigger"]["drift_share"] = trigger_share
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(ConfigError, match=r"are one setting now.*write a single `drift.share`"):
            parse_config(raw, "model.yaml")


def test_old_and_new_report_keys_together_are_refused(raw: dict) -> None:
    raw["drift"]["num_method"] = "ks"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(ConfigError, match=r"`reports.evidently` is set together with the deprecated `drift.num_method`"):
            parse_config(raw, "model.yaml")


@pytest.mark.parametrize(
    ("evidently", "message"),
    [
        ({"num_method": "wassertein"}, r"`reports.evidently.num_method`: unknown drift method 'wassertein'"),
        ({"cat_method": "chi2"}, r"`reports.evidently.cat_method`: unknown drift method 'chi2'"),
        ({"per_column_method": {"period": "magic"}}, r"`reports.evidently.per_column_method.period`: unknown drift method 'magic'"),
    ],
)
def test_report_method_names_are_checked_by_the_adapter_that_implements_them(
        raw: dict, evidently: dict, message: str) -> None:
    raw["reports"]["evidently"].update(evidently)
    config = parse_config(raw, "model.yaml")  # the domain checks the shape only
    with pytest.raises(ConfigError, match=message) as info:
        EvidentlyReports().check_config(config)
    assert "model.yaml" in str(info.value)


def test_the_bundled_report_methods_pass_the_adapter_check(raw: dict) -> None:
    EvidentlyReports().check_config(parse_config(raw, "elec2.yaml"))


def test_gate_metrics_are_exactly_what_the_gate_computes() -> None:
    y = np.array([0.0, 1.0, 1.0, 0.0])
    for metric in GATE_METRICS:
        assert np.isfinite(gate.metric_value(metric, y, np.array([0.0, 1.0, 0.0, 0.0]), np.array([0.2, 0.8, 0.4, 0.1])))
    with pytest.raises(ValueError, match="cannot compute"):
        gate.metric_value("precision_at_k", y, y, y)


def test_a_floor_in_the_config_changes_the_verdict(raw: dict) -> None:
    """A shift of ~0.3 reference std is significant on 4,000 rows; the Wasserstein floor decides."""
    rng = np.random.default_rng(0)
    import pandas as pd

    reference = pd.DataFrame({"x": rng.normal(0, 1, 4000)})
    window = pd.DataFrame({"x": rng.normal(0.3, 1, 4000)})
    profile = build_profile(reference, ("x",), ())
    stats = stats_from_frame(window, profile, ["x"], [])

    def verdict(floors: dict) -> drift.DatasetDrift:
        data = {**_minimal(), "drift": {"decision": {"floors": floors}}}
        config = parse_config(data)
        thresholds = drift.DriftThresholds(**config.drift.decision.thresholds(), drift_share=config.drift.share)
        return drift.score_window(profile, stats, thresholds=thresholds)

    lenient = {"wasserstein": 5.0, "ks": 0.5, "range": 0.5, "missing": 0.5}
    assert verdict({}).columns[0].drifted is True
    assert verdict(lenient).columns[0].drifted is False
    assert dataclasses.replace(DriftFloors(), **{"wasserstein": 5.0}).wasserstein == 5.0
