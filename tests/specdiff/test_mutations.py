"""The mutation corpus: each rule of ``neuropay spec diff`` met by an edited copy of the spec.

Every case edits a copy of ``spec/openapi.yaml`` (the old side optionally too) and names the
rule, severity, side and JSON pointers a reviewer should see. Severity and side are written here,
not read from the rule table, so a change to the table's classification fails a test.
"""

from __future__ import annotations

from typing import Any

import pytest

from neuropay_contract.specdiff import RULES

from .conftest import Mutation, diff_pair

CREATE = "#/paths/~1checkout~1create/post"
RETRIEVE = "#/paths/~1checkout~1retrieve/post"
CAPTURE = "#/paths/~1checkout~1capture/post"
DELETE = "#/paths/~1checkout~1delete/post"
SCHEMAS = "#/components/schemas"
CCR = f"{SCHEMAS}/CreateCheckoutRequest"
LC = "#/x-lifecycle"
TM = "#/x-test-mode"
IDEM = "#/x-idempotency"


def op(d: dict[str, Any], path: str) -> dict[str, Any]:
    result: dict[str, Any] = d["paths"][path]["post"]
    return result


def schema(d: dict[str, Any], name: str) -> dict[str, Any]:
    result: dict[str, Any] = d["components"]["schemas"][name]
    return result


def props(d: dict[str, Any], name: str) -> dict[str, Any]:
    result: dict[str, Any] = schema(d, name)["properties"]
    return result


