from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from driftpilot.domain.config import (
    ApprovalMode,
    TaskType,
    load_all_configs,
    load_config,
    parse_config,
)
from driftpilot.errors import ConfigError
from driftpilot_demo.config import demo_spec
from driftpilot_demo.datasets import load_source

ROOT = Path(__file__).resolve().parents[2]
ELEC2 = ROOT / "include" / "config" / "elec2.yaml"


@pytest.fixture()
def raw() -> dict:
    return yaml.safe_load(ELEC2.read_text())


def write(tmp_path: Path, data: dict, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_bundled_configs_load() -> None:
    configs = load_all_configs(ROOT / "include" / "config")
    assert {"elec2_updown", "census_employment"} <= set(configs)
    elec2 = configs["elec2_updown"]
    assert elec2.task is TaskType.BINARY
    assert elec2.approval is ApprovalMode.REGISTRY
    assert "vicprice" in elec2.features.numeric
    assert elec2.features.categorical == ("day_of_week",)


def test_unknown_task_type_is_named(tmp_path: Path, raw: dict) -> None:
    raw["task"] = "ranking"
    path = write(tmp_path, raw)
    with pytest.raises(ConfigError, match=r"model\.yaml: `task` is an unknown task type 'ranking'"):
        load_config(path)


def test_negative_maturity_is_rejected(tmp_path: Path, raw: dict) -> None:
    raw["labels"]["maturity_hours"] = -1
    with pytest.raises(ConfigError, match=r"`labels\.maturity_hours`"):
        load_config(write(tmp_path, raw))


def test_missing_feature_column_is_named_against_the_data(tmp_path: Path, raw: dict) -> None:
    raw["features"]["numeric"].append("nswtemperature")
    config = load_config(write(tmp_path, raw))
    with pytest.raises(ConfigError, match=r"no column\(s\) \['nswtemperature'\]"):
        load_source(config, demo_spec("elec2_updown"))


def test_unknown_key_is_an_error_not_ignored(tmp_path: Path, raw: dict) -> None:
    raw["trigger"]["drift_shar"] = 0.5
    with pytest.raises(ConfigError, match=r"`trigger\.drift_shar` is not a known setting"):
        load_config(write(tmp_path, raw))


def test_missing_required_key(tmp_path: Path, raw: dict) -> None:
    del raw["target"]
    with pytest.raises(ConfigError, match=r"`target` is required but missing"):
        load_config(write(tmp_path, raw))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["features"].update(categorical=["period"]), "both numeric and categorical"),
        (lambda d: d["features"]["numeric"].append("class"), "would leak the label"),
        (lambda d: d["trigger"].update(persistence_windows=5, persistence_lookback=3), "cannot exceed"),
        (lambda d: d.update(approval="whenever"), "`approval` must be one of"),
        (lambda d: d["retraining"].update(trainer="my pkg.train"), "`retraining.trainer` 'my pkg.train' is neither"),
        (lambda d: d["retraining"].update(trainer="pkg.train:"), "`retraining.trainer` 'pkg.train:' is not a"),
        (lambda d: d["retraining"].update(trainer="acme.train:fit"), "`retraining.estimator` chooses a built-in"),
        (lambda d: d["retraining"].update(extra_training_data="s3://bucket/x.parquet"),
         "`retraining.extra_training_data` is a s3:// URI; only local files"),
        (lambda d: d["retraining"].update(extra_training_data="more.csv"), "must name a .parquet file"),
        (lambda d: d["drift"].update(share=1.5), "`drift.share` must be <= 1"),
        (lambda d: d["drift"]["decision"].update(family_alpha=0.9), "`drift.decision.family_alpha` must be <= 0.5"),
        (lambda d: d["drift"]["decision"]["floors"].update(ks=-0.1), "`drift.decision.floors.ks` must be >= 0"),
        (lambda d: d["drift"]["decision"]["floors"].update(kolmogorov=0.1),
         "`drift.decision.floors.kolmogorov` is not a known setting"),
        (lambda d: d["reports"]["evidently"].update(max_rows=10), "`reports.evidently.max_rows` must be >= 100"),
        (lambda d: d["window"].update(start="yesterday"), "`window.start` must be an ISO date"),
        (lambda d: d.update(source={"dataset": "elec2"}), "`source` is not a known setting"),
        (lambda d: d.update(replay={"days": 30}), "`replay` is not a known setting"),
        (lambda d: d.update(alert_channels=["pager"]), "unknown channel 'pager'"),
        (lambda d: d["trigger"].update(feature_rules=[{"column": "nswprice", "metric": "chi2", "threshold": 1}]),
         "`trigger.feature_rules\\[0\\].metric` must be one of"),
        (lambda d: d["trigger"].update(feature_rules=[{"column": "price", "metric": "psi", "threshold": 1}]),
         "names 'price', which is not a feature"),
    ],
)
def test_invalid_settings_name_the_problem(tmp_path: Path, raw: dict, mutate, message: str) -> None:
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(write(tmp_path, data))
    assert "model.yaml" in str(info.value)


