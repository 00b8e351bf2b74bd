"""Partial and hostile servers: the reference server with whole operations missing, required
fields left out, one operation that always fails, or answers no client should trust. Each names
the root causes (not only the rules) the suite must report for it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .faults import Asgi, answer_of, read_body

PATHS = {
    "createCheckout": "/checkout/create",
    "retrieveCheckout": "/checkout/retrieve",
    "captureCheckout": "/checkout/capture",
    "refundCheckout": "/checkout/refund",
    "updateCheckout": "/checkout/update",
    "deleteCheckout": "/checkout/delete",
    "createCustomer": "/checkout/create-customer",
    "retrieveCustomer": "/checkout/retrieve-customer",
    "deleteCustomer": "/checkout/delete-customer",
    "testPayCheckout": "/checkout/test/pay",
    "testCancelCheckout": "/checkout/test/cancel",
    "testExpireCheckout": "/checkout/test/expire",
}


async def _answer(send: Callable[..., Any], status: int, body: bytes, **headers: str) -> None:
    sent = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    sent += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": sent})
    await send({"type": "http.response.body", "body": body})


def hand_written_mock(
    implemented: Iterable[str], drop_fields: Iterable[str] = ()
) -> Callable[[Any], Asgi]:
    """An integrator's mock in the style of a web framework's defaults: only ``implemented``
    operations are routed (others answer ``404 {"detail": "Not Found"}``, other methods ``405
    {"detail": "Method Not Allowed"}``), and checkouts lack ``drop_fields``."""
    paths = {PATHS[op] for op in implemented}
    dropped = set(drop_fields)

    def apply(app: Any) -> Asgi:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            if scope["path"] not in paths:
                await _answer(send, 404, b'{"detail": "Not Found"}')
                return
            if scope["method"] != "POST":
                await _answer(send, 405, b'{"detail": "Method Not Allowed"}', allow="POST")
                return
            _raw, replay = await read_body(receive)
            start, body = await answer_of(app, scope, replay)
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict) and data.get("object") == "checkout":
                body = json.dumps({k: v for k, v in data.items() if k not in dropped}).encode()
            await _answer(send, int(start.get("status", 500)), body)

        return wrapped

    return apply


def fails_on(operation: str) -> Callable[[Any], Asgi]:
    """Every request to ``operation`` answers 500 internal_error; the rest is the reference."""
    path = PATHS[operation]
    boom = b'{"error": {"code": "internal_error", "message": "boom", "param": null}}'

    def apply(app: Any) -> Asgi:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["path"] == path and scope["method"] == "POST":
                await read_body(receive)
                await _answer(send, 500, boom)
                return
            await app(scope, receive, send)

        return wrapped

    return apply


HOSTILE_TEXT = "\x1b[2J\x1b[31mowned\x07 \u202eexe.gpj\u2066 <script>alert(1)</script> \x9b"


def hostile(size: int = 2_000_000) -> Callable[[Any], Asgi]:
    """Every JSON answer of the reference server padded to ``size`` bytes with terminal escapes,
    bidi overrides and HTML in its strings (and in an extra field that breaks the schema)."""

    def apply(app: Any) -> Asgi:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            start, body = await answer_of(app, scope, receive)
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                data = {}
            padding = (HOSTILE_TEXT * (size // len(HOSTILE_TEXT) + 1))[:size]
            data["hostile"] = padding
            if isinstance(data.get("error"), dict):
                data["error"]["message"] = HOSTILE_TEXT
            await _answer(send, int(start.get("status", 500)), json.dumps(data).encode())

        return wrapped

    return apply


@dataclass(frozen=True)
class PartialServer:
    name: str
    description: str
    apply: Callable[[Any], Asgi]
    not_implemented: list[str] = field(default_factory=list)
    # (rule regex, operation that must be among the cause's operations, text in its title)
    causes: list[tuple[str, str, str]] = field(default_factory=list)
    max_causes: int = 12


INTEGRATOR_OPS = ["createCheckout", "retrieveCheckout", "refundCheckout"]
MISSING_IN_INTEGRATOR = [op for op in PATHS if op not in INTEGRATOR_OPS]

PARTIAL_SERVERS = [
    PartialServer(
        "integrator-mock",
        "create, retrieve and refund only; checkouts without object and livemode",
        hand_written_mock(INTEGRATOR_OPS, drop_fields=("object", "livemode")),
        not_implemented=MISSING_IN_INTEGRATOR,
        causes=[
            (r"schema\.response", "createCheckout", "`livemode` and `object` missing"),
            (r"schema\.error-envelope", "retrieveCheckout", "without the error envelope"),
        ],
    ),
    PartialServer(
        "no-customers",
        "the customer operations answer the spec's own 404 not_found for an unknown path",
        lambda app: _without(app, {"createCustomer", "retrieveCustomer", "deleteCustomer"}),
        not_implemented=["createCustomer", "retrieveCustomer", "deleteCustomer"],
        max_causes=0,
    ),
    PartialServer(
        "refund-500",
        "every refund answers 500 internal_error",
        fails_on("refundCheckout"),
        causes=[(r".", "refundCheckout", "500")],
    ),
]


def _without(app: Any, operations: set[str]) -> Asgi:
    """The reference server with ``operations`` unrouted: its own catch-all answers them (404
    not_found in the envelope, as the spec documents for an unknown path)."""
    hidden = {PATHS[op] for op in operations}

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in hidden:
            scope = {**scope, "path": scope["path"] + "-missing"}
        await app(scope, receive, send)

    return wrapped
