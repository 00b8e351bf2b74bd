"""Idempotency, exactly as x-idempotency decides it: which answers are stored, what "the same
request" is, keys across operations, malformed keys, and the header where it is not declared."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import pytest

from _support import SPEC
from neuropay_contract.contract import (
    ContractClient,
    ContractViolation,
    Driver,
    Response,
    create_body,
    customer_body,
)
from neuropay_contract.contract.checks import check_error, check_status
from neuropay_contract.contract.settings import RunTarget

IDEM = SPEC.idempotency
HEADER = IDEM.header
REPLAYED = IDEM.replay_header
CONFLICT = IDEM.conflict
INVALID = IDEM.invalid_key


def _key() -> dict[str, str]:
    return {HEADER: f"contract-{secrets.token_hex(8)}"}


def _is_replay(resp: Response) -> bool:
    return resp.headers.get(REPLAYED, "").lower() == "true"


def _violation(rule: str, title: str, message: str, operation: str, **data: Any) -> None:
    raise ContractViolation(rule, title, message, operation=operation, **data)


@pytest.mark.np_check(category="idempotency", operation="refundCheckout", status="created")
def test_the_operations_refusals_are_stored(np_driver: Driver, np_client: ContractClient) -> None:
    """A refund refused with 409 (status created) is stored: after the checkout is paid, the
    retry with the same key answers the stored 409 again and refunds nothing."""
    checkout = np_driver.reach("created", capture=True)
    key = _key()
    body = {"checkout_id": checkout["checkout_id"]}
    first = np_client.call("refundCheckout", body, headers=key)
    check_status(first, 409, "idempotency.first-request", "refunding a created checkout")
    pay = next(
        t for t in np_driver.lifecycle.transitions if t.source == "created" and t.target == "paid"
    )
    np_driver.perform(pay, checkout, True)
    retry = np_client.call("refundCheckout", body, headers=key)
    refunded = np_driver.retrieve(checkout["checkout_id"]).get("refunded_amount")
    if (retry.status, retry.body) != (first.status, first.body) or not _is_replay(retry):
        _violation(
            "idempotency.stored-answers",
            "The operation's own refusal was not stored and replayed",
            f"the retry answered {retry.status} ({REPLAYED}: {retry.headers.get(REPLAYED)!r}); "
            f"x-idempotency stores the operation's answers, its 409s included",
            "refundCheckout",
            expected={"status": first.status, "body": first.body, REPLAYED: "true"},
            received={"status": retry.status, "body": retry.body, "refunded_amount": refunded},
        )


@pytest.mark.np_check(category="idempotency", operation="createCheckout")
def test_earlier_refusals_are_not_stored(np_client: ContractClient) -> None:
    """A 400 for an invalid body is given before the key is looked at, so it is not stored: the
    corrected request with the same key is processed (200, not a replay, not a conflict)."""
    key = _key()
    broken = {k: v for k, v in create_body().items() if k != "amount"}
    first = np_client.call("createCheckout", broken, headers=key)
    check_status(first, 400, "idempotency.first-request", "a create without amount")
    fixed = np_client.call("createCheckout", create_body(), headers=key)
    if fixed.status != 200 or _is_replay(fixed):
        _violation(
            "idempotency.refusals-not-stored",
            "A 400 given before the idempotency step was stored under the key",
            f"the corrected create with the same key answered {fixed.status}"
            + (" as a replay" if _is_replay(fixed) else ""),
            "createCheckout",
            expected={"status": 200, REPLAYED: None},
            received={"status": fixed.status, "body": fixed.body},
        )


def _reserialized(body: dict[str, Any]) -> bytes:
    """The same JSON value written otherwise: keys reversed, other whitespace, every character
    escaped, integers as 3000.0."""
    text = json.dumps(dict(reversed(body.items())), indent=3, ensure_ascii=True)
    return text.replace('"amount": 3000', '"amount": 3000.0').encode()


@pytest.mark.np_check(category="idempotency", operation="createCheckout")
def test_the_same_json_value_is_the_same_request(np_client: ContractClient) -> None:
    """A retry whose bytes differ but whose JSON value is the same is a replay, not a conflict."""
    key = _key()
    body = create_body(amount=3000, message="Idempotent café ☕")
    first = np_client.call("createCheckout", body, headers=key)
    check_status(first, 200, "idempotency.first-request", "the first create was refused")
    retry = np_client.call("createCheckout", None, content=_reserialized(body), headers=key)
    if retry.status != 200 or not _is_replay(retry) or retry.body != first.body:
        _violation(
            "idempotency.same-json-value",
            "The same JSON value written otherwise was not a replay",
            f"the retry (keys reordered, re-indented, escaped, 3000.0) answered {retry.status}"
            f" with {REPLAYED}: {retry.headers.get(REPLAYED)!r}; the same request is the same "
            "JSON value, not the same bytes",
            "createCheckout",
            expected={"status": 200, REPLAYED: "true", "body": first.body},
            received={"status": retry.status, "body": retry.body},
        )


@pytest.mark.np_check(category="idempotency", operation="createCustomer")
def test_a_key_is_one_request_across_operations(np_client: ContractClient) -> None:
    """A key used on createCheckout answers the conflict on createCustomer."""
    key = _key()
    first = np_client.call("createCheckout", create_body(), headers=key)
    check_status(first, 200, "idempotency.first-request", "the first create was refused")
    other = np_client.call("createCustomer", customer_body(), headers=key)
    check_error(
        SPEC,
        other,
        CONFLICT.http,
        CONFLICT.code,
        "idempotency.other-operation",
        "a key of createCheckout was accepted again by createCustomer",
    )


MALFORMED = {"empty": "", "too-long": "k" * 256, "space": "two words", "tab": "a\tb"}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
@pytest.mark.np_check(category="idempotency", operation="createCustomer")
def test_a_malformed_key_is_refused(np_client: ContractClient, kind: str) -> None:
    """A key that breaks the header's schema: 400 with the code and param x-idempotency names."""
    resp = np_client.call("createCustomer", customer_body(), headers={HEADER: MALFORMED[kind]})
    check_error(
        SPEC,
        resp,
        INVALID.http,
        INVALID.code,
        "idempotency.invalid-key",
        f"a malformed {HEADER} ({kind}) was not refused",
    )
    param = resp.json_object().get("error", {}).get("param")
    if param != INVALID.param:
        _violation(
            "idempotency.invalid-key",
            f"A malformed {HEADER} was refused with another param",
            f"param was {param!r}, x-idempotency.invalid_key says {INVALID.param!r}",
            "createCustomer",
            expected={"param": INVALID.param},
            received={"param": param},
        )


