"""Integrator-style mocks, written from the API description the way a merchant's team would
(not wrappers of the reference server): each in its framework's own style, implementing a few
operations, with that framework's default pages for the rest and the shortcuts people take.
The root-cause engine is held to them: at most 12 causes, each a different fix.

- ``starlette_mock``: a plain Starlette app (create/retrieve/refund), Starlette's plain-text
  404/405 pages, ``livemode`` and ``object`` left out, the checkout looked up before anything
  else of the request is checked, no size or media-type limit, a crash on a body that is not JSON.
- ``http_server_mock``: ``http.server`` (create/retrieve/capture/refund/test pay), its HTML
  error pages, a key accepted without ``Bearer``, unknown fields ignored, a refund above the
  remaining amount refused with the wrong code.
- ``pydantic_style_mock``: a raw ASGI app answering like FastAPI (create/retrieve/update),
  ``422 {"detail": [...]}`` for invalid requests, ``{"detail": "Not Found"}`` pages,
  ``livemode`` left out.
- ``flask_mock``: a Flask app on Werkzeug's server (create/retrieve/capture/refund), Werkzeug's
  HTML error pages (404, 405, and the 400/413/415 of ``request.get_json()`` and
  ``MAX_CONTENT_LENGTH``), ``object`` left out and ``created`` sent as a Unix time, the key
  taken as the second word of the header (a bare key crashes), ``int()`` on the amount, any
  merchant's checkout found by id, capture whatever the status."""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask import Flask
from flask import request as flask_request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Answer = tuple[int, dict[str, Any]]
CURRENCY = re.compile(r"[A-Z]{3}")
DECLINED = "4000000000000002"  # the spec's declining test card
CREATE_FIELDS = (
    *("identifier", "amount", "currency", "message", "capture", "allowSaveCard", "returnUrl"),
    *("returnUrlCancel", "customer_id", "card_id", "template", "metaData", "paymentMethods"),
)
REQUIRED = ("amount", "currency", "message", "returnUrl", "returnUrlCancel", "metaData")


def error(status: int, code: str, message: str = "refused") -> Answer:
    return status, {"error": {"code": code, "message": message, "param": None}}


class Book:
    """The checkouts of a mock, in memory: the little every mock shares (keys → merchant and
    mode, the checkout record). Each mock decides itself what it checks and in which order."""

    def __init__(self, keys: tuple[str, str, str], leave_out: tuple[str, ...] = ()) -> None:
        test, second, live = keys
        self.keys = {test: ("m1", False), second: ("m2", False), live: ("m1", True)}
        self.checkouts: dict[str, dict[str, Any]] = {}
        self.owner: dict[str, tuple[str, bool]] = {}
        self.leave_out = leave_out

    def who(self, authorization: str | None, bare_ok: bool = False) -> tuple[str, bool] | Answer:
        if not authorization:
            return error(401, "missing_api_key")
        key = authorization.removeprefix("Bearer ").strip()
        if not bare_ok and not authorization.startswith("Bearer "):
            return error(401, "invalid_api_key")
        return self.keys.get(key) or error(401, "invalid_api_key")

    def find(self, body: Any, who: tuple[str, bool]) -> dict[str, Any] | None:
        found = self.checkouts.get(str(body.get("checkout_id"))) if isinstance(body, dict) else None
        return found if found is not None and self.owner[found["checkout_id"]] == who else None

    def create(self, body: dict[str, Any], who: tuple[str, bool]) -> Answer:
        missing = [name for name in REQUIRED if name not in body]
        if missing or not isinstance(body.get("amount"), int) or body["amount"] < 1:
            return error(400, "invalid_request", f"missing {missing}")
        if not isinstance(body["metaData"], dict) or not CURRENCY.fullmatch(str(body["currency"])):
            return error(400, "invalid_request", f"missing {missing}")
        checkout_id = secrets.token_hex(16)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        record = {
            "checkout_id": checkout_id,
            "object": "checkout",
            "livemode": who[1],
            "identifier": body.get("identifier", checkout_id),
            "status": "created",
            "amount": body["amount"],
            "refunded_amount": 0,
            "currency": body["currency"],
            "message": body["message"],
            "capture": body.get("capture", True),
            "allowSaveCard": body.get("allowSaveCard", True),
            "returnUrl": body["returnUrl"],
            "returnUrlCancel": body["returnUrlCancel"],
            "customer_id": None,
            "card_id": None,
            "template": body.get("template"),
            "metaData": {k: v for k, v in body["metaData"].items() if v != ""},
            "paymentMethods": None,
            "url": f"https://pay.example/{checkout_id}",
            "refunds": [],
            "created": now,
            "updated": now,
        }
        self.checkouts[checkout_id] = record
        self.owner[checkout_id] = who
        return 200, self.show(record)

    def show(self, record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k not in self.leave_out}

    def refund(self, record: dict[str, Any], amount: Any, over_code: str) -> Answer:
        if record["status"] not in ("paid", "partialRefund"):
            return error(409, "invalid_status")
        left = record["amount"] - record["refunded_amount"]
        amount = left if amount is None else amount
        if not isinstance(amount, int) or amount < 1:
            return error(400, "invalid_request")
        if amount > left:
            return error(400 if over_code == "invalid_request" else 409, over_code)
        record["refunded_amount"] += amount
        refund = {"refund_id": secrets.token_hex(16), "amount": amount, "reason": None}
        record["refunds"].append({**refund, "refundDetails": None, "created": record["updated"]})
        done = record["refunded_amount"] == record["amount"]
        record["status"] = "refunded" if done else "partialRefund"
        return 200, self.show(record)


