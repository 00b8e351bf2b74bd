"""Root causes from failures alone: the same missing fields, the same wrong answer on several
operations, a crashing operation and a failed setup each become one cause."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis.errors import FlakyStrategyDefinition

from neuropay_contract.contract import ContractViolation, Response
from neuropay_contract.contract.checks import forget_failures
from neuropay_contract.contract.reach import check_status_200
from neuropay_contract.contract.results_builder import reported_exception
from neuropay_contract.contract.root_causes import assign_root_causes
from neuropay_contract.results import CheckResult, Failure, Step
from neuropay_contract.spec import load_spec

SPEC = load_spec()


def check(
    name: str, rule: str, operation: str, outcome: str = "failed", **failure: Any
) -> CheckResult:
    title = failure.pop("title", name)
    return CheckResult(
        id=f"t.py::{name}",
        name=name,
        category="c",
        outcome=outcome,  # type: ignore[arg-type]
        failure=Failure(rule=rule, title=title, message="", operation=operation, **failure),
    )


def missing(name: str, operation: str, fields: list[str], outcome: str = "failed") -> CheckResult:
    return check(
        name,
        "schema.response",
        operation,
        outcome,
        expected={"schema": "#/paths/x/post/responses/200", "required": fields},
    )


def test_missing_fields_of_one_schema_are_one_cause_across_operations_and_blocked_checks() -> None:
    checks = [
        missing("a", "createCheckout", ["livemode", "object"]),
        missing("b", "retrieveCheckout", ["livemode", "object"]),
        missing("c", "captureCheckout", ["livemode", "object"], outcome="blocked"),
        # schemathesis names one field per failure, in prose
        check(
            "d",
            "schemathesis.response_schema_conformance",
            "refundCheckout",
            title="Response violates schema",
            received='"object" is a required property',
        ),
    ]
    checks[3].failure.message = '"object" is a required property'  # type: ignore[union-attr]
    causes = assign_root_causes(checks, SPEC)
    assert len(causes) == 1
    cause = causes[0]
    assert cause.title == (
        "`livemode` and `object` missing from the Checkout answers of createCheckout, "
        "retrieveCheckout, captureCheckout, refundCheckout"
    )
    assert cause.blocked == ["t.py::c"] and len(cause.checks) == 4
    assert {c.root_cause for c in checks} == {cause.id}
    assert "3 checks failed on it and it kept 1 more from running" in cause.explanation


def test_the_same_wrong_answer_on_several_operations_is_one_cause_largest_first() -> None:
    no_envelope = {"status": 405, "body": {"detail": "Method Not Allowed"}}
    expected = {"status": 405, "body": {"error": {"code": ["method_not_allowed"]}}}
    checks = [
        check(
            f"env-{op}",
            "schema.error-envelope",
            op,
            expected=expected,
            received=no_envelope,
        )
        for op in ("createCheckout", "retrieveCheckout", "refundCheckout")
    ]
    # the same rule is one cause whatever each failure received and on whichever operation
    for op in ("createCheckout", "retrieveCheckout"):
        checks.append(
            check(
                f"auth-{op}",
                "auth.missing-key",
                op,
                expected={"status": 401},
                received={"status": 200, "body": {"id": op}},
            )
        )
    checks.append(
        check(
            "auth-refund",
            "auth.missing-key",
            "refundCheckout",
            expected={"status": 401},
            received={"status": 404, "body": {"error": {"code": "checkout_not_found"}}},
        )
    )
    causes = assign_root_causes(checks, SPEC)
    assert [len(c.checks) for c in causes] == [3, 3]
    assert causes[0].operations == ["createCheckout", "retrieveCheckout", "refundCheckout"]
    assert "also on retrieveCheckout, refundCheckout" in causes[0].title
    assert [c.id for c in causes] == ["rc1", "rc2"]
    assert causes[1].rule == "auth.key-parsing" and "auth.missing-key" in causes[1].fix


def test_a_crashing_operation_explains_every_rule_it_broke() -> None:
    boom = {"status": 500, "body": {"error": {"code": "internal_error"}}}
    checks = [
        check(
            "t1",
            "lifecycle.transition-allowed",
            "refundCheckout",
            expected={"status": 200},
            received=boom,
        ),
        check(
            "t2",
            "money.refund-refused",
            "refundCheckout",
            expected={"status": 409},
            received=boom,
        ),
        check(
            "t3",
            "schemathesis.not_a_server_error",
            "refundCheckout",
            received="Server error",
            steps=[Step("POST", "u", "refundCheckout", status=500)],
        ),
    ]
    causes = assign_root_causes(checks, SPEC)
    assert len(causes) == 1 and causes[0].rule == "server-error"
    assert causes[0].title == "refundCheckout answered 500 internal_error: the server failed"


def test_passed_and_not_implemented_checks_have_no_cause_of_their_own() -> None:
    passed = CheckResult(id="p", name="p", category="c", outcome="passed")
    blocked = CheckResult(
        id="b",
        name="b",
        category="c",
        outcome="blocked",
        root_cause="not-implemented:createCustomer",
    )
    assert assign_root_causes([passed, blocked], SPEC) == []
    assert passed.root_cause is None and blocked.root_cause == "not-implemented:createCustomer"


def test_a_flaky_replay_reports_the_violation_found() -> None:
    forget_failures()
    found = ContractViolation("stateful.status-model", "t", "m")
    ContractViolation("later.rule", "t", "m")  # only the first one counts
    flaky = FlakyStrategyDefinition("Inconsistent data generation")
    exc, why = reported_exception(flaky)
    assert exc is found and why is not None and "FlakyStrategyDefinition" in why
    other = ValueError("x")
    assert reported_exception(other) == (other, None)
    forget_failures()
    assert reported_exception(flaky) == (flaky, None)


def test_a_crash_in_a_sequence_joins_the_cause_of_the_operation_that_crashed() -> None:
    boom = {"status": 500, "body": {"error": {"code": "internal_error"}}}
    direct = check("c1", "lifecycle.transition-allowed", "createCheckout", received=boom)
    sequence = CheckResult(
        id="t.py::stateful",
        name="stateful",
        category="stateful",
        outcome="failed",
        failure=Failure(
            rule="schemathesis.not_a_server_error",
            title="Server error",
            message="",
            received="Server error",
            steps=[
                Step("POST", "u", "retrieveCheckout", status=200),
                Step("POST", "u", "createCheckout", status=500),
            ],
        ),
    )
    causes = assign_root_causes([direct, sequence], SPEC)
    assert len(causes) == 1 and causes[0].operations == ["createCheckout"]


def test_a_failed_setup_request_blocks_the_check() -> None:
    refused = Response(500, {}, None, "boom", "createCheckout")
    with pytest.raises(ContractViolation) as caught:
        check_status_200(refused, "createCheckout")
    assert caught.value.setup and caught.value.rule == "lifecycle.setup"


def test_checks_whose_sequence_met_a_crash_join_its_cause() -> None:
    boom = {"status": 500, "body": {"error": {"code": "internal_error"}}}
    direct = check("c1", "lifecycle.transition-allowed", "refundCheckout", received=boom)
    concurrent = check(
        "c2",
        "money.concurrent-refunds",
        "refundCheckout",
        expected={"accepted": 4},
        received={"accepted": 0},
        steps=[Step("POST", "u", "refundCheckout", status=500)],
    )
    causes = assign_root_causes([direct, concurrent], SPEC)
    assert len(causes) == 1 and causes[0].rule == "server-error"


def test_missing_fields_from_a_sequence_join_the_same_schema_cause() -> None:
    named = missing("a", "createCheckout", ["refunded_amount"])
    unnamed = CheckResult(
        id="t.py::stateful",
        name="stateful",
        category="stateful",
        outcome="failed",
        failure=Failure(
            rule="schemathesis.response_schema_conformance",
            title="Response violates schema",
            message='"refunded_amount" is a required property',
            steps=[Step("POST", "u", "retrieveCheckout", status=200)],
        ),
    )
    assert len(assign_root_causes([named, unnamed], SPEC)) == 1


def refusal(status: int, code: str) -> dict[str, Any]:
    return {"status": status, "body": {"error": {"code": code, "message": "m", "param": None}}}


def test_one_refusal_given_to_requests_breaking_several_rules_is_one_behaviour() -> None:
    """retrieve and refund look the id up before checking the request: every malformed
    request answers 404 checkout_not_found, whatever rule it breaks."""
    wanted = {
        "protocol.payload-too-large": (413, "payload_too_large"),
        "protocol.unsupported-media-type": (415, "unsupported_media_type"),
        "protocol.invalid-json": (400, "invalid_json"),
        "protocol.unknown-field": (400, "invalid_request"),
    }
    checks = [
        check(
            f"{rule}-{op}",
            rule,
            op,
            expected={"status": http, "error.code": [code]},
            received=refusal(404, "checkout_not_found"),
        )
        for rule, (http, code) in wanted.items()
        for op in ("retrieveCheckout", "refundCheckout")
    ]
    # the same rule answered 200 on create is another fix (create checks nothing)
    checks.append(
        check(
            "size-create",
            "protocol.payload-too-large",
            "createCheckout",
            expected={"status": 413, "error.code": ["payload_too_large"]},
            received={"status": 200, "body": {"checkout_id": "x"}},
        )
    )
    causes = assign_root_causes(checks, SPEC)
    assert [len(c.checks) for c in causes] == [8, 1]
    behaviour = causes[0]
    assert behaviour.rule == "behaviour"
    assert behaviour.rules == sorted(wanted)
    assert "404 checkout_not_found to requests that break 4 different rules" in behaviour.title
    assert behaviour.fix.startswith("Check the request before looking the object up")
    # create accepts the oversized body: the size limit is missing there (its own fix)
    assert causes[1].rule == "step.body_size"
    assert causes[1].fix.startswith("Enforce the body_size step on createCheckout")


def test_two_rules_sharing_a_refusal_stay_two_causes() -> None:
    checks = [
        check(
            rule,
            rule,
            "retrieveCheckout",
            expected={"status": 400, "error.code": ["invalid_json"]},
            received=refusal(404, "checkout_not_found"),
        )
        for rule in ("protocol.invalid-json", "protocol.not-an-object")
    ]
    assert len(assign_root_causes(checks, SPEC)) == 2


def test_a_precedence_failure_of_a_step_never_enforced_joins_that_steps_cause() -> None:
    no_limit = check(
        "size",
        "protocol.payload-too-large",
        "createCheckout",
        expected={"status": 413, "error.code": ["payload_too_large"]},
        received={"status": 200, "body": {}},
    )
    lost = [
        check(
            f"size-before-{other}",
            "precedence.order",
            "createCheckout",
            title=f"body_size did not win over {other} (x-precedence lists it first)",
            expected={"status": 413, "error.code": ["payload_too_large"]},
            received=refusal(status, code),
        )
        for other, status, code in (("media_type", 415, "unsupported_media_type"),)
    ]
    # a step the target does enforce, only later than another: the order is the fix
    order = [
        check(
            f"depth-{n}",
            "precedence.order",
            "createCheckout",
            title=f"json_depth did not win over {other} (x-precedence lists it first)",
            expected={"status": 400, "error.code": ["invalid_json"]},
            received=refusal(400, "invalid_request"),
        )
        for n, other in enumerate(("schema", "idempotency_key"))
    ]
    causes = assign_root_causes([no_limit, *lost, *order], SPEC)
    by_rule = {c.rule: c for c in causes}
    assert sorted((c.rule, len(c.checks)) for c in causes) == [
        ("precedence.order", 2),
        ("step.body_size", 2),
    ]
    assert "json_depth should win" in by_rule["precedence.order"].title
    assert "this also settles precedence.order" in by_rule["step.body_size"].fix


def test_the_same_5xx_across_operations_and_rules_is_one_crash() -> None:
    page = {"status": 500, "body": "Internal Server Error"}
    checks = [
        check(f"{rule}-{op}", rule, op, expected={"status": 400}, received=page)
        for rule in ("protocol.invalid-json", "protocol.not-an-object")
        for op in ("createCheckout", "retrieveCheckout", "refundCheckout")
    ]
    causes = assign_root_causes(checks, SPEC)
    assert len(causes) == 1 and causes[0].rule == "server-error"
    assert causes[0].operations == ["createCheckout", "retrieveCheckout", "refundCheckout"]
    assert causes[0].fix.startswith("Fix the crash behind the 500 answers")


def test_a_501_page_is_a_refusal_not_a_crash() -> None:
    page = {"status": 501, "body": "<html>Unsupported method</html>"}
    checks = [
        check(
            f"get-{op}",
            "protocol.method-not-allowed",
            op,
            expected={"status": 405, "error.code": ["method_not_allowed"]},
            received=page,
        )
        for op in ("createCheckout", "retrieveCheckout")
    ]
    causes = assign_root_causes(checks, SPEC)
    assert [c.rule for c in causes] == ["protocol.method-not-allowed"]


def test_missing_top_level_fields_come_first_then_by_count() -> None:
    big = [
        check(
            f"env-{n}",
            "schema.error-envelope",
            "createCheckout",
            expected={"status": 405},
            received={"status": 405, "body": {"detail": "x"}},
        )
        for n in range(5)
    ]
    nested = missing("n", "retrieveCheckout", ["refunds/0/refund_id"])
    nested.failure.rule = "schema.response"  # type: ignore[union-attr]
    top = missing("t", "createCheckout", ["livemode", "object"])
    causes = assign_root_causes([*big, nested, top], SPEC)
    assert causes[0].checks == ["t.py::t"]
    assert causes[1].rule == "schema.error-envelope" and causes[2].checks == ["t.py::n"]


def test_knock_on_findings_count_under_the_earlier_cause() -> None:
    first = check(
        "f1",
        "lifecycle.transition-target",
        "captureCheckout",
        expected={"status": "paid"},
        received={"status": "reserved"},
    )
    later = [
        check("f2", "lifecycle.status-contradiction", "retrieveCheckout"),
        check("f3", "money.refund-exceeds-remaining", "refundCheckout"),
    ]
    causes = assign_root_causes(
        [first, *later], SPEC, follows={"t.py::f2": "t.py::f1", "t.py::f3": "t.py::f2"}
    )
    assert len(causes) == 1
    assert causes[0].checks == ["t.py::f1", "t.py::f2", "t.py::f3"]
    assert causes[0].knock_on == ["t.py::f2", "t.py::f3"]
    assert "2 of them knock-on effects" in causes[0].explanation


def test_a_key_parser_and_an_idempotency_store_are_one_fix_each() -> None:
    checks = [
        check(r, r, "createCheckout", expected={"status": 401}, received={"status": 200})
        for r in ("auth.bare-key", "auth.empty-key")
    ] + [
        check(r, r, "createCheckout", expected={"status": 200}, received={"status": 200})
        for r in ("idempotency.replay", "idempotency.same-json-value")
    ]
    causes = assign_root_causes(checks, SPEC)
    assert sorted((c.rule, len(c.checks)) for c in causes) == [
        ("auth.key-parsing", 2),
        ("idempotency", 2),
    ]
    assert all(len(c.rules) == 2 for c in causes)


def test_requests_a_step_refuses_accepted_are_one_cause_per_step() -> None:
    """Different rules whose refused requests were accepted (2xx) group by the x-precedence step
    that answers them: a strict JSON parser is one change, schema validation another."""
    accepted = {"status": 200, "body": {"checkout_id": "x"}}
    json_rules = ("protocol.bom", "protocol.duplicate-after-unescaping", "protocol.number-range")
    schema_rules = ("protocol.unknown-field", "protocol.length-unit")
    checks = [
        check(rule, rule, "createCheckout", expected=expected, received=accepted)
        for rules, expected in (
            (json_rules, {"status": 400, "error.code": ["invalid_json"]}),
            (schema_rules, {"status": 400, "error.code": ["invalid_request"]}),
        )
        for rule in rules
    ]
    causes = assign_root_causes(checks, SPEC)
    assert sorted((c.rule, len(c.checks)) for c in causes) == [("step.json", 3), ("step.schema", 2)]
    assert all(c.fix.startswith(f"Enforce the {c.rule[5:]} step") for c in causes)
    # without the spec there are no steps to name: one cause per rule, as before
    assert len(assign_root_causes(checks)) == 5


def test_one_missing_header_is_one_cause_whichever_tool_saw_it() -> None:
    ours = [
        check(
            f"ours-{op}",
            "auth.www-authenticate",
            op,
            expected={"WWW-Authenticate": "Bearer"},
            received={"WWW-Authenticate": None},
        )
        for op in ("createCheckout", "refundCheckout")
    ]
    theirs = check(
        "st",
        "schemathesis.response_headers_conformance",
        "retrieveCheckout",
        expected={"check": "response_headers_conformance"},
        received="The following required headers are missing from the response:\n- `WWW-Authenticate`",
    )
    (cause,) = assign_root_causes([*ours, theirs], SPEC)
    assert cause.rule == "header.www-authenticate" and len(cause.checks) == 3
    assert "WWW-Authenticate" in cause.title and cause.fix.startswith("Send WWW-Authenticate")


def test_a_rule_split_by_its_answers_joins_its_wider_cause() -> None:
    """The same rule met with a wrong status (in a behaviour) and a wrong ``param`` (alone) is
    one fix; a success expected as a list of statuses counts as a valid request refused."""
    refused = refusal(400, "invalid_request")
    valid = [
        check(rule, rule, "createCheckout", expected={"status": [200]}, received=refused)
        for rule in ("protocol.integral-float", "protocol.integral-by-value", "x.other")
    ]
    param = check(
        "param",
        "protocol.integral-by-value",
        "createCheckout",
        expected={"param": "/amount"},
        received=refused,
    )
    causes = assign_root_causes([*valid, param], SPEC)
    assert [(c.rule, len(c.checks)) for c in causes] == [("behaviour", 4)]


def test_a_frameworks_pages_of_one_shape_are_one_cause_whatever_their_status_and_rule() -> None:
    """Text pages (404, 405, a 501 for another method) met by several rules are one error
    handler to replace; the fix names the status the spec gives where the page's differs."""
    html = "<html>Error response</html>"
    envelope = {"status": 404, "body": {"error": {"code": ["not_found"]}}}
    checks = [
        check(
            f"env-{n}",
            "schema.error-envelope",
            "createCheckout",
            expected=envelope,
            received={"status": 404, "body": html},
        )
        for n in range(2)
    ]
    checks += [
        check(
            f"get-{op}",
            "protocol.method-not-allowed",
            op,
            expected={"status": 405, "error.code": ["method_not_allowed"]},
            received={"status": 501, "body": html},
        )
        for op in ("createCheckout", "retrieveCheckout")
    ]
    # a HEAD page has no body: it joins the rule's page cause all the same
    checks.append(
        check(
            "head",
            "protocol.method-not-allowed",
            "refundCheckout",
            expected={"status": 405},
            received={"status": 501},
        )
    )
    causes = assign_root_causes(checks, SPEC)
    assert [(c.rule, len(c.checks)) for c in causes] == [("behaviour", 5)]
    assert "default pages" in causes[0].title and "404, 501" in causes[0].title
    assert "501 where the spec answers 405 method_not_allowed" in causes[0].fix
    # bodies of another shape ({detail}) are another handler: two causes
    detail = check(
        "detail",
        "protocol.unknown-field",
        "createCheckout",
        expected={"status": 400, "error.code": ["invalid_request"]},
        received={"status": 422, "body": {"detail": []}},
    )
    detail2 = check(
        "detail2",
        "protocol.invalid-json",
        "createCheckout",
        expected={"status": 400, "error.code": ["invalid_json"]},
        received={"status": 422, "body": {"detail": []}},
    )
    assert len(assign_root_causes([*checks, detail, detail2], SPEC)) == 2


