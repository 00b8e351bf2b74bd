"""What a target answers is stored bounded and shown visible in every output; failure titles say
what the target actually answered."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from neuropay_contract.contract import ContractClient, ContractViolation, Recorder, Response
from neuropay_contract.contract.checks import check_error, check_response_schema
from neuropay_contract.contract.curl import sequence_to_curl
from neuropay_contract.contract.terminal import print_summary
from neuropay_contract.reports import write_reports
from neuropay_contract.results import CheckResult, Failure, RunResults, Step
from neuropay_contract.spec import load_spec
from neuropay_contract.untrusted import BODY_LIMIT, bounded, visible

SPEC = load_spec()
HOSTILE = "\x1b[2J\x1b[31mred\x07 \u202egnp.exe\u2066 <script>alert(1)</script> \x00\x9b"
RAW = ["\x1b", "\x07", "\u202e", "\u2066", "\x00", "\x9b"]


def test_visible_escapes_control_and_bidi_characters() -> None:
    shown = visible(HOSTILE)
    assert not any(ch in shown for ch in RAW)
    assert "\\x1b[31mred" in shown and "\\u202egnp.exe" in shown
    assert visible("plain\ttext\nwith lines, é and 日本") == "plain\ttext\nwith lines, é and 日本"


def test_bounded_keeps_small_values_and_notes_the_size_of_large_ones() -> None:
    small = {"status": 400, "body": {"error": {"code": "x"}}}
    assert bounded(small) == small
    huge = "y" * 2_000_000
    cut = bounded(huge)
    assert len(cut) < BODY_LIMIT + 100 and "2,000,000 bytes" in cut
    nested = bounded({"status": 200, "body": {"blob": huge}})
    assert nested["status"] == 200  # the structure around a huge field survives
    assert len(json.dumps(nested)) < 3 * BODY_LIMIT


def fake_client(body: bytes) -> ContractClient:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, content=body, headers={"content-type": "application/json", "allow": "P" * 10_000}
        )
    )
    return ContractClient(
        "http://target.test", "sk_test_x", SPEC, Recorder(), httpx.Client(transport=transport)
    )


def test_recorded_answers_are_bounded_but_checks_see_them_whole() -> None:
    client = fake_client(json.dumps({"blob": "z" * 2_000_000}).encode())
    resp = client.call("retrieveCheckout", {"checkout_id": "x"})
    assert len(resp.body["blob"]) == 2_000_000
    step = client.recorder.steps[-1]
    assert len(json.dumps(step.response_body)) < 3 * BODY_LIMIT
    assert len(step.response_headers["allow"]) < BODY_LIMIT + 100


def hostile_run() -> RunResults:
    body = {"blob": "q" * 2_000_000, "note": HOSTILE}
    failure = Failure(
        rule="schema.response",
        title=f"retrieveCheckout 200 answer at /note: {HOSTILE}",
        message=HOSTILE * 2000,
        operation="retrieveCheckout",
        expected={"status": 404},
        received={"status": 200, "body": bounded(body)},
        steps=[
            Step(
                "POST",
                "http://t/checkout/retrieve",
                "retrieveCheckout",
                request_body={"checkout_id": HOSTILE},
                status=200,
                response_body=bounded(body),
            )
        ],
    )
    failure.curl = sequence_to_curl(failure.steps)
    check = CheckResult(
        id=f"test_x.py::test_y[{HOSTILE}]",
        name=f"test_y[{HOSTILE}]",
        category="fuzz",
        outcome="failed",
        operation="retrieveCheckout",
        failure=failure,
    )
    return RunResults(
        target_url="http://127.0.0.1:1",
        embedded_target=False,
        spec_path="spec/openapi.yaml",
        spec_title="t",
        spec_version="1",
        spec_sha256="",
        started="2026-01-01T00:00:00Z",
        finished="2026-01-01T00:00:01Z",
        duration_s=1.0,
        seed=1,
        profile="dev",
        verdict="violations",
        tool_version="0",
        checks=[check],
    )


def test_no_output_holds_a_raw_control_or_bidi_character(tmp_path: Path) -> None:
    results = hostile_run()
    written = write_reports(results, tmp_path)
    for path in written.values():
        text = path.read_text(encoding="utf-8")
        assert not any(ch in text for ch in RAW), path.name
        assert path.stat().st_size < 200_000, path.name
    ET.parse(written["junit"])  # well-formed
    html = written["html"].read_text()
    assert "<script>alert(1)</script>" not in html and "\\u202egnp.exe" in html
    out = io.StringIO()
    print_summary(results, None, Console(file=out, width=200, force_terminal=True))
    printed = out.getvalue()
    # rich's own styling escapes are fine; none may come from the target
    assert "\x1b[2J" not in printed and "\u202e" not in printed and "\x07" not in printed


def test_curl_carries_bidi_characters_as_octal_escapes() -> None:
    script = sequence_to_curl([Step("POST", "http://t/x", "op", request_body={"a": "\u202eb"})])
    assert "\u202e" not in script and "printf" in script


def violation_of(call: Any) -> ContractViolation:
    try:
        call()
    except ContractViolation as exc:
        return exc
    raise AssertionError("no violation")


def test_titles_state_the_actual_mismatch() -> None:
    def answer(status: int, code: str | None) -> Response:
        body = {"error": {"code": code, "message": "m", "param": None}} if code else {"x": 1}
        return Response(status, {}, body, json.dumps(body), "createCheckout")

    wrong_code = violation_of(
        lambda: check_error(
            SPEC,
            answer(401, "invalid_api_key"),
            401,
            "missing_api_key",
            "auth.empty-key",
            "createCheckout with an empty bearer key was not refused",
            subject="createCheckout with an empty bearer key",
        )
    )
    assert wrong_code.title == (
        "createCheckout with an empty bearer key: answered 401 invalid_api_key, "
        "expected 401 missing_api_key"
    )
    accepted = violation_of(
        lambda: check_error(SPEC, answer(200, None), 401, "missing_api_key", "r", "not refused")
    )
    assert accepted.title == "not refused"
    no_envelope = violation_of(
        lambda: check_error(SPEC, answer(401, None), 401, "missing_api_key", "r", "t")
    )
    assert no_envelope.title == "createCheckout answered 401 without the error envelope"


def test_a_missing_required_field_is_named_in_the_title() -> None:
    body = {"checkout_id": "x"}  # lacks nearly everything; the title names what is missing
    exc = violation_of(
        lambda: check_response_schema(
            SPEC, Response(200, {}, body, json.dumps(body), "createCheckout")
        )
    )
    assert exc.title.startswith("createCheckout 200 answer lacks required ")
    assert "livemode" in exc.title and "livemode" in exc.expected["required"]
