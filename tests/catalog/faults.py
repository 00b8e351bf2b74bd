"""A catalog of deliberately broken servers: the reference server with one fault each.

Each fault patches one behaviour of a fresh reference app (its service, or its HTTP answers
through an ASGI wrapper) and names the rule the contract suite must report."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gzip
import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from neuropay_contract.lifecycle import Guard
from neuropay_contract.server import create_app
from neuropay_contract.server.records import CheckoutRecord, CustomerRecord
from neuropay_contract.server.service import ApiError, CheckoutService, body_hash
from neuropay_contract.server.storage import IdempotencyRecord
from neuropay_contract.spec import ApiSpec

Asgi = Callable[..., Any]
Rewrite = Callable[[str, Any, int, Any], tuple[int, Any, dict[str, str]] | None]


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    rules: tuple[str, ...]  # catalogued rule ids or categories: the run must report one of them
    apply: Callable[[Any], Asgi]  # (reference app) -> the broken app
    select: str | None = None  # a -k expression: the checks that can see it (keeps the run short)

    def catches(self, rule: str) -> bool:
        """Whether a failure with ``rule`` is one this fault is expected to cause."""
        return rule in self.rules or rule.split(".", 1)[0] in self.rules


async def read_body(receive: Callable[..., Any]) -> tuple[bytes, Callable[..., Any]]:
    """The whole request body, and a ``receive`` that hands it to the wrapped app once more."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    raw = b"".join(chunks)
    delivered = False

    async def replay() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return raw, replay


async def answer_of(
    app: Asgi, scope: dict[str, Any], receive: Callable[..., Any]
) -> tuple[dict[str, Any], bytes]:
    """Run ``app`` on the request and keep its answer: the ``http.response.start`` message and
    the whole body, for a wrapper to change before sending."""
    start: dict[str, Any] = {}
    parts: list[bytes] = []

    async def capture(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, capture)
    return start, b"".join(parts)


def rewrite_json(app: Asgi, rewrite: Rewrite) -> Asgi:
    """An ASGI wrapper that lets ``rewrite(path, request_json, status, response_json)`` replace
    JSON answers (return None to leave one alone)."""

    async def wrapped(
        scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        raw, replay = await read_body(receive)
        start, body = await answer_of(app, scope, replay)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        status = int(start.get("status", 500))
        try:
            request_json = json.loads(raw) if raw else None
        except (ValueError, RecursionError):  # garbage and 5,000-deep bodies: the app's to refuse
            request_json = None
        try:
            response_json = json.loads(body) if body else None
        except ValueError:
            response_json = None
        changed = (
            rewrite(scope["path"], request_json, status, response_json)
            if response_json is not None
            else None
        )
        if changed is not None:
            status, response_json, extra = changed
            body = json.dumps(response_json).encode()
            headers = [
                (k, v) for k, v in headers if k.lower().decode() not in {h.lower() for h in extra}
            ]
            headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def _service(app: Any) -> CheckoutService:
    service: CheckoutService = app.state.service
    return service


# -- service-level faults ------------------------------------------------------------------------
def _capture_twice(app: Any) -> Asgi:
    service = _service(app)
    original = service.apply

    def apply(
        store: Any, checkout: CheckoutRecord, operation: str, body: Any, merchant: str, mode: str
    ) -> CheckoutRecord:
        if operation == "captureCheckout" and checkout["status"] == "paid":
            return checkout  # "already captured" answered as a success
        return original(store, checkout, operation, body, merchant, mode)

    service.apply = apply  # type: ignore[method-assign]
    return app  # type: ignore[no-any-return]


def _refund_above_amount(app: Any) -> Asgi:
    service = _service(app)
    original = service.facts_for

    def facts_for(checkout: Any, operation: str, body: Any) -> set[Guard]:
        facts = original(checkout, operation, body)
        if "amount_exceeds" in facts:  # no cap: treat it as the rest
            facts = (facts - {"amount_exceeds"}) | {"amount_full"}
        return facts

    service.facts_for = facts_for  # type: ignore[method-assign]
    return app  # type: ignore[no-any-return]


def _partial_release(app: Any) -> Asgi:
    service = _service(app)
    original = service.facts_for

    def facts_for(checkout: Any, operation: str, body: Any) -> set[Guard]:
        facts = original(checkout, operation, body)
        if checkout["status"] == "reserved" and "amount_partial" in facts:
            facts = (facts - {"amount_partial"}) | {"amount_full"}
        return facts

    service.facts_for = facts_for  # type: ignore[method-assign]
    return app  # type: ignore[no-any-return]


def _refused_but_changed(app: Any) -> Asgi:
    service = _service(app)
    original = service.apply

    def apply(
        store: Any, checkout: CheckoutRecord, operation: str, body: Any, merchant: str, mode: str
    ) -> CheckoutRecord:
        try:
            return original(store, checkout, operation, body, merchant, mode)
        except ApiError:
            checkout["metaData"] = {**checkout["metaData"], "last_refused": operation}
            store.put_checkout(checkout, merchant, mode)  # written although refused
            raise

    service.apply = apply  # type: ignore[method-assign]
    return app  # type: ignore[no-any-return]


def _metadata_delete_ignored(app: Any) -> Asgi:
    service = _service(app)
    original = service._update_checkout

    def update(store: Any, caller: Any, body: dict[str, Any]) -> CheckoutRecord:
        body = {**body, "metaData": {k: v for k, v in body["metaData"].items() if v != ""}}
        return original(store, caller, body)

    service._handlers["updateCheckout"] = update
    return app  # type: ignore[no-any-return]


def _deleted_customer_retrievable(app: Any) -> Asgi:
    service = _service(app)

    def retrieve(store: Any, caller: Any, body: dict[str, Any]) -> dict[str, Any]:
        found = store.get_customer(
            body["customer_id"], caller.merchant, caller.mode, include_deleted=True
        )
        if found is None:
            raise ApiError(404, "customer_not_found", "No customer.", "/customer_id")
        return found[0]  # type: ignore[no-any-return]

    service._handlers["retrieveCustomer"] = retrieve
    return app  # type: ignore[no-any-return]


def _sees_other_merchants(app: Any) -> Asgi:
    service = _service(app)

    def retrieve(store: Any, caller: Any, body: dict[str, Any]) -> dict[str, Any]:
        found = store.get_checkout(body["checkout_id"], None, None)  # no owner check
        if found is None:
            raise ApiError(404, "checkout_not_found", "No checkout.", "/checkout_id")
        return found  # type: ignore[no-any-return]

    service._handlers["retrieveCheckout"] = retrieve
    return app  # type: ignore[no-any-return]


def _idempotency_ignored(app: Any) -> Asgi:
    service = _service(app)
    original = service.run_in

    def call(store: Any, operation: str, caller: Any, body: Any, idem_key: str | None) -> Any:
        return original(store, operation, caller, body, None)

    service.run_in = call  # type: ignore[method-assign]
    return app  # type: ignore[no-any-return]


def _helpers_accept_live_keys(app: Any) -> Asgi:
    service = _service(app)
    service.test_mode = type(service.test_mode)(**{**service.test_mode.__dict__, "helpers": {}})
    # the x-test-only rule is a step of the HTTP layer's x-precedence checks: drop it there too
    handler = app.state.handler
    handler.checks = [c for c in handler.checks if c != handler.check_test_mode_only]
    return app  # type: ignore[no-any-return]


# -- HTTP-level faults ---------------------------------------------------------------------------
def _answers(rewrite: Rewrite) -> Callable[[Any], Asgi]:
    return lambda app: rewrite_json(app, rewrite)


def _is_checkout(data: Any) -> bool:
    return isinstance(data, dict) and data.get("object") == "checkout"


def _wrong_status_after_partial(path: str, req: Any, status: int, resp: Any) -> Any:
    if path == "/checkout/refund" and _is_checkout(resp) and resp["status"] == "partialRefund":
        return status, {**resp, "status": "refunded"}, {}
    return None


def _missing_field(path: str, req: Any, status: int, resp: Any) -> Any:
    if _is_checkout(resp):
        return status, {k: v for k, v in resp.items() if k != "refunded_amount"}, {}
    return None


def _amount_as_string(path: str, req: Any, status: int, resp: Any) -> Any:
    if _is_checkout(resp):
        return status, {**resp, "amount": str(resp["amount"])}, {}
    return None


def _local_time(path: str, req: Any, status: int, resp: Any) -> Any:
    if _is_checkout(resp):
        return status, {**resp, "created": resp["created"].replace("Z", "+01:00")}, {}
    return None


def _server_error(path: str, req: Any, status: int, resp: Any) -> Any:
    if (
        path == "/checkout/create"
        and isinstance(req, dict)
        and isinstance(req.get("amount"), int)
        and req["amount"] > 5000
    ):
        return 500, {"error": {"code": "internal_error", "message": "boom", "param": None}}, {}
    return None


def _auth_ignored_on_retrieve(app: Any) -> Asgi:
    keys = list(app.state.keys)

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/checkout/retrieve":
            headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
            headers.append((b"authorization", f"Bearer {keys[0].key}".encode()))
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return wrapped


def _authorization_rewritten(
    rewrite: Callable[[str, list[str]], str | None],
) -> Callable[[Any], Asgi]:
    """A server that reads the Authorization header its own way: ``rewrite(header, keys)`` gives
    the header the reference app sees instead (None: answer 401 missing_api_key at once)."""

    def apply(app: Any) -> Asgi:
        keys = [k.key for k in app.state.keys]

        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["path"].startswith("/checkout/"):
                header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
                changed = rewrite(header, keys)
                if changed is None:
                    body = ApiError(401, "missing_api_key", "No key.").body()
                    raw = json.dumps(body).encode()
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 401,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(raw)).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": raw})
                    return
                headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
                headers.append((b"authorization", changed.encode("latin-1")))
                scope = {**scope, "headers": headers}
            await app(scope, receive, send)

        return wrapped

    return apply