# --- a plain Starlette app ---------------------------------------------------------------


def starlette_mock(keys: tuple[str, str, str]) -> Starlette:
    book = Book(keys, leave_out=("livemode", "object"))

    def answer(result: Answer) -> Response:
        return JSONResponse(result[1], status_code=result[0])

    async def create(request: Request) -> Response:
        who = book.who(request.headers.get("authorization"))
        if not isinstance(who[0], str):
            return answer(who)
        body = await request.json()  # a body that is not JSON: Starlette's 500 page
        return answer(book.create(body, who))

    async def lookup(request: Request) -> tuple[dict[str, Any] | None, Any, Response | None]:
        """The checkout first (as most handlers start), then the rest of the request."""
        who = book.who(request.headers.get("authorization"))
        if not isinstance(who[0], str):
            return None, None, answer(who)
        body = await request.json()
        record = book.find(body, who)
        if record is None:
            return None, body, answer(error(404, "checkout_not_found"))
        return record, body, None

    async def retrieve(request: Request) -> Response:
        record, _body, refused = await lookup(request)
        return refused or answer((200, book.show(record or {})))

    async def refund(request: Request) -> Response:
        record, body, refused = await lookup(request)
        if refused or record is None:
            return refused or answer(error(500, "internal_error"))
        return answer(book.refund(record, body.get("amount"), "refund_exceeds_remaining"))

    return Starlette(
        routes=[
            Route("/checkout/create", create, methods=["POST"]),
            Route("/checkout/retrieve", retrieve, methods=["POST"]),
            Route("/checkout/refund", refund, methods=["POST"]),
        ]
    )


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# --- http.server ---------------------------------------------------------------------------


@contextmanager
def http_server_mock(keys: tuple[str, str, str]) -> Iterator[str]:
    """Serve the ``http.server`` mock on a free loopback port; yields its base URL."""
    book = Book(keys)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, result: Answer) -> None:
            raw = json.dumps(result[1]).encode()
            self.send_response(result[0])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            handler = ROUTES.get(self.path)
            if handler is None:
                self.send_error(404)  # http.server's HTML page
                return
            who = book.who(self.headers.get("Authorization"), bare_ok=True)
            if not isinstance(who[0], str):
                self._send(who)
                return
            if length > 65536:
                self._send(error(413, "payload_too_large"))
                return
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                self._send(error(415, "unsupported_media_type"))
                return
            try:
                body = json.loads(raw, parse_constant=_refuse)
            except ValueError:
                self._send(error(400, "invalid_json"))
                return
            if not isinstance(body, dict):
                self._send(error(400, "invalid_request"))
                return
            self._send(handler(body, who))

    def create(body: dict[str, Any], who: tuple[str, bool]) -> Answer:
        return book.create(body, who)

    def with_checkout(body: dict[str, Any], who: tuple[str, bool]) -> dict[str, Any] | None:
        return book.find(body, who)

    def retrieve(body: dict[str, Any], who: tuple[str, bool]) -> Answer:
        record = with_checkout(body, who)
        return (200, book.show(record)) if record else error(404, "checkout_not_found")

    def pay(body: dict[str, Any], who: tuple[str, bool]) -> Answer:
        if who[1]:
            return error(403, "test_mode_only")
        record = with_checkout(body, who)
        if record is None:
            return error(404, "checkout_not_found")
        if record["status"] != "created":
            return error(409, "invalid_status")
        if body.get("card_number") == DECLINED:
            record["status"] = "failed"
        else:
            record["status"] = "paid" if record["capture"] else "reserved"
        return 200, book.show(record)

    def capture(body: dict[str, Any], who: tuple[str, bool]) -> Answer:
        record = with_checkout(body, who)
        if record is None:
            return error(404, "checkout_not_found")
        if record["status"] != "reserved":
            return error(409, "invalid_status")
        record["status"] = "paid"
        return 200, book.show(record)

    def refund(body: dict[str, Any], who: tuple[str, bool]) -> Answer:
        record = with_checkout(body, who)
        if record is None:
            return error(404, "checkout_not_found")
        return book.refund(record, body.get("amount"), "invalid_request")

    ROUTES = {
        "/checkout/create": create,
        "/checkout/retrieve": retrieve,
        "/checkout/capture": capture,
        "/checkout/refund": refund,
        "/checkout/test/pay": pay,
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- a raw ASGI app answering like FastAPI -----------------------------------------------------


def pydantic_style_mock(keys: tuple[str, str, str]) -> Any:
    book = Book(keys, leave_out=("livemode",))

    def detail(loc: str, msg: str) -> Answer:
        return 422, {"detail": [{"loc": ["body", loc], "msg": msg, "type": "value_error"}]}

    def create(body: dict[str, Any], who: tuple[str, bool]) -> Answer:
        for name in REQUIRED:
            if name not in body:
                return detail(name, "Field required")
        for name in body:
            if name not in CREATE_FIELDS:  # extra="forbid"
                return detail(name, "Extra inputs are not permitted")
        return book.create(body, who)

    def retrieve(body: dict[str, Any], who: tuple[str, bool]) -> Answer:
        if "checkout_id" not in body:
            return detail("checkout_id", "Field required")
        record = book.find(body, who)
        return (200, book.show(record)) if record else error(404, "checkout_not_found")

    def update(body: dict[str, Any], who: tuple[str, bool]) -> Answer:
        if "checkout_id" not in body:
            return detail("checkout_id", "Field required")
        record = book.find(body, who)
        if record is None:
            return error(404, "checkout_not_found")
        metadata = body.get("metaData") or {}
        if not isinstance(metadata, dict):
            return detail("metaData", "Input should be a valid dictionary")
        for name, value in metadata.items():
            if value == "":
                record["metaData"].pop(name, None)
            else:
                record["metaData"][name] = value
        return 200, book.show(record)

    routes = {
        "/checkout/create": create,
        "/checkout/retrieve": retrieve,
        "/checkout/update": update,
    }

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]}
        handler = routes.get(scope["path"])
        result: Answer
        if handler is None:
            result = 404, {"detail": "Not Found"}
        elif scope["method"] != "POST":
            result = 405, {"detail": "Method Not Allowed"}
        else:
            who = book.who(headers.get("authorization"))
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            if not isinstance(who[0], str):
                result = who
            elif not isinstance(body, dict):
                result = 422, {"detail": [{"loc": ["body"], "msg": "JSON decode error"}]}
            else:
                result = handler(body, who)
        data = json.dumps(result[1]).encode()
        sent = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
        await send({"type": "http.response.start", "status": result[0], "headers": sent})
        await send({"type": "http.response.body", "body": data})

    return app


