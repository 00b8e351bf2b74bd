"""The money rules on every checkout answer: refunded_amount is the sum of the refunds and never
exceeds the amount, amount and currency never change, a refund adds exactly what it refunded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..lifecycle import Answer, Lifecycle, Transition
from .validate import Checked

if TYPE_CHECKING:
    from .tracker import TrackedObject


def check_money(
    c: Checked,
    lc: Lifecycle,
    obj: TrackedObject,
    prior: dict[str, Any] | None,
    answered: dict[str, Any],
    outcomes: list[tuple[str | None, Transition | Answer]],
) -> None:
    """Add the money findings of one checkout answer to ``c`` (each broken invariant once per
    checkout: a wrong total shows again on every later read)."""
    before = len(c.findings)
    amount = answered.get(lc.amount_field)
    refunded = answered.get(lc.refunded_field)
    refunds = answered.get("refunds")
    if isinstance(refunded, int) and isinstance(refunds, list):
        total = sum(r.get("amount", 0) for r in refunds if isinstance(r, dict))
        if total != refunded:
            c.add(
                "money.refunded-equals-sum",
                "server",
                f"{lc.refunded_field} is {refunded} but the refunds add up to {total}",
                expected=total,
                received=refunded,
                object_id=obj.object_id,
            )
    if isinstance(refunded, int) and isinstance(amount, int) and refunded > amount:
        c.add(
            "money.refund-cap",
            "server",
            f"{lc.refunded_field} {refunded} exceeds the amount {amount}",
            expected=f"<= {amount}",
            received=refunded,
            object_id=obj.object_id,
        )
    first = obj.first
    if first is not None:
        for name in (lc.amount_field, "currency"):
            if name in first and answered.get(name) != first.get(name):
                c.add(
                    f"money.{name}-immutable",
                    "server",
                    f"{name} changed from {first.get(name)!r} to {answered.get(name)!r}",
                    expected=first.get(name),
                    received=answered.get(name),
                    object_id=obj.object_id,
                )
    effects = {d.effect for _, d in outcomes if isinstance(d, Transition)}
    if prior is not None and "refund" in effects and isinstance(refunded, int):
        request = c.request_json if isinstance(c.request_json, dict) else {}
        left = int(prior.get(lc.amount_field, 0)) - int(prior.get(lc.refunded_field, 0))
        wanted = int(prior.get(lc.refunded_field, 0)) + int(request.get("amount", left))
        records, now = prior.get("refunds"), answered.get("refunds")
        if isinstance(records, list) and isinstance(now, list) and len(now) != len(records) + 1:
            c.add(
                "money.refund-record",
                "server",
                f"a refund (or release) of {request.get('amount', left)} added "
                f"{len(now) - len(records)} refund records, not one",
                expected=len(records) + 1,
                received=len(now),
                object_id=obj.object_id,
            )
        if refunded != wanted:
            c.add(
                "money.refunded-amount",
                "server",
                f"after refunding {request.get('amount', left)}, {lc.refunded_field} is "
                f"{refunded}, not {wanted}",
                expected=wanted,
                received=refunded,
                object_id=obj.object_id,
            )
    fresh = [f for f in c.findings[before:] if f.rule not in obj.reported]
    obj.reported.update(f.rule for f in c.findings[before:])
    c.findings[before:] = fresh