def _other_scheme_is_missing(header: str, keys: list[str]) -> str | None:
    return None if header and not header.lower().startswith("bearer") else header


def _empty_bearer_is_invalid(header: str, keys: list[str]) -> str | None:
    return "Bearer not-a-key" if header.strip().lower() == "bearer" else header


def _bare_key_accepted(header: str, keys: list[str]) -> str | None:
    return f"Bearer {header}" if header in keys else header


def _case_sensitive_scheme(header: str, keys: list[str]) -> str | None:
    scheme, _, rest = header.partition(" ")
    return f"Token {rest}" if scheme.lower() == "bearer" and scheme != "Bearer" else header


def _one_space_only(header: str, keys: list[str]) -> str | None:
    return f"Bearer x{header[7:]}" if header.startswith("Bearer  ") else header


def _wrong_envelope(path: str, req: Any, status: int, resp: Any) -> Any:
    if status >= 400 and isinstance(resp, dict) and "error" in resp:
        return status, {"message": resp["error"]["message"]}, {}
    return None


def _refunded_not_sum(path: str, req: Any, status: int, resp: Any) -> Any:
    if _is_checkout(resp) and resp["refunds"]:
        return status, {**resp, "refunded_amount": resp["refunded_amount"] + 1}, {}
    return None


def _no_allow_header(app: Any) -> Asgi:
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def strip(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 405:
                message = {
                    **message,
                    "headers": [(k, v) for k, v in message["headers"] if k.lower() != b"allow"],
                }
            await send(message)

        await app(scope, receive, strip)

    return wrapped


def _racy_refunds(app: Any) -> Asgi:
    """Refunds that overlap in time skip the cap, as when the remaining amount is read outside
    the transaction that writes the refund: sequential refunds still behave."""
    service = _service(app)
    original = service.facts_for
    in_flight: Counter[str] = Counter()

    def facts_for(checkout: Any, operation: str, body: Any) -> set[Guard]:
        facts = original(checkout, operation, body)
        racing = in_flight[str(checkout["checkout_id"])] > 1
        if operation == "refundCheckout" and racing and "amount_exceeds" in facts:
            facts = (facts - {"amount_exceeds"}) | {"amount_partial"}
        return facts

    service.facts_for = facts_for  # type: ignore[method-assign]
    original_apply = service.apply

    def apply(
        store: Any, checkout: CheckoutRecord, operation: str, body: Any, merchant: str, mode: str
    ) -> CheckoutRecord:
        racing = in_flight[str(checkout["checkout_id"])] > 1
        if operation == "refundCheckout" and racing and checkout["status"] == "refunded":
            checkout = {**checkout, "status": "partialRefund"}  # the stale read
        return original_apply(store, checkout, operation, body, merchant, mode)

    service.apply = apply  # type: ignore[method-assign]

    def checkout_of(headers: dict[bytes, bytes], raw: bytes) -> str:
        try:
            return str(json.loads(raw).get("checkout_id"))
        except Exception:  # garbage bodies are the app's to refuse
            return ""

    return _overlap_tracked(app, "/checkout/refund", in_flight, checkout_of)


def _overlap_tracked(
    app: Asgi,
    path: str,
    in_flight: Counter[str],
    key_of: Callable[[dict[bytes, bytes], bytes], str],
) -> Asgi:
    """Count the requests to ``path`` in flight per ``key_of(headers, body)``, each held 50 ms
    (a slow read-modify-write), so a fault can misbehave only when requests overlap."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != path:
            await app(scope, receive, send)
            return
        raw, replay = await read_body(receive)
        key = key_of({k.lower(): v for k, v in scope["headers"]}, raw)
        in_flight[key] += 1
        try:
            await asyncio.sleep(0.05)
            await app(scope, replay, send)
        finally:
            in_flight[key] -= 1

    return wrapped


def _racy_idempotency(app: Any) -> Asgi:
    """Retries that overlap the first request are processed as new requests (the key is looked
    up before the first one has stored its answer); sequential retries replay."""
    service = _service(app)
    original = service.run_in
    in_flight: Counter[str] = Counter()

    def call(store: Any, operation: str, caller: Any, body: Any, idem_key: str | None) -> Any:
        racing = idem_key is not None and in_flight[idem_key] > 1
        return original(store, operation, caller, body, None if racing else idem_key)

    service.run_in = call  # type: ignore[method-assign]

    def key_of(headers: dict[bytes, bytes], raw: bytes) -> str:
        return headers.get(b"idempotency-key", b"").decode("latin-1")

    return _overlap_tracked(app, "/checkout/refund", in_flight, key_of)


KeyedRewrite = Callable[[str, str, bytes, int, Any, dict[str, Any]], tuple[int, Any] | None]


def _idempotency_keyed(rewrite: KeyedRewrite) -> Callable[[Any], Asgi]:
    """A server whose idempotency differs: for each request with an Idempotency-Key,
    ``rewrite(path, scoped key, raw body, status, answer, memory)`` may replace the reference
    answer (``memory`` is the fault's own store, kept across requests)."""

    def apply(app: Any) -> Asgi:
        memory: dict[str, Any] = {}

        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            headers = {k.lower(): v for k, v in scope.get("headers", [])}
            idem = headers.get(b"idempotency-key")
            if scope["type"] != "http" or idem is None:
                await app(scope, receive, send)
                return
            raw, replay = await read_body(receive)
            key = (headers.get(b"authorization", b"") + b"|" + idem).decode("latin-1")
            start, body = await answer_of(app, scope, replay)
            status = int(start.get("status", 500))
            out_headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
            changed = rewrite(scope["path"], key, raw, status, json.loads(body or b"null"), memory)
            if changed is not None:
                status, answer = changed
                body = json.dumps(answer).encode()
                out_headers = [(k, v) for k, v in out_headers if k != b"idempotent-replayed"]
            out_headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": out_headers})
            await send({"type": "http.response.body", "body": body})

        return wrapped

    return apply


_REUSED = {"error": {"code": "idempotency_key_reused", "message": "Reused.", "param": None}}


def _refusals_stored(
    path: str, key: str, raw: bytes, status: int, resp: Any, memory: dict[str, Any]
) -> tuple[int, Any] | None:
    if key in memory:
        return 409, _REUSED
    if status == 400:
        memory[key] = True
    return None


def _byte_compared(
    path: str, key: str, raw: bytes, status: int, resp: Any, memory: dict[str, Any]
) -> tuple[int, Any] | None:
    first = memory.setdefault(key, raw)
    return (409, _REUSED) if first != raw else None


def _undeclared_applied(
    path: str, key: str, raw: bytes, status: int, resp: Any, memory: dict[str, Any]
) -> tuple[int, Any] | None:
    if path != "/checkout/retrieve-customer":
        return None
    first = memory.setdefault(key, (status, resp))
    return first if first != (status, resp) else None


def _lenient_idempotency_key(app: Any) -> Asgi:
    """Any Idempotency-Key value is taken (hashed into one the reference server accepts)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = []
            for name, value in scope["headers"]:
                if name.lower() == b"idempotency-key":
                    value = hashlib.sha256(value).hexdigest().encode()
                headers.append((name, value))
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return wrapped


def _errors_not_stored(app: Any) -> Asgi:
    """Only 2xx answers are stored under the key; refusals run again on a retry."""
    store = app.state.store
    original = store.put_idempotency

    def put(api_key_hash: str, idem_key: str, record: Any, now: float, retention: float) -> None:
        if record.status < 300:
            original(api_key_hash, idem_key, record, now, retention)

    store.put_idempotency = put
    return app  # type: ignore[no-any-return]


def _keys_per_operation(app: Any) -> Asgi:
    """Keys are scoped per operation: one key may be used once on each operation."""
    service = _service(app)
    original = service.run_in

    def call(store: Any, operation: str, caller: Any, body: Any, idem_key: str | None) -> Any:
        return original(store, operation, caller, body, idem_key and f"{operation}:{idem_key}")

    service.run_in = call  # type: ignore[method-assign]
    return app  # type: ignore[no-any-return]


RequestRewrite = Callable[[dict[bytes, bytes], bytes], tuple[dict[bytes, bytes], bytes]]


def _request_rewritten(rewrite: RequestRewrite) -> Callable[[Any], Asgi]:
    """A server that reads requests its own way: ``rewrite(headers, raw body)`` gives the
    headers and body the reference app sees instead."""

    def apply(app: Any) -> Asgi:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http" or not scope["path"].startswith("/checkout/"):
                await app(scope, receive, send)
                return
            raw, _ = await read_body(receive)
            headers, raw = rewrite({k.lower(): v for k, v in scope["headers"]}, raw)
            headers = {k: v for k, v in headers.items() if k != b"content-length"}
            headers[b"content-length"] = str(len(raw)).encode()
            sent = False

            async def replay() -> dict[str, Any]:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}

            await app({**scope, "headers": list(headers.items())}, replay, send)

        return wrapped

    return apply


def _plus_json_accepted(headers: dict[bytes, bytes], raw: bytes) -> Any:
    if headers.get(b"content-type", b"").endswith(b"+json"):
        headers[b"content-type"] = b"application/json"
    return headers, raw


def _missing_type_accepted(headers: dict[bytes, bytes], raw: bytes) -> Any:
    headers.setdefault(b"content-type", b"application/json")
    return headers, raw


def _charset_refused(headers: dict[bytes, bytes], raw: bytes) -> Any:
    if b";" in headers.get(b"content-type", b""):
        headers[b"content-type"] = b"text/plain"
    return headers, raw


def _last_name_wins(headers: dict[bytes, bytes], raw: bytes) -> Any:
    try:
        return headers, json.dumps(json.loads(raw)).encode()
    except ValueError:
        return headers, raw


def _nan_as_null(headers: dict[bytes, bytes], raw: bytes) -> Any:
    for token in (b"-Infinity", b"Infinity", b"NaN"):
        raw = raw.replace(b": " + token, b": null")
    return headers, raw


def _utf8_replaced(headers: dict[bytes, bytes], raw: bytes) -> Any:
    return headers, raw.decode("utf-8", "replace").encode()


def _surrogate_replaced(headers: dict[bytes, bytes], raw: bytes) -> Any:
    return headers, raw.replace(b"\\ud800", b"?")


def _email_not_asserted(headers: dict[bytes, bytes], raw: bytes) -> Any:
    try:
        body = json.loads(raw)
    except ValueError:
        return headers, raw
    if isinstance(body, dict) and isinstance(body.get("email"), str):
        body["email"] = "accepted@example.com"  # whatever was sent
        return headers, json.dumps(body).encode()
    return headers, raw


def _python_dollar(headers: dict[bytes, bytes], raw: bytes) -> Any:
    """Patterns matched with Python's ``$``, which also matches before a final newline."""
    return headers, raw.replace(b'\\n"', b'"')


def _spec_changed(change: Callable[[dict[str, Any]], None]) -> Callable[[Any], Asgi]:
    """The reference app built from a copy of the spec that ``change`` edits in place."""

    def apply(app: Any) -> Asgi:
        document = copy.deepcopy(dict(app.state.service.spec.document))
        change(document)
        return create_app(ApiSpec(document), api_keys=list(app.state.keys))

    return apply


def _limit(name: str, delta: int) -> Callable[[dict[str, Any]], None]:
    return lambda document: document["x-limits"].update({name: document["x-limits"][name] + delta})


def _content_length_only(app: Any) -> Asgi:
    """413 only from the Content-Length header: a chunked body of any size is read."""
    limit = app.state.service.spec.max_body_bytes
    lenient = _spec_changed(_limit("max_body_bytes", 10 * limit))(app)

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        length = dict(scope.get("headers", [])).get(b"content-length")
        if scope["type"] == "http" and length is not None and int(length) > limit:
            raw = json.dumps(ApiError(413, "payload_too_large", "Too large.").body()).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": raw})
            return
        await lenient(scope, receive, send)

    return wrapped


def _delete_empties(path: str, req: Any, status: int, resp: Any) -> Any:
    if path == "/checkout/delete-customer" and status == 200:
        return status, {**resp, "metaData": {}, "savedCards": [], "default_card_id": None}, {}
    return None


def _updated_every_time(path: str, req: Any, status: int, resp: Any) -> Any:
    if path == "/checkout/update" and _is_checkout(resp):
        return status, {**resp, "updated": "2099-01-01T00:00:00.000001Z"}, {}
    return None


def _card_id_on_page_pay(path: str, req: Any, status: int, resp: Any) -> Any:
    if path == "/checkout/test/pay" and _is_checkout(resp) and resp["status"] == "paid":
        return status, {**resp, "card_id": "card_test_success"}, {}
    return None


def _release_without_refund(path: str, req: Any, status: int, resp: Any) -> Any:
    if _is_checkout(resp) and resp["status"] == "reserve released":
        return status, {**resp, "refunds": [], "refunded_amount": 0}, {}
    return None


def _nanosecond_times(path: str, req: Any, status: int, resp: Any) -> Any:
    if _is_checkout(resp):
        return status, {**resp, "created": resp["created"][:19] + ".123456789Z"}, {}
    return None


def _deleted_customer_usable(app: Any) -> Asgi:
    """Checkouts may still be created for a deleted customer (its id is dropped instead)."""
    deleted: set[str] = set()

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] not in (
            "/checkout/create",
            "/checkout/delete-customer",
        ):
            await app(scope, receive, send)
            return
        raw, replay = await read_body(receive)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            await app(scope, replay, send)
            return
        if scope["path"] == "/checkout/delete-customer":
            deleted.add(str(body.get("customer_id")))
            await app(scope, replay, send)
            return
        if body.get("customer_id") in deleted:
            body = {k: v for k, v in body.items() if k not in ("customer_id", "card_id")}
            raw = json.dumps(body).encode()
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(raw)).encode()))
        sent = False

        async def once() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await app({**scope, "headers": headers}, once, send)

    return wrapped