def lc(d: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = d["x-lifecycle"]
    return result


def variants(*titles: str) -> dict[str, Any]:
    return {"oneOf": [{"title": t, "type": "string" if t != "bool" else "boolean"} for t in titles]}


def rename_key(mapping: dict[str, Any], old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


def _move_delete(d: dict[str, Any]) -> None:
    rename_key(d["paths"], "/checkout/delete", "/checkout/remove")


def _add_operation(d: dict[str, Any]) -> None:
    new = dict(op(d, "/checkout/retrieve"), operationId="listCheckouts")
    d["paths"]["/checkout/list"] = {"post": new}


def _header_param(required: bool) -> Mutation:
    def edit(d: dict[str, Any]) -> None:
        param = {
            "name": "X-Merchant",
            "in": "header",
            "required": required,
            "schema": {"type": "string"},
        }
        op(d, "/checkout/retrieve")["parameters"] = [param]

    return edit


def _require_idempotency_key(d: dict[str, Any]) -> None:
    d["components"]["parameters"]["IdempotencyKey"]["required"] = True


def _transition_index(d: dict[str, Any], name: str) -> int:
    return next(i for i, t in enumerate(lc(d)["transitions"]) if t["name"] == name)


def _forbid_refund_more(d: dict[str, Any]) -> None:
    del lc(d)["transitions"][_transition_index(d, "refund_more")]
    lc(d)["forbidden"].append(
        {
            "status": "partialRefund",
            "operation": "refundCheckout",
            "http": 409,
            "code": "invalid_status",
        }
    )


def _allow_capture_when_paid(d: dict[str, Any]) -> None:
    lc(d)["transitions"].append(
        {
            "name": "recapture",
            "from": "paid",
            "to": "paid",
            "operation": "captureCheckout",
            "guard": [],
        }
    )


def _error_code(code: str, http: int) -> Mutation:
    def edit(d: dict[str, Any]) -> None:
        schema(d, "ErrorCode")["enum"].append(code)
        schema(d, "ErrorCode")["x-error-codes"][code] = {"http": http, "description": "new"}

    return edit


def _drop_error_code(d: dict[str, Any]) -> None:
    schema(d, "ErrorCode")["enum"].remove("idempotency_key_reused")
    del schema(d, "ErrorCode")["x-error-codes"]["idempotency_key_reused"]


def _add_scheme(d: dict[str, Any]) -> None:
    d["components"]["securitySchemes"]["merchantKey"] = {
        "type": "apiKey",
        "in": "header",
        "name": "X-Merchant-Key",
    }


def _two_schemes(d: dict[str, Any]) -> None:
    _add_scheme(d)
    d["security"] = [{"bearerAuth": [], "merchantKey": []}]


def _alternatives(d: dict[str, Any]) -> None:
    _add_scheme(d)
    d["security"] = [{"bearerAuth": []}, {"merchantKey": []}]


def _scoped(d: dict[str, Any]) -> None:
    d["security"] = [{"bearerAuth": ["checkout:write"]}]


def _public_retrieve(d: dict[str, Any]) -> None:
    op(d, "/checkout/retrieve")["security"] = [{"bearerAuth": []}, {}]


def _precedence(d: dict[str, Any]) -> None:
    # The shape of the spec's x-precedence (a list of steps), fixed here so the test does not
    # depend on the spec's current steps.
    d["x-precedence"] = [
        {"step": "path", "http": 404, "codes": ["not_found"]},
        {"step": "method", "http": 405, "codes": ["method_not_allowed"]},
        {"step": "api_key", "http": 401, "codes": ["missing_api_key"]},
    ]


_REFUND_REASON_ENUM = f"{SCHEMAS}/RefundReason/enum"

# (rule, severity, side, old pointer, new pointer, edit of the new copy, edit of both copies first)
CASES: list[tuple[str, str, str, str | None, str | None, Mutation, Mutation | None]] = [
    # operations
    (
        "operation-removed",
        "breaking",
        "client",
        DELETE,
        None,
        lambda d: d["paths"].pop("/checkout/delete"),
        None,
    ),
    (
        "deprecated-operation-removed",
        "warning",
        "client",
        DELETE,
        None,
        lambda d: d["paths"].pop("/checkout/delete"),
        lambda d: op(d, "/checkout/delete").update(deprecated=True),
    ),
    (
        "operation-moved",
        "breaking",
        "both",
        DELETE,
        "#/paths/~1checkout~1remove/post",
        _move_delete,
        None,
    ),
    (
        "operation-id-changed",
        "breaking",
        "client",
        f"{CREATE}/operationId",
        f"{CREATE}/operationId",
        lambda d: op(d, "/checkout/create").update(operationId="makeCheckout"),
        None,
    ),
    (
        "operation-added",
        "safe",
        "server",
        None,
        "#/paths/~1checkout~1list/post",
        _add_operation,
        None,
    ),
    (
        "operation-deprecated",
        "warning",
        "client",
        RETRIEVE,
        f"{RETRIEVE}/deprecated",
        lambda d: op(d, "/checkout/retrieve").update(deprecated=True),
        None,
    ),
    # parameters
    (
        "request-parameter-added-required",
        "breaking",
        "client",
        RETRIEVE,
        f"{RETRIEVE}/parameters/0",
        _header_param(True),
        None,
    ),
    (
        "request-parameter-added-optional",
        "safe",
        "server",
        RETRIEVE,
        f"{RETRIEVE}/parameters/0",
        _header_param(False),
        None,
    ),
    (
        "request-parameter-removed",
        "warning",
        "client",
        "#/components/parameters/IdempotencyKey",
        CREATE,
        lambda d: op(d, "/checkout/create").pop("parameters"),
        None,
    ),
    (
        "request-parameter-became-required",
        "breaking",
        "client",
        "#/components/parameters/IdempotencyKey",
        "#/components/parameters/IdempotencyKey",
        _require_idempotency_key,
        None,
    ),
    (
        "request-parameter-became-optional",
        "warning",
        "server",
        f"{RETRIEVE}/parameters/0",
        f"{RETRIEVE}/parameters/0",
        _header_param(False),
        _header_param(True),
    ),
    # request bodies
    (
        "request-body-became-required",
        "breaking",
        "client",
        f"{RETRIEVE}/requestBody/required",
        f"{RETRIEVE}/requestBody/required",
        lambda d: op(d, "/checkout/retrieve")["requestBody"].update(required=True),
        lambda d: op(d, "/checkout/retrieve")["requestBody"].update(required=False),
    ),
    (
        "request-body-became-optional",
        "warning",
        "server",
        f"{RETRIEVE}/requestBody/required",
        f"{RETRIEVE}/requestBody/required",
        lambda d: op(d, "/checkout/retrieve")["requestBody"].update(required=False),
        None,
    ),
    (
        "request-body-removed",
        "warning",
        "client",
        f"{RETRIEVE}/requestBody",
        RETRIEVE,
        lambda d: op(d, "/checkout/retrieve").pop("requestBody"),
        None,
    ),
    (
        "request-content-type-removed",
        "breaking",
        "client",
        f"{RETRIEVE}/requestBody/content/application~1json",
        f"{RETRIEVE}/requestBody/content",
        lambda d: rename_key(
            op(d, "/checkout/retrieve")["requestBody"]["content"],
            "application/json",
            "application/merge-patch+json",
        ),
        None,
    ),
    (
        "request-content-type-added",
        "safe",
        "server",
        f"{RETRIEVE}/requestBody/content",
        f"{RETRIEVE}/requestBody/content/text~1plain",
        lambda d: op(d, "/checkout/retrieve")["requestBody"]["content"].update(
            {"text/plain": {"schema": {"type": "string"}}}
        ),
        None,
    ),
    # request schemas
    (
        "request-property-added-required",
        "breaking",
        "client",
        CCR,
        f"{CCR}/properties/merchant_ref",
        lambda d: (
            props(d, "CreateCheckoutRequest").update(merchant_ref={"type": "string"}),
            schema(d, "CreateCheckoutRequest")["required"].append("merchant_ref"),
        ),
        None,
    ),
    (
        "request-property-added-optional",
        "safe",
        "server",
        CCR,
        f"{CCR}/properties/merchant_ref",
        lambda d: props(d, "CreateCheckoutRequest").update(merchant_ref={"type": "string"}),
        None,
    ),
    (
        "request-property-removed-closed",
        "breaking",
        "client",
        f"{CCR}/properties/template",
        CCR,
        lambda d: props(d, "CreateCheckoutRequest").pop("template"),
        None,
    ),
    (
        "request-property-removed",
        "warning",
        "client",
        f"{CCR}/properties/template",
        CCR,
        lambda d: props(d, "CreateCheckoutRequest").pop("template"),
        lambda d: schema(d, "CreateCheckoutRequest").pop("additionalProperties"),
    ),
    (
        "request-property-became-required",
        "breaking",
        "client",
        f"{CCR}/properties/identifier",
        f"{CCR}/properties/identifier",
        lambda d: schema(d, "CreateCheckoutRequest")["required"].append("identifier"),
        None,
    ),
    (
        "request-property-became-optional",
        "warning",
        "server",
        f"{CCR}/properties/message",
        f"{CCR}/properties/message",
        lambda d: schema(d, "CreateCheckoutRequest")["required"].remove("message"),
        None,
    ),
    (
        "request-type-changed",
        "breaking",
        "client",
        f"{CCR}/properties/capture",
        f"{CCR}/properties/capture",
        lambda d: props(d, "CreateCheckoutRequest")["capture"].update(type="string"),
        None,
    ),
    (
        "request-type-widened",
        "warning",
        "server",
        f"{CCR}/properties/capture",
        f"{CCR}/properties/capture",
        lambda d: props(d, "CreateCheckoutRequest")["capture"].update(type=["boolean", "string"]),
        None,
    ),
    (
        "request-enum-value-removed",
        "breaking",
        "client",
        f"{_REFUND_REASON_ENUM}/0",
        _REFUND_REASON_ENUM,
        lambda d: schema(d, "RefundReason")["enum"].remove("duplicate"),
        None,
    ),
    (
        "request-enum-value-added",
        "warning",
        "server",
        _REFUND_REASON_ENUM,
        f"{_REFUND_REASON_ENUM}/4",
        lambda d: schema(d, "RefundReason")["enum"].append("chargeback"),
        None,
    ),
    (
        "request-bound-tightened",
        "breaking",
        "client",
        f"{SCHEMAS}/CardId/maxLength",
        f"{SCHEMAS}/CardId/maxLength",
        lambda d: schema(d, "CardId").update(maxLength=32),
        None,
    ),
    (
        "request-bound-tightened",
        "breaking",
        "client",
        f"{SCHEMAS}/Currency/pattern",
        f"{SCHEMAS}/Currency/pattern",
        lambda d: schema(d, "Currency").update(pattern="^(SEK|EUR)$"),
        None,
    ),
    (
        "request-bound-tightened",
        "breaking",
        "client",
        f"{CCR}/properties/identifier/minLength",
        f"{CCR}/properties/identifier/minLength",
        lambda d: props(d, "CreateCheckoutRequest")["identifier"].update(minLength=4),
        None,
    ),
    (
        "request-bound-loosened",
        "warning",
        "server",
        f"{SCHEMAS}/CardId/maxLength",
        f"{SCHEMAS}/CardId/maxLength",
        lambda d: schema(d, "CardId").update(maxLength=128),
        None,
    ),
    (
        "request-additional-properties-closed",
        "breaking",
        "client",
        f"{SCHEMAS}/CheckoutIdRequest",
        f"{SCHEMAS}/CheckoutIdRequest",
        lambda d: schema(d, "CheckoutIdRequest").update(additionalProperties=False),
        lambda d: schema(d, "CheckoutIdRequest").pop("additionalProperties"),
    ),
    (
        "request-additional-properties-opened",
        "warning",
        "server",
        f"{SCHEMAS}/CheckoutIdRequest",
        f"{SCHEMAS}/CheckoutIdRequest",
        lambda d: schema(d, "CheckoutIdRequest").update(additionalProperties=True),
        None,
    ),
    (
        "request-nullable-removed",
        "breaking",
        "client",
        f"{CCR}/properties/message",
        f"{CCR}/properties/message",
        lambda d: props(d, "CreateCheckoutRequest")["message"].update(type="string"),
        lambda d: props(d, "CreateCheckoutRequest")["message"].update(type=["string", "null"]),
    ),
    (
        "request-nullable-added",
        "warning",
        "server",
        f"{CCR}/properties/message",
        f"{CCR}/properties/message",
        lambda d: props(d, "CreateCheckoutRequest")["message"].update(type=["string", "null"]),
        None,
    ),
    (
        "request-format-changed",
        "warning",
        "both",
        f"{SCHEMAS}/CreateCustomerRequest/properties/email",
        f"{SCHEMAS}/CreateCustomerRequest/properties/email/format",
        lambda d: props(d, "CreateCustomerRequest")["email"].update(format="idn-email"),
        None,
    ),
    (
        "request-variant-removed",
        "breaking",
        "client",
        f"{CCR}/properties/capture/oneOf/1",
        f"{CCR}/properties/capture",
        lambda d: props(d, "CreateCheckoutRequest").update(capture=variants("bool")),
        lambda d: props(d, "CreateCheckoutRequest").update(capture=variants("bool", "word")),
    ),
    (
        "request-variant-added",
        "warning",
        "server",
        f"{CCR}/properties/capture",
        f"{CCR}/properties/capture/oneOf/1",
        lambda d: props(d, "CreateCheckoutRequest").update(capture=variants("bool", "word")),
        lambda d: props(d, "CreateCheckoutRequest").update(capture=variants("bool")),
    ),
    # response schemas
    (
        "response-property-removed",
        "breaking",
        "client",
        f"{SCHEMAS}/Checkout/properties/url",
        f"{SCHEMAS}/Checkout",
        lambda d: (
            props(d, "Checkout").pop("url"),
            schema(d, "Checkout")["required"].remove("url"),
        ),
        None,
    ),
    (
        "response-optional-property-removed",
        "warning",
        "client",
        f"{SCHEMAS}/Checkout/properties/updated",
        f"{SCHEMAS}/Checkout",
        lambda d: props(d, "Checkout").pop("updated"),
        lambda d: schema(d, "Checkout")["required"].remove("updated"),
    ),
    (
        "response-property-added",
        "warning",
        "client",
        f"{SCHEMAS}/Checkout",
        f"{SCHEMAS}/Checkout/properties/receipt_url",
        lambda d: props(d, "Checkout").update(receipt_url={"type": "string"}),
        None,
    ),
    (
        "response-property-added-open",
        "safe",
        "client",
        f"{SCHEMAS}/Checkout",
        f"{SCHEMAS}/Checkout/properties/receipt_url",
        lambda d: props(d, "Checkout").update(receipt_url={"type": "string"}),
        lambda d: schema(d, "Checkout").pop("additionalProperties"),
    ),
    (
        "response-required-property-added",
        "warning",
        "both",
        f"{SCHEMAS}/Checkout",
        f"{SCHEMAS}/Checkout/properties/receipt_url",
        lambda d: (
            props(d, "Checkout").update(receipt_url={"type": "string"}),
            schema(d, "Checkout")["required"].append("receipt_url"),
        ),
        None,
    ),
    (
        "response-property-became-optional",
        "breaking",
        "client",
        f"{SCHEMAS}/Checkout/properties/url",
        f"{SCHEMAS}/Checkout/properties/url",
        lambda d: schema(d, "Checkout")["required"].remove("url"),
        None,
    ),
    (
        "response-property-became-required",
        "warning",
        "server",
        f"{SCHEMAS}/Checkout/properties/url",
        f"{SCHEMAS}/Checkout/properties/url",
        lambda d: schema(d, "Checkout")["required"].append("url"),
        lambda d: schema(d, "Checkout")["required"].remove("url"),
    ),
    (
        "response-property-became-nullable",
        "breaking",
        "client",
        f"{SCHEMAS}/Checkout/properties/message",
        f"{SCHEMAS}/Checkout/properties/message",
        lambda d: props(d, "Checkout")["message"].update(type=["string", "null"]),
        None,
    ),
    (
        "response-nullable-removed",
        "warning",
        "server",
        f"{SCHEMAS}/Checkout/properties/customer_id",
        f"{SCHEMAS}/Id",
        lambda d: props(d, "Checkout").update(customer_id={"$ref": f"{SCHEMAS}/Id"}),
        None,
    ),
    (
        "response-type-changed",
        "breaking",
        "client",
        f"{SCHEMAS}/Checkout/properties/livemode",
        f"{SCHEMAS}/Checkout/properties/livemode",
        lambda d: props(d, "Checkout")["livemode"].update(type="string"),
        None,
    ),
    (
        "response-type-narrowed",
        "warning",
        "server",
        f"{SCHEMAS}/Checkout/properties/livemode",
        f"{SCHEMAS}/Checkout/properties/livemode",
        lambda d: props(d, "Checkout")["livemode"].update(type="boolean"),
        lambda d: props(d, "Checkout")["livemode"].update(type=["boolean", "string"]),
    ),
    (
        "response-enum-value-added",
        "breaking",
        "client",
        f"{SCHEMAS}/CheckoutStatus/enum",
        f"{SCHEMAS}/CheckoutStatus/enum/9",
        lambda d: schema(d, "CheckoutStatus")["enum"].append("disputed"),
        None,
    ),
    (
        "response-enum-value-added",
        "breaking",
        "client",
        _REFUND_REASON_ENUM,
        f"{_REFUND_REASON_ENUM}/4",
        lambda d: schema(d, "RefundReason")["enum"].append("chargeback"),
        None,
    ),
    (
        "response-enum-value-removed",
        "warning",
        "server",
        f"{SCHEMAS}/CheckoutStatus/enum/8",
        f"{SCHEMAS}/CheckoutStatus/enum",
        lambda d: schema(d, "CheckoutStatus")["enum"].remove("revoked"),
        None,
    ),
    (
        "response-bound-loosened",
        "warning",
        "client",
        f"{SCHEMAS}/CardId/maxLength",
        f"{SCHEMAS}/CardId/maxLength",
        lambda d: schema(d, "CardId").update(maxLength=128),
        None,
    ),
    (
        "response-bound-tightened",
        "warning",
        "server",
        f"{SCHEMAS}/CardId/maxLength",
        f"{SCHEMAS}/CardId/maxLength",
        lambda d: schema(d, "CardId").update(maxLength=32),
        None,
    ),
    (
        "response-additional-properties-opened",
        "warning",
        "client",
        f"{SCHEMAS}/Checkout",
        f"{SCHEMAS}/Checkout",
        lambda d: schema(d, "Checkout").update(additionalProperties=True),
        None,
    ),
    (
        "response-additional-properties-closed",
        "warning",
        "server",
        f"{SCHEMAS}/Checkout",
        f"{SCHEMAS}/Checkout",
        lambda d: schema(d, "Checkout").update(additionalProperties=False),
        lambda d: schema(d, "Checkout").pop("additionalProperties"),
    ),
    (
        "response-format-changed",
        "warning",
        "client",
        f"{SCHEMAS}/Timestamp",
        f"{SCHEMAS}/Timestamp/format",
        lambda d: schema(d, "Timestamp").update(format="date"),
        None,
    ),
    (
        "response-variant-added",
        "breaking",
        "client",
        f"{SCHEMAS}/Checkout/properties/livemode",
        f"{SCHEMAS}/Checkout/properties/livemode/oneOf/1",
        lambda d: props(d, "Checkout").update(livemode=variants("bool", "word")),
        lambda d: props(d, "Checkout").update(livemode=variants("bool")),
    ),
    (
        "response-variant-removed",
        "warning",
        "server",
        f"{SCHEMAS}/Checkout/properties/livemode/oneOf/1",
        f"{SCHEMAS}/Checkout/properties/livemode",
        lambda d: props(d, "Checkout").update(livemode=variants("bool")),
        lambda d: props(d, "Checkout").update(livemode=variants("bool", "word")),
    ),
    # responses
    (
        "response-success-status-removed",
        "breaking",
        "client",
        f"{RETRIEVE}/responses/200",
        f"{RETRIEVE}/responses",
        lambda d: op(d, "/checkout/retrieve")["responses"].pop("200"),
        None,
    ),
    (
        "response-success-status-added",
        "breaking",
        "client",
        f"{CAPTURE}/responses",
        f"{CAPTURE}/responses/202",
        lambda d: op(d, "/checkout/capture")["responses"].update(
            {"202": {"description": "Accepted"}}
        ),
        None,
    ),
    (
        "response-error-status-added",
        "warning",
        "client",
        f"{RETRIEVE}/responses",
        f"{RETRIEVE}/responses/429",
        lambda d: op(d, "/checkout/retrieve")["responses"].update(
            {"429": {"description": "Slow down"}}
        ),
        None,
    ),
    (
        "response-error-status-removed",
        "warning",
        "both",
        f"{RETRIEVE}/responses/413",
        f"{RETRIEVE}/responses",
        lambda d: op(d, "/checkout/retrieve")["responses"].pop("413"),
        None,
    ),
    (
        "response-header-removed",
        "breaking",
        "client",
        f"{CREATE}/responses/200/headers/Idempotent-Replayed",
        f"{CREATE}/responses/200",
        lambda d: op(d, "/checkout/create")["responses"]["200"].pop("headers"),
        None,
    ),
    (
        "response-header-became-optional",
        "breaking",
        "client",
        "#/components/headers/IdempotentReplayed",
        "#/components/headers/IdempotentReplayed",
        lambda d: d["components"]["headers"]["IdempotentReplayed"].update(required=False),
        lambda d: d["components"]["headers"]["IdempotentReplayed"].update(required=True),
    ),
    (
        "response-header-added",
        "safe",
        "server",
        f"{RETRIEVE}/responses/200",
        f"{RETRIEVE}/responses/200/headers/X-Request-Id",
        lambda d: op(d, "/checkout/retrieve")["responses"]["200"].update(
            headers={"X-Request-Id": {"schema": {"type": "string"}}}
        ),
        None,
    ),
    (
        "response-content-type-removed",
        "breaking",
        "client",
        f"{RETRIEVE}/responses/200/content/application~1json",
        f"{RETRIEVE}/responses/200/content",
        lambda d: rename_key(
            op(d, "/checkout/retrieve")["responses"]["200"]["content"],
            "application/json",
            "application/hal+json",
        ),
        None,
    ),
    (
        "response-content-type-added",
        "warning",
        "client",
        f"{RETRIEVE}/responses/200/content",
        f"{RETRIEVE}/responses/200/content/text~1csv",
        lambda d: op(d, "/checkout/retrieve")["responses"]["200"]["content"].update(
            {"text/csv": {"schema": {"type": "string"}}}
        ),
        None,
    ),
    # errors
    (
        "error-code-removed",
        "breaking",
        "client",
        f"{SCHEMAS}/ErrorCode/x-error-codes/idempotency_key_reused",
        f"{SCHEMAS}/ErrorCode/x-error-codes",
        _drop_error_code,
        None,
    ),
    (
        "error-code-status-changed",
        "breaking",
        "client",
        f"{SCHEMAS}/ErrorCode/x-error-codes/invalid_status/http",
        f"{SCHEMAS}/ErrorCode/x-error-codes/invalid_status/http",
        lambda d: schema(d, "ErrorCode")["x-error-codes"]["invalid_status"].update(http=422),
        None,
    ),
    (
        "error-code-added",
        "warning",
        "client",
        f"{SCHEMAS}/ErrorCode/x-error-codes",
        f"{SCHEMAS}/ErrorCode/x-error-codes/rate_limited",
        _error_code("rate_limited", 429),
        None,
    ),
    # security
    ("security-scheme-added", "breaking", "client", "#/security", "#/security", _two_schemes, None),
    (
        "security-alternative-removed",
        "breaking",
        "client",
        "#/security",
        "#/security",
        lambda d: d.update(security=[{"bearerAuth": []}]),
        _alternatives,
    ),
    ("security-scopes-added", "breaking", "client", "#/security", "#/security", _scoped, None),
    (
        "security-scopes-removed",
        "warning",
        "server",
        "#/security",
        "#/security",
        lambda d: d.update(security=[{"bearerAuth": []}]),
        _scoped,
    ),
    (
        "security-alternative-added",
        "warning",
        "server",
        "#/security",
        f"{RETRIEVE}/security",
        _public_retrieve,
        None,
    ),
    (
        "security-scheme-changed",
        "breaking",
        "both",
        "#/components/securitySchemes/bearerAuth",
        "#/components/securitySchemes/bearerAuth",
        lambda d: d["components"]["securitySchemes"]["bearerAuth"].update(scheme="basic"),
        None,
    ),
    # x-lifecycle
    (
        "lifecycle-status-added",
        "breaking",
        "client",
        f"{LC}/states",
        f"{LC}/states/disputed",
        lambda d: lc(d)["states"].update(disputed={"description": "d"}),
        None,
    ),
    (
        "lifecycle-status-removed",
        "breaking",
        "both",
        f"{LC}/states/revoked",
        f"{LC}/states",
        lambda d: lc(d)["states"].pop("revoked"),
        None,
    ),
    (
        "lifecycle-transition-removed",
        "breaking",
        "client",
        f"{LC}/transitions/10",
        f"{LC}/transitions",
        lambda d: lc(d)["transitions"].pop(10),
        None,
    ),
    (
        "lifecycle-transition-forbidden",
        "breaking",
        "client",
        f"{LC}/transitions/15",
        f"{LC}/forbidden/45",
        _forbid_refund_more,
        None,
    ),
    (
        "lifecycle-transition-added",
        "warning",
        "server",
        f"{LC}/transitions",
        f"{LC}/transitions/17",
        _allow_capture_when_paid,
        None,
    ),
    (
        "lifecycle-transition-target-changed",
        "breaking",
        "both",
        f"{LC}/transitions/10/to",
        f"{LC}/transitions/10/to",
        lambda d: lc(d)["transitions"][10].update(to="refunded"),
        None,
    ),
    (
        "lifecycle-guard-changed",
        "breaking",
        "both",
        f"{LC}/transitions/0/guard",
        f"{LC}/transitions/0/guard",
        lambda d: lc(d)["transitions"][0].update(guard=["no_card", "capture_true"]),
        None,
    ),
    (
        "lifecycle-guard-changed",
        "breaking",
        "both",
        f"{LC}/rejections/2/guard",
        f"{LC}/rejections/2/guard",
        lambda d: lc(d)["rejections"][2].update(guard="amount_full"),
        None,
    ),
    (
        "lifecycle-guard-removed",
        "breaking",
        "both",
        f"{LC}/guards/amount_exceeds",
        f"{LC}/guards",
        lambda d: lc(d)["guards"].pop("amount_exceeds"),
        None,
    ),
    (
        "lifecycle-guard-added",
        "warning",
        "server",
        f"{LC}/guards",
        f"{LC}/guards/fraud_check",
        lambda d: lc(d)["guards"].update(fraud_check="risky"),
        None,
    ),
    (
        "lifecycle-forbidden-answer-changed",
        "breaking",
        "client",
        f"{LC}/forbidden/0",
        f"{LC}/forbidden/0",
        lambda d: lc(d)["forbidden"][0].update(http=422),
        None,
    ),
    (
        "lifecycle-forbidden-added",
        "warning",
        "both",
        f"{LC}/forbidden",
        f"{LC}/forbidden/45",
        lambda d: lc(d)["forbidden"].append(
            {
                "status": "created",
                "operation": "updateCheckout",
                "http": 409,
                "code": "invalid_status",
            }
        ),
        None,
    ),
    (
        "lifecycle-forbidden-removed",
        "warning",
        "client",
        f"{LC}/forbidden/0",
        f"{LC}/forbidden",
        lambda d: lc(d)["forbidden"].pop(0),
        None,
    ),
    (
        "lifecycle-rejection-added",
        "breaking",
        "client",
        f"{LC}/rejections",
        f"{LC}/rejections/4",
        lambda d: lc(d)["rejections"].append(
            {
                "from": "paid",
                "operation": "captureCheckout",
                "guard": "amount_full",
                "http": 409,
                "code": "invalid_status",
            }
        ),
        None,
    ),
    (
        "lifecycle-rejection-removed",
        "warning",
        "server",
        f"{LC}/rejections/0",
        f"{LC}/rejections",
        lambda d: lc(d)["rejections"].pop(0),
        None,
    ),
    (
        "lifecycle-rejection-answer-changed",
        "breaking",
        "client",
        f"{LC}/rejections/0",
        f"{LC}/rejections/0",
        lambda d: lc(d)["rejections"][0].update(code="refund_exceeds_remaining"),
        None,
    ),
    (
        "lifecycle-unrestricted-removed",
        "breaking",
        "client",
        f"{LC}/unrestricted/1",
        f"{LC}/unrestricted",
        lambda d: lc(d)["unrestricted"].remove("updateCheckout"),
        None,
    ),
    (
        "lifecycle-unrestricted-added",
        "warning",
        "server",
        f"{LC}/unrestricted",
        f"{LC}/unrestricted/2",
        lambda d: lc(d)["unrestricted"].append("deleteCheckout"),
        None,
    ),
    (
        "lifecycle-event-removed",
        "breaking",
        "client",
        f"{LC}/events/platform.expire",
        f"{LC}/events",
        lambda d: lc(d)["events"].pop("platform.expire"),
        None,
    ),
    (
        "lifecycle-event-helper-changed",
        "breaking",
        "client",
        f"{LC}/events/customer.cancel",
        f"{LC}/events/customer.cancel",
        lambda d: lc(d)["events"]["customer.cancel"].update(helper="testAbandonCheckout"),
        None,
    ),
    (
        "lifecycle-event-added",
        "warning",
        "server",
        f"{LC}/events",
        f"{LC}/events/platform.dispute",
        lambda d: lc(d)["events"].update(
            {"platform.dispute": {"description": "x", "helper": None}}
        ),
        None,
    ),
    (
        "lifecycle-initial-final-changed",
        "warning",
        "both",
        f"{LC}/final",
        f"{LC}/final",
        lambda d: lc(d)["final"].remove("failed"),
        None,
    ),
    (
        "lifecycle-field-changed",
        "breaking",
        "both",
        f"{LC}/field",
        f"{LC}/field",
        lambda d: lc(d).update(field="state"),
        None,
    ),
    # x-test-mode
    (
        "test-mode-card-removed",
        "breaking",
        "client",
        f"{TM}/hosted_page_cards/1",
        f"{TM}/hosted_page_cards",
        lambda d: d["x-test-mode"]["hosted_page_cards"].pop(1),
        None,
    ),
    (
        "test-mode-card-outcome-changed",
        "breaking",
        "client",
        f"{TM}/card_ids/0/outcome",
        f"{TM}/card_ids/0/outcome",
        lambda d: d["x-test-mode"]["card_ids"][0].update(outcome="decline"),
        None,
    ),
    (
        "test-mode-card-added",
        "warning",
        "server",
        f"{TM}/card_ids",
        f"{TM}/card_ids/2",
        lambda d: d["x-test-mode"]["card_ids"].append(
            {"card_id": "card_test_expired", "outcome": "decline"}
        ),
        None,
    ),
    (
        "test-mode-helper-removed",
        "breaking",
        "client",
        f"{TM}/helpers/2",
        f"{TM}/helpers",
        lambda d: d["x-test-mode"]["helpers"].pop(2),
        None,
    ),
    (
        "test-mode-helper-changed",
        "breaking",
        "client",
        f"{TM}/helpers/1/event",
        f"{TM}/helpers/1/event",
        lambda d: d["x-test-mode"]["helpers"][1].update(event="platform.expire"),
        None,
    ),
    (
        "test-mode-helper-added",
        "warning",
        "server",
        f"{TM}/helpers",
        f"{TM}/helpers/3",
        lambda d: d["x-test-mode"]["helpers"].append(
            {"operation": "retrieveCheckout", "event": "customer.pay"}
        ),
        None,
    ),
    (
        "test-mode-key-prefix-changed",
        "breaking",
        "both",
        f"{TM}/key_prefixes/test",
        f"{TM}/key_prefixes/test",
        lambda d: d["x-test-mode"]["key_prefixes"].update(test="sk_sandbox_"),
        None,
    ),
    (
        "test-mode-answer-changed",
        "breaking",
        "client",
        f"{TM}/live_key_answer",
        f"{TM}/live_key_answer",
        lambda d: d["x-test-mode"].update(live_key_answer={"http": 401, "code": "test_mode_only"}),
        None,
    ),
    # x-idempotency
    (
        "idempotency-operation-removed",
        "breaking",
        "client",
        f"{IDEM}/operations/2",
        f"{IDEM}/operations",
        lambda d: d["x-idempotency"]["operations"].remove("refundCheckout"),
        None,
    ),
    (
        "idempotency-operation-added",
        "warning",
        "server",
        f"{IDEM}/operations",
        f"{IDEM}/operations/10",
        lambda d: d["x-idempotency"]["operations"].append("retrieveCheckout"),
        None,
    ),
    (
        "idempotency-header-changed",
        "breaking",
        "both",
        f"{IDEM}/header",
        f"{IDEM}/header",
        lambda d: d["x-idempotency"].update(header="X-Idempotency-Key"),
        None,
    ),
    (
        "idempotency-retention-shortened",
        "breaking",
        "client",
        f"{IDEM}/retention_hours",
        f"{IDEM}/retention_hours",
        lambda d: d["x-idempotency"].update(retention_hours=1),
        None,
    ),
    (
        "idempotency-retention-extended",
        "warning",
        "server",
        f"{IDEM}/retention_hours",
        f"{IDEM}/retention_hours",
        lambda d: d["x-idempotency"].update(retention_hours=48),
        None,
    ),
    (
        "idempotency-conflict-changed",
        "breaking",
        "client",
        f"{IDEM}/conflict",
        f"{IDEM}/conflict",
        lambda d: d["x-idempotency"].update(
            conflict={"http": 422, "code": "idempotency_key_reused"}
        ),
        None,
    ),
    (
        "idempotency-scope-changed",
        "breaking",
        "both",
        f"{IDEM}/scope",
        f"{IDEM}/scope",
        lambda d: d["x-idempotency"].update(scope="merchant"),
        None,
    ),
    # x-limits
    (
        "limit-tightened",
        "breaking",
        "client",
        "#/x-limits/max_json_depth",
        "#/x-limits/max_json_depth",
        lambda d: d["x-limits"].update(max_json_depth=16),
        None,
    ),
    (
        "limit-loosened",
        "warning",
        "server",
        "#/x-limits/max_body_bytes",
        "#/x-limits/max_body_bytes",
        lambda d: d["x-limits"].update(max_body_bytes=131072),
        None,
    ),
    (
        "limit-added",
        "breaking",
        "client",
        None,
        "#/x-limits/max_refunds",
        lambda d: d["x-limits"].update(max_refunds=10),
        None,
    ),
    (
        "limit-removed",
        "warning",
        "server",
        "#/x-limits/max_metadata_keys",
        None,
        lambda d: d["x-limits"].pop("max_metadata_keys"),
        None,
    ),
    # other x- extensions, structurally
    (
        "extension-added",
        "safe",
        "both",
        None,
        "#/x-review-notes",
        lambda d: d.update({"x-review-notes": ["auth", "body"]}),
        None,
    ),
    (
        "extension-changed",
        "warning",
        "both",
        "#/x-review-notes",
        "#/x-review-notes",
        lambda d: d.update({"x-review-notes": [{"check": "body"}, {"check": "auth"}]}),
        lambda d: d.update({"x-review-notes": [{"check": "auth"}, {"check": "body"}]}),
    ),
    (
        "extension-added",
        "safe",
        "both",
        "#/x-precedence",
        "#/x-precedence/2",
        lambda d: d["x-precedence"].insert(
            2, {"step": "rate_limit", "http": 429, "codes": ["rate_limited"]}
        ),
        None,
    ),
    (
        "extension-changed",
        "warning",
        "both",
        "#/x-precedence/1/http",
        "#/x-precedence/1/http",
        lambda d: d["x-precedence"][1].update(http=404),
        _precedence,
    ),
    (
        "extension-removed",
        "warning",
        "both",
        "#/x-review-notes",
        None,
        lambda d: d.pop("x-review-notes"),
        lambda d: d.update({"x-review-notes": ["auth", "body"]}),
    ),
    (
        "extension-changed",
        "warning",
        "both",
        f"{IDEM}/details/window",
        f"{IDEM}/details/window",
        lambda d: d["x-idempotency"].update(details={"window": "1h"}),
        lambda d: d["x-idempotency"].update(details={"window": "24h"}),
    ),
    (
        "extension-changed",
        "warning",
        "both",
        "#/paths/~1checkout~1test~1pay/post/x-test-only",
        "#/paths/~1checkout~1test~1pay/post/x-test-only",
        lambda d: op(d, "/checkout/test/pay").update({"x-test-only": False}),
        None,
    ),
]


@pytest.mark.parametrize(
    ("rule_id", "severity", "side", "old_pointer", "new_pointer", "edit", "before"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_each_rule_is_found_with_its_classification_and_pointers(
    rule_id: str,
    severity: str,
    side: str,
    old_pointer: str | None,
    new_pointer: str | None,
    edit: Mutation,
    before: Mutation | None,
) -> None:
    report = diff_pair(edit, before)
    found = [c for c in report.changes if c.rule.id == rule_id]
    assert found, f"{rule_id} not reported; got {[(c.rule.id, c.reason) for c in report.changes]}"
    pointers = [(c.old_pointer, c.new_pointer) for c in found]
    assert (old_pointer, new_pointer) in pointers
    change = found[pointers.index((old_pointer, new_pointer))]
    assert (change.severity.value, change.side.value) == (severity, side)
    assert change.reason and "\n" not in change.reason


def test_every_rule_has_a_mutation() -> None:
    assert set(RULES) - {c[0] for c in CASES} == set()
