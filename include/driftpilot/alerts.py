"""Alert channels: where an ``alert`` decision goes. Pluggable, local by default.

``file`` (default) writes one JSON document per model and window under
``<home>/alerts/<model>/<window>.json`` (a re-run replaces it: one alert per window, never two).
``webhook:<url>`` POSTs the same JSON to a URL (timeouts and HTTP errors raise, so Airflow retries);
a Slack incoming webhook is a URL of this kind. Channels are validated when the config loads.
Not yet built: e-mail and Slack through Airflow notifiers and Connections.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from driftpilot.errors import ConfigError
from driftpilot.settings import Settings
from driftpilot.storage import write_json_atomic


class AlertChannel(Protocol):
    def send(self, alert: Mapping[str, Any]) -> str: ...


class FileChannel:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, alert: Mapping[str, Any]) -> str:
        path = self.directory / str(alert["model"]) / f"{alert['window']}.json"
        write_json_atomic(dict(alert), path)
        return str(path)


class WebhookChannel:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, alert: Mapping[str, Any]) -> str:
        body = json.dumps(dict(alert), default=str).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return f"{self.url} -> HTTP {response.status}"


def channel_for(spec: str, settings: Settings) -> AlertChannel:
    """The channel named by ``spec`` (``file`` or ``webhook:<url>``)."""
    factories: dict[str, Callable[[str], AlertChannel]] = {
        "file": lambda _: FileChannel(settings.home / "alerts"),
        "webhook": lambda rest: WebhookChannel(rest),
    }
    kind, _, rest = spec.partition(":")
    if kind not in factories or (kind == "webhook" and not rest):
        raise ConfigError(f"unknown alert channel {spec!r}: use file or webhook:<url>")
    return factories[kind](rest)


def notify(channels: tuple[str, ...], settings: Settings, alert: Mapping[str, Any]) -> list[str]:
    """Send ``alert`` through every configured channel; returns where it went."""
    sent = []
    for spec in channels:
        sent.append(channel_for(spec, settings).send(alert))
    return sent