def test_crashes_and_strict_refusals_of_a_step_never_enforced_join_that_step() -> None:
    """A target without a strict JSON step accepts a BOM and crashes on broken JSON; a hand-made
    schema check misses unknown fields and refuses 3000.0: one step each, not four causes."""
    accepted = {"status": 200, "body": {"checkout_id": "x"}}
    crash = {"status": 500, "body": "Internal Server Error"}
    json_answer = {"status": 400, "error.code": ["invalid_json"]}
    checks = [
        check("bom", "protocol.bom", "createCheckout", expected=json_answer, received=accepted),
        *(
            check(f"broken-{op}", "protocol.invalid-json", op, expected=json_answer, received=crash)
            for op in ("createCheckout", "retrieveCheckout")
        ),
        check(
            "extra",
            "protocol.unknown-field",
            "createCheckout",
            expected={"status": 400, "error.code": ["invalid_request"]},
            received=accepted,
        ),
        *(
            check(
                rule,
                rule,
                "createCheckout",
                expected={"status": 200},
                received=refusal(400, "invalid_request"),
            )
            for rule in ("protocol.integral-float", "idempotency.same-json-value", "x.other")
        ),
    ]
    causes = assign_root_causes(checks, SPEC)
    assert sorted((c.rule, len(c.checks)) for c in causes) == [("step.json", 3), ("step.schema", 4)]
    by_rule = {c.rule: c for c in causes}
    assert "server error on 2" in by_rule["step.json"].title
    assert "refuses 3 valid requests" in by_rule["step.schema"].title
    # a crash of a step the target enforces elsewhere stays the crash it is
    alone = assign_root_causes(checks[1:3], SPEC)
    assert [c.rule for c in alone] == ["server-error"]


