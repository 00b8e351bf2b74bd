"""Input the reference server cannot store and show is a 400 before anything is written, and no
failure after a write can answer "nothing changed" (the write is undone with it)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from neuropay_contract.contract import create_body
from neuropay_contract.schema_dialect import ecma_regex
from neuropay_contract.server import RunningServer, start_server
from neuropay_contract.server.store import Store
from neuropay_contract.spec import load_spec

from ._helpers import api, create

SPEC = load_spec()
Path = tuple[str | int, ...]


def string_leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, bool]]:
    """Every string in ``value``: (path, whether it is an object key rather than a value)."""
    if isinstance(value, str):
        yield path, False
    elif isinstance(value, dict):
        for key, child in value.items():
            yield (*path, key), True
            yield from string_leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from string_leaves(child, (*path, index))


def replaced(body: Any, path: Path, is_key: bool, make: Any) -> Any:
    """A copy of ``body`` with the string at ``path`` (a key or a value) passed through ``make``."""
    result = copy.deepcopy(body)
    parent = result
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if is_key:
        assert isinstance(last, str)
        parent[make(last)] = parent.pop(last)
    else:
        parent[last] = make(parent[last])
    return result


def pointer(path: Path) -> str:
    return "".join(f"/{p}" for p in path)


def schema_at(schema: Any, path: Path) -> dict[str, Any] | None:
    node = schema
    for step in path:
        if not isinstance(node, dict):
            return None
        for part in node.get("allOf", []):
            if step in part.get("properties", {}):
                node = part
        props = node.get("properties", {})
        if step in props:
            node = props[step]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return None
    return node if isinstance(node, dict) else None


def leaves_by_operation(patterned_only: bool) -> list[Any]:
    """One case per operation: its path and every (example, string path, is key) to spoil."""
    cases = []
    for op in SPEC.operations.values():
        schema = SPEC.inline_refs(op.request_schema or {})
        spots = []
        for example in op.request_examples:
            for path, is_key in string_leaves(example.value):
                field = schema_at(schema, path)
                patterned = field is not None and ("pattern" in field or "format" in field)
                if not patterned_only or (patterned and not is_key):
                    spots.append((example.value, path, is_key))
        if spots:
            cases.append(pytest.param(op.path, spots, id=op.operation_id))
    return cases


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningServer]:
    with start_server() as running:
        yield running


def snapshot(store: Store) -> list[Any]:
    def dump(s: Store) -> list[Any]:
        rows = []
        for table in ("api_keys", "checkouts", "customers", "idempotency"):
            rows += [tuple(r) for r in s.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]
        return rows

    return store.run(dump)


def post_raw(client: Any, path: str, body: Any, **headers: str) -> Any:
    # ensure_ascii: a lone surrogate goes over the wire as the JSON escape a hostile client sends.
    data = json.dumps(body, ensure_ascii=True).encode()
    return client.post(path, content=data, headers={"Content-Type": "application/json", **headers})


SURROGATES = ["\ud800", "\udfff", "x\udc00\ud800y", "\ud83d"]
MARK = "\u0001MARK"
# A surrogate encoded as UTF-8 bytes (CESU-8), an overlong "/", a byte UTF-8 never uses, a cut
# multi-byte sequence.
RAW_UNENCODABLE = [b"\xed\xa0\x80", b"\xc0\xaf", b"\xff", b"\xe2\x82"]


@pytest.mark.parametrize(("path", "spots"), leaves_by_operation(patterned_only=False))
def test_lone_surrogates_in_any_string_are_refused_before_a_write(
    shared: RunningServer, path: str, spots: list[Any]
) -> None:
    store = shared.app.state.store
    before = snapshot(store)
    with api(shared.url, shared.test_key) as client:
        for example, where, is_key in spots:
            for index, bad in enumerate(SURROGATES):
                body = replaced(example, where, is_key, lambda text, bad=bad: text + bad)
                resp = post_raw(client, path, body, **{"Idempotency-Key": f"surrogate-{index}"})
                assert resp.status_code == 400, (where, resp.text)
                error = resp.json()["error"]
                assert error["code"] == "invalid_json"
                assert error["param"] == pointer(where[:-1] if is_key else where)
                assert "surrogate" in error["message"]
            for bad_bytes in RAW_UNENCODABLE:  # not even UTF-8: refused as JSON
                body = replaced(example, where, is_key, lambda text: text + MARK)
                data = json.dumps(body).encode().replace(b"\\u0001MARK", bad_bytes)
                assert bad_bytes in data
                resp = client.post(path, content=data, headers={"Content-Type": "application/json"})
                assert resp.status_code == 400, (where, bad_bytes, resp.text)
                assert resp.json()["error"]["code"] == "invalid_json"
    assert snapshot(store) == before


def test_a_surrogate_pair_is_a_character_and_is_stored(shared: RunningServer) -> None:
    with api(shared.url, shared.test_key) as client:
        resp = post_raw(client, "/checkout/create", create_body(message="coffee \U0001f600"))
        assert resp.status_code == 200
        assert resp.json()["message"] == "coffee \U0001f600"


def test_every_patterned_field_is_covered() -> None:
    names = {
        where[-1]
        for case in leaves_by_operation(patterned_only=True)
        for _, where, _ in case.values[1]
    }
    assert {"currency", "returnUrl", "returnUrlCancel", "checkout_id", "customer_id"} <= names
    assert {"email", "card_number"} <= names


@pytest.mark.parametrize(("path", "spots"), leaves_by_operation(patterned_only=True))
def test_no_patterned_field_admits_a_trailing_newline(
    shared: RunningServer, path: str, spots: list[Any]
) -> None:
    store = shared.app.state.store
    before = snapshot(store)
    with api(shared.url, shared.test_key) as client:
        for example, where, _ in spots:
            for suffix in ("\n", "\r\n", "\n\n"):
                body = replaced(example, where, False, lambda text, s=suffix: text + s)
                resp = post_raw(client, path, body)
                assert resp.status_code == 400, (where, suffix, resp.text)
                assert resp.json()["error"]["code"] == "invalid_request"
                assert resp.json()["error"]["param"] == pointer(where)
    assert snapshot(store) == before


def test_the_suites_schema_checks_use_ecma_anchors(shared: RunningServer) -> None:
    """The suite judges answers with the same validator: a `currency` of "SEK\\n" in a
    checkout answer breaks the schema."""
    assert ecma_regex("^[A-Z]{3}$").search("SEK")
    assert not ecma_regex("^[A-Z]{3}$").search("SEK\n")
    assert not ecma_regex("^[0-9]{4}$").search("٤٢٤٢")  # ECMA's \d and [0-9] are ASCII
    assert ecma_regex(r"^[$]\$$").search("$$")  # a $ in a class or escaped stays literal
    with api(shared.url, shared.test_key) as client:
        checkout = create(client)
    assert not SPEC.validation_errors("Checkout", checkout)
    errors = SPEC.validation_errors("Checkout", {**checkout, "currency": "SEK\n"})
    assert [list(e.path) for e in errors] == [["currency"]]


def test_an_answer_that_cannot_be_rendered_undoes_its_write(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever fails after the write (here: the answer holds a set, which JSON cannot carry),
    the 500 says "nothing changed" and that is true: neither the checkout nor a refund stays."""
    service = server.app.state.service
    store = server.app.state.store
    with api(server.url, server.test_key) as client:
        paid = create(client)
        assert client.post(
            "/checkout/test/pay", json={"checkout_id": paid["checkout_id"]}
        ).is_success
        before = snapshot(store)
        for operation in ("createCheckout", "refundCheckout", "updateCheckout"):
            original = service._handlers[operation]

            def broken(s: Any, caller: Any, body: Any, original: Any = original) -> Any:
                return {**original(s, caller, body), "amount": {1, 2}}

            monkeypatch.setitem(service._handlers, operation, broken)
        for path, body in (
            ("/checkout/create", create_body()),
            ("/checkout/refund", {"checkout_id": paid["checkout_id"], "amount": 100}),
            ("/checkout/update", {"checkout_id": paid["checkout_id"], "metaData": {"a": "b"}}),
        ):
            resp = client.post(path, json=body, headers={"Idempotency-Key": f"k{path}"})
            assert resp.status_code == 500
            assert resp.json()["error"]["message"] == "The server failed; nothing changed."
        assert snapshot(store) == before
        monkeypatch.undo()
        again = client.post("/checkout/retrieve", json={"checkout_id": paid["checkout_id"]})
        assert again.json()["refunded_amount"] == 0


@pytest.mark.parametrize("number", ["1e999", "-1e400", "1.5e309"])
def test_numbers_beyond_a_double_are_not_i_json(shared: RunningServer, number: str) -> None:
    """They would read as infinity, which no answer or record may hold: refused at parsing."""
    text = json.dumps(create_body()).replace('"amount": ', f'"amount": {number}, "x": ', 1)
    with api(shared.url, shared.test_key) as client:
        resp = client.post(
            "/checkout/create", content=text, headers={"Content-Type": "application/json"}
        )
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "invalid_json"
    assert "beyond the range of a double" in resp.json()["error"]["message"]


def test_integral_numbers_written_with_a_fraction_are_integers(shared: RunningServer) -> None:
    text = json.dumps(create_body(amount=3000)).replace('"amount": 3000', '"amount": 3e3', 1)
    with api(shared.url, shared.test_key) as client:
        resp = client.post(
            "/checkout/create", content=text, headers={"Content-Type": "application/json"}
        )
    assert resp.status_code == 200, resp.text
    assert resp.json()["amount"] == 3000 and '"amount":3000,' in resp.text
