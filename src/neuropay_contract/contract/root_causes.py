"""Group failures into root causes: what one change in the target fixes, what to change, and
the checks each explains. One engine for the suite (``neuropay test``) and observed traffic
(``neuropay proxy`` and ``audit``, whose findings arrive as failed checks).

A cause is one of: required fields missing from the answers of one schema (whatever the
operation); the same 5xx answer, whichever operation and rule met it; the framework's own error
pages (refusals that are not the envelope, of one shape, whatever their status and rule); one
refusal the target gives to requests breaking several different rules (a handler that answers
before the request is checked: every malformed retrieve answered ``404 checkout_not_found``,
which is also where the other checks made out of x-precedence order go); one x-precedence step
the target gets wrong in either direction (it accepts requests the step refuses, crashes past
it, or refuses valid requests with the step's answer); otherwise one rule, whatever each failure
received, with the precedence failures whose winning step the target does not enforce at all
folded into that step's own rule. A blocked check (its setup failed) joins
the cause of the step that failed; a knock-on finding in traffic joins the cause of the earlier
finding on the same object."""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from ..results import CheckResult, Failure, RootCause
from ..spec import ApiSpec
from ..untrusted import clip
from .rules import RULES

_REQUIRED = re.compile(r"[\"']([^\"'\n]+)[\"'] is a required property")
_STATUS_IN_POINTER = re.compile(r"/responses/(\d{3}|default)$")
_STATUS_IN_MESSAGE = re.compile(r"status code (\d{3})")
# the suite's schema rules, schemathesis' and the traffic checker's answer-schema rule
SCHEMA_RULES = ("schema.", "schemathesis.response_schema_conformance", "response.body-schema")


def _missing(failure: Failure) -> list[str]:
    """Required fields the failure says an answer lacks ([] when it is about something else)."""
    if not failure.rule.startswith(SCHEMA_RULES):
        return []
    expected = failure.expected if isinstance(failure.expected, Mapping) else {}
    listed = expected.get("required")
    if isinstance(listed, list) and listed:
        return [str(f) for f in listed]
    found: list[str] = []
    for name in _REQUIRED.findall(failure.message):
        if name not in found:
            found.append(name)
    return found


def _answer(value: Any) -> tuple[Any, ...] | None:
    """(status, error code) of a received answer, or (status, the body's keys) when it is not
    the envelope; None when the failure recorded no answer."""
    if not isinstance(value, Mapping) or not isinstance(value.get("status"), int):
        return None
    body = value.get("body")
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping) and isinstance(error.get("code"), str):
        return (value["status"], error["code"])
    if isinstance(body, Mapping):
        return (value["status"], "keys", tuple(sorted(map(str, body))))
    return (value["status"], type(body).__name__)


# (the answer a failure received, the answer it expected), for a cause's words
Pair = tuple[tuple[Any, ...] | None, tuple[int, tuple[str, ...]] | None]


def _expected(value: Any) -> Hashable:
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, default=str)[:300]
    return str(value)[:300]


# A received error answer shared by failures of this many different rules is one behaviour of
# the target (its handler answers before the rules are checked), not one cause per rule.
BEHAVIOUR_RULES = 3
# The framework's pages (answers that are not the envelope) are one cause once two rules met them.
PAGE_RULES = 2
# Rules judged on an object's state across exchanges (observed traffic): a finding of one of these
# after an earlier finding on the same object is that finding's knock-on effect.
STATEFUL_RULES = ("lifecycle.", "money.", "metadata.", "objects.", "idempotency.", "customers.")


# Rules that one mechanism of any target implements together: the key parser (every bad
# credential and its code), the idempotency store (replays, conflicts, what is stored). A target
# without the mechanism fails them all; the fix is one place.
FAMILIES = {
    "auth.key-parsing": re.compile(
        r"auth\.([a-z-]+-key|bearer-syntax|separator|repeated-header|key-refusal)$|request\.auth$"
    ),
    "idempotency": re.compile(r"idempotency\."),
    # the HTTP layer's answer to messages it cannot parse (one error handler of the server)
    "protocol.http-refusals": re.compile(r"protocol\.http-refusal-"),
}


def _server_error(failure: Failure) -> tuple[int, Hashable] | None:
    """(status, "") when the failure is a crash, whichever rule it broke: its own answer, a 5xx
    named only in prose, or a 5xx met in its recorded sequence. One status is one cause: what
    a 5xx says rarely tells two crashes apart (a framework's 500 page says nothing), and
    schemathesis reports only the status."""
    answer = _answer(failure.received)
    status = answer[0] if answer else _last_status(failure)
    if not (isinstance(status, int) and status >= 500 and status != NOT_SUPPORTED):
        crashed = _crash(failure)
        if crashed is None:
            return None
        step = next(s for s in failure.steps if s.status == crashed[1])
        status, answer = crashed[1], _answer({"status": step.status, "body": step.response_body})
    return status, ""


_NOT_CODES = ("str", "NoneType", "list", "int", "float", "bool")


# 501 is a framework's answer to a method it does not support (http.server), not a crash.
NOT_SUPPORTED = 501


