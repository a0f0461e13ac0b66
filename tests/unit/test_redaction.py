"""Credentials in a tracking URI never reach a screen or a log: the registry's repr, the CLI, settings."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from driftpilot.settings import redact_uri
from tests.fakes import local_settings

SECRETS = ("s3cr3t-pw", "ghp_T0KEN", "AKIAEXAMPLE", "sig-value")


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("postgresql://mlflow:s3cr3t-pw@db.internal:5432/mlflow", "postgresql://mlflow:***@db.internal:5432/mlflow"),
        ("https://ghp_T0KEN@mlflow.example.com", "https://***@mlflow.example.com"),
        ("https://mlflow.example.com/api?token=ghp_T0KEN&workspace=ml",
         "https://mlflow.example.com/api?token=***&workspace=ml"),
        ("https://bucket.s3.amazonaws.com/x?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=sig-value&v=1",
         "https://bucket.s3.amazonaws.com/x?X-Amz-Credential=***&X-Amz-Signature=***&v=1"),
        ("mysql+pymysql://u:s3cr3t-pw@h/db?password=s3cr3t-pw", "mysql+pymysql://u:***@h/db?password=***"),
        # nothing secret: unchanged, byte for byte
        ("sqlite:////tmp/home/mlflow/mlflow.db", "sqlite:////tmp/home/mlflow/mlflow.db"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("databricks", "databricks"),
        ("https://host/path?page=2&flag", "https://host/path?page=2&flag"),
    ],
)
def test_credentials_are_hidden_and_the_rest_kept(uri: str, shown: str) -> None:
    assert redact_uri(uri) == shown


@pytest.fixture()
def secret_settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    uri = "postgresql://mlflow:s3cr3t-pw@db.internal/mlflow?token=ghp_T0KEN"
    return dataclasses.replace(local_settings(tmp_path), mlflow_tracking_uri=uri)


def test_the_registry_repr_and_the_settings_repr_hide_them(secret_settings, caplog) -> None:
    from driftpilot.adapters.mlflow_registry import MlflowRegistry

    caplog.set_level(logging.INFO)
    registry = MlflowRegistry(secret_settings)  # connects lazily: nothing is reached here
    logging.getLogger("driftpilot.test").info("registry %r, settings %r", registry, secret_settings)
    shown = caplog.records[-1].getMessage()
    assert "db.internal/mlflow" in repr(registry) and "mlflow:***@" in repr(registry)
    assert "mlflow:***@db.internal" in repr(secret_settings)
    assert not [s for s in SECRETS if s in shown]


def test_the_cli_prints_the_store_without_them(secret_settings, capsys) -> None:
    from driftpilot.cli import print_locations

    print_locations(secret_settings, "m")
    out = capsys.readouterr().out
    assert "MLflow store:                postgresql://mlflow:***@db.internal/mlflow?token=***" in out
    assert not [s for s in SECRETS if s in out]
