"""The body rules an implementer could read two ways, as the spec decides them: the media type,
the size limit at its edge and without Content-Length, how depth is counted, I-JSON (duplicate
names, NaN, invalid UTF-8, lone surrogates), `format: email` and full-match patterns."""

from __future__ import annotations

import json
from typing import Any

import pytest

from _support import SPEC
from neuropay_contract.contract import ContractClient, ContractViolation, create_body, customer_body
from neuropay_contract.contract.checks import check_error


def _expect_ok(resp: Any, rule: str, title: str, sent: str) -> None:
    if resp.status != 200:
        raise ContractViolation(
            rule,
            title,
            f"{resp.operation} with {sent} answered {resp.status}",
            operation=resp.operation,
            expected={"status": 200},
            received={"status": resp.status, "body": resp.body},
        )


ACCEPTED_TYPES = {
    "charset-utf-8": "application/json; charset=utf-8",
    "upper-case": "Application/JSON",
    "charset-upper-case": "application/json;charset=UTF-8",
    "other-parameter": "application/json; foo=bar",
}
REFUSED_TYPES = {
    "missing": None,
    "structured-suffix": "application/merchant+json",
    "charset-latin-1": "application/json; charset=iso-8859-1",
    "text-json": "text/json",
    "charset-utf8-alias": "application/json; charset=utf8",
}


@pytest.mark.parametrize("kind", sorted(ACCEPTED_TYPES))
@pytest.mark.np_check(category="protocol", operation="createCustomer")
def test_json_media_type_spellings_are_accepted(np_client: ContractClient, kind: str) -> None:
    """application/json in any case, with a UTF-8 charset parameter, is JSON."""
    content = json.dumps(customer_body()).encode()
    resp = np_client.call(
        "createCustomer", None, content=content, content_type=ACCEPTED_TYPES[kind]
    )
    _expect_ok(
        resp,
        "protocol.media-type-accepted",
        f"Content-Type {ACCEPTED_TYPES[kind]!r} was refused",
        f"Content-Type {ACCEPTED_TYPES[kind]!r}",
    )


@pytest.mark.parametrize("kind", sorted(REFUSED_TYPES))
@pytest.mark.np_check(category="protocol", operation="createCustomer")
def test_other_media_types_are_refused(np_client: ContractClient, kind: str) -> None:
    """No Content-Type, +json types, other charsets: 415."""
    content = json.dumps(customer_body()).encode()
    resp = np_client.call("createCustomer", None, content=content, content_type=REFUSED_TYPES[kind])
    check_error(
        SPEC,
        resp,
        415,
        "unsupported_media_type",
        "protocol.media-type-refused",
        f"Content-Type {REFUSED_TYPES[kind]!r} was not refused with 415",
    )


def _padded(body: dict[str, Any], size: int) -> bytes:
    """``body`` preceded by whitespace to exactly ``size`` bytes (the same JSON value)."""
    raw = json.dumps(body).encode()
    return b" " * (size - len(raw)) + raw


@pytest.mark.np_check(category="protocol", operation="createCustomer")
def test_a_body_of_exactly_the_limit_is_accepted(np_client: ContractClient) -> None:
    resp = np_client.call(
        "createCustomer", None, content=_padded(customer_body(), SPEC.max_body_bytes)
    )
    _expect_ok(
        resp,
        "protocol.size-at-limit",
        "A body of exactly max_body_bytes was refused",
        f"a body of exactly {SPEC.max_body_bytes} bytes",
    )


@pytest.mark.np_check(category="protocol", operation="createCustomer")
def test_a_chunked_body_over_the_limit_answers_413(np_client: ContractClient) -> None:
    """Without Content-Length the body is counted as it arrives."""
    content = _padded(customer_body(), SPEC.max_body_bytes + 1)
    resp = np_client.call("createCustomer", None, content=content, chunked=True)
    check_error(
        SPEC,
        resp,
        413,
        "payload_too_large",
        "protocol.size-chunked",
        "a chunked body over the limit was not refused with 413",
    )


def _nested(levels: int) -> dict[str, Any]:
    # The top-level object counts 1: "deep" holding levels - 1 arrays makes ``levels`` in all.
    return {**customer_body(), "deep": json.loads("[" * (levels - 1) + "]" * (levels - 1))}


@pytest.mark.parametrize("over", [False, True], ids=["at-limit", "over-limit"])
@pytest.mark.np_check(category="protocol", operation="createCustomer")
def test_depth_counts_the_top_level_as_one(np_client: ContractClient, over: bool) -> None:
    """max_json_depth levels are parsed (then refused by the schema: invalid_request); one more
    level is invalid_json."""
    limit = SPEC.max_json_depth
    resp = np_client.call("createCustomer", _nested(limit + 1 if over else limit))
    code = "invalid_json" if over else "invalid_request"
    check_error(
        SPEC,
        resp,
        400,
        code,
        "protocol.depth-counting",
        f"a body {limit + 1 if over else limit} levels deep (top level = 1) was not answered {code}",
    )


def _customer_text() -> str:
    return json.dumps(customer_body())[:-1]  # without the closing brace, to append members


I_JSON = {
    "duplicate-name": lambda: _customer_text() + ', "first_name": "Other"}',
    "nan": lambda: _customer_text() + ', "metaData": {"n": NaN}}',
    "infinity": lambda: _customer_text() + ', "metaData": {"n": -Infinity}}',
    "lone-surrogate": lambda: _customer_text()[:-1] + '\\ud800"}',
}


