"""Request validation: the compiled fast path accepts what jsonschema accepts, and refusals keep
jsonschema's wording; schemas it cannot compile (recursive refs) still validate."""

from __future__ import annotations

from typing import Any

import pytest

from neuropay_contract.contract import create_body
from neuropay_contract.server.validation import RequestValidator
from neuropay_contract.spec import ApiSpec, load_spec


@pytest.fixture(scope="module")
def spec() -> ApiSpec:
    return load_spec()


def _schema(spec: ApiSpec, operation_id: str) -> Any:
    return next(
        op.request_schema for op in spec.operations.values() if op.operation_id == operation_id
    )


@pytest.mark.parametrize(
    "body",
    [
        {**create_body(), "message": "x" * 5000},
        {**create_body(), "returnUrl": "not a url"},
        {**create_body(), "amount": -1},
        {**create_body(), "email": '"a b"@example.com'},
        {**create_body(), "amount": 2**80},
        {**create_body(), "metaData": {"k": float("inf")}},
        {key: value for key, value in create_body().items() if key != "currency"},
        [],
    ],
)
def test_refusals_are_worded_by_jsonschema(spec: ApiSpec, body: Any) -> None:
    schema = _schema(spec, "createCheckout")
    slow = list(spec.validator(schema).iter_errors(body))
    error = RequestValidator(spec, schema).first_error(body)
    if not slow:
        assert error is None
    else:
        assert error is not None
        assert error.message in {e.message for e in slow}


def test_valid_bodies_pass(spec: ApiSpec) -> None:
    assert (
        RequestValidator(spec, _schema(spec, "createCheckout")).first_error(create_body()) is None
    )


def test_a_recursive_schema_falls_back_to_jsonschema(spec: ApiSpec) -> None:
    tree = {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Tree"}}}
    recursive = ApiSpec(
        {**spec.document, "components": {"schemas": {"Tree": tree}}}, spec.path, spec.text
    )
    validator = RequestValidator(recursive, {"$ref": "#/components/schemas/Tree"})
    assert validator.first_error({"child": {"child": {}}}) is None
    error = validator.first_error({"child": {"child": 3}})
    assert error is not None and "is not of type 'object'" in error.message


def test_formats_are_checked_by_the_specs_own_functions(spec: ApiSpec) -> None:
    """jsonschema-rs alone accepts a quoted local part with a space; the spec's email does not."""
    schema = _schema(spec, "createCustomer")
    body = {"first_name": "A", "last_name": "B", "email": '"a b"@example.com'}
    assert not spec.validator(schema).is_valid(body)
    assert RequestValidator(spec, schema).first_error(body) is not None


def test_patterns_with_class_escapes_are_left_to_jsonschema(spec: ApiSpec) -> None:
    """\\d is ASCII for the spec (ECMA-262) but Unicode for jsonschema-rs: Arabic-Indic digits."""
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^\\d+$"}}}
    body = {"code": "\u0661\u0662"}
    assert not spec.validator(schema).is_valid(body)
    assert RequestValidator(spec, schema).first_error(body) is not None
