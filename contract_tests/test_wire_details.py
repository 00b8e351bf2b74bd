"""The wire details the spec decides (info.description, x-decides json.*, http.*, params.*):
byte order marks, noncharacters, numbers beyond a double, integral values, duplicate names after
unescaping, Content-Encoding, an empty body without Content-Type, a TAB after Bearer, the answers'
media type, string lengths in code points, exact paths, and `param` of 404s, of metadata names
and of invalid_json. One request each; the table says what it must answer."""

from __future__ import annotations

import gzip
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from _support import SPEC, np
from neuropay_contract.contract import ContractClient, ContractViolation, Response, create_body
from neuropay_contract.contract.checks import check_error

UNSET = object()


@dataclass(frozen=True)
class Case:
    """One request and the answer the spec decides for it."""

    rule: str
    what: str
    content: Callable[[ContractClient], bytes]
    status: int
    code: str | None = None  # the error code; None: a 200
    param: Any = UNSET  # the error's param, when the spec decides it
    operation: str = "createCheckout"
    path: str | None = None  # another path than the operation's
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"
    key: Callable[[ContractClient], str | None] | None = None  # the whole Authorization
    answer: Callable[[Response], str | None] | None = None  # a problem with a 200's body


def _create(**changes: Any) -> Callable[[ContractClient], bytes]:
    return lambda _client: json.dumps(create_body(**changes), ensure_ascii=False).encode()


def _create_text(old: str, new: str) -> Callable[[ContractClient], bytes]:
    """A create body whose JSON text has ``old`` replaced by ``new`` (numbers, escapes)."""

    def make(_client: ContractClient) -> bytes:
        text = json.dumps(create_body(amount=3000))
        assert old in text
        return text.replace(old, new, 1).encode()

    return make


def _amount_is(value: int) -> Callable[[Response], str | None]:
    def problem(resp: Response) -> str | None:
        amount = resp.json_object().get("amount")
        ok = isinstance(amount, int) and not isinstance(amount, bool) and amount == value
        return None if ok else f"amount was answered as {amount!r}, not {value}"

    return problem


def _message_starts(text: str) -> Callable[[Response], str | None]:
    def problem(resp: Response) -> str | None:
        message = str(resp.json_object().get("message"))
        return None if message.startswith(text) else f"message was answered as {message!r}"

    return problem


def _unknown(field_name: str) -> Callable[[ContractClient], bytes]:
    return lambda _client: json.dumps({field_name: secrets.token_hex(16)}).encode()


EMOJI = "\U0001f600"
CASES: dict[str, Case] = {
    "bom": Case(
        "protocol.bom",
        "a body after a UTF-8 byte order mark",
        lambda c: b"\xef\xbb\xbf" + _create()(c),
        400,
        "invalid_json",
        None,
    ),
    "noncharacter": Case(
        "protocol.noncharacter",
        "a message holding U+FFFF",
        _create(message="Pay \uffff"),
        200,
        answer=_message_starts("Pay \uffff"),
    ),
    "noncharacter-escaped": Case(
        "protocol.noncharacter",
        "a message holding \\ufdd0",
        _create_text('"message": "', '"message": "\\ufdd0'),
        200,
        answer=_message_starts("\ufdd0"),
    ),
    "integer-beyond-double": Case(
        "protocol.number-range",
        "an amount of 400 digits",
        _create_text('"amount": 3000', '"amount": ' + "9" * 400),
        400,
        "invalid_json",
        None,
    ),
    "underflow": Case(
        "protocol.integral-by-value",
        "an amount of 1e-999 (0 as a double)",
        _create_text('"amount": 3000', '"amount": 1e-999'),
        400,
        "invalid_request",
        "/amount",
    ),
    "integral-as-double": Case(
        "protocol.integral-by-value",
        "an amount of 3000.0000000000000001 (3000 as a double)",
        _create_text('"amount": 3000', '"amount": 3000.0000000000000001'),
        200,
        answer=_amount_is(3000),
    ),
    "duplicate-after-unescaping": Case(
        "protocol.duplicate-after-unescaping",
        'the names "amount" and "\\u0061mount"',
        _create_text('"amount": 3000', '"amount": 3000, "\\u0061mount": 3000'),
        400,
        "invalid_json",
        None,
    ),
    "gzip-body": Case(
        "protocol.content-encoding",
        "a gzip body with Content-Encoding: gzip",
        lambda c: gzip.compress(_create()(c)),
        415,
        "unsupported_media_type",
        headers={"Content-Encoding": "gzip"},
    ),
    "gzip-header-plain-body": Case(
        "protocol.content-encoding",
        "Content-Encoding: gzip on a plain JSON body",
        _create(),
        415,
        "unsupported_media_type",
        headers={"Content-Encoding": "gzip"},
    ),
    "empty-without-type": Case(
        "protocol.media-type-refused",
        "an empty body without Content-Type",
        lambda _c: b"",
        415,
        "unsupported_media_type",
        content_type=None,
    ),
    "tab-after-bearer": Case(
        "auth.separator",
        "Authorization: Bearer<TAB><key>",
        _create(),
        401,
        "invalid_api_key",
        key=lambda c: f"Bearer\t{c.api_key}",
    ),
    "length-in-code-points": Case(
        "protocol.length-unit",
        "a message of 1000 emoji (2000 UTF-16 units)",
        _create(message=EMOJI * 1000),
        200,
    ),
    "length-over-in-code-points": Case(
        "protocol.length-unit",
        "a message of 1001 emoji",
        _create(message=EMOJI * 1001),
        400,
        "invalid_request",
        "/message",
    ),
    "trailing-slash": Case(
        "protocol.exact-paths",
        "the create path with a trailing slash",
        _create(),
        404,
        "not_found",
        path="/checkout/create/",
    ),
    "path-case": Case(
        "protocol.exact-paths",
        "the create path in upper case",
        _create(),
        404,
        "not_found",
        path="/CHECKOUT/CREATE",
    ),
    "query-string": Case(
        "protocol.exact-paths",
        "the create path with a query string",
        _create(),
        200,
        path="/checkout/create?source=contract",
    ),
    "param-unknown-checkout": Case(
        "protocol.param-of-not-found",
        "an unknown checkout id",
        _unknown("checkout_id"),
        404,
        "checkout_not_found",
        "/checkout_id",
        operation="retrieveCheckout",
    ),
    "param-unknown-customer": Case(
        "protocol.param-of-not-found",
        "an unknown customer id",
        _unknown("customer_id"),
        404,
        "customer_not_found",
        "/customer_id",
        operation="retrieveCustomer",
    ),
    "param-of-invalid-json": Case(
        "protocol.param-of-invalid-json",
        "a body that is not JSON",
        lambda _c: b'{"checkout_id": ',
        400,
        "invalid_json",
        None,
        operation="retrieveCheckout",
    ),
    "param-of-metadata-name": Case(
        "protocol.param-of-metadata-name",
        "a metadata key of 41 characters",
        _create(metaData={"k" * 41: "v"}),
        400,
        "invalid_request",
        "/metaData",
    ),
}


