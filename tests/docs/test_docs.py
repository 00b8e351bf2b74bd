"""Developer docs: offline and self-contained, general over other people's documents, searchable in
a real browser, and every code sample they show runs against the reference server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.docs import render_docs, samples_for
from neuropay_contract.server import RunningServer
from neuropay_contract.spec import load_spec

REALSPECS = sorted((Path(__file__).resolve().parents[3] / "shared" / "realspecs").glob("*"))
SPEC = load_spec()


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    render_docs(SPEC, out)
    return out


class _Loads(HTMLParser):
    """Collects every URL the page would load by itself (src, link href, CSS url())."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("src"):
            self.loads.append(str(values["src"]))
        if tag == "link" and values.get("href"):
            self.loads.append(str(values["href"]))


def test_html_is_self_contained(docs: Path) -> None:
    html = (docs / "index.html").read_text()
    parser = _Loads()
    parser.feed(html)
    assert all(url.startswith("data:") for url in parser.loads), parser.loads
    assert not re.search(r"url\(\s*['\"]?https?:", html) and "@import" not in html
    for section in (
        "overview",
        "authentication",
        "errors",
        "lifecycle",
        "test-mode",
        "idempotency",
    ):
        assert f'id="{section}"' in html
    for op in SPEC.operations.values():
        assert f'id="op-{op.operation_id}"' in html
    for code in SPEC.error_codes:
        assert f'id="err-{code}"' in html
    assert "<svg" in html and html.count('class="no"') == 45  # every forbidden pair in the matrix


def test_no_key_and_no_raw_html_from_the_spec(docs: Path, tmp_path: Path) -> None:
    html = (docs / "index.html").read_text()
    assert not re.search(r"sk_(test|live)_[0-9a-f]{8}", html)
    hostile = dict(SPEC.document)
    hostile["info"] = {**hostile["info"], "description": "Hello <script>window.__xss=1</script>"}
    from neuropay_contract.spec import ApiSpec

    render_docs(ApiSpec(hostile), tmp_path, ["html"])
    assert "<script>window.__xss" not in (tmp_path / "index.html").read_text()


def test_markdown_version(docs: Path) -> None:
    md = (docs / "api.md").read_text()
    assert md.startswith("# Neuro-Pay Checkout API")
    assert "![Checkout lifecycle](lifecycle.svg)" in md and (
        docs / "lifecycle.svg"
    ).read_text().startswith("<svg")
    assert md.count("```python") == len(SPEC.operations)


@pytest.mark.parametrize("path", REALSPECS, ids=[p.name for p in REALSPECS])
def test_other_peoples_documents_render(path: Path, tmp_path: Path) -> None:
    spec = load_spec(path)
    render_docs(spec, tmp_path)
    html = (tmp_path / "index.html").read_text()
    for op in spec.operations.values():
        assert f'id="op-{re.sub(r"[^a-zA-Z0-9_-]+", "-", op.operation_id).strip("-")}"' in html
    assert "lifecycle.svg" not in [p.name for p in tmp_path.iterdir()] or spec.lifecycle is not None


def test_samples_never_contain_a_key() -> None:
    for op in SPEC.operations.values():
        sample = samples_for(op, "http://127.0.0.1:8080")
        assert (
            "$NEUROPAY_API_KEY" in sample.curl and "os.environ['NEUROPAY_API_KEY']" in sample.python
        )
        assert "process.env.NEUROPAY_API_KEY" in sample.javascript


def _order() -> list[str]:
    """Operations in an order where each finds what it needs (create first, deletes last)."""
    first = [
        "createCustomer",
        "retrieveCustomer",
        "createCheckout",
        "retrieveCheckout",
        "updateCheckout",
        "testPayCheckout",
    ]
    rest = [op for op in SPEC.operations if op not in first and op not in ("deleteCustomer",)]
    return [*first, *rest, "deleteCustomer"]


STATEFUL = (
    "captureCheckout",
    "refundCheckout",
    "deleteCheckout",
    "testPayCheckout",
    "testCancelCheckout",
    "testExpireCheckout",
)


