"""The model of each checkout a journey made, and the read-back check at the end of a run.

The model holds only what the client knows for sure: the refunds the server accepted (a retry with
the same Idempotency-Key counted once), the metaData keys accepted updates wrote, and the status
of the last answer that no other request on the checkout overlapped. At the end every checkout is
read back and compared: no lost refund, refunded total = their sum, never above the amount, the
status the last sequential answer gave, no lost metaData key. The ``load.model-*`` rules are
registered with the others in ``contract/rules.py`` (:data:`LOAD_RULES`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..lifecycle import Lifecycle
from ..traffic.findings import Finding


@dataclass
class CheckoutModel:
    checkout_id: str
    amount: int
    status: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    # Accepted refunds by Idempotency-Key (or a unique name for requests without one).
    refunds: dict[str, int] = field(default_factory=dict)
    # A request was cut by the end of the run (or failed in transit): what the server did with it
    # is unknown, so this checkout is not compared.
    uncertain: bool = False
    # Exchange index of the last answer, for the finding.
    last_exchange: int = 0

    @property
    def refunded(self) -> int:
        return sum(self.refunds.values())


class Models:
    """Every checkout model of one load process, updated from each answer."""

    def __init__(self, lifecycle: Lifecycle, update_op: str | None) -> None:
        self.lifecycle = lifecycle
        self.update_op = update_op
        self.checkouts: dict[str, CheckoutModel] = {}
        self._unique = 0

    def observe(
        self,
        operation: str,
        request: Mapping[str, Any],
        idempotency_key: str | None,
        status: int | None,
        answer: Any,
        overlapped: bool,
        exchange: int,
    ) -> None:
        lc = self.lifecycle
        cid = request.get("checkout_id")
        model = self.checkouts.get(cid) if isinstance(cid, str) else None
        if status is None:  # no answer: the server may or may not have applied it
            if model is not None:
                model.uncertain = True
            return
        if not 200 <= status < 300 or not isinstance(answer, dict):
            return
        if model is None and cid is None and isinstance(answer.get("checkout_id"), str):
            if answer["checkout_id"] in self.checkouts:
                return  # an idempotent replay of the creation
            meta = request.get("metaData")
            model = CheckoutModel(
                answer["checkout_id"],
                int(request.get(lc.amount_field, answer.get(lc.amount_field, 0))),
                None,
                dict(meta) if isinstance(meta, dict) else {},
            )
            self.checkouts[model.checkout_id] = model
        if model is None:
            return
        model.last_exchange = exchange
        if operation in lc.refund_operations:
            amount = request.get("amount")
            if not isinstance(amount, int):
                amount = model.amount - model.refunded  # "all that is left"
            self._unique += 1
            model.refunds.setdefault(idempotency_key or f"#{self._unique}", amount)
        elif operation == self.update_op and isinstance(request.get("metaData"), dict):
            for key, value in request["metaData"].items():
                if value == "":
                    model.metadata.pop(key, None)
                else:
                    model.metadata[key] = value
        # After overlapping writes the order they applied in is unknown: the next answer no
        # other request overlapped tells the status again.
        model.status = None if overlapped else answer.get(lc.field)

    def mark_uncertain(self, checkout_id: Any) -> None:
        model = self.checkouts.get(checkout_id) if isinstance(checkout_id, str) else None
        if model is not None:
            model.uncertain = True


def compare(
    model: CheckoutModel, status: int | None, answer: Any, lifecycle: Lifecycle, exchange: int
) -> list[Finding]:
    """The findings of one read-back against its model."""
    cid = model.checkout_id

    def finding(rule: str, message: str, expected: Any, received: Any) -> Finding:
        return Finding(rule, "server", message, exchange, "read-back", cid, expected, received)

    if status != 200 or not isinstance(answer, dict):
        return [finding("load.model-missing", f"{cid} read back {status}", 200, status)]
    found: list[Finding] = []
    refunded = answer.get(lifecycle.refunded_field)
    amount = answer.get(lifecycle.amount_field)
    if refunded != model.refunded:
        found.append(
            finding(
                "load.model-refunded-total",
                f"{lifecycle.refunded_field} is {refunded}; the accepted refunds add up to "
                f"{model.refunded}",
                model.refunded,
                refunded,
            )
        )
    records = answer.get("refunds")
    if isinstance(records, list) and len(records) != len(model.refunds):
        found.append(
            finding(
                "load.model-refund-count",
                f"{len(records)} refund record(s); the server accepted {len(model.refunds)}",
                len(model.refunds),
                len(records),
            )
        )
    if isinstance(refunded, int) and isinstance(amount, int) and refunded > amount:
        found.append(
            finding(
                "load.model-refund-cap",
                f"{lifecycle.refunded_field} {refunded} exceeds the amount {amount}",
                f"<= {amount}",
                refunded,
            )
        )
    if model.status is not None and answer.get(lifecycle.field) != model.status:
        found.append(
            finding(
                "load.model-status",
                f"status {answer.get(lifecycle.field)}; the last answer gave {model.status}",
                model.status,
                answer.get(lifecycle.field),
            )
        )
    meta = answer.get("metaData")
    stored: dict[str, Any] = meta if isinstance(meta, dict) else {}
    lost = {k: v for k, v in model.metadata.items() if stored.get(k) != v}
    if lost:
        found.append(
            finding(
                "load.model-metadata",
                f"metaData lost {', '.join(sorted(lost))} written by accepted updates",
                lost,
                {k: stored.get(k) for k in lost},
            )
        )
    return found