UNDECLARED = [
    op.operation_id
    for op in SPEC.operations.values()
    if not op.accepts_idempotency_key and op.operation_id == "retrieveCustomer"
]


@pytest.mark.np_check(category="idempotency", operation="retrieveCustomer")
def test_the_header_is_ignored_where_not_declared(np_client: ContractClient) -> None:
    """retrieveCustomer does not declare the header: the same key on two retrievals of two
    customers answers each customer (no replay, no conflict)."""
    if "retrieveCustomer" not in UNDECLARED:
        pytest.skip("retrieveCustomer declares Idempotency-Key in this spec")
    key = _key()
    ids = [
        str(np_client.call("createCustomer", customer_body()).json_object().get("customer_id"))
        for _ in range(2)
    ]
    for customer_id in ids:
        resp = np_client.call("retrieveCustomer", {"customer_id": customer_id}, headers=key)
        got = resp.json_object().get("customer_id")
        if resp.status != 200 or got != customer_id or _is_replay(resp):
            _violation(
                "idempotency.undeclared-ignored",
                f"{HEADER} changed an operation that does not declare it",
                f"retrieveCustomer of {customer_id} with a reused key answered {resp.status} "
                f"for {got!r}",
                "retrieveCustomer",
                expected={"status": 200, "customer_id": customer_id},
                received={"status": resp.status, "body": resp.body},
            )


