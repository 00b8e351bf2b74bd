"""Shared helpers of the suite's checks (not a test module)."""

from __future__ import annotations

from typing import Any

import pytest

from neuropay_contract.contract.plugin import active_spec
from neuropay_contract.spec import ApiSpec

SPEC: ApiSpec = active_spec()  # --np-spec when given: checks are parametrized from it
OPERATIONS = list(SPEC.operations.values())
ID_FIELDS = ("checkout_id", "customer_id")


def np(category: str, operation: str | None = None, status: str | None = None) -> Any:
    return pytest.mark.np_check(category=category, operation=operation, status=status)


def op_params(category: str, predicate: Any = None) -> list[Any]:
    return [
        pytest.param(op.operation_id, id=op.operation_id, marks=np(category, op.operation_id))
        for op in OPERATIONS
        if predicate is None or predicate(op)
    ]


def id_field(operation_id: str) -> str | None:
    schema = SPEC.operation(operation_id).request_schema or {}
    props = SPEC.deref(schema).get("properties", {})
    return next((f for f in ID_FIELDS if f in props), None)


def example_body(operation_id: str) -> dict[str, Any]:
    """The operation's first request example (a valid body)."""
    op = SPEC.operation(operation_id)
    return dict(op.request_examples[0].value) if op.request_examples else {}
