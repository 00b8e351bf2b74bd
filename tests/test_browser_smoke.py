"""The browser fixture itself works and its detectors can fail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

PAGES = {
    "/ok": b"<!doctype html><link rel=icon href='data:,'><button id=b onclick=\"this.textContent='clicked'\">click</button>",
    "/bad": b"<!doctype html><script>console.error('broken on purpose')</script><img src='http://203.0.113.7/x.png'>",
}


@pytest.fixture
def site() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PAGES.get(self.path, b"not found")
            self.send_response(200 if self.path in PAGES else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.browser
def test_click_and_screenshot(page: Any, site: str) -> None:
    page.page.goto(f"{site}/ok")
    page.page.click("#b")
    assert page.page.text_content("#b") == "clicked"
    assert page.screenshot("smoke.png").stat().st_size > 0
    assert page.console_errors == []
    assert page.outside_requests == []


@pytest.mark.browser
def test_detectors_see_console_errors_and_outside_requests(page: Any, site: str) -> None:
    page.page.route("http://203.0.113.7/**", lambda route: route.abort())
    page.page.goto(f"{site}/bad")
    page.page.wait_for_timeout(200)
    assert any("broken on purpose" in e for e in page.console_errors)
    assert page.outside_requests == ["http://203.0.113.7/x.png"]