def test_every_shown_sample_runs_against_the_reference_server(server: RunningServer) -> None:
    """Run the curl and Python samples the docs show, with ids substituted from earlier answers."""
    env = {**os.environ, "NEUROPAY_API_KEY": server.test_key}
    ids: dict[str, str] = {}
    ran = 0
    for operation in _order():
        op = SPEC.operation(operation)
        for language in ("curl", "python"):
            if language == "curl" and operation in ("createCustomer", "deleteCustomer"):
                continue  # the Python sample creates and deletes the one customer
            body = json.loads(json.dumps(op.request_examples[0].value))
            for field in ("checkout_id", "customer_id"):
                if field in body and field in ids:
                    body[field] = ids[field]
            if operation in STATEFUL:
                body["checkout_id"] = _fresh_checkout(
                    server, operation
                )  # each needs its own status
            sample = samples_for(op, server.url, body)
            command = (
                ["sh", "-c", sample.curl]
                if language == "curl"
                else [sys.executable, "-c", sample.python]
            )
            proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
            assert proc.returncode == 0, f"{operation} {language}: {proc.stderr[-800:]}"
            answer = _answer(proc.stdout)
            schema = op.responses["200"].schema
            assert schema is not None and SPEC.validation_errors(schema, answer) == [], (
                f"{operation} {language}: {answer}"
            )
            if operation.startswith("create"):
                for field in ("checkout_id", "customer_id"):
                    if (
                        isinstance(answer.get(field), str)
                        and field.split("_")[0] in operation.lower()
                    ):
                        ids[field] = answer[field]
            ran += 1
    assert ran == 2 * len(SPEC.operations) - 2


def _answer(stdout: str) -> dict[str, Any]:
    text = stdout.strip()
    try:
        return json.loads(text)  # type: ignore[no-any-return]
    except ValueError:
        import ast

        return ast.literal_eval(text)  # type: ignore[no-any-return]


def _fresh_checkout(server: RunningServer, operation: str) -> str:
    import httpx

    from neuropay_contract.contract import create_body

    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.test_key}"}
    ) as client:
        checkout = client.post(
            "/checkout/create", json=create_body(capture=operation != "captureCheckout")
        ).json()
        if operation in ("captureCheckout", "refundCheckout"):
            client.post("/checkout/test/pay", json={"checkout_id": checkout["checkout_id"]})
    return str(checkout["checkout_id"])


def test_cli_and_bad_input(tmp_path: Path) -> None:
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "docs",
            "--out",
            str(tmp_path),
            "--format",
            "md",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        ok.returncode == 0
        and (tmp_path / "api.md").exists()
        and not (tmp_path / "index.html").exists()
    )
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "docs",
            "--format",
            "pdf",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("neuropay: error:")


@pytest.mark.browser
def test_docs_in_a_browser(docs: Path, page: Any) -> None:
    browser = page.page
    browser.goto((docs / "index.html").as_uri())
    browser.fill("#search", "refund_exceeds")
    hit = browser.locator("#results a.hit-error").first
    assert hit.text_content().startswith("refund_exceeds_remaining")
    hit.click()
    assert browser.evaluate("location.hash") == "#err-refund_exceeds_remaining"
    browser.fill("#search", "captureChec")
    assert (
        browser.locator("#results a.hit-operation")
        .first.text_content()
        .startswith("captureCheckout")
    )
    browser.fill("#search", "allowSaveCard")
    assert browser.locator("#results a.hit-field").count() >= 1
    browser.click("#op-createCheckout .tabs button:has-text('Python')")
    assert (
        browser.locator("#op-createCheckout-python").is_visible()
        and not browser.locator("#op-createCheckout-curl").is_visible()
    )
    browser.goto((docs / "index.html").as_uri() + "#lifecycle")
    page.screenshot("docs.png")
    assert page.console_errors == [] and page.outside_requests == []


def test_docs_templates_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = tmp_path / "generators" / "templates" / "docs"
    override.mkdir(parents=True)
    (override / "page.md.j2").write_text("# {{ title }} has {{ groups|length }} groups\n")
    monkeypatch.chdir(tmp_path)
    render_docs(SPEC, tmp_path / "out", ["md"])
    assert (tmp_path / "out" / "api.md").read_text() == "# Neuro-Pay Checkout API has 3 groups\n"
    (override / "page.md.j2").write_text("{{ undefined_thing }}\n")
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        render_docs(SPEC, tmp_path / "out", ["md"])
