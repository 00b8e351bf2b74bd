"""Every field at the edges of its domain is stored and read back exactly (issue 20 B.1).

The values come from the request schemas (:mod:`neuropay_contract.boundaries`): a new field, a
new enum value or a changed bound is covered without new test code. Each creating operation is
called with the edges packed into a few requests (the k-th request takes the k-th edge of every
field), and each field is compared in the create answer and in the answer of every operation
that shows the object again with its id alone (retrieve, update, delete)."""

from __future__ import annotations

from typing import Any

import pytest

from _support import ID_FIELDS, OPERATIONS, SPEC, example_body, id_field
from neuropay_contract.boundaries import edge_values
from neuropay_contract.contract import ContractClient, ContractViolation, Driver, not_covered
from neuropay_contract.contract.checks import check_response_schema, check_status
from neuropay_contract.spec import Operation


def _schema_ref(op: Operation) -> Any:
    """The 200 answer's schema (resolved: two operations answering one schema share it)."""
    answer = op.responses.get("200")
    return answer.schema if answer is not None else None


def _creates(op: Operation) -> bool:
    """An operation that makes an object: no id in its request, an id in its answer."""
    request = SPEC.deref(op.request_schema or {})
    answer = SPEC.deref(_schema_ref(op) or {})
    return (
        not op.test_only
        and bool(request.get("properties"))
        and not set(request.get("required", ())) & set(ID_FIELDS)
        and any(f in answer.get("properties", {}) for f in ID_FIELDS)
    )


def _references(schema: Any) -> set[str]:
    """Fields naming other objects (``dependentRequired`` ties them): not free values."""
    refs: set[str] = set()
    for name, needs in (schema.get("dependentRequired") or {}).items():
        refs |= {name, *needs}
    return refs | set(ID_FIELDS)


def _readers(op: Operation) -> list[Operation]:
    """Operations showing the same object again from its id alone, in spec order."""
    lifecycle = SPEC.lifecycle
    restricted = set(lifecycle.restricted_operations) if lifecycle else set()
    return [
        other
        for other in OPERATIONS
        if other is not op
        and not other.test_only
        and other.operation_id not in restricted
        and _schema_ref(other) == _schema_ref(op)
        and id_field(other.operation_id) is not None
    ]


def _neutral(reader: Operation) -> dict[str, Any]:
    """The reader's example body with its maps emptied: an update that adds nothing (a full
    map stays within its limit)."""
    body = example_body(reader.operation_id)
    return {k: {} if isinstance(v, dict) else v for k, v in body.items()}


def _valid(schema: Any, value: Any) -> bool:
    return not SPEC.validation_errors(schema, value)


def field_edges(op: Operation) -> dict[str, list[Any]]:
    request = SPEC.deref(op.request_schema or {})
    skip = _references(request)
    edges = {
        name: edge_values(prop, SPEC.deref, _valid)
        for name, prop in request.get("properties", {}).items()
        if name not in skip
    }
    return {name: values for name, values in edges.items() if values}


CREATES = [
    pytest.param(
        op,
        id=op.operation_id,
        marks=pytest.mark.np_check(category="values", operation=op.operation_id),
    )
    for op in OPERATIONS
    if _creates(op)
]


@pytest.mark.parametrize("op", CREATES)
def test_edge_values_read_back_exactly(
    np_driver: Driver, np_client: ContractClient, op: Operation
) -> None:
    edges = field_edges(op)
    base = {
        k: v
        for k, v in example_body(op.operation_id).items()
        if k not in _references(SPEC.deref(op.request_schema or {}))
    }
    for k in range(max(len(values) for values in edges.values())):
        sent = {**base, **{name: values[k % len(values)] for name, values in edges.items()}}
        made = np_client.call(op.operation_id, sent)
        check_status(
            made, 200, "values.round-trip", f"{op.operation_id} refused values its schema allows"
        )
        check_response_schema(SPEC, made)
        _compare(sent, made.json_object(), op.operation_id, sent)
        ident = next(f for f in ID_FIELDS if f in made.json_object())
        for reader in _readers(op):
            body = {**_neutral(reader), ident: made.json_object()[ident]}
            shown = np_client.call(reader.operation_id, body)
            check_status(
                shown,
                200,
                "values.round-trip",
                f"{reader.operation_id} of a new object was refused",
            )
            # fields the reader's own request sets (update's metadata) are not read back
            _compare(
                {f: v for f, v in sent.items() if f not in body},
                shown.json_object(),
                reader.operation_id,
                sent,
            )
            if shown.json_object().get("deleted") is True:
                break  # the object is gone: later readers answer 404
        _compare_after_payment(np_driver, made.json_object(), sent)


def _compare_after_payment(driver: Driver, made: dict[str, Any], sent: dict[str, Any]) -> None:
    """A later answer of the lifecycle: the customer pays (the event moving the new object on
    with a payment that succeeds) and the answer still shows every value as sent."""
    from neuropay_contract.lifecycle import capture_allows, wanted_outcome
    from neuropay_contract.lifecycle.guards import SUCCESS

    if LIFECYCLE is None or made.get("object") != LIFECYCLE.schema.lower():
        return
    capture = bool(sent.get("capture", True))
    t = next(
        (
            t
            for t in LIFECYCLE.transitions
            if t.source == made.get(LIFECYCLE.field)
            and t.event
            and capture_allows(t.guard, capture)
            and wanted_outcome(t.guard) == SUCCESS
        ),
        None,
    )
    if t is None:
        return
    after = driver.perform(t, made, capture)
    op = LIFECYCLE.trigger_operation(t) or t.name
    _compare({f: v for f, v in sent.items() if f != LIFECYCLE.field}, after, op, sent)


