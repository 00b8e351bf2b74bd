"""The spec itself: examples validate, the lifecycle is complete and consistent, the model reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuropay_contract._resources import default_spec_path
from neuropay_contract.lifecycle import Answer, Transition, refund_guard
from neuropay_contract.spec import load_spec

SPEC = load_spec()
LIFECYCLE = SPEC.require_lifecycle()

EXAMPLES = [
    pytest.param(schema, ex.value, id=ex.pointer.replace("#/paths/", "").replace("~1", "/"))
    for op in SPEC.operations.values()
    for schema, ex in [(op.request_schema, e) for e in op.request_examples]
    + [(r.schema, e) for r in op.responses.values() for e in r.examples]
]


@pytest.mark.parametrize(("schema", "value"), EXAMPLES)
def test_every_example_validates(schema: object, value: object) -> None:
    assert SPEC.validation_errors(schema, value) == []  # type: ignore[arg-type]


def test_there_are_examples_for_every_operation() -> None:
    assert len(EXAMPLES) > 40
    for op in SPEC.operations.values():
        assert op.request_examples, op.operation_id
        assert op.responses["200"].examples, op.operation_id


def test_nine_public_operations_and_three_test_helpers() -> None:
    public = {op.operation_id for op in SPEC.operations.values() if not op.test_only}
    assert public == {
        "createCheckout",
        "retrieveCheckout",
        "captureCheckout",
        "refundCheckout",
        "updateCheckout",
        "deleteCheckout",
        "createCustomer",
        "retrieveCustomer",
        "deleteCustomer",
    }
    assert {op.operation_id for op in SPEC.operations.values() if op.test_only} == set(
        SPEC.test_mode.helpers
    )  # type: ignore[union-attr]


def test_lifecycle_matrix_is_complete() -> None:
    for status in LIFECYCLE.states:
        for op in LIFECYCLE.restricted_operations:
            assert bool(LIFECYCLE.transitions_from(status, op)) != bool(
                LIFECYCLE.forbidden_answer(status, op)
            ), (status, op)
    assert len(LIFECYCLE.forbidden) == 45


def test_final_states_have_no_way_out_and_every_state_is_reachable() -> None:
    assert not [t for t in LIFECYCLE.transitions if t.source in LIFECYCLE.final]
    reached = {t.target for t in LIFECYCLE.transitions if t.source is None}
    while True:
        more = {t.target for t in LIFECYCLE.transitions if t.source in reached} - reached
        if not more:
            break
        reached |= more
    assert reached == set(LIFECYCLE.states)


def test_every_lifecycle_code_is_in_the_catalogue() -> None:
    answers = [f.answer for f in LIFECYCLE.forbidden] + [r.answer for r in LIFECYCLE.rejections]
    for answer in answers:
        assert SPEC.error_codes[answer.code].http == answer.http


@pytest.mark.parametrize(
    ("status", "operation", "facts", "expected"),
    [
        (None, "createCheckout", {"no_card", "capture_true"}, "created"),
        (None, "createCheckout", {"payment_succeeds", "capture_false"}, "reserved"),
        (None, "createCheckout", {"payment_declines", "capture_true"}, "failed"),
        ("created", "testPayCheckout", {"payment_succeeds", "capture_true"}, "paid"),
        ("created", "deleteCheckout", set(), "canceled"),
        ("reserved", "refundCheckout", {"amount_full", "capture_false"}, "reserve released"),
        (
            "reserved",
            "refundCheckout",
            {"amount_partial", "capture_false"},
            Answer(409, "partial_release_not_allowed"),
        ),
        ("paid", "refundCheckout", {"amount_partial", "capture_true"}, "partialRefund"),
        (
            "paid",
            "refundCheckout",
            {"amount_exceeds", "capture_true"},
            Answer(409, "refund_exceeds_remaining"),
        ),
        ("partialRefund", "refundCheckout", {"amount_full", "capture_true"}, "refunded"),
        ("paid", "captureCheckout", set(), Answer(409, "invalid_status")),
        ("refunded", "refundCheckout", {"amount_full"}, Answer(409, "invalid_status")),
    ],
)
def test_decide(status: str | None, operation: str, facts: set[str], expected: object) -> None:
    decision = LIFECYCLE.decide(status, operation, facts)
    if isinstance(expected, Answer):
        assert decision == expected
    else:
        assert isinstance(decision, Transition)
        assert decision.target == expected


def test_refund_guard() -> None:
    assert refund_guard(100, None) == "amount_full"
    assert refund_guard(100, 100) == "amount_full"
    assert refund_guard(100, 99) == "amount_partial"
    assert refund_guard(100, 101) == "amount_exceeds"


def test_line_numbers_point_into_the_file() -> None:
    line = SPEC.line_of("#/paths/~1checkout~1capture/post")
    assert line is not None
    assert "post:" in SPEC.text.splitlines()[line - 1]


def test_implementation_defined_is_read_typed(tmp_path: Path) -> None:
    """x-implementation-defined: each point with its readings and the answer parts that may differ."""
    from neuropay_contract.spec import load_spec as _load

    text = (default_spec_path()).read_text(encoding="utf-8")
    extra = (
        "\nx-implementation-defined:\n"
        "  - id: pages.url\n"
        "    point: The hosted page's URL.\n"
        "    readings: [any absolute http(s) URL]\n"
        "    why: Clients redirect to it; they never build it.\n"
        "    answers: [{operations: [createCheckout], body: /url}, {header: Retry-After, values: ['1']}]\n"
    )
    path = tmp_path / "spec.yaml"
    path.write_text(text + extra, encoding="utf-8")
    (point,) = _load(path).implementation_defined
    assert point.id == "pages.url"
    assert point.readings == ("any absolute http(s) URL",)
    body, header = point.answers
    assert body.body == "/url" and body.applies_to("createCheckout")
    assert not body.applies_to("refundCheckout")
    assert header.header == "Retry-After" and header.values == ("1",) and header.applies_to("x")


def test_idempotency_and_limits_are_typed_with_defaults_written_once() -> None:
    from neuropay_contract.spec import ApiSpec, Idempotency, Limits, Refusal

    idem, limits = SPEC.idempotency, SPEC.limits
    assert idem.header == "Idempotency-Key" and idem.replay_header == "Idempotent-Replayed"
    assert idem.conflict == Refusal(409, "idempotency_key_reused")
    assert idem.invalid_key == Refusal(400, "invalid_request", "Idempotency-Key")
    assert idem.retention_s == 24 * 3600 and "createCheckout" in idem.operations
    assert (limits.max_body_bytes, limits.max_json_depth) == (65536, 32)

    bare = ApiSpec({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}})
    assert bare.idempotency == Idempotency() and bare.limits == Limits()
    custom = ApiSpec(
        {
            **bare.document,
            "x-idempotency": {"header": "X-Key", "conflict": {"http": 422, "code": "reused"}},
            "x-limits": {"max_json_depth": 5},
        }
    )
    assert custom.idempotency.invalid_key.param == "X-Key"  # the default follows the header
    assert custom.idempotency.conflict == Refusal(422, "reused")
    assert custom.limits == Limits(max_json_depth=5)
    assert custom.max_json_depth == 5


def test_a_malformed_limit_is_a_spec_error() -> None:
    from neuropay_contract.errors import SpecError
    from neuropay_contract.spec import ApiSpec

    broken = ApiSpec({"openapi": "3.1.0", "x-limits": {"max_body_bytes": "lots"}})
    with pytest.raises(SpecError, match="x-limits is malformed"):
        _ = broken.limits
