"""Metadata merge and delete-by-empty-value, in every status."""

from __future__ import annotations

import pytest

from _support import SPEC
from neuropay_contract.contract import ContractClient, ContractViolation, Driver
from neuropay_contract.contract.checks import check_response_schema, check_status

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