def _customers_ignore_mode(app: Any) -> Asgi:
    service = _service(app)

    def retrieve(store: Any, caller: Any, body: dict[str, Any]) -> dict[str, Any]:
        found = store.get_customer(body["customer_id"], None, None)
        if found is None or found[2] != caller.merchant:  # the merchant is checked, the mode not
            raise ApiError(404, "customer_not_found", "No customer.", "/customer_id")
        return found[0]  # type: ignore[no-any-return]

    service._handlers["retrieveCustomer"] = retrieve
    return app  # type: ignore[no-any-return]


def _saved_cards_decline(app: Any) -> Asgi:
    service = _service(app)
    original = service._card_outcome

    def outcome(caller: Any, customer: CustomerRecord, card_id: str) -> str:
        if any(card["card_id"] == card_id for card in customer["savedCards"]):
            return "decline"
        return original(caller, customer, card_id)

    service._card_outcome = outcome  # type: ignore[method-assign]
    return app  # type: ignore[no-any-return]


def _unknown_field_at_root(path: str, req: Any, status: int, resp: Any) -> Any:
    error = resp.get("error") if isinstance(resp, dict) else None
    if status == 400 and isinstance(error, dict) and "Additional properties" in error["message"]:
        return status, {"error": {**error, "param": ""}}, {}
    return None


def _non_object_is_invalid_json(path: str, req: Any, status: int, resp: Any) -> Any:
    if status == 400 and req is not None and not isinstance(req, dict):
        return (
            400,
            {"error": {"code": "invalid_json", "message": "Not an object.", "param": None}},
            {},
        )
    return None


def _keys_global(app: Any) -> Asgi:
    """Idempotency keys shared by every API key: another merchant's key replays this one's."""
    service = _service(app)
    original = service.run_in

    def call(store: Any, operation: str, caller: Any, body: Any, idem_key: str | None) -> Any:
        result = original(store, operation, replace(caller, key_hash="global"), body, idem_key)
        return result

    service.run_in = call  # type: ignore[method-assign]
    return app  # type: ignore[no-any-return]