@pytest.mark.parametrize("kind", sorted([*I_JSON, "invalid-utf8"]))
@pytest.mark.np_check(category="protocol", operation="createCustomer")
def test_bodies_must_be_i_json(np_client: ContractClient, kind: str) -> None:
    """Duplicate names, NaN and Infinity, bytes that are not UTF-8 and lone surrogates: not
    I-JSON (RFC 7493), answered 400 invalid_json before any field is looked at."""
    if kind == "invalid-utf8":
        content = _customer_text().encode()[:-1] + b'\xff"}'
    else:
        content = I_JSON[kind]().encode()
    resp = np_client.call("createCustomer", None, content=content)
    check_error(
        SPEC,
        resp,
        400,
        "invalid_json",
        f"protocol.i-json-{kind}",
        f"a body with {kind.replace('-', ' ')} was not refused as invalid_json",
    )


def _refused_field(resp: Any, pointer: str, rule: str, title: str) -> None:
    check_error(SPEC, resp, 400, "invalid_request", rule, title)
    param = resp.json_object().get("error", {}).get("param")
    if param != pointer:
        raise ContractViolation(
            rule,
            title,
            f"param was {param!r}, not {pointer!r}",
            operation=resp.operation,
            expected={"param": pointer},
            received={"param": param},
        )


@pytest.mark.parametrize("email", ["no-at-sign.example.com", "two words@example.com", "a@"])
@pytest.mark.np_check(category="protocol", operation="createCustomer")
def test_email_format_is_asserted(np_client: ContractClient, email: str) -> None:
    """format: email is asserted: one @ between non-empty parts, no whitespace or controls."""
    resp = np_client.call("createCustomer", {**customer_body(), "email": email})
    _refused_field(resp, "/email", "formats.email", f"the email {email!r} was accepted")


# The readings of format: email the spec decides (x-decides emails.syntax): these are addresses,
# answered exactly as sent, and these are not (Unicode White_Space, not only ASCII spaces).
EMAILS_ACCEPTED = {
    "non-ascii": "Jörg.Ünal@Exämple.se",
    "dotless-domain": "Admin@localhost",
    "mixed-case": "Mixed.Case+Tag@Example.COM",
}
EMAILS_REFUSED = {
    "no-break-space": "jane\u00a0doe@example.com",
    "ideographic-space": "jane@example\u3000.com",
    "line-separator": "jane@example.com\u2028",
}


@pytest.mark.parametrize("kind", sorted(EMAILS_ACCEPTED))
@pytest.mark.np_check(category="customers", operation="createCustomer")
def test_emails_are_accepted_and_answered_as_sent(np_client: ContractClient, kind: str) -> None:
    """A non-ASCII address, a domain without a dot, upper-case letters: accepted, and the
    customer answers and reads back the address exactly as sent (no case folding)."""
    email = EMAILS_ACCEPTED[kind]
    resp = np_client.call("createCustomer", {**customer_body(), "email": email})
    _expect_ok(resp, "formats.email-readings", f"the email {email!r} was refused", repr(email))
    customer_id = resp.json_object().get("customer_id")
    again = np_client.call("retrieveCustomer", {"customer_id": customer_id})
    answered = [resp.json_object().get("email"), again.json_object().get("email")]
    if answered != [email, email]:
        raise ContractViolation(
            "formats.email-readings",
            "An email was not answered as sent",
            f"sent {email!r}, createCustomer answered {answered[0]!r} and retrieveCustomer "
            f"{answered[1]!r}; emails are stored exactly as sent",
            operation="createCustomer",
            expected={"email": email},
            received={"create": answered[0], "retrieve": answered[1]},
        )


@pytest.mark.parametrize("kind", sorted(EMAILS_REFUSED))
@pytest.mark.np_check(category="customers", operation="createCustomer")
def test_emails_with_unicode_spaces_are_refused(np_client: ContractClient, kind: str) -> None:
    """Whitespace is any Unicode White_Space character: an address holding one is refused."""
    email = EMAILS_REFUSED[kind]
    resp = np_client.call("createCustomer", {**customer_body(), "email": email})
    _refused_field(
        resp, "/email", "formats.email-readings", f"the email {email!r} ({kind}) was accepted"
    )


@pytest.mark.parametrize("field", ["currency", "returnUrl"])
@pytest.mark.np_check(category="protocol", operation="createCheckout")
def test_patterns_match_the_whole_value(np_client: ContractClient, field: str) -> None:
    """Patterns are ECMA-262: `$` is the end of the value, so a trailing newline breaks them."""
    body = create_body()
    resp = np_client.call("createCheckout", {**body, field: f"{body[field]}\n"})
    _refused_field(
        resp,
        f"/{field}",
        "formats.pattern-full-match",
        f"{field} with a trailing newline was accepted",
    )


@pytest.mark.parametrize("content", [b"[]", b'"text"', b"42", b"null"], ids=str)
@pytest.mark.np_check(category="protocol", operation="createCustomer")
def test_json_that_is_not_an_object_breaks_the_schema(
    np_client: ContractClient, content: bytes
) -> None:
    """Valid JSON that is not an object is a schema error of the whole body: invalid_request
    with param "" (not invalid_json: it is JSON)."""
    resp = np_client.call("createCustomer", None, content=content)
    _refused_field(resp, "", "protocol.not-an-object", f"the body {content!r} was not refused so")
