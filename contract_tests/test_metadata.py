"""Metadata merge and delete-by-empty-value, in every status."""

from __future__ import annotations

import pytest

from _support import SPEC
from neuropay_contract.contract import ContractClient, ContractViolation, Driver
from neuropay_contract.contract.checks import (
    check_error,
    check_response_schema,
    check_status,
    check_unchanged,
)

STATUSES = [
    pytest.param(
        s,
        id=s,
        marks=pytest.mark.np_check(category="metadata", operation="updateCheckout", status=s),
    )
    for s in SPEC.require_lifecycle().states
]


@pytest.mark.parametrize("status", STATUSES)
def test_update_merges_and_deletes(
    np_driver: Driver, np_client: ContractClient, status: str
) -> None:
    checkout = np_driver.reach(status)
    cid = checkout["checkout_id"]
    first = np_client.call(
        "updateCheckout", {"checkout_id": cid, "metaData": {"color": "blue", "size": "L"}}
    )
    check_status(first, 200, "metadata.update-allowed", f"update refused in status '{status}'")
    check_response_schema(SPEC, first)
    second = np_client.call(
        "updateCheckout", {"checkout_id": cid, "metaData": {"color": "", "shipped": "yes"}}
    )
    check_status(second, 200, "metadata.update-allowed", f"update refused in status '{status}'")
    result = np_driver.retrieve(cid)
    expected = {k: v for k, v in checkout["metaData"].items() if k != "color"} | {
        "size": "L",
        "shipped": "yes",
    }
    if result.get("metaData") != expected:
        raise ContractViolation(
            "metadata.merge",
            "Metadata was not merged as the spec says",
            "set color and size, then deleted color with an empty value and set shipped",
            operation="updateCheckout",
            expected={"metaData": expected},
            received={"metaData": result.get("metaData")},
        )
    if result.get("status") != status:
        raise ContractViolation(
            "metadata.status-unchanged",
            "An update changed the status",
            f"status was '{status}', now '{result.get('status')}'",
            operation="updateCheckout",
            expected={"status": status},
            received={"status": result.get("status")},
        )


LIMIT = SPEC.limits.max_metadata_keys


@pytest.mark.np_check(category="metadata", operation="createCheckout")
def test_create_does_not_store_empty_values(np_driver: Driver) -> None:
    """Keys sent with the empty string on create are not stored."""
    checkout = np_driver.reach("created", metaData={"keep": "1", "gone": ""})
    stored = np_driver.retrieve(checkout["checkout_id"]).get("metaData")
    if stored != {"keep": "1"}:
        raise ContractViolation(
            "metadata.create-empty",
            "A key sent empty on create was stored",
            "created with keep=1 and gone=''",
            operation="createCheckout",
            expected={"metaData": {"keep": "1"}},
            received={"metaData": stored},
        )


@pytest.mark.np_check(category="metadata", operation="updateCheckout", status="created")
def test_merge_beyond_the_key_limit_is_refused(
    np_driver: Driver, np_client: ContractClient
) -> None:
    """A merge may leave at most x-limits.max_metadata_keys keys (deletes count first); one that
    would leave more answers 409 metadata_limit_exceeded and changes nothing."""
    checkout = np_driver.reach("created", metaData={"k0": "v"})
    cid = checkout["checkout_id"]
    fill = {f"k{i}": "v" for i in range(1, LIMIT)}
    full = np_client.call("updateCheckout", {"checkout_id": cid, "metaData": fill})
    check_status(full, 200, "metadata.limit", f"a merge leaving exactly {LIMIT} keys was refused")
    before = np_driver.retrieve(cid)
    over = np_client.call("updateCheckout", {"checkout_id": cid, "metaData": {"extra": "v"}})
    check_error(
        SPEC,
        over,
        409,
        "metadata_limit_exceeded",
        "metadata.limit",
        f"a merge leaving {LIMIT + 1} keys was not refused",
    )
    check_unchanged(before, np_driver.retrieve(cid), "updateCheckout")
    swap = np_client.call(
        "updateCheckout", {"checkout_id": cid, "metaData": {"k0": "", "extra": "v"}}
    )
    check_status(
        swap, 200, "metadata.limit", f"a merge deleting one key and adding one at {LIMIT} keys"
    )
    stored = np_driver.retrieve(cid).get("metaData") or {}
    if len(stored) != LIMIT or "k0" in stored or "extra" not in stored:
        raise ContractViolation(
            "metadata.merge",
            "Delete and add in one merge were not applied together",
            f"at {LIMIT} keys, deleted k0 and added extra",
            operation="updateCheckout",
            expected={"keys": LIMIT, "has k0": False, "has extra": True},
            received={
                "keys": len(stored),
                "has k0": "k0" in stored,
                "has extra": "extra" in stored,
            },
        )