def _precedence(*moves: tuple[str, str]) -> Callable[[Any], Asgi]:
    """A server checking the generic rules in another order: the reference app built from a
    copy of the spec whose x-precedence moves each (step, after) step to just after ``after``."""

    def apply(app: Any) -> Asgi:
        document = copy.deepcopy(dict(app.state.service.spec.document))
        steps = document["x-precedence"]
        for step, after in moves:
            moved = next(s for s in steps if s["step"] == step)
            steps.remove(moved)
            steps.insert(next(i for i, s in enumerate(steps) if s["step"] == after) + 1, moved)
        return create_app(ApiSpec(document), api_keys=list(app.state.keys))

    return apply


def _objects_of_the_key(app: Any) -> Asgi:
    """Objects scoped to the key that made them (not the merchant): another key of the same
    merchant gets 404 for them."""
    owner: dict[str, bytes] = {}  # checkout or customer id -> the Authorization that made it

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/checkout/"):
            await app(scope, receive, send)
            return
        presented = dict(scope["headers"]).get(b"authorization", b"")
        raw, replay = await read_body(receive)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        named = (
            [body.get(f) for f in ("checkout_id", "customer_id")] if isinstance(body, dict) else []
        )
        if any(owner.get(str(i), presented) != presented for i in named if i):
            answer = json.dumps(ApiError(404, "checkout_not_found", "No such object.").body())
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": answer.encode()})
            return
        start, answer_body = await answer_of(app, scope, replay)
        try:
            made = json.loads(answer_body)
        except ValueError:
            made = None
        if isinstance(made, dict):
            for field in ("checkout_id", "customer_id"):
                if isinstance(made.get(field), str):
                    owner.setdefault(made[field], presented)
        await send(start)
        await send({"type": "http.response.body", "body": answer_body})

    return wrapped


def _idempotency_per_merchant(app: Any) -> Asgi:
    """Idempotency keys scoped to the merchant: another key of the merchant replays them."""
    service = _service(app)
    original = service.run_in

    def call(store: Any, operation: str, caller: Any, body: Any, idem_key: str | None) -> Any:
        merchant = replace(caller, key_hash=f"merchant:{caller.merchant}:{caller.mode}")
        return original(store, operation, merchant, body, idem_key)

    service.run_in = call  # type: ignore[method-assign]
    return app  # type: ignore[no-any-return]


def _defaults_before_comparing(app: Any) -> Asgi:
    """The same request compared after the request schema's defaults are applied."""
    service = _service(app)
    original = service.run_in
    spec = service.spec

    def call(store: Any, operation: str, caller: Any, body: Any, idem_key: str | None) -> Any:
        schema = spec.deref(spec.operation(operation).request_schema or {})
        defaults = {
            name: prop["default"]
            for name, prop in (schema.get("properties") or {}).items()
            if isinstance(prop, dict) and "default" in prop
        }
        return original(store, operation, caller, {**defaults, **body}, idem_key)

    service.run_in = call  # type: ignore[method-assign]
    return app  # type: ignore[no-any-return]


def _first_header_wins(name: bytes) -> Callable[[Any], Asgi]:
    """A server that reads the first of several ``name`` headers and ignores the others."""

    def apply(app: Any) -> Asgi:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                seen = False
                headers = []
                for key, value in scope["headers"]:
                    if key.lower() == name:
                        if seen:
                            continue
                        seen = True
                    headers.append((key, value))
                scope = {**scope, "headers": headers}
            await app(scope, receive, send)

        return wrapped

    return apply


def _emails_lower_cased(headers: dict[bytes, bytes], raw: bytes) -> Any:
    try:
        body = json.loads(raw)
    except ValueError:
        return headers, raw
    if isinstance(body, dict) and isinstance(body.get("email"), str):
        body["email"] = body["email"].lower()
        return headers, json.dumps(body).encode()
    return headers, raw


def _ascii_whitespace_only(headers: dict[bytes, bytes], raw: bytes) -> Any:
    """Only ASCII whitespace counts as whitespace in an email: Unicode spaces pass (the
    reference is handed a plain letter where the client sent one)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return headers, raw
    if isinstance(body, dict) and isinstance(body.get("email"), str):
        body["email"] = "".join(
            "x" if c.isspace() and not c.isascii() else c for c in body["email"]
        )
        return headers, json.dumps(body).encode()
    return headers, raw


def _empty_payment_methods(path: str, req: Any, status: int, resp: Any) -> Any:
    if _is_checkout(resp) and resp.get("paymentMethods") is None:
        return status, {**resp, "paymentMethods": []}, {}
    return None


def _paid_a_moment_later(path: str, req: Any, status: int, resp: Any) -> Any:
    """A checkout paid on creation answers the payment's time as updated, a moment after."""
    if path == "/checkout/create" and _is_checkout(resp) and resp["status"] != "created":
        return status, {**resp, "updated": resp["created"][:19] + ".999999Z"}, {}
    return None


def _whole_seconds(path: str, req: Any, status: int, resp: Any) -> Any:
    """Times kept to the second: changes within one second leave updated where it was."""
    if _is_checkout(resp):
        return (
            status,
            {**resp, "created": resp["created"][:19] + "Z", "updated": resp["updated"][:19] + "Z"},
            {},
        )
    return None


def _integers_echoed_as_sent(path: str, req: Any, status: int, resp: Any) -> Any:
    if _is_checkout(resp) and isinstance(req, dict) and isinstance(req.get("amount"), float):
        return status, {**resp, "amount": req["amount"]}, {}
    return None


def _customer_keeps_empty_metadata(path: str, req: Any, status: int, resp: Any) -> Any:
    if (
        path == "/checkout/create-customer"
        and status == 200
        and isinstance(req, dict)
        and isinstance(req.get("metaData"), dict)
    ):
        return status, {**resp, "metaData": req["metaData"]}, {}
    return None


def _is_customer(data: Any) -> bool:
    return isinstance(data, dict) and data.get("object") == "customer"


def _cards_newest_first(path: str, req: Any, status: int, resp: Any) -> Any:
    if _is_customer(resp) and len(resp["savedCards"]) > 1:
        return status, {**resp, "savedCards": list(reversed(resp["savedCards"]))}, {}
    return None


def _no_default_card(path: str, req: Any, status: int, resp: Any) -> Any:
    """No card becomes the default by being saved first (the customer chooses one)."""
    if _is_customer(resp) and resp["savedCards"]:
        cards = [{**card, "is_default": False} for card in resp["savedCards"]]
        return status, {**resp, "savedCards": cards, "default_card_id": None}, {}
    return None


def _default_after_delete(pick: Callable[[list[Any]], Any]) -> Callable[[Any], Asgi]:
    """Deleting the default card on the client page makes ``pick(remaining cards)`` the default
    (the spec: the oldest remaining one)."""

    def apply(app: Any) -> Asgi:
        pages = app.state.pages
        original = pages.client_update_cards

        def client_update_cards(customer_id: str, token: str, card_id: str, action: str) -> Any:
            before = pages.client_customer(customer_id, token)
            was_default = before is not None and before["default_card_id"] == card_id
            customer = original(customer_id, token, card_id, action)
            if customer is None or action != "delete" or not was_default:
                return customer
            chosen = pick(customer["savedCards"])
            wanted = chosen["card_id"] if chosen else None
            if wanted != customer["default_card_id"]:
                original(customer_id, token, wanted or "", "default")
                if wanted is None:  # no card to choose: clear it where the pages keep it
                    return _clear_default(pages, customer_id, token)
            return pages.client_customer(customer_id, token)

        pages.client_update_cards = client_update_cards
        return app  # type: ignore[no-any-return]

    return apply


def _clear_default(pages: Any, customer_id: str, token: str) -> Any:
    def update(store: Any) -> Any:
        customer, tok, merchant, mode = store.get_customer(customer_id, None, None)
        customer["default_card_id"] = None
        for card in customer["savedCards"]:
            card["is_default"] = False
        store.put_customer(customer, merchant, mode, tok)
        return customer

    return pages.store.run(update)


RETENTION_S = 3.0  # the shortened retention the retention faults serve with, told to the suite