def test_checks_out_of_precedence_order_join_the_lookup_that_answers_first() -> None:
    """A handler that looks the checkout up before checking the request, and a test helper that
    parses JSON before refusing a live key, are one fix: check in x-precedence order."""
    first = [
        check(
            rule,
            rule,
            "retrieveCheckout",
            expected={"status": 400, "error.code": ["invalid_request"]},
            received=refusal(404, "checkout_not_found"),
        )
        for rule in (
            "protocol.unknown-field",
            "protocol.param-of-not-found",
            "auth.repeated-header",
        )
    ]
    late = check(
        "live-before-json",
        "precedence.order",
        "testPayCheckout",
        expected={"status": 403, "error.code": ["test_mode_only"]},
        received=refusal(400, "invalid_json"),
    )
    causes = assign_root_causes([*first, late], SPEC)
    assert [(c.rule, len(c.checks)) for c in causes] == [("behaviour", 4)]
    assert "precedence.order" in causes[0].fix
    # alone, the order is a cause of its own
    assert [c.rule for c in assign_root_causes([late], SPEC)] == ["precedence.order"]


def test_a_crash_of_one_mechanism_and_a_steps_own_rules_join_their_cause() -> None:
    """Every bad credential crashing the key parser is the key parser's fault; a 405 whose
    Allow header is wrong belongs to the method step the target does not enforce."""
    crash = {"status": 500, "body": "<html>500</html>"}
    checks = [
        check(
            rule,
            rule,
            "createCheckout",
            expected={"status": 401, "error.code": ["invalid_api_key"]},
            received=crash,
        )
        for rule in ("auth.bare-key", "auth.separator")
    ]
    checks.append(
        check(
            "exact",
            "auth.exact-key",
            "createCheckout",
            expected={"status": 401, "error.code": ["invalid_api_key"]},
            received={"status": 200, "body": {}},
        )
    )
    checks.append(
        check(
            "options",
            "protocol.method-not-allowed",
            "createCheckout",
            expected={"status": 405, "error.code": ["method_not_allowed"]},
            received={"status": 200, "body": ""},
        )
    )
    checks.append(
        check(
            "allow",
            "protocol.allow-header",
            "createCheckout",
            expected={"Allow": "POST"},
            received={"Allow": "POST, OPTIONS"},
        )
    )
    causes = assign_root_causes(checks, SPEC)
    assert sorted((c.rule, len(c.checks)) for c in causes) == [
        ("auth.key-parsing", 3),
        ("step.method", 2),
    ]
    # a crash met by rules of several mechanisms stays a crash
    mixed = [
        *checks[:2],
        check(
            "json",
            "protocol.invalid-json",
            "createCheckout",
            expected={"status": 400},
            received=crash,
        ),
    ]
    assert [c.rule for c in assign_root_causes(mixed, SPEC)] == ["server-error"]


