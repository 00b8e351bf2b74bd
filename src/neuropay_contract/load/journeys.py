"""Journeys: what one simulated client does to checkouts, derived from ``x-lifecycle``.

Each journey is a plain function of a :class:`Session` (sending one request, or several at once),
so the same journeys run under Locust (``locustfile``) and nothing here imports Locust or gevent.
Requests are built the way the suite's driver (``contract/reach.py``) and the Postman scenarios
build them: :func:`plan` finds the way to a status, :func:`request_for` the body that makes a
transition's guards hold.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..contract.reach import PaymentMeans, create_body, customer_body
from ..lifecycle import Lifecycle, MissingMeans, Transition, plan, remaining_amount, request_for
from ..lifecycle.guards import DECLINE, SUCCESS
from ..spec import ApiSpec

# Journey names and their default weight in the mix (``--mix``).
DEFAULT_MIX: dict[str, int] = {
    "refunds": 3,
    "finals": 2,
    "metadata": 1,
    "retries": 1,
    "forbidden": 1,
    "race": 1,
}
# Requests a racing journey sends at once (refunds, metadata updates, retries).
RACE_WIDTH = 4
_serial = itertools.count(1)


class JourneyStopped(Exception):
    """A step got an answer the journey cannot go on from (Locust already counted it failed)."""


@dataclass
class Call:
    """One request of a journey: the operation, its body, and what answers are acceptable."""

    operation: str
    body: dict[str, Any]
    step: str  # the name Locust's statistics group it under: "<journey> <step>"
    idempotency_key: str | None = None
    # A refusal provoked on purpose: sent as X-Neuropay-Expect so the checker judges the server.
    expect: tuple[int, str | None] | None = None
    # Statuses that count as success in Locust's statistics (default: 2xx, or the expectation).
    accept: frozenset[int] = frozenset()
    # Sent with the second merchant's key (``--second-api-key``): another merchant's request.
    second_key: bool = False


@dataclass
class Reply:
    """What a :class:`Session` hands back: the status and the JSON answer (None if not JSON)."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def object(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


class Session(Protocol):
    """Sends calls and keeps the model of every checkout it touched (see ``load.model``)."""

    def call(self, call: Call) -> Reply: ...

    def parallel(self, calls: Sequence[Call]) -> list[Reply]: ...


