"""Authentication and merchant isolation for every operation."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from _support import example_body, id_field, op_params
from neuropay_contract.contract import ContractClient, Driver, customer_body
from neuropay_contract.contract.checks import ContractViolation, check_error, check_unchanged
from neuropay_contract.contract.plugin import ACTIVE_PROFILE
from neuropay_contract.contract.rules import NEAR_KEY_KINDS

# How each kind reads in a failure's title: "createCheckout with an unknown key was not refused".
KEY_WORDING = {
    "missing": "without a key",
    "empty": "with an empty bearer key",
    "malformed": "with a malformed key",
    "unknown": "with an unknown key",
    "other-scheme": "with a non-bearer Authorization",
    "bare": "with a key sent without the Bearer scheme",
}
# (the whole Authorization header or None for none, the one code the spec's bearerAuth names)
KEYS: dict[str, tuple[str | None, str]] = {
    "missing": (None, "missing_api_key"),
    # "Bearer" and no key (HTTP forbids the trailing space of "Bearer ").
    "empty": ("Bearer", "missing_api_key"),
    "malformed": ("Bearer not a key", "invalid_api_key"),
    "unknown": ("Bearer sk_test_" + "0" * 32, "invalid_api_key"),
    # A credential of another scheme is presented, and is not a key: invalid, not missing.
    "other-scheme": ("Basic Zm9vOmJhcg==", "invalid_api_key"),
    # The run's own valid key without a scheme ("{key}" is filled in): still invalid.
    "bare": ("{key}", "invalid_api_key"),
}


@pytest.mark.parametrize("kind", sorted(KEYS))
@pytest.mark.parametrize("operation", op_params("auth"))
def test_requires_valid_key(np_client: ContractClient, operation: str, kind: str) -> None:
    """Without a key, with an empty, malformed or unknown one, another scheme or no scheme: 401
    with exactly the code the spec gives that case, and the envelope."""
    header, code = KEYS[kind]
    headers = None if header is None else {"Authorization": header.format(key=np_client.api_key)}
    resp = np_client.call(operation, example_body(operation), api_key=None, headers=headers)
    check_error(
        np_client.spec,
        resp,
        401,
        code,
        f"auth.{kind}-key",
        f"{operation} {KEY_WORDING[kind]} was not refused with {code}",
        subject=f"{operation} {KEY_WORDING[kind]}",
    )
    check_bearer_challenge(resp, operation, KEY_WORDING[kind])


def check_bearer_challenge(resp: Any, operation: str, wording: str) -> None:
    """A 401 names the scheme to authenticate with (RFC 9110 11.6.1): WWW-Authenticate: Bearer,
    the scheme in any case, parameters (a realm) allowed."""
    challenge = resp.headers.get("www-authenticate", "")
    if challenge.split(" ", 1)[0].strip().lower() != "bearer":
        raise ContractViolation(
            "auth.www-authenticate",
            "A 401 without the Bearer challenge",
            f"{operation} {wording} answered 401 with WWW-Authenticate: {challenge!r}",
            operation=operation,
            expected={"WWW-Authenticate": "Bearer"},
            received={"WWW-Authenticate": challenge or None},
        )


def near_key(key: str, kind: str) -> str:
    """The run's own valid key altered one way (NEAR_KEY_KINDS): never a valid key itself.
    Spaces before or after the whole value are optional whitespace that HTTP strips, so the
    "spaced" variants put them where HTTP keeps them: inside the credential."""
    half = len(key) // 2
    variants = {
        "appended": key + "0",
        "prefix": key[:-1],
        "other-case": key.swapcase(),
        "inner-space": f"{key[:half]} {key[half:]}",
        "trailing-token": f"{key} {key}",
    }
    return variants[kind]


# Keys are read before any operation's own work (x-precedence), so ci alters the key on the
# first operation only; deep on every operation.
EXACT_KEY_OPS = op_params("auth")
if ACTIVE_PROFILE != "deep":
    EXACT_KEY_OPS = EXACT_KEY_OPS[:1]


@pytest.mark.parametrize("kind", sorted(NEAR_KEY_KINDS))
@pytest.mark.parametrize("operation", EXACT_KEY_OPS)
def test_only_the_exact_key_authenticates(
    np_client: ContractClient, operation: str, kind: str
) -> None:
    """Keys are compared exactly: the run's key with a character more or less, in another
    case or with a space inside is 401 invalid_api_key, with the envelope and nothing else."""
    assert np_client.api_key is not None
    header = f"Bearer {near_key(np_client.api_key, kind)}"
    resp = np_client.call(
        operation, example_body(operation), api_key=None, headers={"Authorization": header}
    )
    wording = f"with the run's key altered ({NEAR_KEY_KINDS[kind]})"
    check_error(
        np_client.spec,
        resp,
        401,
        "invalid_api_key",
        "auth.exact-key",
        f"{operation} {wording} was not refused with invalid_api_key",
        subject=f"{operation} {wording}",
    )
    check_bearer_challenge(resp, operation, wording)


# The scheme is case-insensitive (RFC 9110 11.1) and followed by one or more spaces (RFC 6750).
BEARER_SPELLINGS = {
    "lower-case": "bearer {key}",
    "upper-case": "BEARER {key}",
    "two-spaces": "Bearer  {key}",
}


@pytest.mark.parametrize("spelling", sorted(BEARER_SPELLINGS))
@pytest.mark.np_check(category="auth", operation="createCustomer")
def test_bearer_scheme_spellings_authenticate(np_client: ContractClient, spelling: str) -> None:
    """A valid key under another spelling of the Bearer scheme is accepted like `Bearer <key>`."""
    header = BEARER_SPELLINGS[spelling].format(key=np_client.api_key)
    resp = np_client.call(
        "createCustomer", customer_body(), api_key=None, headers={"Authorization": header}
    )
    if resp.status != 200:
        raise ContractViolation(
            "auth.bearer-syntax",
            f"A valid key with the scheme spelled {spelling} was refused",
            f"createCustomer with Authorization: {BEARER_SPELLINGS[spelling]!r} answered "
            f"{resp.status}; the scheme is case-insensitive and may be followed by several spaces",
            operation="createCustomer",
            expected={"status": 200},
            received={"status": resp.status, "body": resp.body},
        )


def _own_objects(driver: Driver, client: ContractClient) -> dict[str, str]:
    checkout = driver.reach("created")
    customer = client.call("createCustomer", customer_body()).json_object()
    return {"checkout_id": checkout["checkout_id"], "customer_id": str(customer.get("customer_id"))}


ID_OPS = op_params("isolation", lambda op: id_field(op.operation_id) is not None)


@pytest.mark.parametrize("operation", ID_OPS)
def test_other_merchant_sees_nothing(
    np_driver: Driver, np_client: ContractClient, np_second_client: ContractClient, operation: str
) -> None:
    """Nothing one merchant made is visible or changeable by another: 404, and unchanged."""
    ids = _own_objects(np_driver, np_client)
    field = id_field(operation)
    assert field is not None
    body: dict[str, Any] = {**example_body(operation), field: ids[field]}
    before = _read_own(np_driver, np_client, field, ids[field])
    resp = np_second_client.call(operation, body)
    code = "checkout_not_found" if field == "checkout_id" else "customer_not_found"
    check_error(
        np_client.spec,
        resp,
        404,
        code,
        "auth.merchant-isolation",
        f"another merchant reached {operation}",
    )
    check_unchanged(
        before,
        _read_own(np_driver, np_client, field, ids[field]),
        operation,
        rule="auth.merchant-isolation",
    )


def _read_own(driver: Driver, client: ContractClient, field: str, object_id: str) -> dict[str, Any]:
    """The owner's view of its checkout or customer (which must stay retrievable)."""
    if field == "checkout_id":
        return driver.retrieve(object_id)
    resp = client.call("retrieveCustomer", {"customer_id": object_id})
    if resp.status != 200:
        raise ContractViolation(
            "auth.merchant-isolation",
            "The owner cannot retrieve its customer",
            f"the owner's retrieveCustomer of {object_id} answered {resp.status}",
            operation="retrieveCustomer",
            expected={"status": 200},
            received={"status": resp.status, "body": resp.body},
        )
    return resp.json_object()