@pytest.mark.np_check(category="idempotency", operation="createCheckout")
def test_the_same_request_is_the_body_as_sent(np_client: ContractClient) -> None:
    """Defaults are not applied before comparing: a create without `capture` and its retry with
    `capture: true` (the default, the same checkout) are two requests, so the retry answers the
    conflict and makes nothing."""
    key = _key()
    body = {k: v for k, v in create_body().items() if k != "capture"}
    first = np_client.call("createCheckout", body, headers=key)
    check_status(first, 200, "idempotency.first-request", "the first create was refused")
    retry = np_client.call("createCheckout", {**body, "capture": True}, headers=key)
    check_error(
        SPEC,
        retry,
        CONFLICT.http,
        CONFLICT.code,
        "idempotency.body-as-sent",
        "a retry adding capture: true (the default) was taken for the same request",
    )


@pytest.mark.np_check(category="idempotency", operation="createCheckout")
def test_two_key_headers_are_refused(np_client: ContractClient) -> None:
    """Two Idempotency-Key headers (even one a stored key): 400 with x-idempotency's code and
    param, and nothing runs (no replay of the stored answer, no new checkout)."""
    key = _key()
    body = create_body()
    first = np_client.call("createCheckout", body, headers=key)
    check_status(first, 200, "idempotency.first-request", "the first create was refused")
    twice = np_client.call(
        "createCheckout", body, headers=key, also=[(HEADER, f"contract-{secrets.token_hex(8)}")]
    )
    check_error(
        SPEC,
        twice,
        INVALID.http,
        INVALID.code,
        "idempotency.repeated-header",
        f"a request with two {HEADER} headers was not refused",
    )
    param = twice.json_object().get("error", {}).get("param")
    if param != INVALID.param:
        _violation(
            "idempotency.repeated-header",
            f"Two {HEADER} headers were refused with another param",
            f"param was {param!r}, x-idempotency.invalid_key says {INVALID.param!r}",
            "createCheckout",
            expected={"param": INVALID.param},
            received={"param": param},
        )


@pytest.mark.np_check(
    category="idempotency", operation="createCheckout", needs="idempotency_retention"
)
def test_keys_are_forgotten_counted_from_the_first_use(
    np_client: ContractClient, np_target: RunTarget
) -> None:
    """A key is kept for the retention counted from its first use: replayed within it, and run
    as new once it has passed, even when a replay came in between (a replay does not extend
    it). Runs only when the target's test configuration shortens the retention
    (--idempotency-retention SECONDS)."""
    retention = np_target.idempotency_retention
    assert retention is not None  # the plugin leaves this check out otherwise
    key, body = _key(), create_body()
    started = time.monotonic()
    first = np_client.call("createCheckout", body, headers=key)
    answered = time.monotonic()
    check_status(first, 200, "idempotency.first-request", "a create with a new key")
    # The replay lands well within the retention; the last request after it has passed since
    # the first use (whenever the server took it), yet before a retention counted from the
    # replay would end: only a server that slides the retention still replays it.
    time.sleep(max(0.0, started + 0.35 * retention - time.monotonic()))
    replay = np_client.call("createCheckout", body, headers=key)
    time.sleep(
        max(0.0, max(started + 1.2 * retention, answered + 1.05 * retention) - time.monotonic())
    )
    late = np_client.call("createCheckout", body, headers=key)
    first_id = first.json_object().get("checkout_id")
    problems = []
    if replay.status != 200 or not _is_replay(replay):
        problems.append(
            f"{0.35 * retention:.1f} s after the first use the key was not replayed "
            f"({replay.status}, {REPLAYED} {replay.headers.get(REPLAYED)!r})"
        )
    late_id = late.json_object().get("checkout_id") if late.status == 200 else None
    if late.status != 200 or _is_replay(late) or late_id == first_id:
        problems.append(
            f"{1.2 * retention:.1f} s after the first use (a replay in between) the key was "
            f"still remembered ({late.status}, {REPLAYED} {late.headers.get(REPLAYED)!r}, "
            f"checkout {late_id!r})"
        )
    if problems:
        _violation(
            "idempotency.retention",
            "Idempotency-Keys are not kept for the retention counted from their first use",
            "; ".join(problems),
            "createCheckout",
            expected={"retention_s": retention, "replay": True, "after_retention": "run as new"},
            received={"replay": _is_replay(replay), "late_replayed": _is_replay(late)},
        )