def test_a_missing_header_does_not_make_its_answer_a_behaviour() -> None:
    """schemathesis' missing WWW-Authenticate on a 401 counts for the header, not as a third
    rule answered ``401 missing_api_key`` beside two raw HTTP probes."""
    raw = [
        check(
            rule,
            rule,
            "createCheckout",
            expected={"status": 400, "Content-Type": "application/json", "body": "Error"},
            received=refusal(401, "missing_api_key"),
        )
        for rule in (
            "protocol.http-refusal-content-length",
            "protocol.http-refusal-header-without-colon",
        )
    ]
    st = check(
        "st",
        "schemathesis.response_headers_conformance",
        "createCheckout",
        expected={"check": "response_headers_conformance"},
        received="The following required headers are missing from the response:\n- `WWW-Authenticate`",
        steps=[
            Step(
                "POST",
                "u",
                "createCheckout",
                status=401,
                response_body={"error": {"code": "missing_api_key"}},
            )
        ],
    )
    causes = assign_root_causes([*raw, st], SPEC)
    assert sorted(c.rule for c in causes) == ["header.www-authenticate", "protocol.http-refusals"]


def test_a_schemathesis_cause_says_what_it_found() -> None:
    found = check(
        "st",
        "schemathesis.response_schema_conformance",
        "createCheckout",
        title="Response violates schema",
        received='1796699646 is not of type "string"\n\nValidated against the response schema',
    )
    (cause,) = assign_root_causes([found], SPEC)
    assert cause.title == (
        'createCheckout: Response violates schema: 1796699646 is not of type "string"'
    )
