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
    # accepted (2xx) answers stay per operation: each is its own bug
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
    causes = assign_root_causes(checks, SPEC)
    assert [len(c.checks) for c in causes] == [3, 1, 1]
    assert causes[0].operations == ["createCheckout", "retrieveCheckout", "refundCheckout"]
    assert "also on retrieveCheckout, refundCheckout" in causes[0].title
    assert [c.id for c in causes] == ["rc1", "rc2", "rc3"]


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
