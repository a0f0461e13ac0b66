"""Browser fixtures for the `ui` tests: Debian's Chromium driven by Playwright.

CI machines start without a browser, so the session installs Debian's ``chromium`` package when
``/usr/bin/chromium`` is missing (``playwright install`` cannot download browsers here). The
flags are the ones headless Chromium needs as root on a closed network.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> Path:
    """``/usr/bin/chromium``, installed with apt-get first if it is missing."""
    if not CHROMIUM.exists():
        apt = shutil.which("apt-get")
        if apt is None:
            pytest.fail("Chromium is missing and apt-get is not available: install the Debian package chromium")
        subprocess.run([apt, "update"], check=True, capture_output=True)
        subprocess.run([apt, "install", "-y", "--no-install-recommends", "chromium"], check=True,
                       capture_output=True, env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
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
