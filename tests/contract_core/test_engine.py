"""The contract engine without a server: checks raise the right rules, the driver plans every
status and reports what a target lacks as not covered, keys are redacted, the summary shows
each failure's rule, expected and received."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
from rich.console import Console

from neuropay_contract.contract import (
    ContractClient,
    ContractViolation,
    Driver,
    PaymentMeans,
    Recorder,
    Response,
    Secrets,
    reach,
)
from neuropay_contract.contract.checks import (
    NOT_COVERED_PREFIX,
    check_error,
    check_money,
    check_unchanged,
)
from neuropay_contract.contract.curl import sequence_to_curl
from neuropay_contract.contract.results_builder import _no_answer
from neuropay_contract.contract.terminal import print_summary, short
from neuropay_contract.lifecycle import plan
from neuropay_contract.results import CheckResult, Failure, RunResults
from neuropay_contract.spec import ApiSpec, load_spec

SPEC = load_spec()
KEY = "sk_test_" + "ab" * 16


def response(status: int, body: Any, operation: str = "captureCheckout") -> Response:
    return Response(status, {}, body, json.dumps(body), operation)


def envelope(code: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": "no", "param": None}}


def violation(call: Callable[[], object]) -> ContractViolation:
    with pytest.raises(ContractViolation) as caught:
        call()
    return caught.value


def test_check_error_tells_wrong_answers_from_missing_envelopes() -> None:
    check_error(SPEC, response(409, envelope("invalid_status")), 409, "invalid_status", "r", "t")
    wrong = violation(
        lambda: check_error(
            SPEC, response(200, {"status": "paid"}), 409, "invalid_status", "r", "t"
        )
    )
    assert wrong.rule == "r" and wrong.received["status"] == 200
    assert wrong.expected == {"status": 409, "error.code": ["invalid_status"]}
    other_code = violation(
        lambda: check_error(
            SPEC, response(409, envelope("not_found")), 409, "invalid_status", "r", "t"
        )
    )
    assert other_code.rule == "r"
    bare = violation(
        lambda: check_error(SPEC, response(409, {"code": "x"}), 409, "invalid_status", "r", "t")
    )
    assert bare.rule == "schema.error-envelope"


def test_check_unchanged_names_the_changed_fields() -> None:
    check_unchanged({"a": 1, "b": 2}, {"a": 1, "b": 2}, "op")
    changed = violation(lambda: check_unchanged({"a": 1, "b": 2}, {"a": 1, "b": 3}, "op"))
    assert changed.rule == "lifecycle.unchanged-after-refusal"
    assert changed.expected == {"b": 2} and changed.received == {"b": 3}


@pytest.mark.parametrize(
    ("checkout", "rule"),
    [
        (
            {"amount": 100, "refunded_amount": 30, "refunds": [{"amount": 20}]},
            "money.refunded-equals-sum",
        ),
        ({"amount": 100, "refunded_amount": 130, "refunds": [{"amount": 130}]}, "money.refund-cap"),
        ({"amount": 90, "currency": "SEK", "refunded_amount": 0, "refunds": []}, "money.immutable"),
        (
            {"amount": 100, "currency": "EUR", "refunded_amount": 0, "refunds": []},
            "money.immutable",
        ),
    ],
)
def test_money_invariants(checkout: dict[str, Any], rule: str) -> None:
    check_money(
        {"amount": 100, "currency": "SEK", "refunded_amount": 10, "refunds": [{"amount": 10}]},
        100,
        "SEK",
    )
    assert violation(lambda: check_money(checkout, 100, "SEK")).rule == rule


def test_every_status_has_a_plan_that_respects_capture() -> None:
    lifecycle = SPEC.require_lifecycle()
    for status in lifecycle.states:
        path = plan(lifecycle, status)
        assert path[-1][0].target == status and path[0][0].source is None
        for (t, _), (u, _) in itertools.pairwise(path):
            assert t.target == u.source
    reserved = plan(lifecycle, "reserved")
    assert all(flag is False for _, flag in reserved)
    with pytest.raises(ValueError, match="no path"):
        plan(lifecycle, "reserved", capture=True)


def fake_client(handler: Callable[[httpx.Request], httpx.Response]) -> ContractClient:
    secrets = Secrets()
    secrets.add(KEY, "NEUROPAY_API_KEY")
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return ContractClient("http://target.test", KEY, SPEC, Recorder(secrets=secrets), http)


EXAMPLES = SPEC.document["components"]["examples"]


def checkout(status: str, **extra: Any) -> dict[str, Any]:
    """A schema-valid checkout (the spec's example) in ``status``."""
    return dict(EXAMPLES["CheckoutCreated"]["value"]) | {"status": status} | extra


def created(request: httpx.Request, status: str = "created") -> dict[str, Any]:
    """What a create answers: the request's fields on a checkout in ``status``."""
    sent = json.loads(request.content)
    return checkout(status) | {
        k: v for k, v in sent.items() if k in EXAMPLES["CheckoutCreated"]["value"]
    }


def customer() -> dict[str, Any]:
    return dict(EXAMPLES["Customer"]["value"])


def not_covered_reason(call: Callable[[], Any]) -> str:
    with pytest.raises(pytest.skip.Exception) as caught:
        call()
    message = str(caught.value.msg)
    assert message.startswith(NOT_COVERED_PREFIX)
    return message.removeprefix(NOT_COVERED_PREFIX)


def test_a_target_without_test_helpers_is_not_covered() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/checkout/test/"):
            return httpx.Response(404, json=envelope("not_found"))
        return httpx.Response(200, json=created(request))

    client = fake_client(handler)
    reason = not_covered_reason(lambda: reach(client, "canceled"))
    assert "no test helper" in reason


def test_a_target_without_the_test_card_ids_is_not_covered() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if request.url.path == SPEC.operation("createCustomer").path:
            return httpx.Response(200, json=customer())
        if body.get("card_id"):
            return httpx.Response(404, json=envelope("card_not_found"))
        return httpx.Response(200, json=created(request))

    reason = not_covered_reason(lambda: reach(fake_client(handler), "paid", capture=True))
    assert "test card ids" in reason


def test_a_wrong_status_after_a_transition_is_a_violation() -> None:
    client = fake_client(lambda request: httpx.Response(200, json=created(request, "paid")))
    found = violation(lambda: reach(client, "created"))
    assert found.rule == "lifecycle.transition-target"
    assert found.expected == {"status": "created"} and found.received == {"status": "paid"}


def test_cards_cannot_be_saved_on_a_page_the_target_does_not_serve() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=checkout("created", url="https://elsewhere.test/pay/x"))

    driver = Driver(fake_client(handler), PaymentMeans.from_spec(SPEC))
    assert "not served by the target" in not_covered_reason(lambda: driver.save_card("d" * 32))