def _retention(extend_on_replay: bool, kept_s: float) -> Callable[[Any], Asgi]:
    """A server configured with a short idempotency retention (the suite is told
    RETENTION_S) that keeps keys ``kept_s`` and, when ``extend_on_replay``, counts them from
    their last use."""

    def apply(app: Any) -> Asgi:
        service = _service(app)
        service.retention_s = kept_s
        original = service.run_in

        def run_in(store: Any, operation: str, caller: Any, body: Any, idem_key: Any) -> Any:
            status, result, replayed = original(store, operation, caller, body, idem_key)
            if replayed and extend_on_replay:
                record = IdempotencyRecord(operation, body_hash(body), status, result)
                store.put_idempotency(
                    caller.key_hash, idem_key, record, time.time(), service.retention_s
                )
            return status, result, replayed

        service.run_in = run_in  # type: ignore[method-assign]
        app.suite_options = ("--idempotency-retention", f"{RETENTION_S:g}")
        return app  # type: ignore[no-any-return]

    return apply


def _same_card_once(path: str, req: Any, status: int, resp: Any) -> Any:
    """The same card saved again is the card saved before (one entry per number)."""
    if _is_customer(resp) and resp["savedCards"]:
        seen: set[tuple[Any, ...]] = set()
        cards = []
        for card in resp["savedCards"]:
            same = (card["brand"], card["last4"], card["exp_month"], card["exp_year"])
            if same not in seen:
                seen.add(same)
                cards.append(card)
        return status, {**resp, "savedCards": cards}, {}
    return None


def _card_id_dropped_on_decline(path: str, req: Any, status: int, resp: Any) -> Any:
    if _is_checkout(resp) and resp["status"] == "failed" and resp["card_id"] is not None:
        return status, {**resp, "card_id": None}, {}
    return None


def _bom_ignored(headers: dict[bytes, bytes], raw: bytes) -> Any:
    return headers, raw.removeprefix(b"\xef\xbb\xbf")


def _noncharacters_refused(headers: dict[bytes, bytes], raw: bytes) -> Any:
    """I-JSON read strictly: a body holding a noncharacter, literal or escaped, is not JSON."""
    literal = any(chr(c).encode() in raw for c in (0xFFFF, 0xFFFE, *range(0xFDD0, 0xFDF0)))
    escaped = re.search(rb"\\u(fdd[0-9a-f]|fde[0-9a-f]|fff[ef])", raw, re.IGNORECASE)
    return headers, (b"{" if literal or escaped else raw)


def _long_integers_as_numbers(headers: dict[bytes, bytes], raw: bytes) -> Any:
    """An integer of any length is a number (a schema error above the maximum, not I-JSON's)."""
    return headers, re.sub(rb"[0-9]{309,}", b"999999999999999999", raw)


def _integral_by_text(headers: dict[bytes, bytes], raw: bytes) -> Any:
    """Integral by the text: a fraction with a non-zero digit is no integer, whatever its value."""
    return headers, re.sub(rb"(\d+)\.0*[1-9]\d*", rb"\1.5", raw)


def _names_compared_as_written(headers: dict[bytes, bytes], raw: bytes) -> Any:
    """Names compared before unescaping: "\u0061mount" is another name than "amount"."""
    return headers, raw.replace(b'"\\u0061mount"', b'"amount_escaped"')


def _gzip_decoded(headers: dict[bytes, bytes], raw: bytes) -> Any:
    if headers.pop(b"content-encoding", b"").lower() == b"gzip":
        with contextlib.suppress(OSError):  # not gzip after all: the bytes as sent
            raw = gzip.decompress(raw)
    return headers, raw


def _empty_body_is_json(headers: dict[bytes, bytes], raw: bytes) -> Any:
    if not raw and b"content-type" not in headers:
        headers[b"content-type"] = b"application/json"
    return headers, raw


def _tab_separator(headers: dict[bytes, bytes], raw: bytes) -> Any:
    value = headers.get(b"authorization", b"")
    if value[:7].lower() == b"bearer\t":
        headers[b"authorization"] = b"Bearer " + value[7:]
    return headers, raw


def _utf8_alias(headers: dict[bytes, bytes], raw: bytes) -> Any:
    value = headers.get(b"content-type", b"")
    headers[b"content-type"] = value.replace(b"charset=utf8", b"charset=utf-8")
    return headers, raw


def _only_charset_parameters(headers: dict[bytes, bytes], raw: bytes) -> Any:
    value = headers.get(b"content-type", b"").lower()
    names = [p.split(b"=")[0].strip() for p in value.split(b";")[1:]]
    if any(name != b"charset" for name in names):
        headers[b"content-type"] = b"text/plain"
    return headers, raw


def _utf16_lengths(headers: dict[bytes, bytes], raw: bytes) -> Any:
    """Lengths in UTF-16 units: every astral character counts two (shown as two letters)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return headers, raw
    return headers, re.sub("[\U00010000-\U0010ffff]", "ab", text).encode()


def _charset_on_answers(path: str, req: Any, status: int, resp: Any) -> Any:
    return status, resp, {"content-type": "application/json; charset=utf-8"}


def _path_rewritten(change: Callable[[str, bytes], tuple[str, bytes]]) -> Callable[[Any], Asgi]:
    """A server that routes by ``change(path, query string)`` instead of the request's path."""

    def apply(app: Any) -> Asgi:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                path, query = change(scope["path"], scope.get("query_string", b""))
                scope = {**scope, "path": path, "raw_path": path.encode(), "query_string": query}
            await app(scope, receive, send)

        return wrapped

    return apply


def _lenient_paths(path: str, query: bytes) -> tuple[str, bytes]:
    return (path.lower().rstrip("/") or "/"), query


def _queries_refused(path: str, query: bytes) -> tuple[str, bytes]:
    return (f"{path}/with-query" if query else path), query


def _not_found_without_param(path: str, req: Any, status: int, resp: Any) -> Any:
    if status == 404 and isinstance(resp, dict) and isinstance(resp.get("error"), dict):
        return status, {"error": {**resp["error"], "param": None}}, {}
    return None


def _invalid_json_at_root(path: str, req: Any, status: int, resp: Any) -> Any:
    error = resp.get("error") if isinstance(resp, dict) else None
    if isinstance(error, dict) and error.get("code") == "invalid_json" and error["param"] is None:
        return status, {"error": {**error, "param": ""}}, {}
    return None


def _metadata_name_pointer(path: str, req: Any, status: int, resp: Any) -> Any:
    """A bad metadata key name answered with the pointer of the key itself."""
    error = resp.get("error") if isinstance(resp, dict) else None
    metadata = req.get("metaData") if isinstance(req, dict) else None
    if isinstance(error, dict) and error.get("param") == "/metaData" and isinstance(metadata, dict):
        bad = next((k for k in metadata if not 1 <= len(k) <= 40), None)
        if bad is not None:
            return status, {"error": {**error, "param": f"/metaData/{bad}"}}, {}
    return None


def _release_forgets_reason(path: str, req: Any, status: int, resp: Any) -> Any:
    """The record of a release says nothing of why (a release is not a refund)."""
    if _is_checkout(resp) and resp["status"] == "reserve released":
        refunds = [{**r, "reason": None, "refundDetails": None} for r in resp["refunds"]]
        return status, {**resp, "refunds": refunds}, {}
    return None