def _compare(
    expected: dict[str, Any], shown: dict[str, Any], operation: str, sent: dict[str, Any]
) -> None:
    differ = sorted(f for f in expected if f in shown and not _same(expected[f], shown[f]))
    if differ:
        raise ContractViolation(
            "values.round-trip",
            f"{operation} did not show edge values exactly as sent",
            f"{operation} changed {', '.join(differ)}: an edge of the field's domain (limits, "
            "2^31/2^32/2^53, non-ASCII or astral text, every enum value) was not kept",
            operation=operation,
            expected={f: expected[f] for f in differ},
            received={f: shown[f] for f in differ},
        )


def _same(sent: Any, shown: Any) -> bool:
    """The same JSON value, an integer staying an integer (True is not 1)."""
    if type(sent) is not type(shown) and not (
        isinstance(sent, int)
        and isinstance(shown, int)
        and not isinstance(shown, bool)
        and not isinstance(sent, bool)
    ):
        return False
    if isinstance(sent, dict):
        return sent.keys() == shown.keys() and all(_same(sent[k], shown[k]) for k in sent)
    if isinstance(sent, list):
        return len(sent) == len(shown) and all(
            _same(a, b) for a, b in zip(sent, shown, strict=True)
        )
    return bool(sent == shown)


LIFECYCLE = SPEC.lifecycle
EFFECT_OPS = sorted(
    {
        op
        for t in (LIFECYCLE.transitions if LIFECYCLE else ())
        if t.effect and t.source
        for op in [LIFECYCLE.trigger_operation(t) if LIFECYCLE else None]
        if op is not None
    }
)


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(op, marks=pytest.mark.np_check(category="values", operation=op))
        for op in EFFECT_OPS
    ],
)
def test_edge_values_in_effect_records(
    np_driver: Driver, np_client: ContractClient, operation: str
) -> None:
    """An operation whose transition has an effect (a refund) records what it was sent: each
    field's edges (amounts across the word sizes, every reason and its alias, the longest and
    astral details) come back exactly in the record it appends, in the answer and read back."""
    assert LIFECYCLE is not None
    op = SPEC.operation(operation)
    edges = field_edges(op)
    amount_schema = SPEC.deref(
        SPEC.deref(SPEC.schemas[LIFECYCLE.schema])
        .get("properties", {})
        .get(LIFECYCLE.amount_field, {})
    )
    total = int(amount_schema.get("maximum", 10**6))
    for k in range(max(len(values) for values in edges.values())):
        sent = {name: values[k % len(values)] for name, values in edges.items()}
        source, capture = _source_for(operation, sent, total)
        checkout = np_driver.reach(source, capture, **{LIFECYCLE.amount_field: total})
        body = {"checkout_id": checkout["checkout_id"], **sent}
        resp = np_client.call(operation, body)
        check_status(
            resp, 200, "values.round-trip", f"{operation} refused values its schema allows"
        )
        for where, shown in (
            ("answer", resp.json_object()),
            ("retrieve", np_driver.retrieve(checkout["checkout_id"])),
        ):
            grown = [
                f
                for f, v in shown.items()
                if isinstance(v, list)
                and isinstance(checkout.get(f), list)
                and len(v) == len(checkout[f]) + 1
            ]
            if not grown:
                raise ContractViolation(
                    "values.round-trip",
                    f"{operation} appended no record",
                    f"the {where} after {operation} shows no list grown by one record",
                    operation=operation,
                    expected={"records": "one more"},
                    received=shown,
                )
            record = shown[grown[0]][-1]
            _compare(
                sent, record if isinstance(record, dict) else {}, f"{operation} ({where})", sent
            )


def _source_for(operation: str, sent: dict[str, Any], total: int) -> tuple[str, bool]:
    """A status (and capture flag) from which ``operation`` with ``sent`` on a fresh checkout of
    ``total`` makes a transition with an effect, as x-lifecycle decides it."""
    from neuropay_contract.lifecycle import Transition, capture_allows, plan, request_facts

    assert LIFECYCLE is not None
    for t in LIFECYCLE.transitions:
        if not t.effect or t.source is None or LIFECYCLE.trigger_operation(t) != operation:
            continue
        for capture in (True, False):
            if not capture_allows(t.guard, capture):
                continue
            try:
                plan(LIFECYCLE, t.source, capture)
            except ValueError:
                continue
            fake = {
                LIFECYCLE.amount_field: total,
                LIFECYCLE.refunded_field: 0,
                "capture": capture,
                "refunds": [],
            }
            facts = request_facts(LIFECYCLE, SPEC.test_mode, fake, operation, sent)
            if isinstance(LIFECYCLE.decide(t.source, operation, facts), Transition):
                return t.source, capture
    not_covered(f"no status from which {operation} with {sent} makes a transition")
    raise AssertionError("unreachable")
