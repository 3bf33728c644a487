"""Headless Chromium for the dashboard tests: the system's /usr/bin/chromium (or
$MEMVAULT_CHROMIUM) driven by Playwright; never a downloaded browser.

A missing Chromium or Playwright fails the test under CI=true and skips it elsewhere."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._servers import in_ci

CHROMIUM = os.environ.get("MEMVAULT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def chromium() -> Iterator[Any]:
    """Yield a launched headless Chromium (a generator for a fixture to `yield from`)."""
    problem = None
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        problem = (
            f"no Chromium at {CHROMIUM} (install it: `sudo apt-get install chromium "
            "fonts-liberation`, or `make setup` as root; or set MEMVAULT_CHROMIUM=/path)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "the playwright package is not installed (`make setup` installs .[test])"
    if problem:
        if in_ci():
            pytest.fail(f"{problem}: the dashboard tests must run in CI")
        pytest.skip(problem)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def scroll_width(page: Any) -> int:
    """How wide the document is: more than the viewport means it scrolls sideways."""
    return int(page.evaluate("document.documentElement.scrollWidth"))