def test_not_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        load_config(path)


def test_duplicate_model_names_across_files(tmp_path: Path, raw: dict) -> None:
    write(tmp_path, raw, "a.yaml")
    write(tmp_path, raw, "b.yaml")
    with pytest.raises(ConfigError, match="already used by"):
        load_all_configs(tmp_path)


def test_fingerprint_changes_with_the_recipe(raw: dict) -> None:
    a = parse_config(copy.deepcopy(raw))
    raw["retraining"]["seed"] = 1
    b = parse_config(raw)
    assert a.fingerprint != b.fingerprint
    assert a.fingerprint == parse_config(yaml.safe_load(ELEC2.read_text())).fingerprint


def test_window_start_is_the_first_window_of_the_dags(raw: dict) -> None:
    assert parse_config(raw).window_start == "2026-01-01"
    raw["window"]["start"] = "2025-06-30"
    assert parse_config(raw).window_start == "2025-06-30"
    del raw["window"]["start"]
    assert parse_config(raw).window_start == "2026-01-01"  # the documented default


def test_description_is_optional(raw: dict) -> None:
    del raw["description"]
    assert parse_config(raw).description == ""


@pytest.mark.parametrize(
    "channel",
    [
        "webhook:https://hooks.slack.com/services/T000/B000/s3cr3t",
        "webhook_conn:https://hooks.slack.com/services/T000/B000/s3cr3t",
        "https://hooks.slack.com/services/T000/B000/s3cr3t",
    ],
    ids=["webhook-url", "url-as-conn-id", "bare-url"],  # ids: the temporary path must not hold the URL
)
def test_a_webhook_url_in_the_config_is_refused_without_echoing_it(tmp_path: Path, raw: dict, channel: str) -> None:
    data = copy.deepcopy(raw)
    data["alert_channels"] = ["file", channel, channel]  # listed twice: still no echo of the URL
    with pytest.raises(ConfigError, match=r"`alert_channels\[1\]` is a webhook URL") as info:
        load_config(write(tmp_path, data))
    message = str(info.value)
    assert "model.yaml" in message
    assert "s3cr3t" not in message and "hooks.slack.com" not in message
    assert "webhook_conn:<conn_id>" in message and "webhook_env:<VAR>" in message


def test_a_webhook_url_instead_of_a_list_is_refused_without_echoing_it(tmp_path: Path, raw: dict) -> None:
    data = copy.deepcopy(raw)
    data["alert_channels"] = "https://hooks.slack.com/services/T000/B000/s3cr3t"
    with pytest.raises(ConfigError, match=r"`alert_channels` is a webhook URL") as info:
        load_config(write(tmp_path, data))
    assert "s3cr3t" not in str(info.value)


@pytest.mark.parametrize(
    ("channels", "ok"),
    [
        (["file", "webhook_conn:driftpilot_slack", "webhook_env:DRIFTPILOT_ALERT_HOOK"], True),
        (["webhook_conn:"], False),
        (["webhook_env:lower-case-dash"], False),
        (["webhook_conn:bad id"], False),
        (["file", "slack:driftpilot_slack"], True),
        (["slack:"], False),
        (["email"], False),
    ],
)
def test_alert_channels_name_a_connection_or_a_variable(tmp_path: Path, raw: dict, channels: list[str], ok: bool) -> None:
    data = copy.deepcopy(raw)
    data["alert_channels"] = channels
    if ok:
        assert load_config(write(tmp_path, data)).alert_channels == tuple(channels)
    else:
        with pytest.raises(ConfigError, match=r"`alert_channels` has unknown channel"):
            load_config(write(tmp_path, data))


@pytest.mark.parametrize(
    ("channels", "to", "error"),
    [
        (["email:smtp_default"], ["ml-oncall@example.com", "owner@example.org"], None),
        (["email:smtp_default"], None, r"`alert_email_to` is missing: the channel `email:smtp_default` sends e-mail"),
        (["file"], ["ml-oncall@example.com"], r"`alert_email_to` is set but no alert channel sends e-mail"),
        (["email:smtp_default"], ["Ops <ops@example.com>"], r"not one plain e-mail address"),
        (["email:smtp_default"], ["a@example.com, b@example.com"], r"not one plain e-mail address"),
        (["email:smtp_default"], ["a@example.com\r\nBcc: victim@example.com"], r"not one plain e-mail address"),
    ],
)
def test_email_channels_need_their_recipients(tmp_path: Path, raw: dict, channels: list[str], to: list[str] | None,
                                              error: str | None) -> None:
    data = copy.deepcopy(raw)
    data["alert_channels"] = channels
    if to is not None:
        data["alert_email_to"] = to
    if error is None:
        config = load_config(write(tmp_path, data))
        assert (config.alert_channels, config.alert_email_to) == (tuple(channels), tuple(to or ()))
    else:
        with pytest.raises(ConfigError, match=error):
            load_config(write(tmp_path, data))
