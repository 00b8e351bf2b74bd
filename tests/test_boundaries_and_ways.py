"""The part B generators: edge values from JSON Schemas, every way to make a transition, raw
HTTP answers parsed. Each is derived from the spec, so a new bound, enum value or card adds
cases without new code (the tests change the schema or the spec and see it)."""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft202012Validator

from neuropay_contract.boundaries import ASTRAL, edge_values
from neuropay_contract.contract.rawhttp import parse_answer
from neuropay_contract.contract.ways import ways
from neuropay_contract.spec import ApiSpec, load_spec


def _edges(schema: dict[str, Any]) -> list[Any]:
    return edge_values(schema, lambda s: s, lambda s, v: Draft202012Validator(s).is_valid(v))


def test_integer_edges_cross_the_word_sizes_inside_the_bounds() -> None:
    assert _edges({"type": "integer", "minimum": 1, "maximum": 10**11}) == [
        1,
        10**11,
        2**31 - 1,
        2**31,
        2**32 - 1,
        2**32,
    ]
    assert 2**53 + 1 in _edges({"type": "integer", "minimum": 0})
    assert _edges({"type": "integer", "minimum": 1, "maximum": 100}) == [1, 100]


def test_enums_booleans_and_text() -> None:
    assert _edges({"type": "string", "enum": ["a", "b", "c"]}) == ["a", "b", "c"]
    assert _edges({"type": "boolean"}) == [True, False]
    texts = _edges({"type": "string", "minLength": 1, "maxLength": 30})
    assert any(len(t) == 30 and t.isascii() for t in texts)
    assert any(len(t) == 30 and not t.isascii() for t in texts)
    assert any(any(ord(ch) > 0xFFFF for ch in t) for t in texts)
    assert all(1 <= len(t) <= 30 for t in texts)
    assert _edges({"type": "string", "pattern": "^[A-Z]{3}$"}) == []  # the syntax's own edges


def test_a_map_full_to_its_limits_and_nested_enums() -> None:
    meta = {
        "type": "object",
        "maxProperties": 5,
        "propertyNames": {"minLength": 1, "maxLength": 7},
        "additionalProperties": {"type": "string", "maxLength": 9},
    }
    full, letters = _edges(meta)
    assert len(full) == 5 and all(len(k) == 7 and len(v) == 9 for k, v in full.items())
    assert any(set(ASTRAL) & set(k) for k in letters)
    methods = {
        "type": "array",
        "maxItems": 3,
        "items": {
            "type": "object",
            "required": ["method"],
            "properties": {"method": {"type": "string", "enum": ["card", "swish"]}},
        },
    }
    values = _edges(methods)
    assert [{"method": "card"}] in values and [{"method": "swish"}] in values
    assert any(len(v) == 3 for v in values)


def test_invalid_candidates_are_dropped() -> None:
    # a schema the generator cannot satisfy with its text (not: enum of what it makes) loses them
    assert _edges({"type": "boolean", "not": {"const": True}}) == [False]


def _with_card(spec: ApiSpec) -> ApiSpec:
    document = copy.deepcopy(spec.document)
    document["x-test-mode"]["card_ids"].append(
        {"card_id": "card_test_other", "brand": "mastercard", "outcome": "success"}
    )
    return ApiSpec(document)


def test_every_way_of_the_bundled_spec() -> None:
    spec = load_spec()
    names = {w.name for w in ways(spec.require_lifecycle(), spec.test_mode)}
    assert "create_reserved-saved-card-capture-false" in names
    assert "create_paid-card-id-card_test_success-capture-true" in names
    assert "pay-page-4242424242424242-capture-true" in names
    assert "cancel-page-capture-false" in names
    assert "expire_link-helper-capture-true" in names  # no page for the platform's events
    assert not any(n.startswith("expire_link-page") for n in names)
    # paid is reached with capture false through reserve and capture
    assert "refund_full-operation-capture-false" in names


def test_a_new_test_card_is_a_new_way() -> None:
    spec = _with_card(load_spec())
    names = {w.name for w in ways(spec.require_lifecycle(), spec.test_mode)}
    assert "create_reserved-card-id-card_test_other-capture-false" in names


def test_raw_answers_are_parsed() -> None:
    answer = parse_answer(
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}xx"
    )
    assert (answer.status, answer.headers["content-type"], answer.json()) == (
        400,
        "application/json",
        {},
    )
    chunked = parse_answer(
        b"HTTP/1.1 400 X\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    )
    assert chunked.json() == {}
    assert parse_answer(b"garbage").status is None
