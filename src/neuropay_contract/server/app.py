"""The reference server's HTTP layer (Starlette): auth, body limits, JSON, validation against the
spec's own schemas, the error envelope, and dispatch to :class:`CheckoutService`."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Match, Route, request_response

from ..envelope import error_answer
from ..errors import NeuropayError
from ..spec import KEY_INVALID, KEY_MISSING, ApiSpec, Operation, load_spec
from ..wellformed import (
    NotIJson,
    NotJson,
    RepeatedHeader,
    json_pointer,
    media_fault,
    parse_json,
    read_credential,
    single_header,
)
from .hosted import HostedPages
from .jsoncodec import FastJSONResponse
from .keys import ApiKey, KeyRing, default_keys, stored
from .pages import page_routes
from .protocol import body_buffered
from .service import ApiError, Caller, CheckoutService
from .storage import Tables, open_storage
from .validation import RequestValidator

log = logging.getLogger("neuropay.mock")

KEY_REFRESH_S = 1.0
BODY_TIMEOUT_S = 10.0  # longest pause allowed while a request body arrives


def error_response(error: ApiError, allow: str | None = None, close: bool = False) -> Response:
    """Any refusal of the server in the envelope (:func:`..envelope.error_answer`: the 401's
    challenge, the 405's ``Allow``)."""
    answer = error_answer(
        error.http, error.code, error.message, error.param, allow=allow, close=close
    )
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


class BodyStalled(ApiError):
    """The request body stopped arriving before its end."""


class _AnyMethod:
    """An endpoint Starlette routes every method to (a plain function would get GET only)."""

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = request_response(endpoint)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def listening_url(request: Request) -> str:
    """This server's own URL from the socket the request came in on (not the Host header,
    which the client chooses: ``Host: %00`` made checkout URLs invalid)."""
    server = request.scope.get("server")
    if not server or server[1] is None:
        return "http://127.0.0.1"
    host, port = server
    host = f"[{host}]" if ":" in host else host
    return f"{request.scope.get('scheme', 'http')}://{host}:{port}"


@dataclass
class _Pending:
    """One request while the generic rules run: what each step has learnt so far."""

    request: Request
    op: Operation
    caller: Caller | None = None
    raw: bytes | None = None
    body: Any = None
    too_deep: bool = False
    idem_key: str | None = None


class ApiHandler:
    """Validates a request to one operation and runs it."""

    def __init__(self, spec: ApiSpec, service: CheckoutService, keys: KeyRing) -> None:
        self.spec = spec
        self.service = service
        self.keys = keys
        self._keys_read = time.monotonic()
        self.public_url: str | None = None
        self.body_timeout_s = BODY_TIMEOUT_S
        self.max_body = spec.max_body_bytes
        self.max_depth = spec.max_json_depth
        self.idem_header = spec.idempotency.header
        self.replay_header = spec.idempotency.replay_header
        self.ops_by_path: dict[str, Operation] = {
            op.path: op for op in spec.operations.values() if op.operation_id in service.operations
        }
        by_step: dict[str, Callable[[_Pending], Awaitable[None] | None]] = {
            "method": self.check_method,
            "api_key": self.check_api_key,
            "body_size": self.check_body_size,
            "media_type": self.check_media_type,
            "test_mode_only": self.check_test_mode_only,
            "json": self.check_json,
            "json_depth": self.check_json_depth,
            "schema": self.check_schema,
            "idempotency_key": self.check_idempotency_key,
        }
        # x-precedence orders them (spec.precedence has checked the order can run); the
        # idempotency lookup and the operation come last, in the service's transaction.
        self.checks = [by_step[step.name] for step in spec.precedence if step.name in by_step]
        # Built once: looking a validator up by its schema serialises the schema every time.
        self.validators = {
            op.operation_id: RequestValidator(spec, op.request_schema)
            for op in self.ops_by_path.values()
            if op.request_schema is not None
        }

    def base_url(self, request: Request) -> str:
        return self.public_url or listening_url(request)

    def refuse(self, step: str, message: str, which: int = 0, param: str | None = None) -> ApiError:
        """The refusal of the x-precedence step ``step``, with the http and code the spec gives
        it (:meth:`ApiSpec.refusal`)."""
        answer = self.spec.refusal(step, which, param)
        return ApiError(answer.http, answer.code, message, answer.param)

    def authenticate(self, request: Request, base_url: str) -> Caller:
        credential = read_credential(request.headers.getlist("authorization"))
        if credential.state == "missing":
            raise self.refuse(
                "api_key", "Send your API key as Authorization: Bearer <key>.", KEY_MISSING
            )
        if credential.repeated:  # not a list header (RFC 9110 11.6.2): no credential is picked
            raise self.refuse("api_key", "Send one Authorization header, not several.", KEY_INVALID)
        if credential.key is None:
            raise self.refuse(
                "api_key", "Use the Bearer scheme: Authorization: Bearer <key>.", KEY_INVALID
            )
        key = self.keys.find(credential.key)
        if key is None:
            raise self.refuse("api_key", "The API key is not valid.", KEY_INVALID)
        return Caller(key.merchant, key.mode, key.key_hash, base_url)

    async def refresh_keys(self) -> None:
        """Re-read the stored keys now and then, so `neuropay mock keys add|revoke` on the
        database reaches a running server within about a second."""
        if time.monotonic() - self._keys_read < KEY_REFRESH_S:
            return
        self._keys_read = time.monotonic()
        rows = await self.service.store.call(lambda s: s.api_keys(), read_only=True)
        self.keys = KeyRing(rows)

    # -- the generic rules, each a step of x-precedence ---------------------------------------
    def check_method(self, pending: _Pending) -> None:
        if pending.request.scope["method"] != pending.op.method:
            raise self.refuse(
                "method", f"{pending.request.url.path} only takes {pending.op.method}."
            )

    async def check_api_key(self, pending: _Pending) -> None:
        request = pending.request
        await self.refresh_keys()
        pending.caller = self.authenticate(request, self.base_url(request))
        # request.state's dict, without building a State object on every request
        request.scope.setdefault("state", {})["caller"] = pending.caller

    async def check_body_size(self, pending: _Pending) -> None:
        too_large = self.refuse("body_size", f"The body is larger than {self.max_body} bytes.")
        length = pending.request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            raise too_large
        if body_buffered(pending.request.scope):
            # The whole body has arrived (our protocol says so): one receive, nothing to time.
            message = await pending.request.receive()
            if message["type"] != "http.request":
                raise ClientDisconnect()
            body: bytes = message.get("body", b"")
            if len(body) > self.max_body:
                raise too_large
            pending.raw = body
            return
        chunks: list[bytes] = []
        size = 0
        stream = pending.request.stream().__aiter__()
        while True:
            try:
                # A body that stalls below its Content-Length must not hold the connection.
                async with asyncio.timeout(self.body_timeout_s):
                    chunk = await anext(stream)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise BodyStalled(
                    400,
                    "invalid_request",
                    f"The body stopped arriving: nothing came for {self.body_timeout_s:g} s.",
                ) from None
            size += len(chunk)  # chunked bodies are counted as they come
            if size > self.max_body:
                raise too_large
            chunks.append(chunk)
        pending.raw = b"".join(chunks)

    def check_media_type(self, pending: _Pending) -> None:
        """``application/json`` in any case, with any parameters but a charset other than
        UTF-8; no Content-Type, other types and ``application/*+json`` are refused."""
        headers = pending.request.headers
        media = media_fault(headers.get("content-type"), headers.get("content-encoding"))
        if media == "type":
            header = headers.get("content-type", "")
            raise self.refuse(
                "media_type",
                f"Send the body as application/json (UTF-8), not {header or 'no Content-Type'}.",
            )
        if media == "coding":
            coding = headers.get("content-encoding", "")
            raise self.refuse(
                "media_type",
                f"Send the body uncompressed: Content-Encoding {coding[:40]!r} is not supported.",
            )

    def check_test_mode_only(self, pending: _Pending) -> None:
        assert pending.caller is not None  # x-precedence puts api_key first
        if pending.op.test_only and pending.caller.mode != "test":
            raise self.refuse(
                "test_mode_only", f"{pending.op.operation_id} is a test helper: use a test key."
            )

    def check_json(self, pending: _Pending) -> None:
        raw = pending.raw
        assert raw is not None  # x-precedence puts body_size first
        try:
            parsed = parse_json(raw, self.max_depth)
        except NotJson as exc:
            if exc.pointer is not None:
                raise self.refuse("json", f"{exc}.", param=exc.pointer) from None
            detail = f" ({exc})" if isinstance(exc, NotIJson) else ""
            raise self.refuse("json", f"The body is not valid UTF-8 JSON{detail}.") from None
        # No request nests more than a few levels; far deeper bodies would only make the
        # recursive steps after parsing (validation, number normalisation) run out of stack.
        pending.body, pending.too_deep = parsed.value, parsed.too_deep

    def check_json_depth(self, pending: _Pending) -> None:
        if pending.too_deep:
            raise self.refuse("json_depth", f"The body nests deeper than {self.max_depth} levels.")

    def check_schema(self, pending: _Pending) -> None:
        pending.body = self.validate(pending.op, pending.body)

    def check_idempotency_key(self, pending: _Pending) -> None:
        pending.idem_key = self.idempotency_key(pending.request, pending.op)

    def validate(self, op: Operation, body: Any) -> dict[str, Any]:
        validator = self.validators.get(op.operation_id)
        if validator is None:
            return body if isinstance(body, dict) else {}
        error = validator.first_error(body)
        if error is not None:
            path = list(error.absolute_path)
            if error.validator in ("required", "dependentRequired") and isinstance(
                error.instance, dict
            ):
                # Point at the missing property itself, not at the object that lacks it.
                wanted: Any = error.validator_value
                if isinstance(wanted, dict):
                    wanted = [n for names in wanted.values() for n in names]
                missing = [n for n in wanted if n not in error.instance]
                path += missing[:1]
            elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
                # Point at the first unknown field, which is the field at fault.
                known = (
                    error.schema.get("properties") or {} if isinstance(error.schema, dict) else {}
                )
                unknown = [n for n in error.instance if n not in known]
                path += unknown[:1]
            raise self.refuse("schema", error.message[:500], param=json_pointer(path))
        if not isinstance(body, dict):
            raise self.refuse("schema", "The body must be a JSON object.", param="")
        return body

    def idempotency_key(self, request: Request, op: Operation) -> str | None:
        """The request's Idempotency-Key, checked against the operation's own parameter schema;
        None when absent or when the operation does not declare it (then it is ignored)."""
        values = request.headers.getlist(self.idem_header)
        param = next(
            (
                p
                for p in op.parameters
                if str(p.get("name", "")).lower() == self.idem_header.lower()
            ),
            None,
        )
        if not values or param is None:
            return None
        try:
            value = single_header(values)
        except RepeatedHeader as exc:  # several keys: none is picked
            reason = str(exc)
        else:
            errors = self.spec.validation_errors(self.spec.deref(param.get("schema") or {}), value)
            if not errors:
                return value
            reason = errors[0].message[:200]
        raise self.refuse(
            "idempotency_key",
            f"{self.idem_header} must be one header of 1 to 255 printable ASCII characters "
            f"without spaces: {reason}",
            param=self.spec.idempotency.invalid_key.param,
        )

    async def __call__(self, request: Request) -> Response:
        # The "path" step is the router's: unknown paths never get here.
        pending = _Pending(request, self.ops_by_path[request.scope["path"]])
        for check in self.checks:
            result = check(pending)
            if result is not None:
                await result
        op, caller, body, idem_key = pending.op, pending.caller, pending.body, pending.idem_key
        assert caller is not None

        def run(store: Tables) -> Response:
            status, result, replayed = self.service.run_in(
                store, op.operation_id, caller, body, idem_key
            )
            headers = {self.replay_header: "true"} if replayed else None
            # Rendered inside the transaction: an answer that cannot be rendered rolls the
            # write back, so no failure after a commit can answer "nothing changed".
            return FastJSONResponse(result, status_code=status, headers=headers, finite=True)

        reads = idem_key is None and op.operation_id in self.service.read_only
        response: Response = await self.service.store.call(run, read_only=reads)
        return response


def request_log_line(
    request: Request, response: Response, seconds: float, replay_header: str = "Idempotent-Replayed"
) -> str:
    """One line per API request for the sandbox's console: what was asked, the answer and, for
    an error, its code and message, so an integrator sees why a call failed. The caller appears as
    merchant and mode; the key never does."""
    caller = getattr(request.state, "caller", None)
    who = f"{caller.merchant}/{caller.mode}" if caller else "-"
    line = f"{request.method} {request.url.path} {response.status_code}"
    if response.status_code >= 400:
        try:
            error = json.loads(bytes(response.body))["error"]
            line += f" {error['code']}"
            if error.get("param"):
                line += f" [{error['param']}]"
            line += f": {error['message']}"
        except (ValueError, KeyError, TypeError):
            pass
    if response.headers.get(replay_header):
        line += " (idempotent replay)"
    return f"{line} · {who} · {seconds * 1000:.1f} ms"


class SandboxApp(Starlette):
    """Starlette, with the API's own paths answered directly: they take any method and answer
    only through ``api`` (which turns every failure into the envelope), so the router and the
    exception middleware, a fifth of a request's time under load, have nothing to add there."""

    api_paths: frozenset[str] = frozenset()
    api: Callable[[Request], Awaitable[Response]] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.api is not None and scope["type"] == "http" and scope["path"] in self.api_paths:
            scope["app"] = self
            response = await self.api(Request(scope, receive, send))
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    spec: ApiSpec | None = None,
    db_path: str | Path = ":memory:",
    api_keys: Sequence[ApiKey] | None = None,
    request_log: Callable[[str], None] | None = None,
    public_url: str | None = None,
    frame_ancestors: Sequence[str] = (),
) -> Starlette:
    """The reference server as an ASGI app. Keys given are stored (a key stored for another
    merchant or mode is refused); a database without keys gets :func:`default_keys`. The store
    keeps only hashes, so ``app.state.keys`` lists the keys whose text this call knows (given or
    generated now); ``app.state.generated_keys`` the generated ones, to show once.
    ``request_log`` receives one :func:`request_log_line` per API request. Checkout ``url``s,
    ``client_page`` links and the docs' samples use ``public_url`` (else the address the
    server listens on), never the client-chosen ``Host`` header. ``frame_ancestors``: origins
    that may frame ``template: iframe`` checkouts besides each checkout's ``returnUrl`` origin."""
    spec = spec or load_spec()
    store = open_storage(str(db_path))
    given = list(api_keys or ())

    def init_keys(s: Tables) -> list[ApiKey]:
        for key in given:
            s.add_key(stored(key))
        if s.api_keys():
            return []
        generated = default_keys()
        for key in generated:
            s.add_key(stored(key))
        return generated

    try:
        service = CheckoutService(spec, store)
        generated = store.run(init_keys)
        stored_keys = store.run(lambda s: s.api_keys())
    except BaseException:
        store.close()
        raise
    handler = ApiHandler(spec, service, KeyRing(stored_keys))
    handler.public_url = public_url.rstrip("/") if public_url else None
    spec_text = spec.text or json.dumps(spec.document)

    async def answer(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            op = handler.ops_by_path.get(request.scope["path"])
            # A stalled body closes the connection: the rest of it is not waited for.
            return error_response(
                exc, op.method if op and exc.http == 405 else None, isinstance(exc, BodyStalled)
            )
        except ClientDisconnect:  # the client left mid-body: nobody to answer, nothing written
            return error_response(
                ApiError(400, "invalid_request", "The client closed the connection.")
            )
        except NeuropayError as exc:  # the storage failed (an outage): one line per request
            log.error("internal error on %s: %s", request.url.path, exc)
            return error_response(
                ApiError(500, "internal_error", "The server failed; nothing changed.")
            )
        except Exception:
            log.exception("internal error on %s", request.url.path)
            return error_response(
                ApiError(500, "internal_error", "The server failed; nothing changed.")
            )

    async def api(request: Request) -> Response:
        if request_log is None:
            return await answer(request)
        started = time.perf_counter()
        response = await answer(request)
        seconds = time.perf_counter() - started
        request_log(request_log_line(request, response, seconds, handler.replay_header))
        return response

    async def not_found(request: Request) -> Response:
        if (
            request.url.path == "/"
            and request.method == "GET"
            and "text/html" in request.headers.get("accept", "")
        ):
            return RedirectResponse("/docs", status_code=303)  # a person opened the sandbox's URL
        methods = {  # a page or document asked with another method
            method
            for route in get_routes
            if route.matches(request.scope)[0] is Match.PARTIAL
            for method in route.methods or ()
        }
        if methods:
            allowed = ", ".join(sorted(methods))
            message = f"{request.url.path} only takes {allowed}."
            return error_response(handler.refuse("method", message), allow=allowed)
        return error_response(handler.refuse("path", f"No such path {request.url.path}."))

    async def openapi_yaml(request: Request) -> Response:
        return PlainTextResponse(spec_text, media_type="application/yaml")

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(spec.document)

    docs_pages: dict[str, str] = {}  # by base URL: samples aim at the server that was asked

    async def docs(request: Request) -> Response:
        from ..docs.render import docs_html

        base_url = handler.base_url(request)
        if base_url not in docs_pages:
            if len(docs_pages) >= 8:  # the Host header is the client's to choose: stay bounded
                docs_pages.clear()
            docs_pages[base_url] = await asyncio.to_thread(docs_html, spec, base_url)
        # The page is self-contained: its own inline style and script, nothing from elsewhere.
        csp = (
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
            "img-src data:; base-uri 'none'; frame-ancestors 'none'"
        )
        return HTMLResponse(docs_pages[base_url], headers={"Content-Security-Policy": csp})

    async def http_error(request: Request, exc: Exception) -> Response:
        """Starlette's own refusals (a GET-only page asked with TRACE, say) in the envelope."""
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "GET")
            error = handler.refuse("method", f"{request.url.path} only takes {allowed}.")
            return error_response(error, allow=allowed)
        if exc.status_code == 404:
            return error_response(handler.refuse("path", f"No such path {request.url.path}."))
        code = "invalid_request" if exc.status_code < 500 else "internal_error"
        return error_response(ApiError(exc.status_code, code, str(exc.detail)))

    # API paths and unknown paths take any method (TRACE, PROPFIND, …): the answer is the
    # envelope's 405 or 404, not Starlette's plain text.
    routes = [Route(path, _AnyMethod(api)) for path in handler.ops_by_path]
    pages = HostedPages(service)
    get_routes = [
        Route("/openapi.yaml", openapi_yaml, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        *page_routes(pages, handler.base_url, frame_ancestors),
    ]
    routes += [*get_routes, Route("/{path:path}", _AnyMethod(not_found))]
    app = SandboxApp(routes=routes, exception_handlers={HTTPException: http_error})
    app.api_paths = frozenset(handler.ops_by_path)
    app.api = api
    app.state.keys = given + generated
    app.state.generated_keys = generated
    app.state.stored_keys = stored_keys
    app.state.store = store
    app.state.service = service
    app.state.handler = handler
    app.state.pages = pages
    return app
