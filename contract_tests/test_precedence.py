"""Which answer wins when a request breaks two generic rules at once: the earlier in x-precedence.

Every pair of rules in the spec's order gets one request that breaks both (on the first operation
where both can be broken), and must get the earlier rule's answer."""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from _support import SPEC, example_body, id_field, np
from neuropay_contract.contract import ContractClient, customer_body
from neuropay_contract.contract.checks import check_error
from neuropay_contract.spec import Operation, PrecedenceStep

UNKNOWN_PATH = "/checkout/no-such-operation"


@dataclass
class Probe:
    """One request under construction: each broken rule changes one aspect of it."""

    op: Operation
    body: dict[str, Any]
    path: str = ""
    method: str = "POST"
    key: str | None = "test"  # "test", "live" or None (no Authorization)
    content_type: str = "application/json"
    corrupt: bool = False  # cut the last byte: not JSON any more
    oversize: bool = False  # leading whitespace up to one byte over the limit: same JSON value
    headers: dict[str, str] = field(default_factory=dict)
    reuse_key: bool = False  # a first request used the same Idempotency-Key with another body

    def content(self) -> bytes:
        raw = json.dumps(self.body).encode()
        if self.corrupt:
            raw = raw[:-1]
        if self.oversize:
            raw = b" " * (SPEC.max_body_bytes + 1 - len(raw)) + raw
        return raw


def _deep(probe: Probe) -> None:
    # The top-level object counts 1, so max_json_depth arrays inside it are one level too many.
    depth = SPEC.max_json_depth
    probe.body["deep"] = json.loads("[" * depth + "]" * depth)


def _unknown_id(probe: Probe) -> None:
    name = id_field(probe.op.operation_id)
    assert name is not None
    probe.body[name] = secrets.token_hex(16)


@dataclass(frozen=True)
class Breaker:
    """How to break one rule: what the request changes, on which operations it can, and the
    aspect it touches (two breakers of one aspect cannot be combined)."""

    aspect: str
    apply: Callable[[Probe], None]
    fits: Callable[[Operation], bool] = lambda op: True


def _set(**values: Any) -> Callable[[Probe], None]:
    return lambda probe: probe.__dict__.update(values)


BREAKERS: dict[str, Breaker] = {
    "path": Breaker("path", _set(path=UNKNOWN_PATH)),
    "method": Breaker("method", _set(method="PUT")),
    "api_key": Breaker("key", _set(key=None)),
    "body_size": Breaker("size", _set(oversize=True)),
    "media_type": Breaker("content-type", _set(content_type="text/plain")),
    "test_mode_only": Breaker("key", _set(key="live"), lambda op: op.test_only),
    "json": Breaker("syntax", _set(corrupt=True)),
    "json_depth": Breaker("depth", _deep),
    "schema": Breaker(
        "fields",
        lambda probe: probe.body.update(no_such_field=1),
        lambda op: op.request_schema is not None,
    ),
    "idempotency_key": Breaker(
        "idempotency",
        lambda probe: probe.headers.update({"Idempotency-Key": "has spaces in it"}),
        lambda op: op.accepts_idempotency_key,
    ),
    "idempotency": Breaker(
        "idempotency",
        _set(reuse_key=True),
        lambda op: op.accepts_idempotency_key and id_field(op.operation_id) is not None,
    ),
    "operation": Breaker("id", _unknown_id, lambda op: id_field(op.operation_id) is not None),
}


def _distinguishable(first: PrecedenceStep, second: PrecedenceStep) -> bool:
    return not second.codes or (first.http, set(first.codes)) != (second.http, set(second.codes))


def _pairs() -> list[Any]:
    params = []
    for first, second in itertools.combinations(SPEC.precedence, 2):
        a, b = BREAKERS.get(first.name), BREAKERS.get(second.name)
        if a is None or b is None or a.aspect == b.aspect or not _distinguishable(first, second):
            continue
        op = next((o for o in SPEC.operations.values() if a.fits(o) and b.fits(o)), None)
        if op is None:
            continue
        params.append(
            pytest.param(
                first,
                second,
                op.operation_id,
                id=f"{first.name}-before-{second.name}",
                marks=np("protocol", op.operation_id),
            )
        )
    return params


def _existing_id(client: ContractClient, op: Operation, request: pytest.FixtureRequest) -> str:
    """The id of an object of this run the operation can act on (for a first, valid request)."""
    if id_field(op.operation_id) == "customer_id":
        return str(client.call("createCustomer", customer_body()).json_object().get("customer_id"))
    driver = request.getfixturevalue("np_driver")
    return str(driver.reach("created")["checkout_id"])


@pytest.mark.parametrize(("first", "second", "operation"), _pairs())
def test_the_earlier_rule_answers(
    np_client: ContractClient,
    request: pytest.FixtureRequest,
    first: PrecedenceStep,
    second: PrecedenceStep,
    operation: str,
) -> None:
    """A request breaking two rules gets the answer of the one x-precedence lists first."""
    op = SPEC.operation(operation)
    probe = Probe(op, example_body(operation), path=op.path)
    BREAKERS[first.name].apply(probe)
    BREAKERS[second.name].apply(probe)
    client = np_client
    if probe.key == "live":
        client = request.getfixturevalue("np_live_client")
    if probe.reuse_key:
        key = f"precedence-{secrets.token_hex(8)}"
        name = id_field(operation)
        assert name is not None
        first_body = {**example_body(operation), name: _existing_id(np_client, op, request)}
        np_client.call(operation, first_body, headers={"Idempotency-Key": key})
        probe.headers["Idempotency-Key"] = key
        probe.body[name] = secrets.token_hex(16)  # another body under the same key
    resp = client.request(
        probe.method,
        probe.path,
        content=probe.content(),
        content_type=probe.content_type,
        headers=probe.headers,
        api_key=client.api_key if probe.key else None,
        operation=operation if probe.path == op.path else None,
    )
    check_error(
        SPEC,
        resp,
        first.http,
        set(first.codes),
        "precedence.order",
        f"{first.name} did not win over {second.name} (x-precedence lists it first)",
    )
