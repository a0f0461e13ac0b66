"""Browser fixtures for the `ui` tests: Debian's Chromium driven by Playwright.

CI machines start without a browser, so the session installs Debian's ``chromium`` package when
``/usr/bin/chromium`` is missing (``playwright install`` cannot download browsers here). The
flags are the ones headless Chromium needs as root on a closed network.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]


def ensure_chromium() -> Path:
    """``/usr/bin/chromium``, installed with apt-get first if it is missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail("Chromium is missing and apt-get is not available: install Debian's chromium package")
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    for command in ([apt, "update"], [apt, "install", "-y", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed (exit {done.returncode}); run it as root:\n{done.stderr[-2000:]}")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    # Playwright gives every launch a throw-away profile itself (it refuses --user-data-dir).
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


@dataclass(frozen=True)
class Server:
    url: str
    user: str
    password: str
    artifacts: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _airflow(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "airflow"), *args], env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, f"airflow {' '.join(args)} failed:\n{done.stderr[-3000:]}"


@contextmanager
def api_server(base: Path, home: Path, config_dir: Path) -> Iterator[Server]:
    """A real ``airflow api-server`` on ``home`` (driftpilot's state) and ``config_dir``, own AIRFLOW_HOME under ``base``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRIFTPILOT_", "AIRFLOW", "MLFLOW_TRACKING"))}
    env |= {
        "DRIFTPILOT_HOME": str(home), "DRIFTPILOT_CONFIG_DIR": str(config_dir),
        "AIRFLOW_HOME": str(base / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX": "regexp", "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}",
    }
    _airflow(env, "db", "migrate")
    _airflow(env, "dags", "reserialize")  # the DAG page (and its tab) needs the serialized DAG
    port = _free_port()
    log = (base / "api-server.log").open("w")
    process = subprocess.Popen([str(Path(sys.executable).parent / "airflow"), "api-server", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, (base / "api-server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the api-server did not answer within 90 s"
            time.sleep(0.5)
        passwords = json.loads((base / "airflow" / "simple_auth_manager_passwords.json.generated").read_text())
        user, password = next(iter(passwords.items()))
        artifacts = Path(os.environ.get("DRIFTPILOT_ARTIFACTS", ROOT / "tests" / "ui" / "artifacts"))
        artifacts.mkdir(parents=True, exist_ok=True)
        yield Server(url, user, password, artifacts)
    finally:
        # The api-server forks workers: stop its whole process group, politely first.
        for sig, wait in ((signal.SIGINT, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            if process.poll() is not None:
                break
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        log.close()


@contextmanager
def logged_in(browser: Any, server: Server) -> Iterator[tuple[Any, list[str]]]:
    """A logged-in page (through Airflow's own login form) and the dialogs any page opened."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(server.url + "/")
    page.wait_for_url("**/auth/login**")
    page.fill("input[name=username]", server.user)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    try:
        yield page, dialogs
    finally:
        context.close()
