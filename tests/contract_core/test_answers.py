"""Two servers' answers compared after the spec's normalisation (contract/answers.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract._resources import default_spec_path
from neuropay_contract.contract.answers import Answer, Normalisation, Pairing
from neuropay_contract.spec import ApiSpec, load_spec

SPEC = load_spec()
NORM = Normalisation(SPEC)
A, B, C = "a" * 32, "b" * 32, "c" * 32


def answer(body: Any, status: int = 200, **headers: str) -> Answer:
    return Answer(
        status, {"content-type": "application/json", **headers}, json.dumps(body).encode()
    )


def checkout(checkout_id: str, **fields: Any) -> dict[str, Any]:
    base = {
        "checkout_id": checkout_id,
        "identifier": checkout_id,
        "status": "created",
        "amount": 100,
        "url": f"http://127.0.0.1:1/pay/{checkout_id}",
        "created": "2026-01-01T00:00:00Z",
        "updated": "2026-01-01T00:00:00Z",
        "refunds": [],
    }
    return base | fields


def where(differences: list[Any]) -> list[str]:
    return [d.where for d in differences]


def test_ids_are_compared_by_a_one_to_one_mapping() -> None:
    pairing = Pairing()
    differences, problems = NORM.compare(
        "createCheckout", answer(checkout(A)), answer(checkout(B)), pairing
    )
    assert (differences, problems) == ([], [])
    assert pairing.forward[A] == B
    # the identifier holds the id: compared through the mapping, so it is equal
    assert pairing.map_text(f"No checkout {A}.") == f"No checkout {B}."
    # an id of the target already paired with another id of the reference is a difference
    differences, _ = NORM.compare(
        "retrieveCheckout", answer(checkout(A)), answer(checkout(C)), pairing
    )
    assert "/checkout_id" in where(differences)


def test_hosted_page_urls_may_differ_and_their_paths_are_mapped() -> None:
    pairing = Pairing()
    target = checkout(A, url=f"https://pay.example.com/p?c={A}")
    differences, _ = NORM.compare("createCheckout", answer(target), answer(checkout(B)), pairing)
    assert differences == []
    assert pairing.map_path("/p?c=" + A) == "/pay/" + B  # the page the reference made
    # a URL the client sends back (returnUrl) is no hosted page: compared as it is
    differences, _ = NORM.compare(
        "createCheckout",
        answer(checkout(A, returnUrl="https://a.example/x")),
        answer(checkout(B, returnUrl="https://b.example/x")),
        Pairing(),
    )
    assert where(differences) == ["/returnUrl"]


def test_timestamps_are_compared_by_order_and_their_schema() -> None:
    later = checkout(A, created="2026-01-01T00:00:00Z", updated="2026-01-01T00:00:05.5Z")
    also_later = checkout(B, created="2027-05-05T10:00:00Z", updated="2027-05-05T10:00:01Z")
    assert NORM.compare("updateCheckout", answer(later), answer(also_later), Pairing())[0] == []
    same = checkout(B, created="2027-05-05T10:00:00Z", updated="2027-05-05T10:00:00Z")
    differences, _ = NORM.compare("updateCheckout", answer(later), answer(same), Pairing())
    assert where(differences) == ["/created vs /updated"]
    local = checkout(A, created="2026-01-01T01:00:00+01:00")
    differences, _ = NORM.compare("createCheckout", answer(local), answer(checkout(B)), Pairing())
    assert where(differences) == ["/created"]
    nine_digits = checkout(A, created="2026-01-01T00:00:00.123456789Z")
    differences, _ = NORM.compare(
        "createCheckout", answer(nine_digits), answer(checkout(B)), Pairing()
    )
    assert where(differences) == ["/created"]


def test_the_reference_breaking_a_leaf_schema_is_its_problem() -> None:
    _, problems = NORM.compare(
        "createCheckout", answer(checkout(A)), answer(checkout("not-an-id")), Pairing()
    )
    assert problems and "/checkout_id" in problems[0]


@pytest.mark.parametrize(
    ("target", "reference", "expected"),
    [
        (
            {"error": {"code": "x", "param": "/a"}},
            {"error": {"code": "y", "param": "/a"}},
            "/error/code",
        ),
        (
            {"error": {"code": "x", "param": "/a"}},
            {"error": {"code": "x", "param": ""}},
            "/error/param",
        ),
        ({"a": 1}, {"a": 1.0}, "/a"),
        ({"a": True}, {"a": 1}, "/a"),
        ({"a": [1]}, {"a": [1, 2]}, "/a/length"),
        ({"a": 1}, {"b": 1}, "/a"),
    ],
)
def test_every_other_field_must_be_equal(target: Any, reference: Any, expected: str) -> None:
    differences, _ = NORM.compare("createCheckout", answer(target), answer(reference), Pairing())
    assert expected in where(differences)


def test_status_and_named_headers_must_be_equal() -> None:
    differences, _ = NORM.compare("createCheckout", answer({}, 200), answer({}, 201), Pairing())
    assert [d.kind for d in differences] == ["status"]
    replayed = answer({}, 200, **{"idempotent-replayed": "true"})
    differences, _ = NORM.compare("createCheckout", replayed, answer({}), Pairing())
    assert where(differences) == ["idempotent-replayed"]
    # Allow is named in the spec's text; framing is free
    differences, _ = NORM.compare(
        None, answer({}, 405, allow="POST"), answer({}, 405, allow="GET, POST"), Pairing()
    )
    assert where(differences) == ["allow"]
    # the API's JSON answers carry application/json without parameters (http.answer-media-type)
    charset = Answer(
        200, {"content-type": "application/json; charset=utf-8", "content-length": "2"}, b"{}"
    )
    assert where(NORM.compare("createCheckout", charset, answer({}), Pairing())[0]) == [
        "content-type"
    ]
    # a page's media type is named, its parameters are free (hosted-page.form)
    page = Answer(200, {"content-type": "text/html; charset=utf-8"}, b"<p>")
    plain_page = Answer(200, {"content-type": "text/html"}, b"<p>")
    assert NORM.compare(None, page, plain_page, Pairing())[0] == []


def _spec_with(tmp_path: Path, extension: str) -> ApiSpec:
    path = tmp_path / "spec.yaml"
    text = default_spec_path().read_text(encoding="utf-8")
    path.write_text(text + "\nx-implementation-defined:\n" + extension, encoding="utf-8")
    return load_spec(path)


def test_implementation_defined_parts_are_compared_by_their_readings(tmp_path: Path) -> None:
    spec = _spec_with(
        tmp_path,
        "  - id: errors.message\n"
        "    point: The error message's wording.\n"
        "    readings: [any text]\n"
        "    why: Messages are for people.\n"
        "    answers: [{body: /error/message}, {operations: [createCheckout], body: /items/*/x,"
        " values: [1, 2]}, {header: Retry-After, values: ['1', '2']}]\n",
    )
    norm = Normalisation(spec)
    worded = answer({"error": {"code": "x", "message": "No."}})
    other = answer({"error": {"code": "x", "message": "Not found"}})
    assert norm.compare("retrieveCheckout", worded, other, Pairing())[0] == []
    assert where(NORM.compare("retrieveCheckout", worded, other, Pairing())[0]) == [
        "/error/message"
    ]
    items = answer({"items": [{"x": 1}, {"x": 2}]})
    swapped = answer({"items": [{"x": 2}, {"x": 1}]})
    assert norm.compare("createCheckout", items, swapped, Pairing())[0] == []
    # a reading outside the listed values, or the point on another operation, is a difference
    beyond = answer({"items": [{"x": 3}, {"x": 2}]})
    assert where(norm.compare("createCheckout", beyond, items, Pairing())[0]) == ["/items/0/x"]
    assert where(norm.compare("refundCheckout", swapped, items, Pairing())[0]) == [
        "/items/0/x",
        "/items/1/x",
    ]
    retry = answer({}, 429, **{"retry-after": "1"})
    assert (
        norm.compare("createCheckout", retry, answer({}, 429, **{"retry-after": "2"}), Pairing())[0]
        == []
    )
    assert where(
        norm.compare("createCheckout", retry, answer({}, 429, **{"retry-after": "5"}), Pairing())[0]
    ) == ["retry-after"]


def test_members_of_a_map_are_values_not_fields() -> None:
    """A metadata key named like a field (``created``) holds the merchant's text, not a time."""
    sent = {"created": "not a time", "checkout_id": "x"}
    same = NORM.compare(
        "createCheckout",
        answer(checkout(A, metaData=sent)),
        answer(checkout(B, metaData=sent)),
        Pairing(),
    )
    assert same == ([], [])
    differences, _ = NORM.compare(
        "createCheckout",
        answer(checkout(A, metaData=sent)),
        answer(checkout(B, metaData={**sent, "created": "other"})),
        Pairing(),
    )
    assert where(differences) == ["/metaData/created"]
