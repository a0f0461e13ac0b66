"""Deployment settings: where state lives. Read lazily from ``DRIFTPILOT_*`` env vars.

Everything local lives under one home folder (default ``<project>/.driftpilot``) so that deleting
it starts over. Each location has a production counterpart reached by configuration only:
``MLFLOW_TRACKING_URI`` for a tracking server, ``DRIFTPILOT_LAKE`` for another lake root.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PACKAGE_DIR = Path(__file__).resolve().parent
INCLUDE_DIR = PACKAGE_DIR.parent
PROJECT_DIR = INCLUDE_DIR.parent


@dataclass(frozen=True)
class Settings:
    home: Path
    lake: Path
    config_dir: Path
    mlflow_tracking_uri: str
    mlflow_artifacts: Path
    metrics_db: Path  # the metrics history (SQLite): metrics, decisions, retrains, promotions

    @property
    def baseline_cache(self) -> Path:
        return self.home / "cache" / "baselines"

    def __repr__(self) -> str:
        """The settings with the tracking URI's credentials hidden: a repr ends up in logs and tracebacks."""
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["mlflow_tracking_uri"] = redact_uri(self.mlflow_tracking_uri)
        return "Settings(" + ", ".join(f"{name}={value!r}" for name, value in shown.items()) + ")"


# Query parameters whose value is a credential (presigned URLs, token auth, database passwords).
_SECRET_PARAM = re.compile(r"token|password|passwd|pwd|secret|key|sig|credential|auth", re.IGNORECASE)
HIDDEN = "***"


def redact_uri(uri: str) -> str:
    """``uri`` as it may be shown or logged: a password (``user:***@``), a bare user-info part that
    may be a token (``***@``) and the values of credential query parameters hidden.

    A URI without credentials (``sqlite:///...``, ``http://host:5000``) comes back unchanged, so
    what a person reads is still the address driftpilot uses.
    """
    try:
        parts = urlsplit(uri)
    except ValueError:
        return HIDDEN  # not a URI we can take apart: show nothing of it
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:{HIDDEN}@{host}" if colon else f"{HIDDEN}@{host}"
    query = "&".join(
        f"{name}={HIDDEN}" if sep and value and _SECRET_PARAM.search(name) else f"{name}{sep}{value}"
        for name, sep, value in (item.partition("=") for item in parts.query.split("&"))
    ) if parts.query else parts.query
    if (netloc, query) == (parts.netloc, parts.query):
        return uri
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def load_settings() -> Settings:
    """Resolve the settings from the environment at call time (never at import time)."""
    home = Path(os.environ.get("DRIFTPILOT_HOME", PROJECT_DIR / ".driftpilot")).resolve()
    lake = Path(os.environ.get("DRIFTPILOT_LAKE", home / "lake"))
    config_dir = Path(os.environ.get("DRIFTPILOT_CONFIG_DIR", INCLUDE_DIR / "config"))
    mlflow_dir = home / "mlflow"
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{mlflow_dir / 'mlflow.db'}"
    artifacts = Path(os.environ.get("DRIFTPILOT_MLFLOW_ARTIFACTS", mlflow_dir / "artifacts"))
    metrics_db = Path(os.environ.get("DRIFTPILOT_METRICS_DB", home / "metrics" / "history.sqlite"))
    return Settings(
        metrics_db=metrics_db,
        home=home,
        lake=lake,
        config_dir=config_dir,
        mlflow_tracking_uri=tracking_uri,
        mlflow_artifacts=artifacts,
    )
