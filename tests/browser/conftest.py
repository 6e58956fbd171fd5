"""Fixtures for the browser layer: one try-out (``python -m bot sandbox --port 0``: the local
Discord, the demo server and the real bot) per test module, one headless Chromium per module, and
for each test the page opened afresh in it.

Chromium and its driver come from Debian's packages (``chromium``, ``chromium-driver``); nothing
is downloaded. Without them the tests fail, saying how to install them.

Screenshots go to the test's ``tmp_path`` and are copied to ``$BROWSER_SHOTS`` (by default
``<temp dir>/browser-shots``; empty turns the copy off) so a person can look at the latest ones.
A failing test also leaves ``FAILED-<test>.png`` there and prints the try-out's last output.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from tests.browser.launcher import Sandbox, start_sandbox, stop_sandbox
from tests.browser.page import TryoutPage

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL_HINT = (
    "The browser tests drive Debian's Chromium through its driver, and {missing} is not "
    "installed. Install both with:\n\n"
    "    sudo apt-get install chromium chromium-driver\n\n"
    "(.ci/run installs them when they are missing.)"
)
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,900",
)


@pytest.fixture(scope="module")
def chromium_paths() -> tuple[str, str]:
    """Debian's Chromium and chromedriver; the test fails, with how to install them, when
    either is missing."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail(INSTALL_HINT.format(missing=path), pytrace=False)
    return CHROMIUM, CHROMEDRIVER


@pytest.fixture(scope="module")
def browser(
    chromium_paths: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[webdriver.Chrome]:
    binary, driver_path = chromium_paths
    options = Options()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def sandbox(
    browser: webdriver.Chrome, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sandbox]:
    """The try-out with its demo server; asks for the browser first, so a missing Chromium
    fails before the slow start."""
    running = start_sandbox(tmp_path_factory.mktemp("tryout"))
    try:
        yield running
    finally:
        if running.process.poll() is None:
            stop_sandbox(running)


def shared_shots_dir() -> Path | None:
    configured = os.environ.get("BROWSER_SHOTS")
    if configured == "":
        return None
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "browser-shots"


#: Whether the test itself (not its set-up) failed, for the page fixture's teardown.
CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture
def page(
    request: pytest.FixtureRequest, browser: webdriver.Chrome, sandbox: Sandbox, tmp_path: Path
) -> Iterator[TryoutPage]:
    """The page opened afresh (nothing remembered from the previous test: the first plain
    member in #general) and ready."""
    shots = [tmp_path]
    if (shared := shared_shots_dir()) is not None:
        shared.mkdir(parents=True, exist_ok=True)
        shots.append(shared)
    tryout = TryoutPage(browser, sandbox.base_url, shots, sandbox)
    tryout.open()
    yield tryout
    if request.node.stash.get(CALL_FAILED, False):
        tryout.screenshot(f"FAILED-{request.node.name}")
        print(f"composer error: {tryout.composer_error()!r}")
        print(sandbox.output_tail())
        return
    errors = tryout.console_errors()
    assert not errors, f"the page logged errors in the browser's console: {errors}"
