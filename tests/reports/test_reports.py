"""Reports: every format renders from the same results, hostile content stays text, keys never
appear, templates can be overridden and missing variables are errors."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jinja2
import pytest

from neuropay_contract.reports import write_reports
from neuropay_contract.results import (
    CheckResult,
    Failure,
    LifecycleCell,
    OperationSummary,
    RunResults,
    Step,
    Verdict,
)
from neuropay_contract.templating import make_environment

KEY = "sk_test_" + "ab" * 16
HOSTILE = '<script>window.__xss = 1</script></pre><img src=x onerror="window.__xss=2">```'


def results(verdict: Verdict = "violations") -> RunResults:
    step = Step(
        method="POST",
        url="http://127.0.0.1:9/checkout/capture",
        operation="captureCheckout",
        request_headers={"Authorization": "Bearer $NEUROPAY_API_KEY"},
        request_body={"checkout_id": "a" * 32},
        status=200,
        response_body={"message": HOSTILE, "leaked": KEY},
    )
    failure = Failure(
        rule="lifecycle.forbidden-answer",
        title="captureCheckout in 'paid' was not refused",
        message=f"answered 200 {HOSTILE} \x00\x1b[31m",  # fuzzed bytes XML 1.0 cannot hold
        operation="captureCheckout",
        expected={"status": 409, "error.code": ["invalid_status"]},
        received={"status": 200, "body": {"message": HOSTILE}},
        steps=[step],
        curl=f'curl -X POST http://127.0.0.1:9/checkout/capture -H "Authorization: Bearer $NEUROPAY_API_KEY" # {KEY} {HOSTILE}',
    )
    checks = [
        CheckResult("t::ok", "test_ok", "protocol", "passed", operation="createCheckout"),
        CheckResult(
            "t::bad",
            "test_forbidden[paid-captureCheckout]",
            "lifecycle",
            "failed",
            operation="captureCheckout",
            status="paid",
            requests=4,
            failure=failure,
        ),
        CheckResult(
            "t::nc", "test_helpers", "auth", "not_covered", reason="no live key <b>here</b>"
        ),
    ]
    checks = [c for c in checks if verdict == "violations" or c.outcome != "failed"]
    return RunResults(
        target_url="http://127.0.0.1:9",
        embedded_target=False,
        spec_path="spec/openapi.yaml",
        spec_title="Neuro-Pay Checkout API",
        spec_version="1.0.0",
        spec_sha256="0" * 64,
        started="2026-11-24T10:00:00Z",
        finished="2026-11-24T10:00:05Z",
        duration_s=5.0,
        seed=7,
        profile="ci",
        verdict=verdict,
        tool_version="0.1.0",
        checks=checks,
        operations={
            "captureCheckout": OperationSummary(requests=4, failed=1),
            "createCheckout": OperationSummary(requests=1, passed=1),
        },
        lifecycle=[
            LifecycleCell("paid", "captureCheckout", "409 invalid_status", "failed"),
            LifecycleCell("reserved", "captureCheckout", "→ paid", "passed"),
            LifecycleCell("created", "testExpireCheckout", "→ revoked", "not_covered", "no helper"),
        ],
    )


@pytest.fixture
def written(tmp_path: Path) -> dict[str, Path]:
    return write_reports(results(), tmp_path)


def test_all_formats_are_written_and_keys_never_appear(written: dict[str, Path]) -> None:
    assert set(written) == {"json", "html", "md", "junit"}
    for path in written.values():
        text = path.read_text()
        assert KEY not in text
        assert "$NEUROPAY_API_KEY" in text


def test_results_json_round_trips(written: dict[str, Path]) -> None:
    again = RunResults.read(written["json"])
    assert again.counts() == {
        "passed": 1,
        "failed": 1,
        "blocked": 0,
        "not_covered": 1,
        "error": 0,
        "requests": 5,
    }
    assert again.failures[0].failure is not None
    assert again.failures[0].failure.rule == "lifecycle.forbidden-answer"


def test_html_escapes_hostile_content(written: dict[str, Path]) -> None:
    html = written["html"].read_text()
    assert "<script>window.__xss" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;window.__xss" in html
    assert html.index('id="verdict"') < html.index('id="failures"') < html.index('id="lifecycle"')
    assert "http://" not in html.split("<body>")[0].replace(
        "http://127.0.0.1:9", ""
    )  # nothing loaded


def test_junit_is_well_formed_and_complete(written: dict[str, Path]) -> None:
    root = ET.parse(written["junit"]).getroot()
    assert root.get("tests") == "3" and root.get("failures") == "1" and root.get("skipped") == "1"
    failure = root.find(".//testcase[@name='test_forbidden[paid-captureCheckout]']/failure")
    assert failure is not None and failure.get("type") == "lifecycle.forbidden-answer"
    assert HOSTILE.split("</pre>")[0] in (failure.text or "")  # kept as text, escaped by XML
    assert "\\x00\\x1b[31m" in (failure.text or "")  # shown, not dropped, and still parseable
    assert root.find(".//skipped") is not None


def test_markdown_cannot_break_out(written: dict[str, Path]) -> None:
    md = written["md"].read_text()
    fence_lines = [line for line in md.splitlines() if line.startswith("```")]
    assert fence_lines and all(
        len(line.rstrip("sh")) >= 4 for line in fence_lines
    )  # longer than the ``` inside
    fence = fence_lines[0].rstrip("sh")
    outside = "".join(part for index, part in enumerate(md.split(fence)) if index % 2 == 0)
    assert "<script>" not in outside and "<b>" not in outside and "<img" not in outside
    assert "Contract violations" in md and "lifecycle.forbidden-answer" in md


def test_conformant_markdown_is_short(tmp_path: Path) -> None:
    md = write_reports(results("conformant"), tmp_path, formats=["md"])["md"].read_text()
    assert "Conformant" in md and "Failures" not in md
    assert len(md.splitlines()) < 25


def test_report_cli(tmp_path: Path, written: dict[str, Path]) -> None:
    out = tmp_path / "again"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "report",
            str(written["json"]),
            "--html",
            str(out / "r.html"),
            "--junit",
            str(out / "j.xml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1  # the run had violations
    assert (
        (out / "r.html").exists() and (out / "j.xml").exists() and not (out / "report.md").exists()
    )
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    bad = subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "report", str(garbage)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        bad.returncode == 2
        and bad.stderr.startswith("neuropay: error:")
        and "Traceback" not in bad.stderr
    )
    schema = subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "report", "--schema"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(schema.stdout)["title"] == "neuropay contract run results"


def test_project_templates_override_the_packaged_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    override = tmp_path / "generators" / "templates" / "reports"
    override.mkdir(parents=True)
    (override / "report.md.j2").write_text("custom {{ r.verdict }}\n")
    monkeypatch.chdir(tmp_path)
    md = write_reports(results(), tmp_path / "out", formats=["md"])["md"].read_text()
    assert md == "custom violations\n"


def test_missing_variables_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = tmp_path / "generators" / "templates" / "reports"
    override.mkdir(parents=True)
    (override / "report.md.j2").write_text("{{ no_such_variable }}\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(jinja2.UndefinedError):
        write_reports(results(), tmp_path / "out", formats=["md"])
    assert (
        isinstance(make_environment().undefined, type)
        and make_environment().undefined is jinja2.StrictUndefined
    )


@pytest.mark.browser
def test_report_in_a_browser(written: dict[str, Path], page: Any) -> None:
    browser = page.page
    browser.goto(written["html"].as_uri())
    assert "Contract violations" in browser.text_content("#verdict")
    assert browser.locator(".failure").first.is_visible()
    box = browser.locator(".failure").first.bounding_box()
    assert box is not None and box["y"] < 900  # the first failure is visible without scrolling
    browser.click("button.copy")
    # The clipboard answers asynchronously (or the fallback copies); wait for the confirmation.
    browser.wait_for_function(
        "document.querySelector('button.copy').textContent === 'Copied'", timeout=5000
    )
    assert browser.text_content("button.copy") == "Copied"
    assert browser.evaluate("typeof window.__xss") == "undefined"
    assert HOSTILE.split("</script>")[0] in browser.text_content("#failures")
    # every column heading is aligned like the figures under it (numbers right)
    misaligned = browser.evaluate(
        """() => [...document.querySelectorAll('table:not(.matrix)')].flatMap(table => {
            const heads = [...table.querySelectorAll('tr:first-child th')];
            const row = table.querySelector('tr:nth-child(2)');
            if (!row) return [];
            return [...row.children].flatMap((cell, i) => {
                const a = getComputedStyle(heads[i]).textAlign;
                const b = getComputedStyle(cell).textAlign;
                return a === b ? [] : [heads[i].textContent + ': ' + a + ' vs ' + b];
            });
        })"""
    )
    assert misaligned == []
    page.screenshot("report-failures.png")
    assert page.console_errors == [] and page.outside_requests == []
    assert os.path.getsize(written["html"]) < 200_000


def very_red(count: int) -> RunResults:
    """A run with ``count`` failures over two rules and seven operations."""
    base = results()
    bad = next(c for c in base.checks if c.failure is not None)
    assert bad.failure is not None
    many = [
        dataclasses.replace(
            bad,
            id=f"t::bad{i}",
            failure=dataclasses.replace(
                bad.failure,
                rule="lifecycle.forbidden-answer" if i % 3 else "auth.unknown-key",
                operation=f"operation{i % 7}",
                message="x" * 280,
            ),
        )
        for i in range(count)
    ]
    return dataclasses.replace(base, checks=many)


def test_markdown_of_a_very_red_run_fits_a_pull_request_comment(tmp_path: Path) -> None:
    """Hundreds of failures: the Markdown counts them per rule and lists the first few, so it
    stays under GitHub's 65,536-character comment limit; the HTML keeps every one."""
    paths = write_reports(very_red(600), tmp_path, formats=["md", "html"])
    md = paths["md"].read_text()
    assert len(md) < 65_536
    assert (
        "| **lifecycle.forbidden-answer** | 400 | operation1, operation2, operation4, operation5 "
        "and 3 more |" in md
    )
    assert "| **auth.unknown-key** | 200 |" in md
    assert "### Failures (first 30 of 600; all in `report.html`)" in md
    assert md.count("\n- **") == 30
    assert paths["html"].read_text().count('class="failure"') == 600


@pytest.mark.browser
def test_report_filters_failures_by_rule(tmp_path: Path, page: Any) -> None:
    html = write_reports(very_red(30), tmp_path, formats=["html"])["html"]
    browser = page.page
    browser.goto(html.as_uri())
    visible = "() => [...document.querySelectorAll('#failures .failure')].filter(f => f.offsetParent).length"
    assert browser.evaluate(visible) == 30
    browser.click("#rule-filter button[data-rule='auth.unknown-key']")
    assert browser.evaluate(visible) == 10
    assert (
        browser.get_attribute("#rule-filter button[data-rule='auth.unknown-key']", "aria-pressed")
        == "true"
    )
    browser.click("#rule-filter button[data-rule='']")
    assert browser.evaluate(visible) == 30
    assert page.console_errors == [] and page.outside_requests == []