def _error_answer(failure: Failure) -> tuple[Any, ...] | None:
    """The received refusal (a non-2xx answer below 500, or 501) of a failure, and whether
    the request was a valid one (the failure expected a 2xx): refusing valid requests is
    another behaviour than answering invalid ones before checking them."""
    answer = _answer(failure.received)
    if answer is None and failure.rule.startswith("schemathesis.") and failure.steps:
        # schemathesis says what it found in prose; its last request holds the answer
        last = failure.steps[-1]
        answer = _answer({"status": last.status, "body": last.response_body})
    if answer is None or 200 <= int(answer[0]) < 300:
        return None
    if int(answer[0]) >= 500 and int(answer[0]) != NOT_SUPPORTED:
        return None
    return (*answer, "valid requests") if _valid_request(failure) else answer


# schemathesis' check that a request its generator made from the schema is accepted
POSITIVE_DATA = "schemathesis.positive_data_acceptance"


def _valid_request(failure: Failure) -> bool:
    """Whether the failure's request was one the spec accepts (it expected a success)."""
    if failure.rule == POSITIVE_DATA:
        return True
    wanted = expected_answer(failure.expected)
    return wanted is not None and 200 <= wanted[0] < 300


def _page(failure: Failure) -> tuple[Any, ...] | None:
    """The shape of a refusal that is not the error envelope (the body's keys, or "str" for a
    text or HTML page), given to a request the spec refuses: a framework's default error pages
    (404, 405, 422, 501 ...) come from one error handler of the target, so every such answer of
    one shape is one fix (answer with the envelope and the spec's status and code), whichever
    rule and status met it. An answer without a body (HEAD) says nothing of its shape."""
    answer = _error_answer(failure)
    if answer is None or answer[-1] == "valid requests" or int(answer[0]) < 400:
        return None
    if len(answer) > 2 and answer[1] == "keys":
        return ("keys", answer[2])
    if answer[1] in _NOT_CODES and answer[1] != "NoneType":
        return (answer[1],)
    return None


def expected_answer(value: Any) -> tuple[int, tuple[str, ...]] | None:
    """(status, sorted codes) a failure expected, from either form the checks record."""
    if not isinstance(value, Mapping):
        return None
    status = value.get("status")
    if isinstance(status, list) and status and all(isinstance(s, int) for s in status):
        # several statuses allowed: the failure expected a success when all of them are one
        status = min(status) if all(200 <= s < 300 for s in status) else None
    if not isinstance(status, int):
        return None
    codes: Any = value.get("error.code")
    body = value.get("body")
    if codes is None and isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        codes = body["error"].get("code")
    if isinstance(codes, str):
        codes = [codes]
    return status, tuple(sorted(str(c) for c in codes or ()))


def _behaviours(failures: list[Failure]) -> set[tuple[Any, ...]]:
    """Refusals received by failures of at least BEHAVIOUR_RULES different rules, and the
    shapes of pages (``_page``) received by failures of at least PAGE_RULES rules."""
    rules: dict[tuple[Any, ...], set[str]] = {}
    pages: dict[tuple[Any, ...], set[str]] = {}
    for failure in failures:
        if _missing_header(failure) is not None:  # a header cause, whatever the answer said
            continue
        answer = _error_answer(failure)
        if answer is not None and not _missing(failure):
            rules.setdefault(answer, set()).add(failure.rule)
        page = _page(failure)
        if page is not None:
            pages.setdefault(("page", *page), set()).add(failure.rule)
    found = {answer for answer, seen in rules.items() if len(seen) >= BEHAVIOUR_RULES}
    # pages met by one rule alone (only the envelope check saw them) stay that rule's cause
    return found | {page for page, seen in pages.items() if len(seen) >= PAGE_RULES}


def signature(
    failure: Failure,
    spec: ApiSpec | None = None,
    behaviours: set[tuple[Any, ...]] | None = None,
    silent_operations: frozenset[str] = frozenset(),
) -> tuple[tuple[Hashable, ...], list[str]]:
    """The grouping key of a failure (what one change in the target fixes) and the fields it
    names. In order: required fields missing from answers of one schema (whichever fields each
    failure names: schemathesis reports one per failure, our checks all of them); a dead target;
    the same 5xx answer, whichever operation and rule met it; the framework's error pages
    (``_page``); a refusal the target gives to requests breaking several different rules (``behaviours``: it answers before checking
    them); otherwise the rule itself, whatever each failure received and on whichever
    operation (one requirement, one place to implement it)."""
    operation = failure.operation or _last_operation(failure) or ""
    missing = _missing(failure)
    if missing:
        # fields of a nested object (``refunds/0/refund_id``) are another fix than top-level ones
        nested = sorted({re.sub(r"/\d+/", "/*/", f).rsplit("/", 1)[0] for f in missing if "/" in f})
        return ("missing", _schema_name(spec, operation, failure), *nested), missing
    if failure.rule == "transport.no-answer":
        # a target that died refuses every later request alike: one cause, not one per
        # operation; but an operation that alone gives no answer is its own fix
        # a timeout of one operation whose later requests were not sent again is that
        # operation's cause: the waits and the skipped requests are one fix
        hung = hung_operation(failure, silent_operations)
        if hung:
            return (failure.rule, _SILENT + hung), []
        return (failure.rule, failure.message.split(":")[0]), []
    if failure.rule == "suite.error":
        return (failure.rule, operation, failure.message.split("\n")[0][:120]), []
    crash = _server_error(failure)
    if crash is not None:
        return ("server-error", *crash), []
    header = _missing_header(failure)
    if header is not None:  # whatever the answer lacking it said
        return ("header", header), []
    page = _page(failure)
    if page is not None and ("page", *page) in (behaviours or set()):
        return ("behaviour", "page", *page), []
    answer = _error_answer(failure)
    if answer is not None and answer in (behaviours or set()):
        return ("behaviour", *answer), []
    family = next((name for name, match in FAMILIES.items() if match.match(failure.rule)), None)
    if family:  # one mechanism (the key parser, the idempotency store) is one fix
        return (family,), []
    step = _unenforced_step(failure, spec)
    if step is not None:
        return ("unenforced", step), []
    return (failure.rule,), []


