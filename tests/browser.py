"""Headless Chromium through Selenium for the review page tests (skips when no browser is installed)."""

from __future__ import annotations

import shutil

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DRIVER_NAMES = ("chromedriver",)


def missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if not any(shutil.which(n) for n in CHROMIUM_NAMES):
        return "no Chromium browser (Debian: apt-get install chromium chromium-driver; .ci/run does this)"
    if not any(shutil.which(n) for n in DRIVER_NAMES):
        return "no chromedriver (Debian: apt-get install chromium-driver)"
    return None


def headless_chromium(width: int = 1280, height: int = 900):
    """A Selenium driver for headless Chromium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    binary = next(shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n))
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--lang=nl"):
        options.add_argument(arg)
    service = Service(executable_path=next(shutil.which(n) for n in DRIVER_NAMES if shutil.which(n)))
    return webdriver.Chrome(options=options, service=service)
