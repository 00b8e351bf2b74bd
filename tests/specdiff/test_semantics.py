"""Safe changes stay safe; shared schemas are reported once; OpenAPI 3.0, cycles and depth."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from neuropay_contract.errors import NeuropayError, SpecError
from neuropay_contract.specdiff import Document, diff_documents, parse_document

from .conftest import diff_pair, spec_copy
from .test_mutations import op, props, schema


def _inline_amount(d: dict[str, Any]) -> None:
    # The same schema written inline instead of through $ref: no change at all.
    props(d, "RefundRequest")["amount"] = copy.deepcopy(schema(d, "Amount"))


SAFE_EDITS = {
    "descriptions": lambda d: [
        o.update(description="Reworded.") for p in d["paths"].values() for o in p.values()
    ],
    "summaries and tags": lambda d: (
        op(d, "/checkout/create").update(summary="Make one"),
        d["tags"][0].update(description="x"),
    ),
    "examples": lambda d: op(d, "/checkout/retrieve")["requestBody"]["content"][
        "application/json"
    ].pop("examples"),
    "schema examples": lambda d: schema(d, "Amount").update(examples=[1, 2]),
    "info": lambda d: d["info"].update(description="New words.", version="1.0.1"),
    "new optional request field": lambda d: props(d, "CreateCheckoutRequest").update(
        note={"type": "string"}
    ),
    "new operation": lambda d: d["paths"].update(
        {"/checkout/list": {"post": dict(op(d, "/checkout/retrieve"), operationId="listCheckouts")}}
    ),
    "inline instead of $ref": _inline_amount,
    "property order": lambda d: schema(d, "Checkout").update(
        properties=dict(reversed(list(props(d, "Checkout").items())))
    ),
    "enum order": lambda d: schema(d, "RefundReason")["enum"].reverse(),
    "lifecycle descriptions": lambda d: d["x-lifecycle"]["states"]["paid"].update(
        description="Money taken."
    ),
    "transition order": lambda d: d["x-lifecycle"]["transitions"].reverse(),
    "new optional header": lambda d: op(d, "/checkout/retrieve")["responses"]["200"].update(
        headers={"X-Trace": {"schema": {"type": "string"}}}
    ),
}


@pytest.mark.parametrize("edit", SAFE_EDITS.values(), ids=SAFE_EDITS.keys())
def test_safe_changes_are_reported_safe(edit: Any) -> None:
    report = diff_pair(edit)
    assert [c.reason for c in report.changes if c.severity.value != "safe"] == []


def test_an_unchanged_spec_has_no_changes() -> None:
    assert diff_pair().changes == []


def test_a_change_in_a_shared_schema_is_reported_once_with_every_operation() -> None:
    report = diff_pair(lambda d: schema(d, "Checkout")["required"].remove("url"))
    found = [c for c in report.changes if c.rule.id == "response-property-became-optional"]
    assert len(found) == 1
    ids = {o.operation_id for o in found[0].operations}
    checkout_ops = {
        "createCheckout",
        "retrieveCheckout",
        "captureCheckout",
        "refundCheckout",
        "updateCheckout",
        "deleteCheckout",
        "testPayCheckout",
    }
    assert checkout_ops <= ids
    assert "createCustomer" not in ids


def test_lifecycle_changes_name_their_operation() -> None:
    report = diff_pair(lambda d: d["x-lifecycle"]["forbidden"][0].update(code="too_early"))
    (change,) = [c for c in report.changes if c.rule.id == "lifecycle-forbidden-answer-changed"]
    assert {o.operation_id for o in change.operations} == {"captureCheckout"}
    assert "409 too_early" in change.reason


def _openapi30(extra: dict[str, Any]) -> dict[str, Any]:
    pet = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "tag": {"type": "string"},
            "parent": {"$ref": "#/components/schemas/Pet"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
        },
    }
    pet["properties"]["tag"].update(extra)
    return {
        "openapi": "3.0.3",
        "info": {"title": "pets", "version": "1"},
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                            },
                        }
                    },
                }
            }
        },
        "components": {"schemas": {"Pet": pet}},
    }


def test_openapi_30_nullable_and_a_self_referencing_schema() -> None:
    old = Document("old", _openapi30({}))
    new = Document("new", _openapi30({"nullable": True}))
    (change,) = diff_documents(old, new).changes
    assert change.rule.id == "response-property-became-nullable"
    assert change.new_pointer == "#/components/schemas/Pet/properties/tag"
    assert {o.operation_id for o in change.operations} == {"listPets"}


def test_openapi_30_boolean_exclusive_maximum() -> None:
    old = Document("old", _openapi30({"maximum": 10}))
    new = Document("new", _openapi30({"maximum": 10, "exclusiveMaximum": True}))
    rules = [c.rule.id for c in diff_documents(old, new).changes]
    assert "response-bound-tightened" in rules


def test_a_reference_cycle_through_two_schemas_ends() -> None:
    doc = spec_copy()
    schema(doc, "Refund")["properties"]["checkout"] = {"$ref": "#/components/schemas/Checkout"}
    new = copy.deepcopy(doc)
    schema(new, "Refund")["properties"]["note"] = {"type": "string"}
    report = diff_documents(Document("old", doc), Document("new", new))
    assert [c.rule.id for c in report.changes] == ["response-property-added"]


def test_a_depth_bomb_is_refused_with_one_line() -> None:
    text = (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\nx-deep: "
        + "[" * 300
        + "]" * 300
    )
    with pytest.raises(NeuropayError, match="nested deeper than"):
        parse_document(text, "bomb.yaml")
    with pytest.raises(NeuropayError, match=r"nested deeper"):
        parse_document('{"openapi": "3.1.0", "x": ' + "[" * 50000 + "]" * 50000 + "}", "bomb.json")


def test_a_yaml_alias_bomb_is_refused() -> None:
    rows = [
        "openapi: 3.1.0",
        "info: {title: t, version: '1'}",
        "paths: {}",
        "a0: &a0 [x, x, x, x, x, x, x, x, x, x]",
    ]
    rows += [
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
        for i in range(1, 9)
    ]
    with pytest.raises(NeuropayError, match="aliases"):
        parse_document("\n".join(rows), "laughs.yaml")


def test_a_dangling_ref_is_an_error() -> None:
    doc = spec_copy()
    new = copy.deepcopy(doc)
    props(new, "Checkout")["url"] = {"$ref": "#/components/schemas/Nowhere"}
    with pytest.raises(SpecError, match="points at nothing"):
        diff_documents(Document("old", doc), Document("new", new))


def test_swagger_2_and_non_openapi_are_refused() -> None:
    with pytest.raises(SpecError, match=r"OpenAPI 3\.0 and 3\.1"):
        parse_document('{"openapi": "2.0", "paths": {}}', "old.json")
    with pytest.raises(SpecError, match="not an OpenAPI document"):
        parse_document("just: yaml\n", "notes.yaml")


def test_a_changed_security_scheme_reaches_the_operations_using_it() -> None:
    report = diff_pair(
        lambda d: d["components"]["securitySchemes"]["bearerAuth"].update(scheme="basic")
    )
    (change,) = report.changes
    assert change.rule.id == "security-scheme-changed"
    assert "'bearer' became 'basic'" in change.reason
    assert len(change.operations) == 12


def test_lifecycle_names_declared_as_lists_are_compared_too() -> None:
    # A lifecycle that lists its guards (a closed enum) rather than mapping them to descriptions.
    def as_list(d: dict[str, Any]) -> None:
        d["x-lifecycle"]["guards"] = list(d["x-lifecycle"]["guards"])

    report = diff_pair(lambda d: d["x-lifecycle"]["guards"].remove("amount_exceeds"), as_list)
    (change,) = report.changes
    assert (change.rule.id, change.old_pointer) == (
        "lifecycle-guard-removed",
        "#/x-lifecycle/guards/7",
    )


def _paths_of(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, value in items:
        found += [(*path, key), *_paths_of(value, (*path, key))]
    return found


_JUNK: list[Any] = [
    None,
    1,
    "x",
    [],
    {},
    [1, "a"],
    [{"a": 1}],
    {"$ref": "#/components/schemas/Checkout"},
    {"$ref": 5},
    True,
    {"type": ["string", {"x": 1}]},
]


@pytest.mark.parametrize("seed", range(40))
def test_wrongly_shaped_documents_never_crash_the_differ(seed: int) -> None:
    import random

    from neuropay_contract.specdiff.render import render

    rng = random.Random(seed)
    base = spec_copy()
    broken = spec_copy()
    paths = _paths_of(base)
    for _ in range(rng.randint(1, 12)):
        node: Any = broken
        path = rng.choice(paths)
        try:
            for token in path[:-1]:
                node = node[token]
            node[path[-1]] = copy.deepcopy(rng.choice(_JUNK))
        except (KeyError, IndexError, TypeError):
            continue
    for old, new in ((base, broken), (broken, base)):
        try:
            report = diff_documents(Document("old", old), Document("new", new))
        except NeuropayError:
            continue  # a dangling $ref: refused with one line
        for fmt in ("text", "md", "json"):
            assert render(report, fmt)
