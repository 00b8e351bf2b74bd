"""Per-exchange checks: the request against the spec (client side) and the answer against the
spec (server side). Nothing here remembers earlier exchanges; :mod:`.tracker` does that."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema.exceptions import ValidationError

from ..server.validation import RequestValidator
from ..spec import KEY_INVALID, KEY_MISSING, ApiSpec, Operation
from ..untrusted import has_invisible, visible
from ..wellformed import (
    NotJson,
    RepeatedHeader,
    is_json_media,
    media_fault,
    media_type,
    parse_json,
    single_header,
)
from .exchange import Exchange
from .findings import Expectation, Finding, Side
from .paths import PathMatcher

_NOT_PARSED = object()


@dataclass
class Checked:
    """One exchange after the stateless checks, with what the tracker needs from it."""

    exchange: Exchange
    operation: Operation | None
    request_json: Any = None  # None when absent or unparseable
    response_json: Any = None
    request_ok: bool = True  # the spec accepts the request (schema, auth, media type)
    expectations: list[Expectation] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def add(
        self,
        rule: str,
        side: Side,
        message: str,
        expected: Any = None,
        received: Any = None,
        object_id: str | None = None,
        expect: Expectation | None = None,
    ) -> None:
        """Record a finding. A request that declares its refusal deliberate (a negative test)
        raises no client finding; the server's answer to it is judged all the same."""
        if side == "client":
            self.request_ok = False
            if expect is not None:
                self.expectations.append(expect)
            if self.exchange.declared_expectation() is not None:
                return
        self.findings.append(
            Finding(
                rule=rule,
                side=side,
                message=message,
                exchange=self.exchange.index,
                operation=self.operation.operation_id if self.operation else None,
                object_id=object_id,
                expected=expected,
                received=received,
            )
        )


def _parse(raw: bytes, max_depth: int) -> Any:
    """The body as the server reads it (:mod:`..wellformed`), or ``_NOT_PARSED``."""
    try:
        body = parse_json(raw, max_depth)
    except NotJson:
        return _NOT_PARSED
    return _NOT_PARSED if body.too_deep else body.value


def _odd_header(value: str) -> bool:
    return not value.isascii() or has_invisible(value)


def _pointer(error: ValidationError) -> str:
    return "".join(f"/{p}" for p in error.absolute_path) or "(root)"


def _media(headers: Mapping[str, str]) -> str:
    return media_type(headers.get("content-type"))


