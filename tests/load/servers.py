"""Servers that keep the contract one request at a time and break it under load.

Each wraps a fresh reference app. :class:`Busy` counts the requests in flight (each held a few
milliseconds, like a database round trip); a fault misbehaves only while more than the contract
suite's widest burst (8 refunds at once, ``contract_tests/test_money.py``) is in flight, as a
server does whose pool or lock gives way under load. So ``neuropay test`` passes them and only a
load run shows what breaks."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neuropay_contract.lifecycle import Guard
from neuropay_contract.server.records import CheckoutRecord
from neuropay_contract.server.service import CheckoutService

from ..catalog.faults import read_body

Asgi = Callable[..., Any]
# More requests in flight than the suite ever sends at once.
BUSY_AT = 10
HOLD_S = 0.004


class Busy:
    """An ASGI wrapper: every request held ``hold`` seconds, the requests in flight counted (and
    their Idempotency-Keys), so that faults can tell a loaded server from a quiet one."""

    def __init__(self, app: Any, hold: float = HOLD_S, threshold: int = BUSY_AT) -> None:
        self.app = app
        self.hold = hold
        self.threshold = threshold
        self.in_flight = 0
        self.keys: Counter[str] = Counter()
        self.before: list[Callable[[dict[str, Any], bytes], Any]] = []
        self.peak = 0

    @property
    def busy(self) -> bool:
        return self.in_flight >= self.threshold

    @property
    def state(self) -> Any:
        return self.app.state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw, replay = await read_body(receive)
        headers = {k.lower(): v for k, v in scope["headers"]}
        key = headers.get(b"idempotency-key", b"").decode("latin-1")
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.keys[key] += 1
        try:
            for hook in self.before:  # what a slow read-modify-write reads first
                await hook(scope, raw)
            await asyncio.sleep(self.hold)
            await self.app(scope, replay, send)
        finally:
            self.in_flight -= 1
            self.keys[key] -= 1


def _service(app: Any) -> CheckoutService:
    service: CheckoutService = app.state.service
    return service


def refunds_race_under_load(app: Any) -> Busy:
    """Under load the remaining amount is read outside the refund's transaction: refunds that
    together ask for more than the amount all pass the cap."""
    wrapper = Busy(app)
    service = _service(app)
    facts_for = service.facts_for

    def loose_facts(checkout: Any, operation: str, body: Any) -> set[Guard]:
        facts = facts_for(checkout, operation, body)
        if operation == "refundCheckout" and wrapper.busy and "amount_exceeds" in facts:
            facts = (facts - {"amount_exceeds"}) | {"amount_partial"}
        return facts

    service.facts_for = loose_facts  # type: ignore[method-assign]
    apply = service.apply

    def stale_apply(
        store: Any, checkout: CheckoutRecord, operation: str, body: Any, merchant: str, mode: str
    ) -> CheckoutRecord:
        if operation == "refundCheckout" and wrapper.busy and checkout["status"] == "refunded":
            checkout = {**checkout, "status": "partialRefund"}  # the stale read
        return apply(store, checkout, operation, body, merchant, mode)

    service.apply = stale_apply  # type: ignore[method-assign]
    return wrapper


def retries_run_twice_under_load(app: Any) -> Busy:
    """Under load a retry arriving while its first request runs is not matched to it (the key
    is looked up before the first stored its answer): the operation runs twice."""
    wrapper = Busy(app)
    service = _service(app)
    run_in = service.run_in

    def racy_run_in(
        store: Any, operation: str, caller: Any, body: Any, idem_key: str | None
    ) -> Any:
        racing = idem_key is not None and wrapper.busy and wrapper.keys[idem_key] > 1
        return run_in(store, operation, caller, body, None if racing else idem_key)

    service.run_in = racy_run_in  # type: ignore[method-assign]
    return wrapper


def lost_update_under_load(app: Any) -> Busy:
    """Under load an update merges its metaData into the checkout as read before the wait, then
    writes the whole: keys that concurrent updates wrote in between are lost."""
    wrapper = Busy(app)
    service = _service(app)
    stale: dict[tuple[str, str], dict[str, Any]] = {}
    update = service._update_checkout

    def signature(body: Any) -> tuple[str, str]:
        return str(body.get("checkout_id")), json.dumps(body.get("metaData"), sort_keys=True)

    async def read_first(scope: dict[str, Any], raw: bytes) -> None:
        if scope["path"] != "/checkout/update" or not wrapper.busy:
            return
        try:
            body = json.loads(raw)
        except ValueError:
            return
        cid = str(body.get("checkout_id"))
        found = await service.store.call(lambda s: s.get_checkout(cid, None, None), read_only=True)
        if found is not None:
            stale[signature(body)] = dict(found["metaData"])

    wrapper.before.append(read_first)

    def stale_update(store: Any, caller: Any, body: dict[str, Any]) -> CheckoutRecord:
        meta = stale.pop(signature(body), None)
        if meta is None:
            return update(store, caller, body)
        checkout = service._load_checkout(store, caller, body)
        for key, value in body["metaData"].items():
            if value == "":
                meta.pop(key, None)
            else:
                meta[key] = value
        checkout["metaData"] = meta  # the stale copy, written whole
        store.put_checkout(checkout, caller.merchant, caller.mode)
        return checkout

    service._handlers["updateCheckout"] = stale_update
    return wrapper


def leaks_across_merchants_under_load(app: Any) -> Busy:
    """Under load a checkout is looked up by its id alone (a cache keyed without the merchant):
    another merchant's key reads it where it must get 404."""
    wrapper = Busy(app)
    service = _service(app)
    load_checkout = service._load_checkout

    def leaky_load(store: Any, caller: Any, body: Any) -> CheckoutRecord:
        if wrapper.busy:
            cached = store.get_checkout(body["checkout_id"], None, None)
            if cached is not None:
                return cached  # type: ignore[no-any-return]
        return load_checkout(store, caller, body)

    service._load_checkout = leaky_load  # type: ignore[method-assign]
    return wrapper


def slowed(app: Any, seconds: float) -> Busy:
    """Conformant, but every answer takes ``seconds`` longer."""
    return Busy(app, hold=seconds, threshold=1 << 30)


@dataclass(frozen=True)
class LoadFault:
    name: str
    apply: Callable[[Any], Busy]
    # Rules a load run must report (the checker's or the read-back's).
    rules: tuple[str, ...]
    # The suite's checks of the same area (a -k expression): they pass on this server.
    select: str


LOAD_FAULTS = [
    LoadFault(
        "refunds-race-under-load",
        refunds_race_under_load,
        ("money.refund-cap", "load.model-refund-cap"),
        "money",
    ),
    LoadFault(
        "retries-run-twice-under-load",
        retries_run_twice_under_load,
        ("idempotency.replay-differs", "load.model-refunded-total", "load.model-refund-count"),
        "idempotency",
    ),
    LoadFault(
        "lost-update-under-load",
        lost_update_under_load,
        ("load.model-metadata",),
        "metadata or update",
    ),
    LoadFault(
        "leaks-across-merchants-under-load",
        leaks_across_merchants_under_load,
        ("auth.merchant-isolation",),
        "other_merchant",
    ),
]