_ST_MISSING_HEADERS = re.compile(r"required headers are missing from the response:\s*- `([^`]+)`")
_HEADER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)+$")


def _missing_header(failure: Failure) -> str | None:
    """The one response header a failure found missing, lower-case: schemathesis names it in
    prose, our checks as the only key of what they expected. Every check of one header is one
    fix (send it), whichever tool noticed."""
    if isinstance(failure.received, str):
        found = _ST_MISSING_HEADERS.search(failure.received)
        if found and failure.received.count("- `") == 1:
            return found.group(1).lower()
    expected, received = failure.expected, failure.received
    if isinstance(expected, Mapping) and isinstance(received, Mapping) and len(expected) == 1:
        (name,) = expected
        if _HEADER_NAME.match(str(name)) and received.get(name) is None:
            return str(name).lower()
    return None


def _step_descriptions(spec: ApiSpec | None) -> list[tuple[str, str]]:
    """(step, description) of x-precedence, for the causes' words."""
    if spec is None:
        return []
    raw = spec.document.get("x-precedence") or []
    return [
        (str(item.get("step")), str(item.get("description", "")))
        for item in raw
        if isinstance(item, Mapping)
    ]


def _unenforced_step(failure: Failure, spec: ApiSpec | None) -> str | None:
    """The x-precedence step a failure shows the target never enforces: a request the spec
    refuses with that step's answer was accepted (2xx). Each such step is one change in the
    target (a size limit, the media-type check, a strict JSON parser, schema validation),
    whichever of its rules the suite tried."""
    if spec is None:
        return None
    answer = _answer(failure.received)
    wanted = expected_answer(failure.expected)
    if answer is None or wanted is None or not 200 <= int(answer[0]) < 300 or not wanted[1]:
        return None
    for step in spec.precedence:
        if step.http == wanted[0] and set(wanted[1]) <= set(step.codes):
            return step.name
    return None


def _crash(failure: Failure) -> tuple[str, int] | None:
    """(operation, status) of the first 5xx answer in the failure's recorded steps."""
    for step in failure.steps:
        if (
            step.status is not None
            and step.status >= 500
            and step.operation
            and step.status != NOT_SUPPORTED
        ):
            return step.operation, step.status
    return None


def _last_operation(failure: Failure) -> str | None:
    """The operation of the failure's last request (a stateful sequence names no operation)."""
    return next((s.operation for s in reversed(failure.steps) if s.operation), None)


def _last_status(failure: Failure) -> int | None:
    """The status of the failure's last answered request (for failures that only say it in
    prose, like schemathesis' server-error check)."""
    if failure.rule != "schemathesis.not_a_server_error":
        return None
    answered = [step.status for step in failure.steps if step.status is not None]
    return answered[-1] if answered else None


def _schema_name(spec: ApiSpec | None, operation: str, failure: Failure) -> str:
    """The component name of the answer's schema ("Checkout"), or "documented"."""
    pointer = failure.expected.get("schema") if isinstance(failure.expected, Mapping) else None
    found = _STATUS_IN_POINTER.search(pointer) if isinstance(pointer, str) else None
    found = found or _STATUS_IN_MESSAGE.search(failure.message)
    status = found.group(1) if found else "200"
    if spec is None or operation not in spec.operations:
        return "documented"
    try:
        raw: Any = spec.operation(operation).raw.get("responses", {}).get(status, {})
        if isinstance(raw, Mapping) and "$ref" in raw:
            raw = spec.resolve_pointer(str(raw["$ref"]))
        schema = raw["content"]["application/json"]["schema"]
        return str(schema["$ref"]).rsplit("/", 1)[-1] if "$ref" in schema else "documented"
    except (KeyError, TypeError, AttributeError, LookupError):
        return "documented"


