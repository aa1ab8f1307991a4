"""Headless Chromium for the browser tests: Debian's chromium (PyPI's Playwright cannot
download its own here), which `make test` installs and names in BOSETTING_TEST_CHROMIUM."""

import os
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """The browser's path; a missing one fails the test loudly (never a skip)."""
    path = os.environ.get("BOSETTING_TEST_CHROMIUM", "/usr/bin/chromium")
    assert Path(path).exists(), f"{path} is missing: make test installs it"
    return path