class ExchangeValidator:
    """Validates one exchange against the spec, both ways."""

    def __init__(self, spec: ApiSpec) -> None:
        self.spec = spec
        self.paths: dict[str, list[str]] = {}
        for op in spec.operations.values():
            self.paths.setdefault(op.path, []).append(op.method)
        self.matcher = PathMatcher(spec)
        # Neuro-Pay's conventions (the error envelope, Bearer sk_ keys, limits, x-precedence's
        # refusals, the lifecycle) apply only to a spec that declares them; for any other spec
        # the exchanges get the spec's own schema checks only.
        self.ours = uses_our_extensions(spec)
        self.error_codes = spec.error_codes
        self.max_depth = spec.max_json_depth
        self.secured = bool(spec.document.get("security"))
        self._validators: dict[str | int, RequestValidator] = {}
        # Codes of the generic request rules (not the operation's own, nor idempotency's, whose
        # answers depend on earlier traffic): no valid request may get one.
        self.generic_codes = {
            code: step.name
            for step in spec.precedence
            if step.name not in ("operation", "idempotency", "api_key")
            for code in step.codes
        }

    def _first_error(
        self, schema: Mapping[str, Any] | str, instance: Any
    ) -> ValidationError | None:
        """The most relevant way ``instance`` breaks ``schema`` (a schema or a component name),
        or None; the reference server's two-speed validator (compiled check, jsonschema's
        wording), built once per schema."""
        key = schema if isinstance(schema, str) else id(schema)
        validator = self._validators.get(key)
        if validator is None:
            named = self.spec.schemas[schema] if isinstance(schema, str) else schema
            validator = RequestValidator(self.spec, named)
            self._validators[key] = validator
        return validator.first_error(instance)

    def expect(
        self, step: str, which: int = 0, server_rule: str = "response.accepted-invalid-request"
    ) -> Expectation:
        """The answer the spec gives a request breaking the x-precedence step ``step``: the
        same lookup (:meth:`ApiSpec.refusal`) the reference server refuses with."""
        answer = self.spec.refusal(step, which)
        return Expectation(answer.http, answer.code, server_rule, step)

    def _repeated_rule(self, header: str) -> str:
        """The suite's rule for a repeated header the server took anyway."""
        if header.lower() == self.spec.idempotency.header.lower():
            return "idempotency.repeated-header"
        return "response.accepted-invalid-request"

    def allowed_methods(self, ex: Exchange) -> list[str]:
        """The methods the spec gives the exchange's path (none for a path it does not have)."""
        path = self.spec_path(ex)
        return sorted(set(self.paths.get(path, []))) if path is not None else []

    def spec_path(self, ex: Exchange) -> str | None:
        """The spec's path the exchange is a request to (templates, servers' base paths)."""
        return self.matcher.spec_path(ex.path)

    def is_api(self, ex: Exchange) -> bool:
        """Whether an exchange is an API call at all: a spec path, or a JSON or keyed request
        to another path (a hosted page's HTML and form posts are not the API's traffic)."""
        if self.spec_path(ex) is not None:
            return True
        return ex.auth != "missing" or is_json_media(_media(ex.request_headers))

    def check(self, ex: Exchange) -> Checked:
        checked = self.check_request(ex)
        if not ex.answered_by_proxy:
            self._answer(checked)
        return checked

    def check_request(self, ex: Exchange) -> Checked:
        """The client-side checks alone (what ``--mode enforce`` decides on)."""
        path = self.spec_path(ex)
        checked = Checked(ex, self.spec.operation_for(ex.method, path) if path else None)
        self._request(checked)
        return checked

    # -- the request -------------------------------------------------------------------------
    def _request(self, c: Checked) -> None:
        ex, op = c.exchange, c.operation
        path = self.spec_path(ex)
        if op is None:
            if path is not None:
                allowed = ", ".join(self.allowed_methods(ex))
                c.add(
                    "request.method",
                    "client",
                    f"{ex.method} {ex.path} is not an operation; the spec allows {allowed}",
                    expected=allowed,
                    received=ex.method,
                    expect=self.expect("method"),
                )
                if self.ours:
                    self._key(c)  # x-precedence orders the method and the key
            else:
                c.add(
                    "request.unknown-path",
                    "client",
                    f"{ex.method} {ex.path} is not a path of the spec",
                    received=ex.path,
                    expect=self.expect("path"),
                )
            return
        if not self.ours:
            self._schema_only_request(c)
            return
        self._key(c)
        helpers = self.spec.test_mode.helpers if self.spec.test_mode else {}
        if ex.key_mode == "live" and op.operation_id in helpers:
            c.add(
                "auth.test-helper-live-key",
                "client",
                f"the test helper {op.operation_id} was called with a live key",
                expected="a test key",
                received="live key",
                expect=self.expect("test_mode_only", server_rule="auth.test-helper-live-key"),
            )
        if op.request_schema is None:
            return
        if len(ex.request_body) > self.spec.max_body_bytes or ex.request_truncated:
            c.add(
                "request.too-large",
                "client",
                f"the body is larger than {self.spec.max_body_bytes} bytes",
                expect=self.expect("body_size"),
            )
        media = _media(ex.request_headers)
        coding = ex.request_headers.get("content-encoding", "")
        fault = media_fault(ex.request_headers.get("content-type", ""), coding)
        if fault == "type":
            c.add(
                "request.content-type",
                "client",
                f"the body is sent as {media or 'no Content-Type'}, not application/json",
                expected="application/json",
                received=media or None,
                expect=self.expect("media_type"),
            )
        elif fault == "coding":
            c.add(
                "request.content-type",
                "client",
                f"the body is sent with Content-Encoding {coding[:40]!r}; bodies are never "
                "decompressed",
                expected="no Content-Encoding (or identity)",
                received=coding[:40],
                expect=self.expect("media_type"),
            )
        if c.expectations and c.expectations[-1].step in ("body_size", "media_type"):
            return  # a body the server will not read
        try:
            body = parse_json(ex.request_body, self.max_depth)
        except NotJson:
            body = None
        if body is None or body.too_deep:  # x-precedence's json and json_depth steps
            c.add(
                "request.json",
                "client",
                "the body is not UTF-8 I-JSON"
                if body is None
                else f"the body nests deeper than {self.max_depth} levels",
                received=ex.request_body[:200].decode("utf-8", "replace"),
                expect=self.expect("json" if body is None else "json_depth"),
            )
            return
        self._judge_body(c, body.value, ours=True)
        for param in op.parameters:
            if param.get("in") != "header" or not isinstance(param.get("schema"), Mapping):
                continue
            name = str(param.get("name", ""))
            try:
                value = single_header(ex.request_values(name.lower()))
            except RepeatedHeader as exc:  # none is picked: the key's step refuses it
                c.add(
                    "request.header",
                    "client",
                    f"the {name} header is sent more than once ({exc})",
                    received=len(ex.request_values(name.lower())),
                    expect=self.expect("idempotency_key", server_rule=self._repeated_rule(name)),
                )
                continue
            if value is None:
                if param.get("required"):
                    c.add(
                        "request.header",
                        "client",
                        f"the required header {name} is missing",
                        expect=self.expect("idempotency_key"),
                    )
                continue
            bad = self._first_error(param["schema"], value)
            if bad is not None:
                c.add(
                    "request.header",
                    "client",
                    f"the {name} header breaks its schema: {bad.message[:200]}",
                    received=value[:300],
                    expect=self.expect("idempotency_key"),
                )

    def _judge_body(self, c: Checked, parsed: Any, ours: bool) -> None:
        """The parsed request body against the operation's schema; with our extensions the
        finding also names the refusal the spec expects (x-precedence's schema step)."""
        op = c.operation
        assert op is not None and op.request_schema is not None
        c.request_json = parsed
        error = self._first_error(op.request_schema, parsed)
        if error is None:
            return
        where = f"the body breaks {op.operation_id}'s request schema at {_pointer(error)}"
        if not ours:
            c.add("request.body-schema", "client", f"{where}: {error.message[:300]}",
                  received=error.instance)  # fmt: skip
            return
        c.add(
            "request.body-schema",
            "client",
            f"{where}: {error.message[:300]}",
            expected=error.schema if isinstance(error.schema, dict) else None,
            received=error.instance,
            object_id=_object_id(parsed),
            expect=self.expect("schema"),
        )

    def _schema_only_request(self, c: Checked) -> None:
        """A request to a spec without our extensions: its JSON body against the request schema,
        nothing else (no limits, no key format, no expected refusal)."""
        ex, op = c.exchange, c.operation
        if op is None or op.request_schema is None or not ex.request_body:
            return
        if not is_json_media(_media(ex.request_headers)) or ex.request_truncated:
            return  # a form or a file: not judged
        parsed = _parse(ex.request_body, 10_000)
        if parsed is _NOT_PARSED:
            c.add("request.json", "client", "the body is sent as JSON but is not valid JSON")
            return
        self._judge_body(c, parsed, ours=False)

    def _key(self, c: Checked) -> None:
        ex = c.exchange
        lines = len(ex.request_values("authorization"))
        if not self.secured or (ex.auth == "bearer" and lines < 2):
            return
        if lines > 1:  # none is picked (wellformed.read_credential), whatever they hold
            message, rule = f"{lines} Authorization headers were sent", "auth.repeated-header"
        else:
            message = (
                "no API key sent as Authorization: Bearer <key>"
                if ex.auth == "missing"
                else "the Authorization header is not a Bearer key of a known mode"
            )
            rule = f"auth.{ex.auth}-key"
        c.add(
            "request.auth",
            "client",
            message,
            expected="Authorization: Bearer sk_test_… or sk_live_…",
            received=ex.auth,
            expect=self.expect(
                "api_key", KEY_MISSING if ex.auth == "missing" else KEY_INVALID, rule
            ),
        )

    # -- the answer --------------------------------------------------------------------------
    def _answer(self, c: Checked) -> None:
        ex, op = c.exchange, c.operation
        if ex.status is None:
            c.add(
                "transport.no-answer",
                "server",
                f"the server did not answer ({ex.error or 'connection closed'})",
            )
            return
        status = ex.status
        odd = next((n for n, v in ex.response_headers.items() if _odd_header(v)), None)
        if odd is not None:  # relayed as it came, but no client can rely on reading it alike
            c.add(
                "response.header-value",
                "server",
                f"the {visible(odd)} header holds control or non-ASCII characters",
                received=visible(ex.response_headers[odd])[:300],
            )
        if 300 <= status < 400:
            return  # a redirect (the sandbox's / to /docs) is not an API answer
        media = _media(ex.response_headers)
        # The spec's own depth limit, both ways: deeper is a finding, never a RecursionError.
        parsed = _parse(ex.response_body, self.max_depth) if ex.response_body else _NOT_PARSED
        if status >= 500:
            c.add(
                "response.server-error",
                "server",
                f"the server failed with HTTP {status}",
                expected="an answer other than 5xx",
                received=status,
            )
        if op is not None:
            documented = (
                op.responses.get(str(status))
                or op.responses.get(f"{str(status)[0]}XX")
                or op.responses.get("default")
            )
            if documented is None and status < 500:
                c.add(
                    "response.status-undocumented",
                    "server",
                    f"HTTP {status} is not a documented answer of {op.operation_id}",
                    expected=sorted(op.responses),
                    received=status,
                )
            if documented is not None:
                self._headers(c, documented.headers)
        elif status == 405 and self.spec_path(ex) is not None:
            allowed = set(self.paths[self.spec_path(ex) or ""])
            offered = {m.strip().upper() for m in ex.response_headers.get("allow", "").split(",")}
            if not allowed <= offered:
                c.add(
                    "response.allow-header",
                    "server",
                    "a 405 answer must say which methods are allowed in its Allow header",
                    expected=", ".join(sorted(allowed)),
                    received=ex.response_headers.get("allow"),
                )
        if not self.ours:
            self._schema_only_answer(c, status, media, parsed)
            return
        if not ex.response_body and status != 204:
            c.add("response.json", "server", f"HTTP {status} with an empty body", received="")
            return
        if ex.response_truncated:
            return  # larger than the proxy keeps: not judged
        if not is_json_media(media) or parsed is _NOT_PARSED:
            c.add(
                "response.content-type" if not is_json_media(media) else "response.json",
                "server",
                f"the answer is {media or 'untyped'}, not JSON"
                if not is_json_media(media)
                else f"the answer is not valid JSON (or nests deeper than {self.max_depth} levels)",
                expected="application/json",
                received=media or None,
            )
            return
        c.response_json = parsed
        if status >= 400:
            if self._envelope(c, status, parsed) and status < 500:
                self._refusal(c, status, str(c.response_json["error"]["code"]))
        elif op is not None:
            documented = op.responses.get(str(status))
            if documented is not None and documented.schema is not None:
                error = self._first_error(documented.schema, parsed)
                if error is not None:
                    c.add(
                        "response.body-schema",
                        "server",
                        f"the {status} body of {op.operation_id} breaks its schema at "
                        f"{_pointer(error)}: {error.message[:300]}",
                        received=error.instance
                        if not isinstance(error.instance, dict | list)
                        else None,
                        object_id=_object_id(parsed),
                    )
        if 200 <= status < 300 and c.expectations:
            wanted = c.expectations[0]
            c.add(
                wanted.server_rule,
                "server",
                f"the server accepted a request the spec refuses with {wanted.http}"
                + (f" {wanted.code}" if wanted.code else ""),
                expected=f"{wanted.http} {wanted.code or ''}".strip(),
                received=status,
                object_id=_object_id(parsed) or _object_id(c.request_json),
            )

    def _schema_only_answer(self, c: Checked, status: int, media: str, parsed: Any) -> None:
        """An answer from a spec without our extensions: the documented response's schema for
        that status (errors too: no envelope is assumed), when the answer is JSON."""
        ex, op = c.exchange, c.operation
        if op is None or ex.response_truncated:
            return
        documented = (
            op.responses.get(str(status))
            or op.responses.get(f"{str(status)[0]}XX")
            or op.responses.get("default")
        )
        if documented is None or documented.schema is None:
            return  # nothing documented to check the body against
        if not ex.response_body or not is_json_media(media) or parsed is _NOT_PARSED:
            c.add(
                "response.json",
                "server",
                f"HTTP {status} of {op.operation_id} is documented as JSON, the answer is "
                + ("empty" if not ex.response_body else media or "untyped"),
                expected="application/json",
            )
            return
        c.response_json = parsed
        error = self._first_error(documented.schema, parsed)
        if error is not None:
            c.add(
                "response.body-schema",
                "server",
                f"the {status} body of {op.operation_id} breaks its schema at "
                f"{_pointer(error)}: {error.message[:300]}",
                received=error.instance if not isinstance(error.instance, dict | list) else None,
            )

    def _refusal(self, c: Checked, status: int, code: str) -> None:
        """A refused request gets the answer of the first rule it breaks in x-precedence's order
        (and a conformant request gets no refusal of those generic rules at all)."""
        if not c.expectations:
            step = self.generic_codes.get(code)
            if step is not None and c.operation is not None and c.exchange.auth == "bearer":
                c.add(
                    "response.valid-request-refused",
                    "server",
                    f"the request breaks no rule of the spec, yet was refused with {status} "
                    f"{code} (x-precedence step {step})",
                    expected="the operation's own answer",
                    received=f"{status} {code}",
                    object_id=_object_id(c.request_json),
                )
            return
        order = {step.name: index for index, step in enumerate(self.spec.precedence)}
        first = min(c.expectations, key=lambda e: order.get(e.step, len(order)))
        if status == first.http and (first.code is None or code == first.code):
            return
        if first.step == "operation":
            return  # the lifecycle's refusals are judged by the tracker
        other = any(
            e.http == status and (e.code is None or e.code == code)
            for e in c.expectations
            if e is not first
        )
        wanted = f"{first.http} {first.code or ''}".strip()
        c.add(
            "precedence.order"
            if other
            else "auth.key-refusal"
            if first.step == "api_key"
            else "response.wrong-refusal",
            "server",
            f"the request breaks {first.step} first, which the spec answers {wanted}; the "
            f"server answered {status} {code}"
            + (" (the answer of a rule x-precedence puts later)" if other else ""),
            expected=wanted,
            received=f"{status} {code}",
            object_id=_object_id(c.request_json),
        )

    def _envelope(self, c: Checked, status: int, body: Any) -> bool:
        """Whether ``body`` is the error envelope with a code of the spec's HTTP status."""
        error = self._first_error("Error", body) if ("Error" in self.spec.schemas) else None
        if error is not None:
            c.add(
                "response.error-envelope",
                "server",
                f"the {status} answer is not the error envelope: {error.message[:200]}",
                expected={"error": {"code": "…", "message": "…", "param": None}},
                received=body if len(json.dumps(body, default=str)) < 2000 else None,
            )
            return False
        code = str(body["error"]["code"])
        info = self.error_codes.get(code)
        if info is not None and info.http and info.http != status:
            c.add(
                "response.error-code",
                "server",
                f"error code {code} goes with HTTP {info.http}, not {status}",
                expected=info.http,
                received=status,
            )
            return False
        return True

    def _headers(self, c: Checked, documented: Mapping[str, Any]) -> None:
        for name, header in documented.items():
            value = c.exchange.response_headers.get(name.lower())
            if value is None:
                if isinstance(header, Mapping) and header.get("required"):
                    c.add("response.header", "server", f"the required header {name} is missing")
                continue
            schema = header.get("schema") if isinstance(header, Mapping) else None
            if isinstance(schema, Mapping):
                bad = self._first_error(schema, value)
                if bad is not None:
                    c.add(
                        "response.header",
                        "server",
                        f"the {name} header breaks its schema: {bad.message[:200]}",
                        received=value[:300],
                    )


# The extensions that make a spec Neuro-Pay's kind: with none, no convention of ours applies.
OUR_EXTENSIONS = ("x-lifecycle", "x-test-mode", "x-idempotency", "x-limits", "x-precedence")


def uses_our_extensions(spec: ApiSpec) -> bool:
    return any(name in spec.document for name in OUR_EXTENSIONS) or bool(spec.error_codes)


def _object_id(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    for name in ("checkout_id", "customer_id"):
        value = body.get(name)
        if isinstance(value, str):
            return value
    return None