def test_recorded_steps_never_hold_the_key() -> None:
    client = fake_client(lambda request: httpx.Response(401, json=envelope("invalid_api_key")))
    client.call("retrieveCheckout", {"checkout_id": "c" * 32, "note": KEY})
    step = client.recorder.steps[-1]
    assert step.request_headers["Authorization"] == "Bearer $NEUROPAY_API_KEY"
    assert (
        KEY not in json.dumps(step.request_body)
        and "$NEUROPAY_API_KEY" in step.request_body["note"]
    )


def red_run(checks: list[CheckResult], duration_s: float = 1.0) -> RunResults:
    return RunResults(
        target_url="http://target.test",
        embedded_target=False,
        spec_path="spec.yaml",
        spec_title="t",
        spec_version="1",
        spec_sha256="",
        started="",
        finished="",
        duration_s=duration_s,
        seed=3,
        profile="dev",
        verdict="violations",
        tool_version="0",
        checks=checks,
    )


def test_summary_lists_categories_failures_not_covered_and_the_verdict(tmp_path: Any) -> None:
    failure = Failure(
        rule="lifecycle.forbidden-answer",
        title="captureCheckout in 'paid' was not refused",
        # a hostile target's escape sequences (clear screen, set title) must not reach the log
        message="captureCheckout answered 200, expected 409 invalid_status \x1b[2J\x1b]0;x\x07",
        expected={"status": 409},
        received={"status": 200, "body": {"long": "x" * 500}},
    )
    results = red_run(
        duration_s=1.5,
        checks=[
            CheckResult("a::one", "one", "lifecycle", "failed", failure=failure),
            CheckResult("a::two", "two", "lifecycle", "passed"),
            CheckResult("b::three", "three", "auth", "not_covered", reason="no live key"),
            CheckResult("b::four", "four", "auth", "not_covered", reason="no live key"),
            CheckResult("b::five", "five", "auth", "not_covered", reason="no card to save"),
        ],
    )
    (tmp_path / "results.json").write_text("{}")
    out = io.StringIO()
    print_summary(results, tmp_path, Console(file=out, width=200, highlight=False))
    text = out.getvalue()
    assert "lifecycle.forbidden-answer" in text and "captureCheckout in 'paid'" in text
    assert (
        "\x1b" not in text
        and "\x07" not in text
        and "invalid_status \\x1b[2J\\x1b]0;x\\x07" in text
    )
    assert 'expected: {"status": 409}' in text
    received = next(line for line in text.splitlines() if "received:" in line)
    assert len(received) < 200 and received.endswith("…")
    assert "not covered: b::three and 1 more: no live key" in text
    assert "not covered: b::five: no card to save" in text and "b::four" not in text
    assert "CONTRACT VIOLATIONS" in text and "1 passed, 1 failed, 3 not covered" in text
    assert f"reports: {tmp_path}/ (results.json)" in text
    lines = text.splitlines()
    assert any("lifecycle" in line and "2" in line for line in lines)
    assert any("auth" in line for line in lines)