# --- Flask on Werkzeug ---------------------------------------------------------------------------


def flask_app(keys: tuple[str, str, str]) -> Flask:
    book = Book(keys, leave_out=("object",))
    app = Flask("neuropay-flask-mock")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # Werkzeug's 413 page above it

    def who() -> tuple[str, bool] | Answer:
        header = flask_request.headers.get("Authorization")
        if not header:
            return error(401, "missing_api_key")
        token = header.split(" ")[1]  # "Bearer <key>": a bare key is an IndexError, a 500 page
        return book.keys.get(token) or error(401, "invalid_api_key")

    def shown(record: dict[str, Any]) -> dict[str, Any]:
        stamp = datetime.strptime(record["created"], "%Y-%m-%dT%H:%M:%SZ")
        return {**book.show(record), "created": int(stamp.timestamp())}

    def answer(result: Answer) -> tuple[dict[str, Any], int]:
        body = result[1]
        return (shown(body) if "checkout_id" in body else body), result[0]

    def found(data: Any) -> dict[str, Any] | None:
        # any merchant's checkout, by id alone
        return book.checkouts.get(str(data.get("checkout_id"))) if isinstance(data, dict) else None

    @app.post("/checkout/create")
    def create() -> tuple[dict[str, Any], int]:
        owner = who()
        if not isinstance(owner[0], str):
            return answer(owner)
        data = flask_request.get_json()  # Werkzeug's 415 and 400 pages
        if not isinstance(data, dict):
            return answer(error(400, "invalid_request"))
        try:
            data["amount"] = int(data["amount"])
        except (KeyError, TypeError, ValueError):
            return answer(error(400, "invalid_request", "amount"))
        return answer(book.create(data, owner))

    @app.post("/checkout/retrieve")
    def retrieve() -> tuple[dict[str, Any], int]:
        owner = who()
        if not isinstance(owner[0], str):
            return answer(owner)
        record = found(flask_request.get_json())
        return answer((200, record) if record else error(404, "checkout_not_found"))

    @app.post("/checkout/capture")
    def capture() -> tuple[dict[str, Any], int]:
        owner = who()
        if not isinstance(owner[0], str):
            return answer(owner)
        record = found(flask_request.get_json())
        if record is None:
            return answer(error(404, "checkout_not_found"))
        record["status"] = "paid"  # whatever it was
        return answer((200, record))

    @app.post("/checkout/refund")
    def refund() -> tuple[dict[str, Any], int]:
        owner = who()
        if not isinstance(owner[0], str):
            return answer(owner)
        data = flask_request.get_json()
        record = found(data)
        if record is None:
            return answer(error(404, "checkout_not_found"))
        return answer(book.refund(record, data.get("amount"), "refund_exceeds_remaining"))

    return app


@contextmanager
def flask_mock(keys: tuple[str, str, str]) -> Iterator[str]:
    """Serve the Flask mock with Werkzeug's threaded server on a free loopback port."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = make_server("127.0.0.1", 0, flask_app(keys), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