FAULTS = [
    Fault(
        "capture-twice",
        "a paid checkout can be captured again",
        ("lifecycle.forbidden-answer",),
        _capture_twice,
    ),
    Fault(
        "refund-above-amount",
        "a refund above what is left is accepted",
        ("lifecycle.rejection-answer", "money"),
        _refund_above_amount,
    ),
    Fault(
        "partial-release",
        "a reservation can be released in part",
        ("lifecycle.rejection-answer",),
        _partial_release,
    ),
    Fault(
        "wrong-status-after-partial-refund",
        "a partial refund answers 'refunded'",
        ("lifecycle.transition-target", "money.status-follows-totals", "stateful.status-model"),
        _answers(_wrong_status_after_partial),
    ),
    Fault(
        "racy-refunds",
        "refunds sent at the same moment skip the cap on what is left",
        ("money.concurrent-refunds",),
        _racy_refunds,
    ),
    Fault(
        "racy-idempotency",
        "retries sent while the first request runs refund again",
        ("idempotency.no-double-effect",),
        _racy_idempotency,
    ),
    Fault(
        "refused-but-changed",
        "a refused move still writes the checkout",
        ("lifecycle.unchanged-after-refusal",),
        _refused_but_changed,
    ),
    Fault(
        "metadata-delete-ignored",
        "an empty metadata value does not delete the key",
        ("metadata.merge",),
        _metadata_delete_ignored,
    ),
    Fault(
        "missing-required-field",
        "the checkout lacks refunded_amount",
        ("schema.response", "schemathesis.response_schema_conformance"),
        _answers(_missing_field),
    ),
    Fault(
        "amount-as-string",
        "the amount is sent as a string",
        ("schema.response", "schemathesis.response_schema_conformance"),
        _answers(_amount_as_string),
    ),
    Fault(
        "local-time",
        "times carry +01:00 instead of UTC",
        ("schema.response", "schemathesis.response_schema_conformance"),
        _answers(_local_time),
    ),
    Fault(
        "server-error",
        "a 500 on creates above 5000",
        ("schemathesis.not_a_server_error",),
        _answers(_server_error),
    ),
    Fault(
        "auth-ignored-on-retrieve",
        "retrieve works without a key",
        ("auth.missing-key", "auth.malformed-key", "auth.unknown-key"),
        _auth_ignored_on_retrieve,
    ),
    Fault(
        "cross-merchant-visible",
        "one merchant retrieves another's checkout",
        ("auth.merchant-isolation", "auth.mode-isolation"),
        lambda app: _sees_other_merchants(app),
    ),
    Fault(
        "deleted-customer-retrievable",
        "a deleted customer is still retrievable",
        ("customers.retrieve-after-delete",),
        _deleted_customer_retrievable,
    ),
    Fault(
        "wrong-error-envelope",
        'errors as {"message": ...}',
        ("schema.error-envelope",),
        _answers(_wrong_envelope),
    ),
    Fault(
        "idempotent-retry-refunds-twice",
        "Idempotency-Key is ignored",
        ("idempotency",),
        _idempotency_ignored,
    ),
    Fault(
        "refunded-not-sum",
        "refunded_amount is not the sum of refunds",
        ("money.refunded-equals-sum",),
        _answers(_refunded_not_sum),
    ),
    Fault("no-allow-header", "405 without Allow", ("protocol.allow-header",), _no_allow_header),
    Fault(
        "key-after-schema",
        "the body is validated before the key: a keyless invalid body answers 400, not 401",
        ("precedence.order",),
        _precedence(("api_key", "schema"), ("test_mode_only", "api_key")),
        select="test_precedence",
    ),
    Fault(
        "helper-live-key-after-schema",
        "a live key on a test helper with an invalid body answers 400, not 403",
        ("precedence.order",),
        _precedence(("test_mode_only", "schema")),
        select="test_precedence",
    ),
    Fault(
        "media-type-before-size",
        "a huge text/plain body answers 415, not 413",
        ("precedence.order",),
        _precedence(("body_size", "media_type")),
        select="test_precedence",
    ),
    Fault(
        "key-before-method",
        "GET without a key answers 401, not 405",
        ("precedence.order",),
        _precedence(("method", "api_key")),
        select="test_precedence",
    ),
    Fault(
        "errors-not-stored",
        "the operation's own 409 is not stored: a retry after the state changed refunds",
        ("idempotency.stored-answers",),
        _errors_not_stored,
        select="test_idempotency_rules",
    ),
    Fault(
        "refusals-stored",
        "a 400 for an invalid body is stored: the corrected request with the key answers 409",
        ("idempotency.refusals-not-stored",),
        _idempotency_keyed(_refusals_stored),
        select="test_idempotency_rules",
    ),
    Fault(
        "byte-compared-bodies",
        "the same JSON value written otherwise answers 409 (bodies compared as bytes)",
        ("idempotency.same-json-value",),
        _idempotency_keyed(_byte_compared),
        select="test_idempotency_rules",
    ),
    Fault(
        "keys-per-operation",
        "a key of createCheckout is accepted again by createCustomer",
        ("idempotency.other-operation",),
        _keys_per_operation,
        select="test_idempotency_rules",
    ),
    Fault(
        "lenient-idempotency-key",
        "a malformed Idempotency-Key is accepted",
        ("idempotency.invalid-key",),
        _lenient_idempotency_key,
        select="test_idempotency_rules",
    ),
    Fault(
        "undeclared-header-applied",
        "Idempotency-Key replays answers of retrieveCustomer, which does not declare it",
        ("idempotency.undeclared-ignored",),
        _idempotency_keyed(_undeclared_applied),
        select="test_idempotency_rules",
    ),
    Fault(
        "plus-json-accepted",
        "application/merchant+json is taken as JSON",
        ("protocol.media-type-refused",),
        _request_rewritten(_plus_json_accepted),
        select="test_body_rules",
    ),
    Fault(
        "missing-content-type-accepted",
        "a body without Content-Type is taken as JSON",
        ("protocol.media-type-refused",),
        _request_rewritten(_missing_type_accepted),
        select="test_body_rules",
    ),
    Fault(
        "charset-refused",
        "application/json; charset=utf-8 answers 415",
        ("protocol.media-type-accepted",),
        _request_rewritten(_charset_refused),
        select="test_body_rules",
    ),
    Fault(
        "size-limit-off-by-one",
        "a body of exactly the limit answers 413",
        ("protocol.size-at-limit",),
        _spec_changed(_limit("max_body_bytes", -1)),
        select="test_body_rules",
    ),
    Fault(
        "content-length-only",
        "chunked bodies over the limit are read",
        ("protocol.size-chunked",),
        _content_length_only,
        select="test_body_rules",
    ),
    Fault(
        "depth-counted-from-zero",
        "the top level counts 0: one level more is parsed",
        ("protocol.depth-counting",),
        _spec_changed(_limit("max_json_depth", 1)),
        select="test_body_rules",
    ),
    Fault(
        "depth-limit-off-by-one",
        "a body of exactly max_json_depth levels answers invalid_json",
        ("protocol.depth-counting",),
        _spec_changed(_limit("max_json_depth", -1)),
        select="test_body_rules",
    ),
    Fault(
        "duplicate-names-last-wins",
        "a duplicate name is read as its last value",
        ("protocol.i-json-duplicate-name",),
        _request_rewritten(_last_name_wins),
        select="test_body_rules",
    ),
    Fault(
        "nan-as-null",
        "NaN and Infinity are read as null (then refused by the schema)",
        ("protocol.i-json-nan", "protocol.i-json-infinity"),
        _request_rewritten(_nan_as_null),
        select="test_body_rules",
    ),
    Fault(
        "invalid-utf8-replaced",
        "bytes that are not UTF-8 are replaced with U+FFFD",
        ("protocol.i-json-invalid-utf8",),
        _request_rewritten(_utf8_replaced),
        select="test_body_rules",
    ),
    Fault(
        "lone-surrogate-replaced",
        "a lone surrogate is replaced and stored",
        ("protocol.i-json-lone-surrogate",),
        _request_rewritten(_surrogate_replaced),
        select="test_body_rules",
    ),
    Fault(
        "email-not-asserted",
        "format: email is an annotation only",
        ("formats.email",),
        _request_rewritten(_email_not_asserted),
        select="test_body_rules",
    ),
    Fault(
        "pattern-python-dollar",
        "patterns accept a trailing newline",
        ("formats.pattern-full-match",),
        _request_rewritten(_python_dollar),
        select="test_body_rules",
    ),
    Fault(
        "delete-empties-customer",
        "deleteCustomer answers emptied metadata and cards",
        ("objects.delete-answer",),
        _answers(_delete_empties),
        select="test_objects",
    ),
    Fault(
        "updated-on-every-update",
        "an update that changes nothing moves updated",
        ("objects.updated",),
        _answers(_updated_every_time),
        select="test_objects",
    ),
    Fault(
        "card-id-set-on-page-payment",
        "a hosted-page payment sets card_id",
        ("objects.card-id",),
        _answers(_card_id_on_page_pay),
        select="test_objects",
    ),
    Fault(
        "release-without-refund",
        "a release writes no refund record",
        ("objects.release-refund",),
        _answers(_release_without_refund),
        select="test_objects",
    ),
    Fault(
        "nanosecond-times",
        "times with nine fraction digits",
        ("schema.response",),
        _answers(_nanosecond_times),
        select="test_objects",
    ),
    Fault(
        "deleted-customer-usable",
        "a checkout can be created for a deleted customer",
        ("objects.deleted-customer",),
        _deleted_customer_usable,
        select="test_objects",
    ),
    Fault(
        "customers-ignore-mode",
        "a live key retrieves a test customer",
        ("auth.mode-isolation",),
        _customers_ignore_mode,
        select="test_live_key",
    ),
    Fault(
        "saved-cards-decline",
        "a saved card declines",
        ("objects.saved-card-pays",),
        _saved_cards_decline,
        select="test_objects",
    ),
    Fault(
        "unknown-field-param-root",
        "an unknown field is refused with param '' instead of its pointer",
        ("protocol.unknown-field-param",),
        _answers(_unknown_field_at_root),
        select="test_unknown_field",
    ),
    Fault(
        "non-object-is-invalid-json",
        "a JSON array or number as the body answers invalid_json",
        ("protocol.not-an-object",),
        _answers(_non_object_is_invalid_json),
        select="test_body_rules",
    ),
    Fault(
        "idempotency-retention-sliding",
        "a replay extends an Idempotency-Key's retention (the spec: counted from the first use)",
        ("idempotency.retention",),
        _retention(extend_on_replay=True, kept_s=RETENTION_S),
        select="test_keys_are_forgotten_counted_from_the_first_use",
    ),
    Fault(
        "idempotency-retention-ignored",
        "Idempotency-Keys are kept far longer than the retention the server is configured with",
        ("idempotency.retention",),
        _retention(extend_on_replay=False, kept_s=3600.0),
        select="test_keys_are_forgotten_counted_from_the_first_use",
    ),
    Fault(
        "idempotency-keys-global",
        "idempotency keys are shared across API keys",
        ("idempotency.key-scope",),
        _keys_global,
        select="test_keys_are_scoped",
    ),
    Fault(
        "other-scheme-is-missing",
        "Authorization: Basic ... answers missing_api_key (the spec says invalid_api_key)",
        ("auth.other-scheme-key",),
        _authorization_rewritten(_other_scheme_is_missing),
        select="test_auth",
    ),
    Fault(
        "empty-bearer-is-invalid",
        "Authorization: Bearer with no key answers invalid_api_key (the spec says missing_api_key)",
        ("auth.empty-key",),
        _authorization_rewritten(_empty_bearer_is_invalid),
        select="test_auth",
    ),
    Fault(
        "bare-key-accepted",
        "a key sent without the Bearer scheme is accepted",
        ("auth.bare-key",),
        _authorization_rewritten(_bare_key_accepted),
        select="test_auth",
    ),
    Fault(
        "case-sensitive-scheme",
        "bearer in lower case is refused",
        ("auth.bearer-syntax",),
        _authorization_rewritten(_case_sensitive_scheme),
        select="test_auth",
    ),
    Fault(
        "one-space-only",
        "two spaces after Bearer are refused",
        ("auth.bearer-syntax",),
        _authorization_rewritten(_one_space_only),
        select="test_auth",
    ),
    Fault(
        "helpers-accept-live-keys",
        "test helpers work with live keys",
        ("auth.test-helper-live-key",),
        _helpers_accept_live_keys,
    ),
    Fault(
        "objects-scoped-to-key",
        "objects belong to the key that made them: another key of the merchant gets 404",
        ("auth.same-merchant-objects",),
        _objects_of_the_key,
        select="test_scope",
    ),
    Fault(
        "idempotency-keys-per-merchant",
        "idempotency keys are shared by the API keys of one merchant",
        ("idempotency.same-merchant-key-scope",),
        _idempotency_per_merchant,
        select="test_scope",
    ),
    Fault(
        "idempotency-defaults-applied",
        "the same request is compared after defaults are applied (capture omitted = true)",
        ("idempotency.body-as-sent",),
        _defaults_before_comparing,
        select="test_the_same_request_is_the_body_as_sent",
    ),
    Fault(
        "first-idempotency-key-wins",
        "of two Idempotency-Key headers the first is used",
        ("idempotency.repeated-header",),
        _first_header_wins(b"idempotency-key"),
        select="test_two_key_headers_are_refused",
    ),
    Fault(
        "first-authorization-wins",
        "of two Authorization headers the first is used",
        ("auth.repeated-header",),
        _first_header_wins(b"authorization"),
        select="test_two_authorization_headers_are_refused",
    ),
    Fault(
        "emails-lower-cased",
        "emails are stored lower-cased",
        ("formats.email-readings",),
        _request_rewritten(_emails_lower_cased),
        select="test_emails_are_accepted",
    ),
    Fault(
        "emails-ascii-whitespace-only",
        "an email with a Unicode space (U+00A0, U+3000) is accepted",
        ("formats.email-readings",),
        _request_rewritten(_ascii_whitespace_only),
        select="test_emails_with_unicode_spaces",
    ),
    Fault(
        "payment-methods-empty-list",
        "paymentMethods not sent is answered as []",
        ("objects.payment-methods",),
        _answers(_empty_payment_methods),
        select="test_payment_methods_not_sent",
    ),
    Fault(
        "paid-at-once-two-times",
        "a checkout paid on creation has updated later than created",
        ("objects.times-paid-at-once",),
        _answers(_paid_a_moment_later),
        select="test_a_checkout_paid_at_once",
    ),
    Fault(
        "whole-second-times",
        "times kept to the second: quick changes leave updated where it was",
        ("objects.updated-later",),
        _answers(_whole_seconds),
        select="test_every_change_moves_updated_forward",
    ),
    Fault(
        "integers-echoed-as-sent",
        "an amount sent as 3000.0 is answered as 3000.0",
        ("objects.integers-answered",),
        _answers(_integers_echoed_as_sent),
        select="test_integral_amounts_are_answered",
    ),
    Fault(
        "customer-keeps-empty-metadata",
        "createCustomer stores metadata keys sent with the empty string",
        ("objects.customer-empty-metadata",),
        _answers(_customer_keeps_empty_metadata),
        select="test_customers_drop_empty_metadata",
    ),
    Fault(
        "saved-cards-newest-first",
        "savedCards lists the newest card first",
        ("objects.saved-cards",),
        _answers(_cards_newest_first),
        select="test_saved_cards_order_and_default",
    ),
    Fault(
        "first-card-not-default",
        "the first saved card does not become the default",
        ("objects.saved-cards",),
        _answers(_no_default_card),
        select="test_saved_cards_order_and_default",
    ),
    Fault(
        "default-after-delete-newest",
        "deleting the default card makes the newest remaining card the default",
        ("objects.default-after-delete",),
        _default_after_delete(lambda cards: cards[-1] if cards else None),
        select="test_deleting_the_default_card",
    ),
    Fault(
        "no-default-after-delete",
        "deleting the default card leaves no default while cards remain",
        ("objects.default-after-delete",),
        _default_after_delete(lambda cards: None),
        select="test_deleting_the_default_card",
    ),
    Fault(
        "same-card-saved-once",
        "the same card number saved twice is one saved card",
        ("objects.saved-cards",),
        _answers(_same_card_once),
        select="test_saved_cards_order_and_default",
    ),
    Fault(
        "card-id-dropped-on-decline",
        "a declined automatic payment answers card_id null",
        ("objects.card-id-declined",),
        _answers(_card_id_dropped_on_decline),
        select="test_card_id_stays_on_a_declined_payment",
    ),
    Fault(
        "bom-ignored",
        "a UTF-8 byte order mark before the body is skipped",
        ("protocol.bom",),
        _request_rewritten(_bom_ignored),
        select="test_wire_details and bom",
    ),
    Fault(
        "noncharacters-refused",
        "strings holding Unicode noncharacters are refused as invalid_json",
        ("protocol.noncharacter",),
        _request_rewritten(_noncharacters_refused),
        select="test_wire_details and noncharacter",
    ),
    Fault(
        "long-integers-are-numbers",
        "an integer of 400 digits is a schema error, not beyond I-JSON's range",
        ("protocol.number-range",),
        _request_rewritten(_long_integers_as_numbers),
        select="test_wire_details and beyond",
    ),
    Fault(
        "integral-by-text",
        "3000.0000000000000001 is no integer (integral by the text, not the value)",
        ("protocol.integral-by-value",),
        _request_rewritten(_integral_by_text),
        select="test_wire_details and integral",
    ),
    Fault(
        "names-compared-as-written",
        'the names "amount" and "\\u0061mount" are two names',
        ("protocol.duplicate-after-unescaping",),
        _request_rewritten(_names_compared_as_written),
        select="test_wire_details and duplicate",
    ),
    Fault(
        "gzip-bodies-decoded",
        "Content-Encoding: gzip bodies are decompressed and accepted",
        ("protocol.content-encoding",),
        _request_rewritten(_gzip_decoded),
        select="test_wire_details and gzip",
    ),
    Fault(
        "empty-body-without-type-is-json",
        "an empty body without Content-Type answers 400 invalid_json instead of 415",
        ("protocol.media-type-refused",),
        _request_rewritten(_empty_body_is_json),
        select="test_wire_details and empty",
    ),
    Fault(
        "tab-after-bearer-accepted",
        "a TAB between Bearer and the key is accepted",
        ("auth.separator",),
        _request_rewritten(_tab_separator),
        select="test_wire_details and tab",
    ),
    Fault(
        "utf8-alias-accepted",
        "charset=utf8 is taken for utf-8",
        ("protocol.media-type-refused",),
        _request_rewritten(_utf8_alias),
        select="test_other_media_types_are_refused",
    ),
    Fault(
        "only-charset-parameters",
        "a Content-Type parameter other than charset is refused",
        ("protocol.media-type-accepted",),
        _request_rewritten(_only_charset_parameters),
        select="test_json_media_type_spellings_are_accepted",
    ),
    Fault(
        "utf16-lengths",
        "string lengths count UTF-16 units",
        ("protocol.length-unit",),
        _request_rewritten(_utf16_lengths),
        select="test_wire_details and length",
    ),
    Fault(
        "charset-on-answers",
        "answers carry Content-Type: application/json; charset=utf-8",
        ("protocol.answer-media-type",),
        _answers(_charset_on_answers),
        select="test_answers_are_plain_application_json",
    ),
    Fault(
        "lenient-paths",
        "paths match in any case and with a trailing slash",
        ("protocol.exact-paths",),
        _path_rewritten(_lenient_paths),
        select="test_wire_details and (slash or case)",
    ),
    Fault(
        "queries-refused",
        "a query string makes an unknown path",
        ("protocol.exact-paths",),
        _path_rewritten(_queries_refused),
        select="test_wire_details and query",
    ),
    Fault(
        "not-found-without-param",
        "404s have param null",
        ("protocol.param-of-not-found",),
        _answers(_not_found_without_param),
        select="test_wire_details and param",
    ),
    Fault(
        "invalid-json-param-root",
        "invalid_json has param '' (the whole body)",
        ("protocol.param-of-invalid-json",),
        _answers(_invalid_json_at_root),
        select="test_wire_details and param",
    ),
    Fault(
        "metadata-name-pointer",
        "a bad metadata key name points at the key (/metaData/<key>)",
        ("protocol.param-of-metadata-name",),
        _answers(_metadata_name_pointer),
        select="test_wire_details and param",
    ),
    Fault(
        "release-forgets-reason",
        "the refund record of a release drops the reason and refundDetails sent",
        ("objects.release-record",),
        _answers(_release_forgets_reason),
        select="test_the_release_record_holds_what_was_sent",
    ),
]


