"""Every transition through every way to make it (issue 20 B.2): each test card id and a saved
card for automatic payment, each test helper card and the hosted page for a customer's events,
each capture flag the guards allow (:mod:`neuropay_contract.contract.ways`). The result is
checked in the answer and read back with retrieve.

The ci profile runs the ways that ``test_lifecycle.test_transition`` does not already take (its
own way is the first card, the helper, capture true where free); deep runs every way."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from _support import SPEC
from neuropay_contract.contract import (
    ContractClient,
    ContractViolation,
    Driver,
    create_body,
    not_covered,
)
from neuropay_contract.contract.checks import check_response_schema, check_unchanged
from neuropay_contract.contract.plugin import ACTIVE_PROFILE
from neuropay_contract.contract.ways import Way, ways
from neuropay_contract.lifecycle import wanted_capture

LIFECYCLE = SPEC.require_lifecycle()
ALL_WAYS = ways(LIFECYCLE, SPEC.test_mode)


def _default(way: Way) -> bool:
    """The way test_transition already takes: the first means listed, the default capture."""
    first = next(w for w in ALL_WAYS if w.transition == way.transition)
    return (way.means, way.card) == (first.means, first.card)


def _selected(way: Way) -> bool:
    if ACTIVE_PROFILE == "deep":
        return True
    free = wanted_capture(way.transition.guard) is None
    return not _default(way) and not (free and way.capture is False)


WAYS = [
    pytest.param(
        way,
        id=way.name,
        marks=pytest.mark.np_check(
            category="lifecycle",
            operation=LIFECYCLE.trigger_operation(way.transition),
            status=way.transition.source,
        ),
    )
    for way in ALL_WAYS
    if _selected(way)
]


def _fail(way: Way, title: str, message: str, expected: Any, received: Any) -> None:
    raise ContractViolation(
        "lifecycle.every-way",
        title,
        f"{way.name}: {message}",
        operation=LIFECYCLE.trigger_operation(way.transition),
        expected=expected,
        received=received,
    )


@pytest.mark.parametrize("way", WAYS)
def test_transition_ways(np_driver: Driver, np_client: ContractClient, way: Way) -> None:
    t = way.transition
    checkout = np_driver.reach(t.source, way.capture) if t.source else None
    answer: dict[str, Any] | None
    if way.means == "page":
        assert checkout is not None
        answer = None
        _play_page(np_driver, checkout, way)
    elif way.means in ("card-id", "saved-card"):
        customer = np_driver.test_customer()
        card = way.card if way.means == "card-id" else np_driver.save_card(customer)
        body = create_body(way.capture, customer_id=customer, card_id=card)
        resp = np_client.call("createCheckout", body)
        if resp.status != 200:
            _fail(
                way,
                f"{t.name} by {way.means} was refused",
                f"answered {resp.status}",
                {"status": 200},
                resp.body,
            )
        check_response_schema(SPEC, resp)
        answer = resp.json_object()
    elif way.means == "helper" and way.card is not None:
        assert checkout is not None
        op = LIFECYCLE.trigger_operation(t)
        resp = np_client.call(
            op or "", {"checkout_id": checkout["checkout_id"], "card_number": way.card}
        )
        if resp.status != 200:
            _fail(
                way,
                f"{t.name} by {op} with {way.card} was refused",
                f"answered {resp.status}",
                {"status": 200},
                resp.body,
            )
        check_response_schema(SPEC, resp)
        answer = resp.json_object()
    else:
        answer = np_driver.perform(t, checkout, way.capture)
    if answer is not None and answer.get("status") != t.target:
        _fail(
            way,
            f"{t.name} by {way.means} landed in the wrong status",
            f"the answer says '{answer.get('status')}', x-lifecycle says '{t.target}'",
            {"status": t.target},
            {"status": answer.get("status")},
        )
    made = answer or checkout
    assert made is not None
    reread = np_driver.retrieve(made["checkout_id"])
    if reread.get("status") != t.target:
        _fail(
            way,
            f"{t.name} by {way.means}: retrieve shows the wrong status",
            f"retrieve says '{reread.get('status')}', x-lifecycle says '{t.target}'",
            {"status": t.target},
            {"status": reread.get("status")},
        )
    if answer is not None:
        check_unchanged(answer, reread, "retrieveCheckout", rule="lifecycle.reread-matches")


def _play_page(driver: Driver, checkout: dict[str, Any], way: Way) -> None:
    """The customer's event on the hosted page, with the form fields of the reference server's
    page (the spec names none): not covered when the target's page does not take them."""
    page = str(checkout.get("url") or "")
    base, where = urlsplit(driver.client.base_url), urlsplit(page)
    if (where.scheme, where.netloc) != (base.scheme, base.netloc):
        not_covered(f"the hosted page {page!r} is not served by the target")
    form = (
        {"action": "pay", "card_number": way.card, "expiry": "12/30"}
        if way.card
        else {"action": "cancel"}
    )
    driver.client.request(
        "POST",
        where.path + (f"?{where.query}" if where.query else ""),
        content=urlencode(form).encode(),
        content_type="application/x-www-form-urlencoded",
        api_key=None,
    )
    if driver.retrieve(checkout["checkout_id"]).get("status") == checkout.get("status"):
        not_covered("the target's hosted page did not take the reference page's form fields")