def _violation(case: Case, message: str, resp: Response, **expected: Any) -> None:
    raise ContractViolation(
        case.rule,
        f"{case.what}: answered otherwise than the spec decides",
        message,
        operation=case.operation,
        expected=expected,
        received={"status": resp.status, "body": resp.body},
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, id=name, marks=np("protocol", CASES[name].operation))
        for name in sorted(CASES)
    ],
)
def test_wire_details(np_client: ContractClient, name: str) -> None:
    """Each case's request answers exactly what the spec decides for it."""
    case = CASES[name]
    op = SPEC.operation(case.operation)
    headers = dict(case.headers)
    api_key: Any = np_client.api_key
    if case.key is not None:
        headers["Authorization"] = str(case.key(np_client))
        api_key = None
    resp = np_client.request(
        op.method,
        case.path or op.path,
        None,
        content=case.content(np_client),
        content_type=case.content_type,
        headers=headers,
        api_key=api_key,
        operation=case.operation,
    )
    if case.code is None:
        if resp.status != case.status:
            _violation(case, f"{case.what} answered {resp.status}", resp, status=case.status)
        problem = case.answer(resp) if case.answer is not None else None
        if problem:
            _violation(case, problem, resp, status=case.status)
        return
    check_error(SPEC, resp, case.status, case.code, case.rule, f"{case.what} was accepted")
    param = resp.json_object().get("error", {}).get("param")
    if case.param is not UNSET and param != case.param:
        _violation(
            case,
            f"{case.what} was refused with param {param!r}, not {case.param!r}",
            resp,
            param=case.param,
        )


@pytest.mark.parametrize("kind", ["success", "error"])
@pytest.mark.np_check(category="protocol", operation="retrieveCheckout")
def test_answers_are_plain_application_json(np_client: ContractClient, kind: str) -> None:
    """Answers, errors too, carry `Content-Type: application/json` without parameters."""
    if kind == "success":
        made = np_client.call("createCheckout", create_body())
        body = {"checkout_id": made.json_object().get("checkout_id")}
    else:
        body = {"checkout_id": secrets.token_hex(16)}
    resp = np_client.call("retrieveCheckout", body)
    media = resp.headers.get("content-type")
    if media != "application/json":
        raise ContractViolation(
            "protocol.answer-media-type",
            "An answer's Content-Type is not plain application/json",
            f"retrieveCheckout ({kind}) answered {resp.status} with Content-Type {media!r}",
            operation="retrieveCheckout",
            expected={"Content-Type": "application/json"},
            received={"Content-Type": media, "status": resp.status},
        )