# == issue 20 part B: faults at the edges of what the suite explores ============================
# (values at the edges of their domain, every way to reach a transition, long sequences, exact
# credentials, the explicit rules of the HTTP layer). Each passes the suite of before part B.
def _options_answered_204(app: Any) -> Asgi:
    """A CORS-minded server: OPTIONS on an operation path is a 204 preflight answer."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = [(b"allow", b"POST, OPTIONS"), (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)

    return wrapped


def _no_www_authenticate(app: Any) -> Asgi:
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def strip(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 401:
                headers = message["headers"]
                message = {
                    **message,
                    "headers": [(k, v) for k, v in headers if k.lower() != b"www-authenticate"],
                }
            await send(message)

        await app(scope, receive, strip)

    return wrapped


def _delete_forgets_cards(path: str, req: Any, status: int, resp: Any) -> Any:
    if path == "/checkout/delete-customer" and status == 200:
        return status, {**resp, "savedCards": [], "default_card_id": None}, {}
    return None


def _plain_http_refusals(app: Any) -> Asgi:
    """Served by uvicorn's own HTTP protocol, which refuses malformed HTTP in text/plain."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    app.http_protocol = HttpToolsProtocol
    return app  # type: ignore[no-any-return]


def _keys_case_insensitive(header: str, keys: list[str]) -> str | None:
    scheme, _, token = header.partition(" ")
    match = next((k for k in keys if k.lower() == token.strip().lower()), None)
    return f"{scheme} {match}" if match else header