@pytest.mark.parametrize(
    "operation",
    op_params("isolation", lambda op: id_field(op.operation_id) is not None and not op.test_only),
)
def test_live_key_sees_no_test_objects(
    np_driver: Driver, np_client: ContractClient, np_live_client: ContractClient, operation: str
) -> None:
    """A live key of the same merchant cannot see or change test-mode checkouts or customers
    (customers and their cards belong to one mode, like checkouts)."""
    field = id_field(operation)
    assert field is not None
    object_id = _own_objects(np_driver, np_client)[field]
    resp = np_live_client.call(operation, {**example_body(operation), field: object_id})
    code = "checkout_not_found" if field == "checkout_id" else "customer_not_found"
    check_error(
        np_driver.spec,
        resp,
        404,
        code,
        "auth.mode-isolation",
        f"a live key reached a test {field.split('_')[0]} via {operation}",
    )


@pytest.mark.parametrize("operation", op_params("auth", lambda op: op.test_only))
def test_helpers_refuse_live_keys(np_live_client: ContractClient, operation: str) -> None:
    """Test helpers answer 403 test_mode_only to live keys."""
    tm = np_live_client.spec.test_mode
    assert tm is not None
    http, code = tm.live_key_answer
    resp = np_live_client.call(operation, {"checkout_id": secrets.token_hex(16)})
    check_error(
        np_live_client.spec,
        resp,
        http,
        code,
        "auth.test-helper-live-key",
        f"{operation} accepted a live key",
    )


@pytest.mark.np_check(category="auth", operation="retrieveCheckout")
def test_two_authorization_headers_are_refused(np_client: ContractClient) -> None:
    """Authorization is not a list header: two of them, both the run's valid key, answer 401
    invalid_api_key (no credential is picked)."""
    key = {"Authorization": f"Bearer {np_client.api_key}"}
    body = {"checkout_id": secrets.token_hex(16)}
    resp = np_client.call("retrieveCheckout", body, api_key=None, headers=key, also=[*key.items()])
    check_error(
        np_client.spec,
        resp,
        401,
        "invalid_api_key",
        "auth.repeated-header",
        "retrieveCheckout with two Authorization headers was not refused with invalid_api_key",
        subject="retrieveCheckout with two Authorization headers",
    )
