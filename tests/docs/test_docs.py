"""Developer docs: offline and self-contained, complete for the project's spec, safe with hostile
spec text, overridable templates, the CLI, and a real browser using the search."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest

from neuropay_contract.benchmarks.bench_docs import outside_loads
from neuropay_contract.docs import render_docs
from neuropay_contract.docs.markdown import markdown_html
from neuropay_contract.docs.model import DocsModel
from neuropay_contract.spec import ApiSpec, load_spec

from ._html import check

SPEC = load_spec()
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    render_docs(SPEC, out)
    return out


def test_html_is_well_formed_and_self_contained(docs: Path) -> None:
    html = (docs / "index.html").read_text()
    page = check(html)
    assert page.problems == []
    assert all(url.startswith("data:") for url in page.loads), page.loads
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html) and "@import" not in html
    assert "@font-face" not in html and "<script src" not in html
    assert outside_loads(html) == []
    assert len(page.ids) == len(set(page.ids)), "duplicate ids break anchors and tabs"


def test_outside_loads_sees_what_a_page_fetches_not_its_links() -> None:
    page = (
        '<link href="https://fonts.googleapis.com/css?f=R" rel="stylesheet">'
        "<script src='//cdn.example/r.js'></script><style>@import url(https://x.example/a.css)</style>"
        '<a href="https://api.paiwise.com">docs</a><img src="data:,">'
    )
    assert outside_loads(page) == [
        "https://fonts.googleapis.com/css?f=R",
        "//cdn.example/r.js",
        "https://x.example/a.css",
    ]


def test_every_part_of_the_spec_is_documented(docs: Path) -> None:
    html = (docs / "index.html").read_text()
    ids = set(check(html).ids)
    for section in ("overview", "servers", "authentication", "errors", "lifecycle"):
        assert section in ids
    for section in ("lifecycle-matrix", "test-mode", "customers-and-cards", "idempotency"):
        assert section in ids
    assert {f"op-{op}" for op in SPEC.operations} <= ids
    assert {f"err-{code}" for code in SPEC.error_codes} <= ids
    for server in SPEC.servers:
        assert str(server["url"]) in html
    lifecycle = SPEC.require_lifecycle()
    # Every forbidden pair is one red cell of the matrix, every state a row.
    assert html.count('<td class="no">') == len(lifecycle.forbidden)
    for state in lifecycle.states:
        assert f'data-state="{state}"' in html
    test_mode = SPEC.test_mode
    assert test_mode is not None
    for card in (*test_mode.hosted_page_cards, *test_mode.card_ids):
        assert card.value in html
    assert "sk_test_" in html and "sk_live_" in html  # key prefixes, never keys


def test_the_order_of_checks_is_documented_in_spec_order(docs: Path) -> None:
    """x-precedence becomes "Which error wins": one row per step, in the spec's order, each
    answer's codes linked to the error table (HTML) and written out (Markdown)."""
    html = (docs / "index.html").read_text()
    assert "precedence" in set(check(html).ids)
    table = html.split('id="precedence"', 1)[1].split("</table>", 1)[0]
    steps = re.findall(r"<td><code>([a-z_]+)</code></td>", table)
    assert steps == [step.name for step in SPEC.precedence]
    assert '<a href="#err-payload_too_large"><code>payload_too_large</code></a>' in table
    markdown = (docs / "api.md").read_text().split("### Which error wins", 1)[1]
    assert markdown.index("`path`") < markdown.index("`api_key`") < markdown.index("`schema`")


def test_the_points_left_open_are_listed(docs: Path) -> None:
    """x-implementation-defined becomes "Left open by the spec": one row per point with its id,
    every reading and why clients must not depend on it, in HTML and Markdown."""
    free = SPEC.implementation_defined
    assert free
    html = (docs / "index.html").read_text()
    ids = set(check(html).ids)
    assert "implementation-defined" in ids
    section = html.split('id="implementation-defined"', 1)[1].split("</table>", 1)[0]
    markdown = (docs / "api.md").read_text().split("## Left open by the spec", 1)[1]
    markdown = markdown.split("\n## ", 1)[0]
    for point in free:
        assert f"free-{point.id}" in ids
        assert f"<code>{point.id}</code>" in section
        assert f"`{point.id}`" in markdown
        for text in (point.readings[0], point.why):
            words = text.split("`")[0][:30]  # plain words, before any inline markup
            assert words in section and words in markdown, words