def _key_prefix_match(header: str, keys: list[str]) -> str | None:
    """Keys compared on their stored length only: anything appended is ignored."""
    scheme, _, token = header.partition(" ")
    match = next((k for k in keys if token.strip().startswith(k)), None)
    return f"{scheme} {match}" if match else header


FAULTS += [
    Fault(
        "options-answered-204",
        "OPTIONS on an operation path answers 204 (a CORS preflight) instead of 405",
        ("protocol.method-not-allowed",),
        _options_answered_204,
        select="test_other_methods",
    ),
    Fault(
        "no-www-authenticate",
        "401 answers without WWW-Authenticate",
        ("auth.www-authenticate",),
        _no_www_authenticate,
        select="test_auth",
    ),
    Fault(
        "delete-forgets-saved-cards",
        "deleteCustomer answers the customer without its saved cards (metadata kept)",
        ("objects.delete-answer",),
        _answers(_delete_forgets_cards),
        select="test_objects",
    ),
    Fault(
        "plain-http-refusals",
        "malformed HTTP is refused in text/plain, without the envelope",
        ("protocol",),
        _plain_http_refusals,
        select="test_raw_http",
    ),
    Fault(
        "keys-case-insensitive",
        "API keys compared without case",
        ("auth.exact-key",),
        _authorization_rewritten(_keys_case_insensitive),
        select="test_auth",
    ),
    Fault(
        "key-prefix-match",
        "a key with characters appended is accepted",
        ("auth.exact-key",),
        _authorization_rewritten(_key_prefix_match),
        select="test_auth",
    ),
]


def _bmp_only(value: Any) -> Any:
    if isinstance(value, str):
        return "".join(ch if ord(ch) <= 0xFFFF else "\ufffd" for ch in value)
    if isinstance(value, dict):
        return {_bmp_only(k): _bmp_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_bmp_only(v) for v in value]
    return value


def _astral_replaced(path: str, req: Any, status: int, resp: Any) -> Any:
    """A store whose text columns hold three UTF-8 bytes a character (MySQL's utf8mb3)."""
    if status == 200:
        return status, _bmp_only(resp), {}
    return None


def _amount_int32(path: str, req: Any, status: int, resp: Any) -> Any:
    """Amounts in a signed 32-bit column, saturating at its maximum."""
    if _is_checkout(resp) and resp["amount"] > 2**31 - 1:
        return status, {**resp, "amount": 2**31 - 1}, {}
    return None


FAULTS += [
    Fault(
        "astral-replaced",
        "characters outside the BMP are stored as U+FFFD",
        ("values.round-trip",),
        _answers(_astral_replaced),
        select="test_values",
    ),
    Fault(
        "amount-int32",
        "amounts above 2^31 - 1 are stored as 2^31 - 1",
        ("values.round-trip",),
        _answers(_amount_int32),
        select="test_values",
    ),
]


def _idempotency_keeps_last(count: int) -> Callable[[Any], Asgi]:
    """An idempotency cache of ``count`` keys: a retry after more keyed writes runs anew."""

    def apply(app: Any) -> Asgi:
        recent: list[bytes] = []

        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                key = dict(scope["headers"]).get(b"idempotency-key")
                if key is not None:
                    if key not in recent[-count:]:
                        headers = [(k, v) for k, v in scope["headers"] if k != b"idempotency-key"]
                        scope = {**scope, "headers": headers} if key in recent else scope
                    recent.append(key)
                    del recent[: -count * 4]
            await app(scope, receive, send)

        return wrapped

    return apply


def _saved_card_always_captures(app: Any) -> Asgi:
    """Automatic payment with a saved card ignores capture false (test card ids honour it)."""
    service = _service(app)
    original = service._create_checkout

    def create(store: Any, caller: Any, body: dict[str, Any]) -> CheckoutRecord:
        card = str(body.get("card_id") or "")
        if card and not card.startswith("card_test_"):
            body = {**body, "capture": True}
        return original(store, caller, body)

    service._handlers["createCheckout"] = create
    return app  # type: ignore[no-any-return]


FAULTS += [
    Fault(
        "idempotency-keeps-last-8",
        "the idempotency store keeps the last 8 keys: a later retry is processed again",
        ("sequences.retry-after-writes",),
        _idempotency_keeps_last(8),
        select="test_sequences",
    ),
    Fault(
        "saved-card-always-captures",
        "a checkout paid with a saved card and capture false is paid, not reserved",
        ("lifecycle", "checkouts"),
        _saved_card_always_captures,
        select="test_transition_ways",
    ),
]


def _alias_normalized(path: str, req: Any, status: int, resp: Any) -> Any:
    """The documented alias of a refund reason stored as the published spelling."""
    if _is_checkout(resp) and any(r.get("reason") == "fraudulent" for r in resp["refunds"]):
        refunds = [
            {**r, "reason": "fraudolent" if r.get("reason") == "fraudulent" else r.get("reason")}
            for r in resp["refunds"]
        ]
        return status, {**resp, "refunds": refunds}, {}
    return None


FAULTS += [
    Fault(
        "refund-alias-normalized",
        "a refund with reason fraudulent is recorded as fraudolent",
        ("values.round-trip",),
        _answers(_alias_normalized),
        select="test_values",
    ),
]
