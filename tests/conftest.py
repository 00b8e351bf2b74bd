"""Shared fixtures of the toolkit's tests: a reference server, and a real browser (Debian's
Chromium driven by Playwright) that records console errors and requests leaving loopback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from neuropay_contract.server import RunningServer, start_server

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "reports" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with start_server() as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class WatchedPage:
    """A browser page plus what it did that a test must be able to see."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser: Any) -> Iterator[WatchedPage]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    watched = WatchedPage(context.new_page())

    def on_console(message: Any) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    def on_request(request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK:
            watched.outside_requests.append(request.url)

    watched.page.on("console", on_console)
    watched.page.on("pageerror", lambda error: watched.console_errors.append(str(error)))
    context.on("request", on_request)
    yield watched
    context.close()


@pytest.fixture(scope="session")
def large_specs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated 400+ operation document, as YAML and as JSON (written once per session)."""
    from neuropay_contract.benchmarks.large_spec import write_large_spec

    return write_large_spec(tmp_path_factory.mktemp("large"))