def test_a_spec_leaving_nothing_open_has_no_such_section(tmp_path: Path) -> None:
    document = {k: v for k, v in SPEC.document.items() if k != "x-implementation-defined"}
    render_docs(ApiSpec(document), tmp_path)
    assert 'id="implementation-defined"' not in (tmp_path / "index.html").read_text()
    assert "Left open by the spec" not in (tmp_path / "api.md").read_text()


def test_each_operation_shows_fields_bounds_examples_and_errors() -> None:
    model = DocsModel(SPEC)
    refund = model.operation(SPEC.operation("refundCheckout"))
    amount = next(f for f in refund.fields if f.name == "amount")
    assert amount.type == "integer" and "≥ 1" in amount.constraints
    assert any(
        c.startswith("one of")
        for c in next(f for f in refund.fields if f.name == "reason").constraints
    )
    create = model.operation(SPEC.operation("createCheckout"))
    capture = next(f for f in create.fields if f.name == "capture")
    assert capture.default == "true" and not capture.required
    assert next(f for f in create.fields if f.name == "amount").required
    conflict = next(r for r in refund.responses if r.status == "409")
    assert {"invalid_status", "refund_exceeds_remaining", "partial_release_not_allowed"} <= set(
        conflict.codes
    )
    assert refund.request_examples and all(r.examples for r in refund.responses if r.success)
    assert refund.availability is not None
    assert set(refund.availability.allowed) == {"reserved", "paid", "partialRefund"}
    assert refund.availability.answer == "409 invalid_status"
    assert create.availability is None  # callable at any time


def test_no_key_anywhere(docs: Path) -> None:
    for path in docs.iterdir():
        text = path.read_text()
        assert not re.search(r"sk_(test|live)_[0-9a-f]{8}", text), path.name
        assert "NEUROPAY_API_KEY" in text or path.suffix == ".svg"


def test_raw_html_in_the_spec_stays_text(tmp_path: Path) -> None:
    hostile = dict(SPEC.document)
    evil = "<script>window.__xss=1</script><img src=x onerror=alert(1)>"
    hostile["info"] = {
        **hostile["info"],
        "title": "T</title><script>bad()</script>",
        "description": f"Hello {evil} [click](javascript:alert(1))",
    }
    hostile["tags"] = [{"name": "Checkouts", "description": evil}]
    render_docs(ApiSpec(hostile), tmp_path, ["html", "md"])
    html = (tmp_path / "index.html").read_text()
    assert "window.__xss" not in html and "<img" not in html and "onerror" not in html
    assert "<script>bad()" not in html and 'href="javascript:' not in html
    assert "<p>Hello" in html and "[click](javascript:" in html  # the text stays, no link
    assert html.count("<script") == 2  # the page's own: the search index and the search
    assert check(html).problems == []
    md = (tmp_path / "api.md").read_text()
    assert "<script>" not in md and "&lt;script>window.__xss" in md


def test_safe_html_in_the_spec_is_rendered() -> None:
    html = markdown_html(
        'See <a href="https://developer.paypal.com/x" onclick="f()">docs</a>.'
        "<blockquote><strong>Note:</strong> <code>id</code></blockquote>"
        '<iframe src="https://evil.example"></iframe><style>body{display:none}</style>'
    )
    assert '<a href="https://developer.paypal.com/x" rel="noopener noreferrer">docs</a>' in html
    assert "<blockquote><strong>Note:</strong> <code>id</code></blockquote>" in html
    assert "iframe" not in html and "onclick" not in html and "display:none" not in html


def test_markdown_version(docs: Path) -> None:
    md = (docs / "api.md").read_text()
    assert md.startswith("# Neuro-Pay Checkout API")
    assert "![Checkout lifecycle](lifecycle.svg)" in md
    assert (docs / "lifecycle.svg").read_text().startswith("<svg")
    for fence in ("```sh\n", "```python\n", "```js\n"):
        assert md.count(fence) == len(SPEC.operations)
    for code in SPEC.error_codes:
        assert f"`{code}`" in md
    assert "## Test mode" in md and "## Idempotency" in md and "## Customers and cards" in md
    # Table rows keep their column count: pipes inside cells are escaped.
    header = next(line for line in md.splitlines() if line.startswith("| status | test"))

    def columns(line: str) -> int:
        return len(re.findall(r"(?<!\\)\|", line))

    for line in md.splitlines()[md.splitlines().index(header) + 1 :]:
        if not line.startswith("|"):
            break
        assert columns(line) == columns(header), line
    for line in md.splitlines():  # every table row of the page ends its last cell
        assert not line.startswith("|") or line.endswith("|"), line


