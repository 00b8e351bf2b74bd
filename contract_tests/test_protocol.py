"""HTTP rules every operation follows: methods, media type, JSON, size, integers, unknown fields."""

from __future__ import annotations

import json

import pytest

from _support import SPEC, example_body, op_params
from neuropay_contract.contract import ContractClient, ContractViolation, create_body
from neuropay_contract.contract.checks import check_error, check_response_schema

# Every method but the operation's own, the standard ones of RFC 9110 and an extension method no
# registry knows (a server must not answer OPTIONS with a CORS 204 or HEAD like a GET).
OTHER_METHODS = ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "NEUROPAY-PROBE"]


@pytest.mark.parametrize("method", OTHER_METHODS)
@pytest.mark.parametrize("operation", op_params("protocol"))
def test_other_methods_answer_405(np_client: ContractClient, operation: str, method: str) -> None:
    resp = np_client.call(operation, None, method=method)
    if method == "HEAD":  # no body can carry the envelope: the status and Allow say it all
        if resp.status != 405:
            raise ContractViolation(
                "protocol.method-not-allowed",
                f"HEAD {operation}: answered {resp.status}, expected 405",
                f"HEAD {SPEC.operation(operation).path} answered {resp.status}",
                operation=operation,
                expected={"status": 405},
                received={"status": resp.status},
            )
    else:
        check_error(
            SPEC,
            resp,
            405,
            "method_not_allowed",
            "protocol.method-not-allowed",
            f"{method} was not refused with 405",
            subject=f"{method} {operation}",
        )
    allow = resp.headers.get("allow", "")
    if [m.strip() for m in allow.split(",")] != [SPEC.operation(operation).method]:
        raise ContractViolation(
            "protocol.allow-header",
            "405 without a correct Allow header",
            f"{method} {SPEC.operation(operation).path} answered 405 with Allow: {allow!r}",
            operation=operation,
            expected={"Allow": "POST"},
            received={"Allow": allow},
        )


@pytest.mark.parametrize("operation", op_params("protocol"))
def test_not_json_answers_415(np_client: ContractClient, operation: str) -> None:
    body = json.dumps(example_body(operation)).encode()
    resp = np_client.call(operation, None, content=body, content_type="text/plain")
    check_error(
        SPEC,
        resp,
        415,
        "unsupported_media_type",
        "protocol.unsupported-media-type",
        "a text/plain body was not refused with 415",
        subject=f"{operation} with a text/plain body",
    )


@pytest.mark.parametrize(
    "garbage",
    # "deep": valid JSON nested 5,000 levels (10 kB), which crashes recursive parsers into a 500
    [b"{not json", b"\xff\xfe\x00", b"", b"[1, 2", b"NaN", b"[" * 5000 + b"]" * 5000],
    ids=["broken", "binary", "empty", "truncated", "nan", "deep"],
)
@pytest.mark.parametrize("operation", op_params("protocol"))
def test_garbage_answers_400(np_client: ContractClient, operation: str, garbage: bytes) -> None:
    resp = np_client.call(operation, None, content=garbage)
    check_error(
        SPEC,
        resp,
        400,
        "invalid_json",
        "protocol.invalid-json",
        "garbage JSON was not refused with 400",
        subject=f"{operation} with a malformed JSON body",
    )


@pytest.mark.parametrize("operation", op_params("protocol"))
def test_huge_body_answers_413(np_client: ContractClient, operation: str) -> None:
    body = {**example_body(operation), "padding": "x" * (SPEC.max_body_bytes + 1024)}
    resp = np_client.call(operation, body)
    check_error(
        SPEC,
        resp,
        413,
        "payload_too_large",
        "protocol.payload-too-large",
        "a body over the limit was not refused with 413",
        subject=f"{operation} with a body over the size limit",
    )


@pytest.mark.parametrize(
    "operation", op_params("protocol", lambda op: op.request_schema is not None)
)
def test_unknown_field_answers_400(np_client: ContractClient, operation: str) -> None:
    resp = np_client.call(operation, {**example_body(operation), "no_such_field": 1})
    check_error(
        SPEC,
        resp,
        400,
        "invalid_request",
        "protocol.unknown-field",
        "an unknown field was accepted",
        subject=f"{operation} with an unknown field",
    )
    param = resp.json_object().get("error", {}).get("param")
    if param != "/no_such_field":
        raise ContractViolation(
            "protocol.unknown-field-param",
            "An unknown field was refused without pointing at it",
            f"param was {param!r}; the field at fault is the unknown one, /no_such_field",
            operation=operation,
            expected={"param": "/no_such_field"},
            received={"param": param},
        )


@pytest.mark.np_check(category="protocol", operation="createCheckout")
def test_integral_float_is_an_integer(np_client: ContractClient) -> None:
    """JSON Schema 2020-12 counts 3000.0 as an integer: accepted, and stored as 3000."""
    resp = np_client.call("createCheckout", create_body(amount=3000.0))
    if resp.status != 200:
        raise ContractViolation(
            "protocol.integral-float",
            "3000.0 was rejected as an amount",
            f"createCheckout with amount 3000.0 answered {resp.status}",
            operation="createCheckout",
            expected={"status": 200},
            received={"status": resp.status, "body": resp.body},
        )
    check_response_schema(SPEC, resp)
    amount = resp.json_object().get("amount")
    if amount != 3000 or not isinstance(amount, int):
        raise ContractViolation(
            "protocol.integral-float",
            "3000.0 was not stored as the integer 3000",
            f"amount came back as {amount!r}",
            operation="createCheckout",
            expected={"amount": 3000},
            received={"amount": amount},
        )
