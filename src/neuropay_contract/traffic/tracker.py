"""What no single exchange shows: each checkout and customer followed across the traffic against
``x-lifecycle`` and the money rules, idempotent retries, and which key may see which object."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError
from ..lifecycle import Answer, Lifecycle, Transition, creation_facts, request_facts
from ..results import TimelineEvent
from ..spec import ApiSpec, Operation
from .findings import Expectation
from .idempotency import IdempotencyTracker
from .money import check_money
from .validate import Checked

# Bounds that keep a long proxy session's memory flat.
MAX_OBJECTS = 50_000
MAX_TIMELINE = 200
# Fields that only tell when an object was last written.
_VOLATILE = frozenset({"updated"})


@dataclass
class TrackedObject:
    """An object seen in the traffic: whose it is, its last known state and its history."""

    kind: str  # the schema name: Checkout, Customer
    object_id: str
    owner: str | None = None
    owner_mode: str | None = None
    snapshot: dict[str, Any] | None = None
    first: dict[str, Any] | None = None
    refused_since_snapshot: bool = False
    deleted: bool = False
    timeline: list[TimelineEvent] = field(default_factory=list)
    # Invariants already reported broken: a broken total shows on every later read too.
    reported: set[str] = field(default_factory=set)
    # Once the server broke the lifecycle for this object its answers are no ground to blame
    # the client on.
    server_broke: bool = False

    @property
    def status(self) -> str | None:
        value = (self.snapshot or {}).get("status")
        return str(value) if value is not None else None


class ObjectTracker:
    """Follows objects across exchanges; adds its findings to each :class:`Checked`."""

    def __init__(self, spec: ApiSpec) -> None:
        self.spec = spec
        self.lifecycle: Lifecycle | None = spec.lifecycle
        self.objects: dict[str, TrackedObject] = {}
        self.idempotency = IdempotencyTracker(spec)
        self.accepted_keys: set[str] = set()
        self._kinds = {op.operation_id: _kind(spec, op) for op in spec.operations.values()}
        lc = self.lifecycle
        self.lifecycle_codes = (
            {f.answer.code for f in lc.forbidden} | {r.answer.code for r in lc.rejections}
            if lc
            else set()
        )
        tm = spec.test_mode
        self.card_outcomes = {c.value: c.outcome for c in tm.card_ids} if tm else {}

    # -- entry point ----------------------------------------------------------------------------
    def observe(self, c: Checked) -> None:
        op = c.operation
        if op is None or c.exchange.status is None:
            return
        self._key_refused(c)
        replay = self.idempotency.observe(c, op)
        kind = self._kinds.get(op.operation_id)
        if kind is None:
            return
        obj = self._object(c, kind)
        if obj is None:
            return
        ex = c.exchange
        assert ex.status is not None
        entry = TimelineEvent(ex.index, ex.started, op.operation_id, ex.key_label, ex.status, None)
        if len(obj.timeline) < MAX_TIMELINE:
            obj.timeline.append(entry)
        self._follow(c, op, kind, obj, entry, replay)
        entry.findings = sorted({f"{f.side}: {f.rule}" for f in c.findings})

    def _follow(
        self,
        c: Checked,
        op: Operation,
        kind: str,
        obj: TrackedObject,
        entry: TimelineEvent,
        replay: bool,
    ) -> None:
        ex = c.exchange
        assert ex.status is not None
        body = c.response_json if isinstance(c.response_json, dict) else None
        answered = body if ex.status < 300 and body and body.get(_id_field(kind)) else None
        if ex.status >= 400 and isinstance(body, dict) and isinstance(body.get("error"), dict):
            entry.note = f"{ex.status} {body['error'].get('code')}"
        if c.exchange.declared_expectation() is not None:
            entry.note = (entry.note + " (declared deliberate)").strip()
        if replay:
            entry.note = (entry.note + " idempotent replay").strip()
            entry.status = obj.status
            return
        if self._other_key(c, obj, answered):
            entry.note = (entry.note + f" by {ex.key_label}, not the owner").strip()
            entry.status = obj.status
            return
        self._deleted_reference(c, op)
        if kind == (self.lifecycle.schema if self.lifecycle else None):
            before = len(c.findings)
            self._checkout(c, op, obj, answered, entry)
            obj.server_broke |= any(f.side == "server" for f in c.findings[before:])
        elif kind == "Customer":
            self._customer(c, op, obj, answered)
        if answered is not None:
            # Overlapping writes finish in any order: keep the state the server wrote last.
            if not ex.overlapped or _newer(answered, obj.snapshot):
                obj.snapshot = answered
                obj.refused_since_snapshot = False
            obj.first = obj.first or answered
        elif ex.status >= 400 and not ex.overlapped:
            obj.refused_since_snapshot = True
        entry.status = obj.status

    def _key_refused(self, c: Checked) -> None:
        """A key the server accepted earlier, sent in another valid bearer form (``bearer``,
        more spaces) and refused with 401: the server misreads the Authorization syntax."""
        ex = c.exchange
        label = ex.key_label
        if label is None or ex.auth != "bearer" or ex.status is None:
            return
        if ex.status < 300:
            self.accepted_keys.add(label)
        elif ex.status == 401 and label in self.accepted_keys:
            c.add(
                "auth.bearer-syntax",
                "server",
                f"{label} was accepted before and is refused now: the header is a valid Bearer "
                "credential (the scheme is case-insensitive, spaces may repeat)",
                expected="the same answer as for Authorization: Bearer <key>",
                received=ex.status,
            )

    # -- objects and keys -----------------------------------------------------------------------
    def _object(self, c: Checked, kind: str) -> TrackedObject | None:
        name = _id_field(kind)
        request = c.request_json if isinstance(c.request_json, dict) else {}
        response = c.response_json if isinstance(c.response_json, dict) else {}
        object_id = request.get(name) if c.operation and not _creates(c.operation) else None
        ok = c.exchange.status is not None and c.exchange.status < 300
        if object_id is None and ok:
            object_id = response.get(name)
        if not isinstance(object_id, str):
            return None
        obj = self.objects.get(object_id)
        if obj is None:
            if len(self.objects) >= MAX_OBJECTS:  # a long session: forget the oldest object
                del self.objects[next(iter(self.objects))]
            obj = TrackedObject(kind, object_id)
            self.objects[object_id] = obj
        if obj.owner is None and ok:
            obj.owner, obj.owner_mode = c.exchange.key_label, c.exchange.key_mode
        return obj

    def _other_key(self, c: Checked, obj: TrackedObject, answered: Any) -> bool:
        """Whether another key than the owner's asked; a 2xx answer to it breaks isolation."""
        label = c.exchange.key_label
        if obj.owner is None or label is None or label == obj.owner:
            return False
        if answered is not None:
            mode = c.exchange.key_mode
            rule = (
                "auth.mode-isolation"
                if mode and obj.owner_mode and mode != obj.owner_mode
                else "auth.merchant-isolation"
            )
            c.add(
                rule,
                "server",
                f"{obj.kind.lower()} {obj.object_id}, made with {obj.owner}, was answered to "
                f"{label}: objects are visible only to their merchant and mode",
                expected="404",
                received=c.exchange.status,
                object_id=obj.object_id,
            )
        return True

    # -- checkouts --------------------------------------------------------------------------------
    def _checkout(
        self,
        c: Checked,
        op: Operation,
        obj: TrackedObject,
        answered: dict[str, Any] | None,
        entry: TimelineEvent,
    ) -> None:
        lc = self.lifecycle
        assert lc is not None
        if c.exchange.overlapped:
            # Another request on this checkout was in flight: which state this one met is
            # unknown, so only the rules that hold in any order judge it.
            entry.note = (entry.note + " overlapped").strip()
            if answered is not None:
                check_money(c, lc, obj, None, answered, [])
            return
        prior = obj.snapshot
        status = c.exchange.status
        assert status is not None
        restricted = op.operation_id in lc.restricted_operations
        creates = _creates(op)
        outcomes: list[tuple[str | None, Transition | Answer]] = []
        if c.request_ok and (creates or (restricted and prior is not None)):
            outcomes = self._outcomes(op, prior, c.request_json)
        if outcomes:
            self._judge_request(c, op, obj, outcomes)
            self._judge_answer(c, op, obj, outcomes, answered)
        elif (
            prior is not None
            and answered is not None
            and op.operation_id in lc.unrestricted
            and c.request_ok
        ):
            self._judge_read(c, op, obj, prior, answered)
        if answered is not None:
            check_money(c, lc, obj, prior, answered, outcomes)

    def _possible_statuses(self, status: str) -> list[str]:
        """``status`` and every status events outside the traffic (the customer on the hosted
        page, the platform's expiry) can move it to: those need no API call."""
        assert self.lifecycle is not None
        seen = [status]
        for current in seen:
            for t in self.lifecycle.transitions:
                if t.source == current and t.event is not None and t.target not in seen:
                    seen.append(t.target)
        return seen

    def _facts(self, op: Operation, prior: Any, request: Any) -> list[set[str]]:
        """Every set of guards that may hold: the lifecycle's own request facts, both payment
        outcomes for a saved card whose outcome the traffic cannot know."""
        assert self.lifecycle is not None
        request = request if isinstance(request, dict) else {}
        if _creates(op):
            card = request.get("card_id")
            outcome = self.card_outcomes.get(str(card)) if card is not None else None
            if card is not None and outcome is None:
                return [set(creation_facts(request, o)) for o in ("success", "decline")]
            return [set(creation_facts(request, outcome))]
        return [
            set(request_facts(self.lifecycle, self.spec.test_mode, prior, op.operation_id, request))
        ]

    def _outcomes(
        self, op: Operation, prior: Any, request: Any
    ) -> list[tuple[str | None, Transition | Answer]]:
        assert self.lifecycle is not None
        sources: list[str | None] = (
            [None] if _creates(op) else list(self._possible_statuses(str(prior["status"])))
        )
        found: list[tuple[str | None, Transition | Answer]] = []
        for source in sources:
            for facts in self._facts(op, prior, request):
                try:
                    decision = self.lifecycle.decide(source, op.operation_id, facts)
                except SpecError:
                    continue
                if (source, decision) not in found:
                    found.append((source, decision))
        return found

    def _refusal_rule(
        self, op: Operation, outcomes: Iterable[tuple[str | None, Transition | Answer]]
    ) -> str:
        """Forbidden pair or failed guard, judged in the first status that refuses: outcomes list
        the last observed status first, then those events may have moved it to."""
        assert self.lifecycle is not None
        source = next((s for s, d in outcomes if isinstance(d, Answer)), None)
        forbidden = (
            source is not None
            and self.lifecycle.forbidden_answer(source, op.operation_id) is not None
        )
        return "lifecycle.forbidden-answer" if forbidden else "lifecycle.rejection-answer"

    def _judge_request(
        self,
        c: Checked,
        op: Operation,
        obj: TrackedObject,
        outcomes: list[tuple[str | None, Transition | Answer]],
    ) -> None:
        """A client finding when the operation is refused in every status the object may be in."""
        answers = [(s, d) for s, d in outcomes if isinstance(d, Answer)]
        if not answers or len(answers) != len(outcomes) or obj.server_broke:
            return
        assert self.lifecycle is not None
        source, answer = answers[0]
        assert isinstance(answer, Answer)
        if self._refusal_rule(op, answers) == "lifecycle.forbidden-answer":
            rule = "lifecycle.forbidden-operation"
            why = f"{op.operation_id} is not allowed in status {source}"
        elif answer.code == "refund_exceeds_remaining":
            rule = "money.refund-exceeds-remaining"
            prior = obj.snapshot or {}
            left = int(prior.get("amount", 0)) - int(prior.get("refunded_amount", 0))
            why = f"the refund asks for more than the {left} left to refund"
        else:
            rule = "lifecycle.rejected-operation"
            why = f"{op.operation_id} is refused in status {source} ({answer.code})"
        c.add(
            rule,
            "client",
            why,
            expected=f"an operation the status allows ({', '.join(self._allowed(source))})",
            received=op.operation_id,
            object_id=obj.object_id,
            expect=Expectation(answer.http, answer.code, self._refusal_rule(op, answers)),
        )

    def _allowed(self, status: str | None) -> list[str]:
        assert self.lifecycle is not None
        ops = {
            self.lifecycle.trigger_operation(t)
            for t in self.lifecycle.transitions
            if t.source == status
        }
        return sorted(o for o in ops if o) or ["none"]

    def _judge_answer(
        self,
        c: Checked,
        op: Operation,
        obj: TrackedObject,
        outcomes: list[tuple[str | None, Transition | Answer]],
        answered: dict[str, Any] | None,
    ) -> None:
        status = c.exchange.status
        assert status is not None
        transitions = [d for _, d in outcomes if isinstance(d, Transition)]
        answers = [d for _, d in outcomes if isinstance(d, Answer)]
        if answered is not None:
            observed = answered.get("status")
            if not transitions:
                c.add(
                    self._refusal_rule(op, outcomes),
                    "server",
                    f"{op.operation_id} answered {status} with status {observed}; the "
                    f"lifecycle refuses it with {answers[0].http} {answers[0].code}",
                    expected=f"{answers[0].http} {answers[0].code}",
                    received=f"{status} {observed}",
                    object_id=obj.object_id,
                )
            elif observed not in {t.target for t in transitions}:
                c.add(
                    "lifecycle.transition-target",
                    "server",
                    f"{op.operation_id} answered status {observed}; the lifecycle moves to "
                    + " or ".join(sorted({t.target for t in transitions})),
                    expected=sorted({t.target for t in transitions}),
                    received=observed,
                    object_id=obj.object_id,
                )
            return
        body = c.response_json if isinstance(c.response_json, dict) else {}
        error = body.get("error") if isinstance(body.get("error"), dict) else None
        code = error.get("code") if error else None
        if code not in self.lifecycle_codes:
            return  # not a lifecycle refusal (auth, not found, validation): judged elsewhere
        if any(a.http == status and a.code == code for a in answers):
            return
        rule = self._refusal_rule(op, outcomes) if answers else "lifecycle.refused-allowed"
        expected = (
            " or ".join(sorted({f"{a.http} {a.code}" for a in answers}))
            if answers
            else "→ " + " or ".join(sorted({t.target for t in transitions}))
        )
        c.add(
            rule,
            "server",
            f"{op.operation_id} was refused with {status} {code}; the lifecycle prescribes "
            f"{expected}",
            expected=expected,
            received=f"{status} {code}",
            object_id=obj.object_id,
        )

    def _judge_read(
        self,
        c: Checked,
        op: Operation,
        obj: TrackedObject,
        prior: dict[str, Any],
        answered: dict[str, Any],
    ) -> None:
        before, after = str(prior.get("status")), answered.get("status")
        if after != before:
            if after not in self._possible_statuses(before):
                c.add(
                    "lifecycle.status-contradiction",
                    "server",
                    f"{obj.object_id} was {before} and now answers {after}: no operation in the "
                    "traffic and no event of the lifecycle makes that move",
                    expected=self._possible_statuses(before),
                    received=after,
                    object_id=obj.object_id,
                )
            return
        expected = dict(prior)
        if op.operation_id == "updateCheckout" or _merges_metadata(op, c.request_json):
            merged = dict(prior.get("metaData") or {})
            for k, v in (c.request_json.get("metaData") or {}).items():
                if v == "":
                    merged.pop(k, None)
                else:
                    merged[k] = v
            if answered.get("metaData") != merged:
                c.add(
                    "metadata.merge",
                    "server",
                    "metaData is not the merge of the stored keys and the request's (an empty "
                    "value deletes a key)",
                    expected=merged,
                    received=answered.get("metaData"),
                    object_id=obj.object_id,
                )
            expected["metaData"] = answered.get("metaData")
            if merged == prior.get("metaData") and answered.get("updated") != prior.get("updated"):
                c.add(
                    "state.updated-without-change",
                    "server",
                    "an update that changes nothing moved updated",
                    expected=prior.get("updated"),
                    received=answered.get("updated"),
                    object_id=obj.object_id,
                )
        changed = sorted(
            k
            for k in set(expected) | set(answered)
            if k not in _VOLATILE and expected.get(k) != answered.get(k)
        )
        if changed:
            refused = obj.refused_since_snapshot
            c.add(
                "lifecycle.unchanged-after-refusal" if refused else "state.changed-without-write",
                "server",
                f"{', '.join(changed)} changed "
                + ("although the last write was refused" if refused else "without a write"),
                expected={k: expected.get(k) for k in changed},
                received={k: answered.get(k) for k in changed},
                object_id=obj.object_id,
            )

    # -- customers --------------------------------------------------------------------------------
    def _deleted_reference(self, c: Checked, op: Operation) -> None:
        """A create naming a customer the traffic saw deleted must be refused."""
        request = c.request_json if isinstance(c.request_json, dict) else {}
        named = request.get("customer_id")
        other = self.objects.get(named) if _creates(op) and isinstance(named, str) else None
        status = c.exchange.status or 0
        kind = self._kinds.get(op.operation_id)
        if other is not None and other.kind != kind and other.deleted and status < 300:
            c.add(
                "customers.deleted-customer-usable",
                "server",
                f"{op.operation_id} accepted customer {named}, deleted earlier",
                expected="404 customer_not_found",
                received=status,
                object_id=named,
            )

    def _customer(
        self, c: Checked, op: Operation, obj: TrackedObject, answered: dict[str, Any] | None
    ) -> None:
        if answered is None:
            return
        if obj.deleted and op.operation_id.startswith("retrieve"):
            c.add(
                "customers.retrieve-after-delete",
                "server",
                f"customer {obj.object_id} was deleted but {op.operation_id} still answers it",
                expected="404 customer_not_found",
                received=c.exchange.status,
                object_id=obj.object_id,
            )
        prior = obj.snapshot
        if op.operation_id.startswith("delete") and prior is not None and not obj.deleted:
            changed = sorted(
                k
                for k in set(prior) | set(answered)
                if k != "deleted" and prior.get(k) != answered.get(k)
            )
            if changed:
                c.add(
                    "state.delete-answer",
                    "server",
                    f"the delete answer changed {', '.join(changed)}: it is the object as it was, "
                    "marked deleted",
                    expected={k: prior.get(k) for k in changed},
                    received={k: answered.get(k) for k in changed},
                    object_id=obj.object_id,
                )
        if answered.get("deleted") is True:
            obj.deleted = True


def _newer(answered: dict[str, Any], snapshot: dict[str, Any] | None) -> bool:
    """Whether ``answered`` was written after ``snapshot`` (by its ``updated`` time)."""
    if snapshot is None:
        return True
    return str(answered.get("updated", "")) >= str(snapshot.get("updated", ""))


def _kind(spec: ApiSpec, op: Operation) -> str | None:
    """The schema name of an operation's success answer (Checkout, Customer), if it names one."""
    ok = op.responses.get("200")
    schema = ok.schema if ok is not None else None
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _id_field(kind: str) -> str:
    return f"{kind.lower()}_id"


def _creates(op: Operation) -> bool:
    return op.operation_id.startswith("create")


def _merges_metadata(op: Operation, request: Any) -> bool:
    return op.operation_id.startswith("update") and isinstance(request, dict)