def test_cli_writes_what_it_is_asked_and_fails_in_one_line(tmp_path: Path) -> None:
    def neuropay(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "neuropay_contract", "docs", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    ok = neuropay("--out", str(tmp_path), "--format", "md", "--base-url", "https://api.test")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "api.md").exists() and not (tmp_path / "index.html").exists()
    assert "curl -sS -X POST https://api.test/checkout/create" in (tmp_path / "api.md").read_text()
    for args, words in (
        (("--format", "pdf"), "--format"),
        (("--spec", str(tmp_path / "missing.yaml")), "does not exist"),
        (("--base-url", "127.0.0.1:8080"), "--base-url"),
        (("--out", str(tmp_path / "api.md" / "sub")), "cannot write"),
    ):
        bad = neuropay("--out", str(tmp_path), *args)  # a later option wins
        assert bad.returncode == 2 and bad.stderr.startswith("neuropay: error:"), bad.stderr
        assert words in bad.stderr and "Traceback" not in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1


def test_samples_call_the_local_server_by_default() -> None:
    assert DocsModel(SPEC).base_url == "http://127.0.0.1:8080"
    assert DocsModel(SPEC, "https://api.paiwise.com/").base_url == "https://api.paiwise.com"


def test_a_project_overrides_a_page_or_a_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    override = tmp_path / "generators" / "templates" / "docs"
    override.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    (override / "page.md.j2").write_text("# {{ title }} has {{ groups|length }} groups\n")
    render_docs(SPEC, tmp_path / "out", ["md"])
    assert (tmp_path / "out" / "api.md").read_text() == "# Neuro-Pay Checkout API has 3 groups\n"
    (override / "page.md.j2").unlink()
    (override / "_operation.html.j2").write_text('<p class="mine">{{ op.id }}</p>\n')
    render_docs(SPEC, tmp_path / "out", ["html"])
    html = (tmp_path / "out" / "index.html").read_text()
    assert html.count('<p class="mine">') == len(SPEC.operations)
    assert "<h1" in html  # the rest of the packaged page is still there


def test_a_missing_variable_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = tmp_path / "generators" / "templates" / "docs"
    override.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    (override / "page.md.j2").write_text("{{ title }} {{ undefined_thing }}\n")
    with pytest.raises(jinja2.UndefinedError, match="undefined_thing"):
        render_docs(SPEC, tmp_path / "out", ["md"])
    (override / "page.md.j2").write_text("{{ groups[0][2][0].no_such_attribute }}\n")
    with pytest.raises(jinja2.UndefinedError, match="no_such_attribute"):
        render_docs(SPEC, tmp_path / "out", ["md"])


@pytest.mark.browser
def test_docs_in_a_browser(docs: Path, page: Any) -> None:
    browser = page.page
    browser.goto((docs / "index.html").as_uri())
    browser.fill("#search", "refund_exceeds")
    hit = browser.locator("#results a.hit-error").first
    assert "refund_exceeds_remaining" in hit.text_content()
    hit.click()
    assert browser.evaluate("location.hash") == "#err-refund_exceeds_remaining"
    assert browser.locator("#err-refund_exceeds_remaining").is_visible()
    browser.fill("#search", "captureChec")
    first = browser.locator("#results a").first
    assert first.get_attribute("class") == "hit hit-operation"
    assert "captureCheckout" in first.text_content()
    browser.press("#search", "Enter")  # Enter opens the first hit
    assert browser.evaluate("location.hash") == "#op-captureCheckout"
    browser.fill("#search", "allowSaveCard")
    assert browser.locator("#results a.hit-field").count() >= 1
    browser.fill("#search", "zzzz-nothing")
    assert browser.locator("#results .none").text_content() == "No match"
    browser.click("#op-createCheckout .tabs button:has-text('Python')")
    assert browser.locator("#op-createCheckout-python").is_visible()
    assert not browser.locator("#op-createCheckout-curl").is_visible()
    # The diagram fits the column: it is scaled, not cut off, and its labels stay readable.
    width = browser.evaluate("document.querySelector('.diagram svg').getBoundingClientRect().width")
    column = browser.evaluate("document.querySelector('.diagram').clientWidth")
    assert 0 < width <= column
    # Screenshots of what a reader sees (the viewport, not a 30 000 px full page).
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.goto((docs / "index.html").as_uri() + "#op-refundCheckout")
    browser.fill("#search", "invalid_status")
    browser.screenshot(path=str(SCREENSHOTS / "docs.png"))
    browser.goto((docs / "index.html").as_uri() + "#lifecycle")
    browser.screenshot(path=str(SCREENSHOTS / "docs-lifecycle.png"))
    assert page.console_errors == [] and page.outside_requests == []