def test_short_keeps_one_line() -> None:
    assert short({"a": "b\nc"}) == '{"a": "b\\nc"}'
    assert short("x  y\n z") == "x y z"
    assert len(short("x" * 1000, 50)) == 50


def test_active_spec_parametrizes_from_np_spec(tmp_path: Any) -> None:
    from neuropay_contract.contract import plugin as pytest_plugin

    copy = tmp_path / "spec.json"
    document = json.loads(json.dumps(SPEC.document, default=str))
    document["info"]["title"] = "Another title"
    copy.write_text(json.dumps(document))
    saved = pytest_plugin.ACTIVE_SPEC_PATH
    try:
        pytest_plugin.ACTIVE_SPEC_PATH = str(copy)
        spec: ApiSpec = pytest_plugin.active_spec()
        assert spec.title == "Another title"
    finally:
        pytest_plugin.ACTIVE_SPEC_PATH = saved
    assert pytest_plugin.active_spec().title == SPEC.title


def test_a_customer_answer_without_its_id_is_a_schema_violation() -> None:
    client = fake_client(lambda request: httpx.Response(200, json={"first_name": "A"}))
    driver = Driver(client, PaymentMeans.from_spec(SPEC))
    assert violation(driver.test_customer).rule == "schema.response"


def test_a_check_counts_all_its_requests_but_reproduces_its_last_sequence() -> None:
    client = fake_client(lambda request: httpx.Response(404, json=envelope("checkout_not_found")))
    for _ in range(2):
        client.call("retrieveCheckout", {"checkout_id": "c" * 32})
    client.recorder.restart_sequence()
    client.call("retrieveCheckout", {"checkout_id": "e" * 32})
    assert client.recorder.requests == 3 and len(client.recorder.steps) == 1
    assert client.recorder.steps[0].request_body == {"checkout_id": "e" * 32}
    client.recorder.start_check()
    assert client.recorder.requests == 0 and client.recorder.steps == []


def test_a_target_that_dies_is_named_once_with_the_check_before(tmp_path: Any) -> None:
    lost = Failure(
        rule="transport.no-answer",
        title="The target gave no HTTP answer",
        message="ReadError: [Errno 104] Connection reset by peer",
    )
    results = red_run(
        checks=[
            CheckResult("p::deep", "deep", "protocol", "passed"),
            CheckResult("p::next", "next", "protocol", "failed", failure=lost),
            CheckResult("s::run", "run", "stateful", "failed", failure=lost),
        ],
    )
    out = io.StringIO()
    print_summary(results, None, Console(file=out, width=200, highlight=False))
    assert (
        "! the target stopped answering at p::next (the check before it: p::deep); "
        "2 checks got no answer" in out.getvalue()
    )


def test_a_request_without_answer_is_recorded_and_classed_as_the_targets_fault() -> None:
    def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)

    client = fake_client(reset)
    with pytest.raises(httpx.ReadError):
        client.call("retrieveCheckout", {"checkout_id": "a" * 32})
    (step,) = client.recorder.steps
    assert step.status is None and step.request_body == {"checkout_id": "a" * 32}
    assert "(no answer)" in sequence_to_curl(client.recorder.steps)
    assert KEY not in json.dumps(step.request_headers)
    # schemathesis calls through requests: its errors, however wrapped, count too
    outer = RuntimeError("while running the state machine")
    outer.__cause__ = requests.ConnectionError("Connection refused")
    assert _no_answer(outer) == "ConnectionError: Connection refused"
    assert _no_answer(ValueError("a bug of the check")) is None