def _words(items: list[str]) -> str:
    quoted = [f"`{i}`" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _one_line(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return clip(" ".join(str(text).split()), limit)


def _counted(cause: RootCause) -> str:
    failed, blocked, knock_on = len(cause.failed), len(cause.blocked), len(cause.knock_on)
    text = f"{failed} check{'s' if failed != 1 else ''} failed on it"
    if knock_on:
        text += f" ({knock_on} of them knock-on effects of an earlier finding on the same object)"
    if blocked:
        text += f" and it kept {blocked} more from running (their setup needed this step)"
    return text


def _answer_words(answer: tuple[Any, ...]) -> str:
    """``404 checkout_not_found``, ``405 {detail}`` (a body that is not the envelope)."""
    if len(answer) > 1 and answer[1] == "keys":
        return f"{answer[0]} {{{', '.join(answer[2])}}}"
    if len(answer) > 1 and answer[1] in _NOT_CODES:
        return f"{answer[0]} (not the envelope)"
    return " ".join(str(part) for part in answer[:2])


def _describe(
    cause: RootCause,
    key: tuple[Hashable, ...],
    first: Failure,
    spec: ApiSpec | None,
    received: set[tuple[Any, ...] | None],
    titles: list[str],
    pairs: list[Pair] | None = None,
) -> None:
    """The cause's title, explanation and ``fix`` (what to change in the target)."""
    pairs = pairs or []
    ops = ", ".join(cause.operations) or "the target"
    counted = _counted(cause)
    rules = sorted(set(cause.rules))
    if cause.fields:
        schema = _schema_name(spec, cause.operations[0] if cause.operations else "", first)
        verb = "is" if len(cause.fields) == 1 else "are"
        cause.title = f"{_words(cause.fields)} missing from the {schema} answers of {ops}"
        cause.explanation = (
            f"The spec's {schema} schema requires {_words(cause.fields)}, which {verb} absent "
            f"from the answers of {ops}. Expected: every required field present; received: "
            f"{_one_line(first.received) if first.received is not None else 'answers without them'}"
            f". {counted}."
        )
        cause.fix = f"Add {_words(cause.fields)} to every {schema} answer ({ops})."
        return
    if key[0] == "server-error":
        status = key[1]
        said = _answer(first.received)
        code = f" {said[1]}" if said and len(said) == 2 and said[1] not in _NOT_CODES else ""
        cause.title = f"{ops} answered {status}{code}: the server failed"
        kinds = (
            f" on the requests of {len(rules)} rules ({', '.join(rules[:6])})"
            if len(rules) > 1
            else ""
        )
        cause.explanation = (
            f"{ops} answered with a server error ({status}{code}){kinds}, which no rule allows; "
            f"every check below failed on that answer, whatever it tested. First seen: "
            f"{_one_line(first.title)}; expected: {_one_line(first.expected)}; received: "
            f"{_one_line(first.received)}. {counted}."
        )
        cause.fix = (
            f"Fix the crash behind the {status}{code} answers of {ops}; the first request "
            f"that met it: {_one_line(first.title, 160)}."
        )
        return
    if key[0] == "behaviour":
        if key[1] == "page":
            _pages(cause, tuple(key[2:]), first, rules, counted, pairs)
            return
        _behaviour(cause, tuple(key[1:]), first, rules, counted)
        return
    if key[0] == "transport.no-answer" and str(key[1]).startswith(_SILENT):
        silent = str(key[1]).removeprefix(_SILENT)
        cause.operations = [silent]
        cause.title = f"{silent} gives no HTTP answer"
        cause.explanation = (
            f"{silent} gave no HTTP answer to the preflight's probes (twice, each within the "
            "run's timeout), so no request to it was sent again: every check that needs it "
            f"failed at once, and the other operations were judged as usual. {counted}."
        )
        cause.fix = (
            f"Make {silent} answer every request (a hung handler, a lock or an upstream call "
            "without a timeout); then run again."
        )
        return
    if key[0] == "unenforced":
        step = str(key[1])
        described = next((d for d in _step_descriptions(spec) if d[0] == step), (step, ""))[1]
        s = "s" if len(cause.operations) == 1 else ""
        went = _step_kinds(pairs)
        done = [f"accept{s} requests that the {step} step refuses"] if went["accepted"] else []
        if went["crashed"]:
            done.append(f"fail{s} with a server error on {went['crashed']} it refuses")
        if went["refused"]:
            done.append(f"refuse{s} {went['refused']} valid requests with the step's answer")
        if went["other"] or not done:
            done.append(f"answer{s} {went['other']} otherwise than the step says")
        cause.title = clip(
            f"{ops} {', '.join(done[:-1]) + ' and ' + done[-1] if len(done) > 1 else done[0]} "
            f"({len(rules)} rule{'s' if len(rules) > 1 else ''}: {', '.join(rules[:6])})",
            300,
        )
        cause.explanation = (
            f"x-precedence's {step} step ({described or 'see the spec'}) answers these requests "
            f"with a refusal; {ops} {'; '.join(done)}. First seen: {_one_line(first.title)}; "
            f"expected: {_one_line(first.expected)}; received: {_one_line(first.received)}. "
            f"{counted}."
        )
        also = " (this also settles precedence.order)" if PRECEDENCE_RULE in rules else ""
        how = " before the handler reads the request" if went["crashed"] else ""
        if went["refused"]:
            how += ", refusing only what the step refuses"
        rule_text = _one_line(described, 160).rstrip(".") or step
        cause.fix = f"Enforce the {step} step on {ops}{how}: {rule_text}{also}."
        return
    if key[0] == "header":
        name = next(
            (str(n) for n in (first.expected or {}) if str(n).lower() == key[1]), str(key[1])
        )
        cause.title = clip(f"the {name} header is missing from answers of {ops}", 300)
        cause.explanation = (
            f"The spec requires {name} on these answers ({', '.join(rules)}). First seen: "
            f"{_one_line(first.title)}; received: {_one_line(first.received)}. {counted}."
        )
        cause.fix = f"Send {name} on every answer the spec requires it on ({ops})."
        return
    title = first.title
    if title.endswith(first.rule):  # observed traffic titles a finding "side: rule"
        title = f"{title}: {_one_line(first.message, 160)}"
    elif first.rule.startswith("schemathesis.") and isinstance(first.received, str):
        # schemathesis titles name its check ("Response violates schema"); its prose says what
        prose = first.received.strip().split("\n", 1)[0]
        title = f"{first.operation or 'the target'}: {title}: {_one_line(prose, 160)}"
    if len(cause.operations) > 1:
        others = [op for op in cause.operations if op != first.operation]
        title += f" (also on {', '.join(others)})"
    answers = sorted({_answer_words(a) for a in received if a is not None and a[0] >= 300})
    if len(answers) > 1:
        title += f"; answered {', '.join(answers[:5])}"
    cause.title = clip(title, 300)
    cause.explanation = (
        f"{first.rule} on {ops}: {_one_line(first.message, 400)} Expected: "
        f"{_one_line(first.expected)}; received: {_one_line(first.received)}. {counted}."
    )
    if key == (PRECEDENCE_RULE,):
        lost = sorted({m.group(1) for t in titles if (m := _LOST.match(t))})
        cause.title = clip(
            f"requests with several faults are checked in another order than x-precedence "
            f"({', '.join(lost)} should win)",
            300,
        )
    folded = [r for r in rules if r != cause.rule]
    also = f" (this also settles {', '.join(folded)})" if folded else ""
    catalogued = RULES.get(cause.rule)
    if catalogued is not None:
        wanted = catalogued.checks
    elif cause.rule in FAMILIES:
        checked = dict.fromkeys(RULES[r].checks for r in rules if r in RULES)  # once each
        wanted = "; ".join(checked)[:300] or "each rule"
        also = f" ({', '.join(rules)})"
    else:
        wanted = f"expected {_one_line(first.expected, 160)}"
    cause.fix = clip(f"Make {ops} meet {cause.rule}: {wanted}{also}.", 400)


PRECEDENCE_RULE = "precedence.order"
_LOST = re.compile(r"^(\w+) did not win over ")
# The rules that hold each x-precedence step on its own (the suite's, then the traffic
# checker's): a precedence failure of a step the target breaks on its own too is that cause.
STEP_RULES: dict[str, tuple[str, ...]] = {
    "path": ("request.unknown-path",),
    # the 405's Allow header is part of the method step's answer
    "method": ("protocol.method-not-allowed", "request.method", "protocol.allow-header"),
    "api_key": (
        "auth.missing-key",
        "auth.empty-key",
        "auth.malformed-key",
        "auth.unknown-key",
        "auth.other-scheme-key",
        "auth.bare-key",
        "auth.bearer-syntax",
        "request.auth",
    ),
    "body_size": ("protocol.payload-too-large", "protocol.size-chunked", "request.too-large"),
    "media_type": ("protocol.unsupported-media-type", "request.content-type"),
    "test_mode_only": ("auth.test-helper-live-key",),
    "json": ("protocol.invalid-json", "protocol.not-an-object", "request.json"),
    "json_depth": ("protocol.depth-counting",),
    "schema": ("protocol.unknown-field", "request.body-schema"),
    "idempotency_key": ("idempotency.invalid-key",),
    "idempotency": ("idempotency.key-reuse",),
}


def _step_kinds(
    pairs: list[Pair],
) -> dict[str, int]:
    """How the failures of one step's cause went: accepted (2xx), crashed (5xx), a valid
    request refused, or another answer (a wrong ``param``, an answer not recorded)."""
    kinds = {"accepted": 0, "crashed": 0, "refused": 0, "other": 0}
    for got, wanted in pairs:
        status = int(got[0]) if got else None
        if wanted is not None and 200 <= wanted[0] < 300:
            kinds["refused"] += 1
        elif status is not None and 200 <= status < 300:
            kinds["accepted"] += 1
        elif status is not None and status >= 500 and status != NOT_SUPPORTED:
            kinds["crashed"] += 1
        else:
            kinds["other"] += 1
    return kinds


def _pages(
    cause: RootCause,
    shape: tuple[Any, ...],
    first: Failure,
    rules: list[str],
    counted: str,
    pairs: list[Pair],
) -> None:
    """Title, explanation and fix of the framework's default error pages: the statuses they
    came with and, where the status is wrong too, the answer the spec gives instead."""
    ops = ", ".join(cause.operations) or "the target"
    s = "s" if len(cause.operations) == 1 else ""
    form = f"{{{', '.join(shape[1])}}}" if shape[0] == "keys" else "a text or HTML page"
    statuses = sorted({int(got[0]) for got, _ in pairs if got})
    instead = sorted(
        {
            f"{got[0]} where the spec answers {wanted[0]} {' or '.join(wanted[1])}".rstrip()
            for got, wanted in pairs
            if got and wanted and got[0] != wanted[0]
        }
    )
    listed = f"{', '.join(rules[:6])}{' …' if len(rules) > 6 else ''}"
    cause.title = clip(
        f"{ops} answer{s} refusals with the framework's default pages ({form}, "
        f"{', '.join(map(str, statuses))}) instead of the error envelope ({len(rules)} rules)",
        300,
    )
    cause.explanation = (
        f"Requests the spec refuses, each with its own status and code ({listed}), were "
        f"answered {form} by {ops}: one error handler of the framework, not the spec's error "
        f"envelope. First seen: {_one_line(first.title)}; expected: "
        f"{_one_line(first.expected)}; received: {_one_line(first.received)}. {counted}."
    )
    wrong = f"; it answers {'; '.join(instead[:4])}" if instead else ""
    cause.fix = clip(
        f"Replace the framework's default error pages of {ops} with the spec's error envelope, "
        f"status and code (one error handler for every refusal){wrong}.",
        400,
    )


def _behaviour(
    cause: RootCause, answer: tuple[Any, ...], first: Failure, rules: list[str], counted: str
) -> None:
    """Title, explanation and fix of one refusal given to requests breaking several rules."""
    ops = ", ".join(cause.operations) or "the target"
    s = "s" if len(cause.operations) == 1 else ""
    words = _answer_words(answer)
    listed = f"{', '.join(rules[:6])}{' …' if len(rules) > 6 else ''}"
    seen = (
        f"First seen: {_one_line(first.title)}; expected: {_one_line(first.expected)}; "
        f"received: {_one_line(first.received)}. {counted}."
    )
    if answer[-1] == "valid requests":
        cause.title = clip(f"{ops} refuse{s} valid requests with {words} ({len(rules)} rules)", 300)
        cause.explanation = f"Requests the spec accepts ({listed}) were answered {words}. {seen}"
        cause.fix = (
            f"Accept what the spec allows: {ops} answer {words} to valid requests ({listed})."
        )
        return
    cause.title = clip(
        f"{ops} answer{s} {words} to requests that break {len(rules)} different rules", 300
    )
    cause.explanation = (
        f"Requests that break {listed} each have an answer of their own in the spec; {ops} "
        f"answer{s} all of them {words}, so one step of the target answers before those rules "
        f"are checked. {seen}"
    )
    also = (
        " (this also settles the other checks it makes out of order: precedence.order)"
        if PRECEDENCE_RULE in rules
        else ""
    )
    if answer[0] == 404 and len(answer) > 1 and str(answer[1]).endswith("not_found"):
        cause.fix = (
            f"Check the request before looking the object up: {ops} answer {words} to "
            "malformed requests; run the generic checks (key, size, media type, JSON, fields, "
            f"in x-precedence order) first{also}."
        )
    elif len(answer) < 2 or answer[1] == "keys" or answer[1] in _NOT_CODES:
        cause.fix = (
            f"Answer with the error envelope and the spec's code: {ops} answer {words} (a "
            f"framework's default page) to requests breaking {listed}."
        )
    else:
        cause.fix = (
            f"Check each rule in x-precedence order before answering {words}: {ops} give it "
            f"to requests breaking {listed}."
        )


def _fold_precedence(
    keys: dict[str, tuple[Hashable, ...]],
    failures: dict[str, Failure],
    spec: ApiSpec | None = None,
) -> None:
    """A precedence failure ("body_size did not win over media_type") whose winning step the
    target also breaks on its own (no size limit at all) joins the cause of that step's rule:
    adding the limit fixes both. The others are one cause per step that lost."""
    by_rule: dict[str, dict[tuple[Hashable, ...], int]] = {}
    for check_id, key in keys.items():
        counts = by_rule.setdefault(failures[check_id].rule, {})
        counts[key] = counts.get(key, 0) + 1
    for check_id, key in keys.items():
        failure = failures[check_id]
        if key != (PRECEDENCE_RULE,):
            continue
        lost = _LOST.match(failure.title)
        step = lost.group(1) if lost else next(iter(_steps_answering(failure.expected, spec)), "")
        owners: dict[tuple[Hashable, ...], int] = {}
        for rule in STEP_RULES.get(step, ()):
            for owner, count in by_rule.get(rule, {}).items():
                owners[owner] = owners.get(owner, 0) + count
        # the steps the target checks in another order are one fix: reorder its checks
        keys[check_id] = max(owners, key=lambda k: owners[k]) if owners else (PRECEDENCE_RULE,)


def _steps_answering(value: Any, spec: ApiSpec | None) -> list[str]:
    """The x-precedence steps whose refusal an answer is (``json`` and ``json_depth`` share
    theirs), in x-precedence order."""
    wanted = expected_answer(value)
    if spec is None or wanted is None or not wanted[1]:
        return []
    return [
        step.name
        for step in spec.precedence
        if step.http == wanted[0] and set(wanted[1]) <= set(step.codes)
    ]


def _fold_into_steps(
    keys: dict[str, tuple[Hashable, ...]],
    failures: dict[str, Failure],
    spec: ApiSpec | None,
) -> None:
    """An x-precedence step the target does not enforce (it accepted requests the step refuses)
    is one change, which also fixes two more kinds of failure of that step: a crash on a request
    the step refuses (the request went past the missing step and broke the handler: a body
    that is not JSON parsed without a guard) and a valid request refused with the step's own
    answer (the step is written too strictly: ``3000.0`` refused as an amount by a hand-made
    schema check). Both join the step's cause; a crash or refusal of a step the target
    otherwise enforces stays a cause of its own."""
    steps = {key[1] for key in keys.values() if key[0] == "unenforced"}
    if not steps:
        return
    for check_id, key in keys.items():
        failure = failures[check_id]
        answer = _error_answer(failure)
        got = (
            {"status": answer[0], "error.code": [answer[1]]}
            if answer is not None and len(answer) > 1 and isinstance(answer[1], str)
            else None
        )
        wanted = expected_answer(failure.expected)
        owned = [s for s, rules in STEP_RULES.items() if failure.rule in rules]
        if key[0] == "server-error":
            value: Any = failure.expected
        elif key[:2] == ("behaviour", "page"):
            # a framework page with another status than the step's: the request went past it
            if answer is None or wanted is None or wanted[0] == answer[0]:
                continue
            value = failure.expected
        elif key[0] == "missing":
            continue
        elif _valid_request(failure):  # a valid request refused: its refusal names the step
            value = got
        elif key == (failure.rule,):
            # a rule of the step's own (its 405's Allow header), or the step's own refusal with
            # another detail than the spec's (its ``param``)
            same = got is not None and (wanted is None or wanted[0] == got["status"])
            step = next((s for s in owned if s in steps), None)
            if step is None and same:
                step = next((s for s in _steps_answering(got, spec) if s in steps), None)
            if step is not None:
                keys[check_id] = ("unenforced", step)
            continue
        else:
            continue
        step = next((s for s in _steps_answering(value, spec) if s in steps), None)
        if step is not None:
            keys[check_id] = ("unenforced", step)


def _fold_crashes_into_families(
    keys: dict[str, tuple[Hashable, ...]], failures: dict[str, Failure]
) -> None:
    """A crash met only by the rules of one mechanism (every bad credential crashing the key
    parser) is that mechanism's fault: it joins the mechanism's cause."""
    rules: dict[tuple[Hashable, ...], set[str]] = {}
    for check_id, key in keys.items():
        if key[0] == "server-error":
            rules.setdefault(key, set()).add(failures[check_id].rule)
    for crash, seen in rules.items():
        names = {
            next((name for name, match in FAMILIES.items() if match.match(rule)), None)
            for rule in seen
        }
        if len(names) != 1 or None in names:
            continue
        family = next(iter(names))
        for check_id, key in keys.items():
            if key == crash:
                keys[check_id] = (str(family),)


def _fold_order(keys: dict[str, tuple[Hashable, ...]], spec: ApiSpec | None) -> None:
    """The precedence failures left (two steps the target both enforces, in another order) and a
    handler that gives an operation's own answer (``404 checkout_not_found``) before the generic
    checks are one fix: check requests in x-precedence order."""
    generic = {(s.http, c) for s in spec.precedence for c in s.codes} if spec else set()
    counts: dict[tuple[Hashable, ...], int] = {}
    for key in keys.values():
        if (
            key[0] == "behaviour"
            and key[1] != "page"
            and key[-1] != "valid requests"
            and len(key) == 3
            and (key[1], key[2]) not in generic
        ):
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return
    order = max(counts, key=lambda k: counts[k])
    for check_id, key in keys.items():
        if key == (PRECEDENCE_RULE,):
            keys[check_id] = order


def _fold_split_rules(keys: dict[str, tuple[Hashable, ...]], failures: dict[str, Failure]) -> None:
    """A rule whose failures landed in one wider cause (a behaviour, a step, a header) and in a
    group of its own (the same rule met with another answer: a wrong ``param`` beside a wrong
    status) is one fix: the lone group joins the wider cause."""
    wider: dict[str, set[tuple[Hashable, ...]]] = {}
    for check_id, key in keys.items():
        rule = failures[check_id].rule
        if rule == PRECEDENCE_RULE:  # split by step on purpose (_fold_precedence)
            continue
        if key != (rule,) and key[0] != "missing":
            wider.setdefault(rule, set()).add(key)
    for check_id, key in keys.items():
        rule = failures[check_id].rule
        if key == (rule,) and len(wider.get(rule, ())) == 1:
            keys[check_id] = next(iter(wider[rule]))


def _not_sent_to(failure: Failure) -> str | None:
    """The operation a SilentOperation failure names (the run stopped sending to it)."""
    if failure.rule != "transport.no-answer" or not failure.message.startswith(_SILENT):
        return None
    return failure.message.removeprefix(_SILENT).split(" gave no answer")[0]


_SILENT = "SilentOperation: "


def silent_operations(failures: Iterable[Failure]) -> frozenset[str]:
    """The operations the run stopped sending to, as they gave no answer (SilentOperation)."""
    return frozenset(op for f in failures if (op := _not_sent_to(f)) is not None)


def hung_operation(failure: Failure, silent: frozenset[str]) -> str | None:
    """The operation known to hang (``silent``) behind a no-answer ``failure``: the one the run
    stopped sending to, or whose request timed out (schemathesis records no step for the
    request that timed out: with one operation known to hang, that is the one)."""
    named = _not_sent_to(failure)
    if named is not None or failure.rule != "transport.no-answer":
        return named
    if not silent or "Timeout" not in failure.message.split(":")[0]:
        return None
    last = _last_operation(failure)
    return last if last in silent else (next(iter(silent)) if len(silent) == 1 else None)


def _top_level(item: tuple[tuple[Hashable, ...], tuple[RootCause, Failure]]) -> bool:
    """Required top-level fields missing from answers: every client reads those, so they come
    first whatever their count (a nested field lacking is ordered by its count)."""
    return item[0][0] == "missing" and not any("/" in f for f in item[1][0].fields)


def assign_root_causes(
    checks: list[CheckResult],
    spec: ApiSpec | None = None,
    follows: Mapping[str, str] | None = None,
) -> list[RootCause]:
    """The run's root causes, missing required fields first (every client reads those
    answers), then by how many checks each explains; sets each explained check's
    ``root_cause``. ``follows`` maps a check to the earlier one it is a knock-on effect of
    (observed traffic: a later finding on the same object): it joins that check's cause.
    Checks blocked by a not-implemented operation keep that as their root cause instead."""
    explained = [
        c for c in checks if c.failure is not None and c.outcome in ("failed", "blocked", "error")
    ]
    follows = follows or {}
    failures = {c.id: c.failure for c in explained if c.failure is not None}
    direct = [c for c in explained if c.id not in follows]
    behaviours = _behaviours([failures[c.id] for c in direct])
    silent = silent_operations(failures.values())
    keys: dict[str, tuple[Hashable, ...]] = {}
    named: dict[str, list[str]] = {}
    for check in direct:
        keys[check.id], named[check.id] = signature(failures[check.id], spec, behaviours, silent)
    _fold_precedence(keys, failures, spec)
    _fold_into_steps(keys, failures, spec)
    _fold_crashes_into_families(keys, failures)
    _fold_split_rules(keys, failures)
    _fold_order(keys, spec)
    for check in explained:
        if check.id in follows:
            earlier, seen = follows[check.id], {check.id}
            while earlier in follows and earlier not in keys and earlier not in seen:
                seen.add(earlier)
                earlier = follows[earlier]
            if earlier in keys:
                keys[check.id], named[check.id] = keys[earlier], []
            else:
                keys[check.id], named[check.id] = signature(
                    failures[check.id], spec, behaviours, silent
                )
    groups: dict[tuple[Hashable, ...], tuple[RootCause, Failure]] = {}
    answers: dict[tuple[Hashable, ...], set[tuple[Any, ...] | None]] = {}
    titles: dict[tuple[Hashable, ...], list[str]] = {}
    pairs: dict[
        tuple[Hashable, ...],
        list[Pair],
    ] = {}
    for check in explained:
        failure, key, fields = failures[check.id], keys[check.id], named[check.id]
        if key not in groups:
            cause = RootCause(id="", rule=failure.rule, title="", explanation="")
            if key[0] == "missing":
                cause.rule = "schema.response"
            elif key[0] in ("server-error", "behaviour"):
                cause.rule = str(key[0])
            elif key[0] == "unenforced":
                cause.rule = f"step.{key[1]}"
            elif key[0] == "header":
                cause.rule = f"header.{key[1]}"
            elif isinstance(key[0], str):
                cause.rule = key[0]
            cause.expected, cause.received = failure.expected, failure.received
            groups[key] = (cause, failure)
        cause = groups[key][0]
        cause.fields += [f for f in fields if f not in cause.fields]
        cause.checks.append(check.id)
        cause.rules.append(failure.rule)
        answers.setdefault(key, set()).add(_answer(failure.received))
        titles.setdefault(key, []).append(failure.title)
        got = _answer(failure.received) or _error_answer(failure)
        wanted = expected_answer(failure.expected)
        if failure.rule == POSITIVE_DATA:
            wanted = (200, ())
        pairs.setdefault(key, []).append((got, wanted))
        if check.outcome == "blocked":
            cause.blocked.append(check.id)
        if check.id in follows:
            cause.knock_on.append(check.id)
        crashed = _crash(failure) if key[0] == "server-error" else None
        operation = (crashed[0] if crashed else None) or failure.operation or check.operation
        operation = operation or _last_operation(failure)
        if operation and operation not in cause.operations:
            cause.operations.append(operation)
    ordered = sorted(
        groups.items(), key=lambda item: (not _top_level(item), -len(item[1][0].checks))
    )
    by_check: dict[str, str] = {}
    for index, (key, (cause, first)) in enumerate(ordered, start=1):
        cause.id = f"rc{index}"
        _describe(cause, key, first, spec, answers[key], titles[key], pairs[key])
        cause.rules = sorted(set(cause.rules))
        for check_id in cause.checks:
            by_check[check_id] = cause.id
    for check in checks:
        if check.id in by_check:
            check.root_cause = by_check[check.id]
    return [cause for _key, (cause, _first) in ordered]