@dataclass
class Journeys:
    """The journeys the spec allows, built once per process from the spec."""

    spec: ApiSpec
    means: PaymentMeans
    rng: random.Random = field(default_factory=random.Random)
    # A second merchant's key is given: journeys also read their checkouts with it (each must
    # answer 404, objects being visible only to their merchant).
    second_key: bool = False

    def __post_init__(self) -> None:
        self.lifecycle: Lifecycle = self.spec.require_lifecycle()
        lc = self.lifecycle
        self.idempotent = frozenset(self.spec.idempotency.operations)
        self.create_op = next(
            (op for t in lc.transitions if t.source is None and (op := lc.trigger_operation(t))),
            None,
        )
        self.retrieve_op = next((o for o in lc.unrestricted if o.startswith("retrieve")), None)
        self.update_op = next((o for o in lc.unrestricted if o.startswith("update")), None)
        # A transition that stays in its status and moves money (a further partial refund).
        self.loop = next(
            (
                t
                for t in lc.transitions
                if t.source == t.target and t.effect and lc.trigger_operation(t)
            ),
            None,
        )
        # The shortest way to each status (per capture flag), found once: journeys run them
        # thousands of times a second.
        self._plans: dict[tuple[str, bool | None], list[tuple[Transition, bool]] | None] = {}
        self.reachable = {s for s in lc.states if self.path_to(s) is not None}
        # Final statuses some path reaches.
        self.finals: list[str] = [s for s in lc.final if s in self.reachable]
        self.partial_refund = next(
            (
                t
                for t in lc.transitions
                if t.effect and "amount_partial" in t.guard and t.source != t.target
            ),
            None,
        )

    # -- which journeys this spec and target can run ------------------------------------------
    def available(self) -> dict[str, Callable[[Session], None]]:
        found: dict[str, Callable[[Session], None]] = {}
        if self.create_op is None:
            return found
        if self.loop is not None:
            found["refunds"] = self.refunds
        if self.finals:
            found["finals"] = self.to_final
        if self.update_op is not None and self.retrieve_op is not None:
            found["metadata"] = self.metadata
        if self.idempotent:
            found["retries"] = self.retries
        if self.lifecycle.forbidden:
            found["forbidden"] = self.forbidden
        if self.partial_refund is not None:
            found["race"] = self.race
        return found

    # -- building requests ----------------------------------------------------------------------
    def _customer(self, session: Session, journey: str) -> str:
        reply = session.call(Call("createCustomer", customer_body(), f"{journey} createCustomer"))
        if not reply.ok:
            raise JourneyStopped(f"createCustomer answered {reply.status}")
        return str(reply.object()["customer_id"])

    def request(
        self,
        session: Session,
        journey: str,
        t: Transition,
        checkout: Mapping[str, Any] | None,
        capture: bool,
        partial: int | None = None,
    ) -> Call:
        """The call that performs ``t`` on ``checkout`` (guards satisfied)."""
        op = self.lifecycle.trigger_operation(t)
        if op is None:
            raise JourneyStopped(f"transition {t.name} has no operation")
        creation = t.source is None
        m = self.means
        ids = {SUCCESS: m.card_id_success, DECLINE: m.card_id_decline}
        numbers = {SUCCESS: m.card_number_success, DECLINE: m.card_number_decline}
        remaining = remaining_amount(checkout) if checkout is not None else None
        total = int(checkout["amount"]) if checkout is not None else None
        try:
            fields = request_for(
                t.guard,
                creation=creation,
                card=(ids if creation else numbers).get,
                remaining=remaining,
                total=total,
                partial=partial,
            )
        except MissingMeans as exc:
            raise JourneyStopped(str(exc)) from None
        if creation:
            if "card_id" in fields:
                fields = {"customer_id": self._customer(session, journey), **fields}
            n = next(_serial)
            body = create_body(capture, **fields, identifier=f"load-{uuid.uuid4().hex[:12]}-{n}")
            body["metaData"] = {"journey": journey}
        else:
            assert checkout is not None
            body = {"checkout_id": checkout["checkout_id"], **fields}
        key = uuid.uuid4().hex if op in self.idempotent else None
        return Call(op, body, f"{journey} {op}", idempotency_key=key)

    def path_to(
        self, status: str, capture: bool | None = None
    ) -> list[tuple[Transition, bool]] | None:
        """:func:`plan` to ``status``, remembered; None when no path leads there."""
        key = (status, capture)
        if key not in self._plans:
            try:
                self._plans[key] = plan(self.lifecycle, status, capture)
            except ValueError:
                self._plans[key] = None
        return self._plans[key]

    def drive(
        self, session: Session, journey: str, status: str, capture: bool | None = None
    ) -> tuple[dict[str, Any], bool]:
        """A fresh checkout driven to ``status`` (and its capture flag)."""
        path = self.path_to(status, capture) or self.path_to(status)
        if path is None:
            raise JourneyStopped(f"x-lifecycle has no path to {status!r}")
        checkout: dict[str, Any] | None = None
        flag = True
        for t, flag in path:
            checkout = self.perform(session, journey, t, checkout, flag)
        assert checkout is not None
        return checkout, flag

    def perform(
        self,
        session: Session,
        journey: str,
        t: Transition,
        checkout: Mapping[str, Any] | None,
        capture: bool,
        partial: int | None = None,
    ) -> dict[str, Any]:
        reply = session.call(self.request(session, journey, t, checkout, capture, partial))
        if not reply.ok or reply.object().get(self.lifecycle.field) != t.target:
            raise JourneyStopped(f"{t.name} answered {reply.status}")
        return reply.object()

    # -- the journeys ---------------------------------------------------------------------------
    def refunds(self, session: Session) -> None:
        """Create, pay (a test card or the test helper), capture when reserved, then partial
        refunds until the amount is exhausted (the lifecycle's money loop)."""
        loop = self.loop
        assert loop is not None and loop.source is not None
        checkout, flag = self.drive(session, "refunds", loop.source, capture=False)
        for _ in range(2):
            if remaining_amount(checkout) < 3:
                break
            checkout = self.perform(session, "refunds", loop, checkout, flag)
        out = [
            t
            for t in self.lifecycle.transitions
            if t.source == loop.source and t.target != t.source and "amount_full" in t.guard
        ]
        if out:
            self.perform(session, "refunds", out[0], checkout, flag)
        self.foreign_read(session, "refunds", checkout["checkout_id"])

    def to_final(self, session: Session) -> None:
        """A checkout driven to one of the final statuses (released, deleted, expired, ...)."""
        self.drive(session, "finals", self.rng.choice(self.finals))

    def metadata(self, session: Session) -> None:
        """Updates that add, change and delete metaData keys, then a read."""
        assert self.update_op is not None and self.retrieve_op is not None
        checkout, _ = self.drive(session, "metadata", self.lifecycle.initial[0])
        cid = checkout["checkout_id"]
        for change in ({"a": "1", "b": "2"}, {"a": "3"}, {"b": ""}):
            reply = session.call(self._update(cid, change, "metadata"))
            if not reply.ok:
                raise JourneyStopped(f"{self.update_op} answered {reply.status}")
        session.call(Call(self.retrieve_op, {"checkout_id": cid}, f"metadata {self.retrieve_op}"))
        self.foreign_read(session, "metadata", cid)

    def foreign_read(self, session: Session, journey: str, checkout_id: str) -> None:
        """With a second merchant's key: read the checkout as that merchant, which must answer
        404 (the spec's object scope; a 2xx showing the checkout is the checker's
        ``auth.merchant-isolation`` finding)."""
        if not self.second_key or self.retrieve_op is None:
            return
        session.call(
            Call(
                self.retrieve_op,
                {"checkout_id": checkout_id},
                f"{journey} {self.retrieve_op} by another merchant",
                expect=(404, None),
                second_key=True,
            )
        )

    def _update(self, checkout_id: str, meta: Mapping[str, str], journey: str) -> Call:
        assert self.update_op is not None
        key = uuid.uuid4().hex if self.update_op in self.idempotent else None
        return Call(
            self.update_op,
            {"checkout_id": checkout_id, "metaData": dict(meta)},
            f"{journey} {self.update_op}",
            idempotency_key=key,
        )

    def retries(self, session: Session) -> None:
        """Every step of a way to a final status sent twice with the same Idempotency-Key (a
        client retrying after a timeout), the creation also twice at once."""
        status = self.rng.choice(self.finals) if self.finals else self.lifecycle.initial[0]
        path = self.path_to(status)
        if path is None:
            raise JourneyStopped(f"x-lifecycle has no path to {status!r}")
        checkout: dict[str, Any] | None = None
        for number, (t, flag) in enumerate(path):
            call = self.request(session, "retries", t, checkout, flag)
            if call.idempotency_key is None:
                reply = session.call(call)
            elif number == 0:
                reply = session.parallel([call, call])[0]
                session.call(call)
            else:
                reply = session.call(call)
                session.call(call)
            if not reply.ok:
                raise JourneyStopped(f"{t.name} answered {reply.status}")
            checkout = reply.object()

    def forbidden(self, session: Session) -> None:
        """A move the lifecycle forbids in the checkout's status, declared deliberate: the
        server must refuse it with the forbidden answer and change nothing."""
        lc = self.lifecycle
        reachable = [f for f in lc.forbidden if f.status in self.reachable]
        if not reachable:
            return
        chosen = self.rng.choice(reachable)
        checkout, flag = self.drive(session, "forbidden", chosen.status)
        moves = [t for t in lc.transitions if lc.trigger_operation(t) == chosen.operation]
        body: dict[str, Any] = {"checkout_id": checkout["checkout_id"]}
        for move in moves:  # a body that would be valid where the move is allowed
            try:
                body = self.request(session, "forbidden", move, checkout, flag).body
            except JourneyStopped:
                continue
            break
        if isinstance(body.get("amount"), int) and body["amount"] < 1:
            del body["amount"]  # nothing left: "the rest" keeps the request valid
        answer = chosen.answer
        session.call(
            Call(
                chosen.operation,
                body,
                f"forbidden {chosen.operation}",
                expect=(answer.http, answer.code),
            )
        )
        if self.retrieve_op is not None:
            session.call(
                Call(
                    self.retrieve_op,
                    {"checkout_id": checkout["checkout_id"]},
                    f"forbidden {self.retrieve_op}",
                )
            )

    def race(self, session: Session) -> None:
        """What only concurrency shows: refunds that together ask for more than the amount,
        metaData updates of different keys, and one refund retried with its key, all at once."""
        t = self.partial_refund
        assert t is not None and t.source is not None
        checkout, _ = self.drive(session, "race", t.source, capture=True)
        cid = checkout["checkout_id"]
        amount = int(checkout.get(self.lifecycle.amount_field, 0))
        share = max(1, -(-amount // (RACE_WIDTH - 1)))  # together more than the amount
        refunds = []
        op = self.lifecycle.trigger_operation(t)
        assert op is not None
        for _ in range(RACE_WIDTH):
            key = uuid.uuid4().hex if op in self.idempotent else None
            refunds.append(
                Call(
                    op,
                    {"checkout_id": cid, "amount": share},
                    f"race {op}",
                    idempotency_key=key,
                    accept=frozenset({409}),
                )
            )
        retried = refunds[0]
        updates = (
            [self._update(cid, {f"race{i}": str(i)}, "race") for i in range(RACE_WIDTH)]
            if self.update_op
            else []
        )
        session.parallel([*refunds, retried, retried, *updates])
        if self.retrieve_op is not None:  # settles the status the model expects
            session.call(Call(self.retrieve_op, {"checkout_id": cid}, f"race {self.retrieve_op}"))
        self.foreign_read(session, "race", cid)


def parse_mix(text: str | None, known: Sequence[str]) -> dict[str, int]:
    """``refunds=3,race=1`` into weights; journeys not named keep weight 0 when a mix is given.

    Raises ValueError with a one-line reason."""
    if not text:
        return {name: DEFAULT_MIX.get(name, 1) for name in known}
    mix: dict[str, int] = {}
    for part in text.split(","):
        name, sep, weight = part.strip().partition("=")
        name = name.strip()
        if name not in known:
            raise ValueError(f"unknown journey {name!r} (known: {', '.join(known)})")
        try:
            value = int(weight) if sep else 1
        except ValueError:
            raise ValueError(f"the weight of {name} is not an integer: {weight!r}") from None
        if value < 0:
            raise ValueError(f"the weight of {name} is negative")
        mix[name] = value
    if not any(mix.values()):
        raise ValueError("the mix gives every journey weight 0")
    return mix
