"""The contract rule catalogue: every rule a check of the suite or a finding of the traffic
checker can report, with what it checks.

A failure in a report names its rule id; this is where a reader looks the id up (``neuropay test
--list-rules``, ``contract_tests/RULES.md``, ``neuropay proxy|audit --list-rules``). A new check
raises an id registered here: tests scan the suite, the engine and the traffic checker for rule
ids and fail on any that is missing. The traffic checker reuses a suite rule where it judges the
same thing (:data:`TRAFFIC_SHARED`); its own rules (:data:`TRAFFIC_RULES`) never reuse a suite id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Rule:
    """One rule: its id (``category.name``), a title and what it checks."""

    id: str
    title: str
    checks: str

    @property
    def category(self) -> str:
        return self.id.split(".", 1)[0]


# schemathesis' own checks (its registry, schemathesis 4.x), reported as ``schemathesis.<name>``.
SCHEMATHESIS_CHECKS = {
    "not_a_server_error": "no 5xx answer to a generated request",
    "status_code_conformance": "the status code is one the operation documents",
    "content_type_conformance": "the Content-Type is one the operation documents",
    "response_headers_conformance": "documented response headers are present and valid",
    "response_schema_conformance": "the body validates against the documented schema",
    "negative_data_rejection": "a request the schema forbids is refused with a 4xx",
    "positive_data_acceptance": "a request the schema allows is accepted",
    "missing_required_header": "a request without a required header is refused",
    "unsupported_method": "an undocumented method is answered 405",
    "allow_header_conformance": "a 405 lists the allowed methods in Allow",
    "use_after_free": "a deleted resource is not served again",
    "ensure_resource_availability": "a created resource can be read back",
    "ignored_auth": "a request without valid credentials is refused",
    "object_level_authorization": "one user's objects are not served to another",
}

# The bodies that are not I-JSON (RFC 7493) of protocol.i-json-<kind> (test_body_rules.py).
I_JSON_KINDS = {
    "duplicate-name": "an object with a name twice",
    "nan": "NaN as a number",
    "infinity": "Infinity as a number",
    "invalid-utf8": "bytes that are not UTF-8",
    "lone-surrogate": "a lone surrogate escape",
}

# The kinds of bad credentials of auth.<kind>-key (contract_tests/test_auth.py KEYS).
AUTH_KEY_KINDS = {
    "missing": "no Authorization header",
    "empty": "Bearer without a key",
    "malformed": "a Bearer value that is not a key",
    "unknown": "a well-formed key the server never issued",
    "other-scheme": "a credential of another scheme (Basic)",
    "bare": "the run's own key without the Bearer scheme",
}

# -- issue 20 part B (values, paths, sequences, exact credentials, explicit rules) -------------
# The alterations of the run's own valid key of auth.exact-key (contract_tests/test_auth.py).
NEAR_KEY_KINDS = {
    "appended": "one character appended",
    "prefix": "its last character cut",
    "other-case": "its letters in the other case",
    "inner-space": "a space inside it",
    "trailing-token": "a space and more text after it",
}
# The malformed HTTP messages of protocol.http-refusal-envelope (contract_tests/test_raw_http.py).
RAW_HTTP_KINDS = {
    "request-line": "a request line that is not method, target and version",
    "content-length": "Content-Length: abc",
    "header-without-colon": "a header line without a colon",
}

_PART_B_RULES: list[Rule] = [
    Rule(
        "lifecycle.every-way",
        "Every way to make a transition lands where the spec says",
        "each test card id, a saved card, each helper card and the hosted page, with each "
        "capture flag the guards allow: accepted, the target status in the answer and read back",
    ),
    Rule(
        "sequences.refunds-exhausted",
        "Refunds add up to the last cent",
        "partial refunds until nothing is left: status, refunded_amount and the refunds list "
        "right after each, in the answer and read back; one more is refused",
    ),
    Rule(
        "sequences.repeated-updates",
        "Many updates merge in order",
        "a dozen metadata updates in a row, each merged into what the previous left",
    ),
    Rule(
        "sequences.retry-after-writes",
        "Retries are replayed after many other writes",
        "a keyed refund retried after 30 other keyed writes answers the first answer and "
        "refunds once",
    ),
    Rule(
        "values.round-trip",
        "Values at the edges of their domain are kept exactly",
        "each creating operation stores every field's edge values (bounds, 2^31/2^32/2^53, "
        "every enum value, longest, non-ASCII and astral text, full maps) and its answer and "
        "every later answer showing the object give them back exactly",
    ),
    Rule(
        "auth.exact-key",
        "Only the exact key authenticates",
        "the run's key with a character appended or cut, in another case or with a space inside "
        "answers 401 invalid_api_key and shows no object",
    ),
    Rule(
        "auth.www-authenticate",
        "401 answers name the Bearer scheme",
        "every 401 carries WWW-Authenticate: Bearer",
    ),
    *(
        Rule(
            f"protocol.http-refusal-{kind}",
            f"Malformed HTTP is refused with the envelope: {what}",
            "the answer, read from a raw socket, is 400 with the error envelope as JSON",
        )
        for kind, what in RAW_HTTP_KINDS.items()
    ),
]

_RULES: list[Rule] = [
    # -- auth and isolation ------------------------------------------------------------------
    *(
        Rule(
            f"auth.{kind}-key",
            f"Refused: {what}",
            "every operation answers 401 with the error code the spec gives this case",
        )
        for kind, what in AUTH_KEY_KINDS.items()
    ),
    Rule(
        "auth.bearer-syntax",
        "The Bearer scheme is read as HTTP says",
        "a valid key is accepted with the scheme in any case and after several spaces",
    ),
    Rule(
        "auth.merchant-isolation",
        "Merchants see only their own objects",
        "another merchant's key gets 404 for a checkout or customer and changes nothing",
    ),
    Rule(
        "auth.same-merchant-objects",
        "Objects belong to the merchant, not the key",
        "another test key of the same merchant (--same-merchant-api-key) reads and changes the "
        "run key's checkouts and customers, and the run key sees the change",
    ),
    Rule(
        "auth.repeated-header",
        "Two Authorization headers are refused",
        "a request with the run's key in two Authorization headers answers 401 invalid_api_key",
    ),
    Rule(
        "auth.mode-isolation",
        "Test and live data are apart",
        "a live key of the same merchant does not reach test-mode checkouts",
    ),
    Rule(
        "auth.test-helper-live-key",
        "Test helpers refuse live keys",
        "every x-test-mode helper answers a live key with the spec's refusal",
    ),
    # -- checkouts ---------------------------------------------------------------------------
    Rule(
        "checkouts.created-as-sent",
        "A new checkout holds what was sent",
        "fields of the create request come back unchanged (empty metadata values dropped)",
    ),
    Rule(
        "checkouts.retrievable",
        "A merchant's checkout can be retrieved",
        "retrieveCheckout of a checkout the run created answers 200",
    ),
    # -- customers ---------------------------------------------------------------------------
    Rule(
        "customers.create",
        "Customers can be created",
        "createCustomer with a valid body answers 200 and a customer",
    ),
    Rule("customers.retrieve", "Customers can be retrieved", "a new customer reads back with 200"),
    Rule(
        "customers.fields",
        "A customer holds what was sent",
        "names, email and metadata are stored as sent",
    ),
    Rule("customers.delete", "Customers can be deleted", "deleteCustomer answers 200"),
    Rule(
        "customers.delete-twice",
        "A deleted customer cannot be deleted again",
        "a second deleteCustomer answers 404 customer_not_found",
    ),
    Rule(
        "customers.retrieve-after-delete",
        "A deleted customer is gone",
        "retrieveCustomer of a deleted customer answers 404 customer_not_found",
    ),
    Rule(
        "customers.deleted-not-usable",
        "A deleted customer cannot pay",
        "a checkout for a deleted customer is refused with customer_not_found",
    ),
    Rule(
        "customers.card-needs-customer",
        "A card id needs its customer",
        "card_id without customer_id is refused as invalid_request",
    ),
    Rule(
        "customers.card-not-owned",
        "Cards belong to one customer",
        "a card saved by another customer is refused with card_not_found",
    ),
    Rule(
        "customers.automatic-payment",
        "A saved card pays automatically",
        "a checkout with the owner's saved card is paid on creation",
    ),
    # -- idempotency -------------------------------------------------------------------------
    Rule(
        "idempotency.retention",
        "Keys are kept for the retention, from their first use",
        "a key is replayed within the retention and runs as new after it, counted from its "
        "first use (a replay does not extend it); run with --idempotency-retention",
    ),
    Rule(
        "idempotency.first-request",
        "The first request with a key is processed",
        "a write with a fresh Idempotency-Key is answered like one without",
    ),
    Rule(
        "idempotency.replay",
        "A retry gets the first answer",
        "a retry with the same key and body gets the same status and body",
    ),
    Rule(
        "idempotency.replay-header",
        "Replays are marked, first answers are not",
        "the replay header is on retries only",
    ),
    Rule(
        "idempotency.no-double-effect",
        "A retry does nothing twice",
        "retries, also sent simultaneously, move money or status once",
    ),
    Rule(
        "idempotency.key-reuse",
        "A key is bound to its request",
        "the same key with another body is refused with the spec's conflict answer",
    ),
    Rule(
        "idempotency.key-scope",
        "Keys are per merchant",
        "another merchant's request with the same key is its own request",
    ),
    Rule(
        "idempotency.other-operation",
        "A key is bound to its operation",
        "a key used for one operation is refused for another",
    ),
    Rule(
        "idempotency.invalid-key",
        "Malformed keys are refused",
        "a key outside 1-255 printable ASCII characters answers 400",
    ),
    Rule(
        "idempotency.stored-answers",
        "Refusals of the operation are replayed",
        "an operation's own 4xx under a key is stored and replayed",
    ),
    Rule(
        "idempotency.refusals-not-stored",
        "Refusals before the idempotency step are not stored",
        "a 400 for an invalid body is not stored under the key",
    ),
    Rule(
        "idempotency.same-json-value",
        "The same JSON is the same request",
        "a body written with other spacing or key order is a replay",
    ),
    Rule(
        "idempotency.same-merchant-key-scope",
        "Idempotency keys belong to the API key",
        "the same Idempotency-Key and body with another API key of the same merchant is a new "
        "request: not replayed, not refused",
    ),
    Rule(
        "idempotency.body-as-sent",
        "The same request is the body as sent",
        "a retry that adds a field's default value (capture: true) answers the conflict",
    ),
    Rule(
        "idempotency.repeated-header",
        "Two Idempotency-Key headers are refused",
        "a request with two Idempotency-Key headers answers 400 invalid_request, param "
        "Idempotency-Key, and runs nothing",
    ),
    Rule(
        "idempotency.undeclared-ignored",
        "Operations without idempotency ignore the header",
        "reads answer normally whatever Idempotency-Key they carry",
    ),
    # -- lifecycle ---------------------------------------------------------------------------
    Rule(
        "lifecycle.setup",
        "A check could set up its checkout",
        "a valid request needed to reach a status answered 200",
    ),
    Rule(
        "lifecycle.transition-allowed",
        "Allowed transitions are accepted",
        "each x-lifecycle transition's request answers 200",
    ),
    Rule(
        "lifecycle.transition-target",
        "Transitions land where the spec says",
        "the status after a transition is its target",
    ),
    Rule(
        "lifecycle.forbidden-answer",
        "Forbidden moves get their answer",
        "every (status, operation) pair without a transition answers the spec's error",
    ),
    Rule(
        "lifecycle.rejection-answer",
        "Failed guards get their answer",
        "a partial release or a refund above what is left answers the spec's rejection",
    ),
    Rule(
        "lifecycle.unchanged-after-refusal",
        "A refusal changes nothing",
        "the checkout reads back identical after any refused request",
    ),
    Rule(
        "lifecycle.reread-matches",
        "The answer is what is stored",
        "the body of a transition equals the checkout read back afterwards",
    ),
    Rule(
        "lifecycle.effect-refund",
        "Refund transitions record a refund",
        "a transition with effect refund adds exactly one refund",
    ),
    Rule(
        "lifecycle.effect-none",
        "Other transitions leave refunds alone",
        "a transition without a refund effect does not change the refunds",
    ),
    # -- metadata ----------------------------------------------------------------------------
    Rule(
        "metadata.update-allowed",
        "Metadata can be updated in every status",
        "updateCheckout answers 200 in every status",
    ),
    Rule(
        "metadata.merge",
        "Metadata merges",
        "an update merges keys and deletes those sent with the empty string",
    ),
    Rule(
        "metadata.create-empty",
        "Empty values are not stored on create",
        "a key sent empty in createCheckout is absent",
    ),
    Rule(
        "metadata.status-unchanged",
        "Metadata updates keep the status",
        "updateCheckout never changes the status",
    ),
    Rule(
        "metadata.limit",
        "The metadata limit is exact",
        "a merge leaving x-limits.max_metadata_keys keys is accepted; one more answers 409",
    ),
    # -- money -------------------------------------------------------------------------------
    Rule(
        "money.refund-cap",
        "Never more refunded than paid",
        "refunded_amount never exceeds amount",
    ),
    Rule(
        "money.refunded-equals-sum",
        "refunded_amount is the sum of refunds",
        "the total equals the sum of the refund list",
    ),
    Rule(
        "money.immutable",
        "Amount and currency never change",
        "amount and currency stay as created through every operation",
    ),
    Rule(
        "money.refund-accepted",
        "Valid refunds are accepted",
        "a refund within what is left answers 200",
    ),
    Rule(
        "money.refund-refused",
        "Invalid refunds are refused",
        "a refund above what is left answers the lifecycle's refusal",
    ),
    Rule(
        "money.refund-amount",
        "A refund moves its amount",
        "refunded_amount grows by the amount asked (all that is left when none is given)",
    ),
    Rule(
        "money.status-follows-totals",
        "The status follows the totals",
        "partialRefund while money is left, refunded when all of it is back",
    ),
    Rule(
        "money.concurrent-refunds",
        "Simultaneous refunds respect the cap",
        "refunds sent at once never refund more than was paid",
    ),
    # -- precedence and protocol -------------------------------------------------------------
    Rule(
        "precedence.order",
        "Refusals come in the spec's order",
        "a request with several faults gets the answer of the first check in x-precedence order",
    ),
    Rule(
        "protocol.method-not-allowed",
        "Other methods are refused",
        "a method the path does not take answers 405 method_not_allowed",
    ),
    Rule("protocol.allow-header", "405 says what is allowed", "a 405 carries Allow: POST"),
    Rule(
        "protocol.payload-too-large",
        "Huge bodies are refused",
        "a body above x-limits.max_body_bytes answers 413",
    ),
    Rule(
        "protocol.unsupported-media-type",
        "Only JSON is accepted",
        "a body that is not application/json answers 415",
    ),
    Rule(
        "protocol.invalid-json",
        "Broken JSON is refused",
        "garbage, non-UTF-8 and far too deep JSON answer 400 invalid_json",
    ),
    Rule(
        "protocol.integral-float",
        "3000.0 is an integer",
        "an integral number written with a fraction is accepted where an integer is asked",
    ),
    Rule(
        "protocol.unknown-field",
        "Unknown fields are refused",
        "a field the schema does not declare answers 400 invalid_request",
    ),
    Rule(
        "protocol.unknown-field-param",
        "An unknown field is pointed at",
        "the 400 for an unknown field names it in error.param",
    ),
    Rule(
        "protocol.not-an-object",
        "A body that is not an object breaks the schema",
        'valid JSON that is not an object answers 400 invalid_request with param ""',
    ),
    Rule(
        "protocol.media-type-accepted",
        "JSON is recognised however it is spelled",
        "application/json in any case and with a UTF-8 charset parameter is accepted",
    ),
    Rule(
        "protocol.media-type-refused",
        "Other media types are refused",
        "no Content-Type, +json types and other charsets answer 415",
    ),
    Rule(
        "protocol.size-at-limit",
        "A body of exactly the limit is accepted",
        "a body of x-limits.max_body_bytes bytes is processed",
    ),
    Rule(
        "protocol.size-chunked",
        "Chunked bodies are counted",
        "a body without Content-Length over the limit answers 413",
    ),
    Rule(
        "protocol.depth-counting",
        "Nesting is counted as the spec says",
        "max_json_depth levels parse; one more level answers 400 invalid_json",
    ),
    *(
        Rule(
            f"protocol.i-json-{kind}",
            f"Not I-JSON: {what}",
            f"a body with {what} answers 400 invalid_json before any field is read",
        )
        for kind, what in I_JSON_KINDS.items()
    ),
    # -- formats -----------------------------------------------------------------------------
    Rule(
        "formats.email",
        "format: email is asserted",
        "an email without one @ between non-empty parts, or with whitespace, answers 400",
    ),
    Rule(
        "protocol.bom",
        "A byte order mark is not JSON",
        "a body after a UTF-8 byte order mark answers 400 invalid_json",
    ),
    Rule(
        "protocol.noncharacter",
        "Noncharacters are accepted as sent",
        "a message holding U+FFFF or an escaped U+FDD0 is accepted and answered as sent",
    ),
    Rule(
        "protocol.number-range",
        "Numbers beyond a double are not I-JSON",
        "an integer literal of 400 digits answers 400 invalid_json, like 1e999",
    ),
    Rule(
        "protocol.integral-by-value",
        "Numbers are read by their value as doubles",
        "1e-999 is 0 (a schema error of the field) and 3000.0000000000000001 is 3000 (accepted)",
    ),
    Rule(
        "protocol.duplicate-after-unescaping",
        "Names are compared after unescaping",
        'the names "amount" and "\\u0061mount" are a duplicate: 400 invalid_json',
    ),
    Rule(
        "protocol.content-encoding",
        "Coded bodies are refused",
        "a Content-Encoding other than identity answers 415, whatever the body",
    ),
    Rule(
        "auth.separator",
        "Spaces, not TABs, follow Bearer",
        "Authorization: Bearer<TAB><key> answers 401 invalid_api_key",
    ),
    Rule(
        "protocol.answer-media-type",
        "Answers are plain application/json",
        "answers, errors too, carry Content-Type: application/json without parameters",
    ),
    Rule(
        "protocol.length-unit",
        "String lengths count code points",
        "a message of 1000 emoji is accepted, one of 1001 refused with param /message",
    ),
    Rule(
        "protocol.exact-paths",
        "Paths are exact, queries ignored",
        "a trailing slash or another case is 404 not_found; a query string changes nothing",
    ),
    Rule(
        "protocol.param-of-not-found",
        "A 404 points at the field naming the object",
        "an unknown checkout or customer id answers 404 with param /checkout_id or /customer_id",
    ),
    Rule(
        "protocol.param-of-invalid-json",
        "invalid_json has no param",
        "a body that is not JSON answers 400 invalid_json with param null",
    ),
    Rule(
        "protocol.param-of-metadata-name",
        "A bad metadata name points at the metadata",
        "a metadata key of 41 characters answers 400 invalid_request with param /metaData",
    ),
    Rule(
        "formats.email-readings",
        "Emails are read as the spec decides",
        "non-ASCII and dotless-domain addresses are accepted and answered as sent (case "
        "included); Unicode spaces are refused",
    ),
    Rule(
        "formats.pattern-full-match",
        "Patterns match the whole value",
        "patterns are ECMA-262: a trailing newline after a matching value answers 400",
    ),
    # -- objects -----------------------------------------------------------------------------
    Rule(
        "objects.delete-answer",
        "deleteCustomer answers the deleted customer",
        "the answer is the customer as it was, metadata included, with deleted: true",
    ),
    Rule(
        "objects.updated",
        "updated moves only on change",
        "an update that changes nothing keeps updated; one that changes metadata moves it",
    ),
    Rule(
        "objects.card-id",
        "card_id says how a checkout was created",
        "a checkout created without card_id and paid on its page keeps card_id null",
    ),
    Rule(
        "objects.release-refund",
        "A release refunds the whole amount",
        "releasing a reservation writes one refund of the whole amount",
    ),
    Rule(
        "objects.deleted-customer",
        "A deleted customer's checkouts stay",
        "existing checkouts of a deleted customer remain; a new one naming it answers 404",
    ),
    Rule(
        "objects.saved-card-pays",
        "A saved card pays at once",
        "a checkout with a card saved on the hosted page is paid on creation",
    ),
    Rule(
        "objects.saved-cards",
        "Saved cards: order and default",
        "the same card saved twice is two cards, listed oldest first; the first saved is the "
        "default",
    ),
    Rule(
        "objects.default-after-delete",
        "Saved cards: the default after a deletion",
        "deleting the default card on the client page makes the oldest remaining card the "
        "default; none left: default_card_id null",
    ),
    Rule(
        "objects.card-id-declined",
        "A declined automatic payment keeps card_id",
        "a checkout created with a declining card id has that card_id, answered and read back",
    ),
    Rule(
        "objects.release-record",
        "A release's refund record holds what was sent",
        "the record of a release has the reason and refundDetails of its request, null when not "
        "sent",
    ),
    Rule(
        "objects.payment-methods",
        "paymentMethods not sent is null",
        "a checkout created without paymentMethods answers and reads back null, never []",
    ),
    Rule(
        "objects.times-paid-at-once",
        "Created and paid at once is one change",
        "a checkout paid on creation by card_id has updated equal to created",
    ),
    Rule(
        "objects.updated-later",
        "Every change moves updated forward",
        "each of several quick metadata changes makes updated strictly later",
    ),
    Rule(
        "objects.integers-answered",
        "Integers are answered as integers",
        "an amount sent as 3000.0 is answered as the JSON integer 3000",
    ),
    Rule(
        "objects.customer-empty-metadata",
        "Empty metadata values are not stored on customers",
        "createCustomer drops metaData keys sent with the empty string, like createCheckout",
    ),
    # -- schemas -----------------------------------------------------------------------------
    Rule(
        "schema.response",
        "Answers match their schema",
        "every answer validates against the documented schema of its status",
    ),
    Rule(
        "schema.status-documented",
        "Status codes are documented",
        "every status code answered is documented for the operation",
    ),
    Rule(
        "schema.error-envelope",
        "Errors use the envelope",
        "every error answer is the spec's error envelope",
    ),
    # -- stateful ----------------------------------------------------------------------------
    Rule(
        "stateful.status-model",
        "Link-driven runs follow x-lifecycle",
        "in generated sequences, every status change is the one Lifecycle.decide predicts",
    ),
    *(
        Rule(f"schemathesis.{name}", name.replace("_", " ").capitalize(), what)
        for name, what in SCHEMATHESIS_CHECKS.items()
    ),
    # -- the run itself ----------------------------------------------------------------------
    Rule(
        "transport.no-answer",
        "The target answers",
        "the target neither resets nor stops answering within the timeout",
    ),
    # -- differential (--differential, --profile deep) -----------------------------------------
    Rule(
        "differential.status",
        "Same status as the reference server",
        "replayed in order against a fresh reference server, the request gets the same status",
    ),
    Rule(
        "differential.body",
        "Same answer as the reference server",
        "every field is equal to the reference's after the spec's normalisation (ids by mapping, "
        "timestamps by order and schema, hosted-page URLs, x-implementation-defined readings)",
    ),
    Rule(
        "differential.header",
        "Same headers as the reference server",
        "every header the spec names (and the media type) equals the reference's",
    ),
    Rule(
        "suite.error",
        "The check itself failed",
        "an error in the suite (not the target); reported so that it is never a pass",
    ),
]

_RULES += _PART_B_RULES
RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}

# Suite rules the traffic checker reports too, with the same meaning, on recorded traffic.
TRAFFIC_SHARED = frozenset(
    {
        "auth.bearer-syntax",
        "auth.merchant-isolation",
        "auth.mode-isolation",
        "auth.repeated-header",
        "auth.test-helper-live-key",
        "idempotency.repeated-header",
        "idempotency.replay-header",
        "lifecycle.forbidden-answer",
        "lifecycle.rejection-answer",
        "lifecycle.transition-target",
        "lifecycle.unchanged-after-refusal",
        "metadata.merge",
        "money.refund-cap",
        "money.refunded-equals-sum",
        "precedence.order",
        "transport.no-answer",
    }
)

# The traffic checker's own rules: a client-side rule blames the client's request, a server-side
# rule the server's answer.
_TRAFFIC_ONLY: list[Rule] = [
    Rule(
        "request.unknown-path",
        "Requests go to paths of the spec",
        "the path is a spec path (client)",
    ),
    Rule(
        "request.method",
        "Requests use the operation's method",
        "the method is the operation's (client)",
    ),
    Rule(
        "request.auth",
        "Requests carry a Bearer key",
        "Authorization: Bearer with a key of a known mode (client)",
    ),
    Rule(
        "request.too-large",
        "Bodies stay within x-limits",
        "the body is at most max_body_bytes (client)",
    ),
    Rule(
        "request.content-type",
        "Bodies are sent as JSON",
        "Content-Type application/json, UTF-8 (client)",
    ),
    Rule(
        "request.json",
        "Bodies are I-JSON",
        "the body is UTF-8 I-JSON within max_json_depth (client)",
    ),
    Rule(
        "request.body-schema",
        "Bodies match the request schema",
        "the body validates against the operation's schema (client)",
    ),
    Rule(
        "request.header",
        "Request headers match their schema",
        "required headers are sent and valid (client)",
    ),
    Rule(
        "idempotency.key-reused",
        "An Idempotency-Key names one request",
        "a key is not reused with another body or operation (client)",
    ),
    Rule(
        "lifecycle.forbidden-operation",
        "Operations respect the status",
        "no operation x-lifecycle forbids in the object's status (client)",
    ),
    Rule(
        "lifecycle.rejected-operation",
        "Operations meet their guards",
        "no request whose guard x-lifecycle rejects (client)",
    ),
    Rule(
        "money.refund-exceeds-remaining",
        "Refunds stay within what is left",
        "no refund larger than the amount left to refund (client)",
    ),
    Rule("response.server-error", "No 5xx answers", "the server does not fail with HTTP 5xx"),
    Rule(
        "response.status-undocumented",
        "Statuses are documented",
        "the status is one the operation documents",
    ),
    Rule(
        "response.allow-header",
        "405 answers list the allowed methods",
        "Allow names the path's methods",
    ),
    Rule("response.json", "Answers are JSON", "the answer has a JSON body (or is 204)"),
    Rule(
        "response.content-type",
        "Answers are typed as JSON",
        "Content-Type is application/json or +json",
    ),
    Rule(
        "response.body-schema",
        "Answers match their schema",
        "a 2xx body validates against the documented schema",
    ),
    Rule(
        "response.header",
        "Response headers match their schema",
        "documented required headers are present and valid",
    ),
    Rule(
        "response.header-value",
        "Header values are plain text",
        "no answer header holds control or non-ASCII characters (relayed, but unreadable alike)",
    ),
    Rule(
        "response.error-envelope",
        "Refusals use the error envelope",
        "a 4xx/5xx body is the Error schema",
    ),
    Rule(
        "response.error-code",
        "Error codes go with their status",
        "the code's x-error-codes status is the answer's",
    ),
    Rule(
        "response.valid-request-refused",
        "Valid requests are not refused by generic rules",
        "a request breaking no rule gets no generic refusal",
    ),
    Rule(
        "response.wrong-refusal",
        "Refusals answer the rule broken",
        "a refused request gets the x-precedence answer of its first broken rule",
    ),
    Rule(
        "response.accepted-invalid-request",
        "Invalid requests are refused",
        "a request the spec refuses is not accepted",
    ),
    Rule(
        "auth.key-refusal",
        "Bad keys are refused as such",
        "a bad credential gets the api_key step's 401 answer",
    ),
    Rule(
        "idempotency.false-conflict",
        "A key's first use is no conflict",
        "the first valid use of a key is not answered as a reuse",
    ),
    Rule(
        "idempotency.key-reuse-accepted",
        "Reused keys are refused",
        "a key reused with another body answers the conflict",
    ),
    Rule(
        "idempotency.replay-differs",
        "Replays answer the first answer",
        "a retry with the same key and body gets the first answer",
    ),
    Rule(
        "lifecycle.refused-allowed",
        "Allowed moves are not refused",
        "an operation x-lifecycle allows is not refused",
    ),
    Rule(
        "lifecycle.status-contradiction",
        "Statuses change only by operations",
        "an object's status changes only through a transition",
    ),
    Rule(
        "money.refund-record",
        "Refunds are recorded",
        "a refund adds its record with the amount refunded",
    ),
    Rule(
        "money.refunded-amount",
        "refunded_amount grows by the refund",
        "after a refund the refunded amount grows by it",
    ),
]
TRAFFIC_RULES: dict[str, Rule] = {
    **{rule_id: RULES[rule_id] for rule_id in sorted(TRAFFIC_SHARED)},
    **{rule.id: rule for rule in _TRAFFIC_ONLY},
}
_COLLISIONS = [rule.id for rule in _TRAFFIC_ONLY if rule.id in RULES]
if _COLLISIONS:  # a traffic rule under a suite id would mean two things in one report
    raise ValueError(f"traffic rules reuse suite ids: {', '.join(_COLLISIONS)}")

# `neuropay load`'s own rules: the read-back at the end of a run, every checkout a journey made
# compared with the model of what the server accepted (``load/model.py``). Every other finding of
# a load run is the traffic checker's (:data:`TRAFFIC_RULES`).
_LOAD_ONLY: list[Rule] = [
    Rule(
        "load.model-missing",
        "Checkouts made can be read back",
        "a checkout a journey made is read back with 200 at the end of the run",
    ),
    Rule(
        "load.model-refunded-total",
        "No refund lost or doubled",
        "refunded_amount is the sum of the refunds the server accepted (a retry counted once)",
    ),
    Rule(
        "load.model-refund-count",
        "One record per accepted refund",
        "the refund records are the refunds the server accepted",
    ),
    Rule(
        "load.model-refund-cap",
        "Refunds never exceed the amount",
        "refunded_amount is at most the amount after concurrent refunds",
    ),
    Rule(
        "load.model-status",
        "The last answer's status stays",
        "the status read back is the one the last answer no other request overlapped gave",
    ),
    Rule(
        "load.model-metadata",
        "No accepted metaData update is lost",
        "every metaData key an accepted update wrote is still there (concurrent updates merge)",
    ),
]
LOAD_RULES: dict[str, Rule] = {
    **TRAFFIC_RULES,
    **{rule.id: rule for rule in _LOAD_ONLY},
}
_LOAD_COLLISIONS = [rule.id for rule in _LOAD_ONLY if rule.id in RULES or rule.id in TRAFFIC_RULES]
if _LOAD_COLLISIONS:
    raise ValueError(f"load rules reuse suite or traffic ids: {', '.join(_LOAD_COLLISIONS)}")


def traffic_rules_text(rules: dict[str, Rule] | None = None) -> str:
    """The traffic checker's rules for a terminal (``neuropay proxy|audit --list-rules``), or
    ``rules`` (``neuropay load --list-rules``: :data:`LOAD_RULES`)."""
    shown = TRAFFIC_RULES if rules is None else rules
    width = max(len(rule_id) for rule_id in shown)
    return "".join(
        f"{r.id:<{width}}  {r.title}: {r.checks}"
        + (" [also a suite rule]" if r.id in TRAFFIC_SHARED else "")
        + "\n"
        for r in sorted(shown.values(), key=lambda r: r.id)
    )


def load_rules_text() -> str:
    """Every rule a ``neuropay load`` finding can name (``neuropay load --list-rules``)."""
    return traffic_rules_text(LOAD_RULES)


def list_rules_option(text: Callable[[], str]) -> Callable[[F], F]:
    """A ``--list-rules`` flag that prints ``text()`` and exits before any other option is
    checked (like ``--version``)."""
    import click

    def show(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value and not ctx.resilient_parsing:
            click.echo(text(), nl=False)
            ctx.exit(0)

    return click.option(
        "--list-rules",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=show,
        help="Print every rule a finding can name, with what it checks, and exit.",
    )


def rule(rule_id: str) -> Rule:
    """The catalogue entry of ``rule_id``; KeyError names the file to register it in."""
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(
            f"rule {rule_id!r} is not in the catalogue: add it to neuropay_contract/contract/rules.py"
        ) from None


def rules_markdown() -> str:
    """The catalogue as a Markdown page (``contract_tests/RULES.md``)."""
    lines = [
        "# Contract rules",
        "",
        "Every rule a failure in a `neuropay test` report can name, by category. Generated by",
        "`neuropay test --list-rules --format md` from `src/neuropay_contract/contract/rules.py`.",
    ]
    by_category: dict[str, list[Rule]] = {}
    for entry in _RULES:  # one section per category, in the order categories first appear
        by_category.setdefault(entry.category, []).append(entry)
    for category, entries in by_category.items():
        lines += ["", f"## {category}", "", "| rule | title | checks |", "|---|---|---|"]
        lines += [f"| `{e.id}` | {e.title} | {e.checks} |" for e in entries]
    return "\n".join(lines) + "\n"


def rules_text() -> str:
    """The catalogue for a terminal: one rule a line."""
    width = max(len(r.id) for r in _RULES)
    return "\n".join(f"{r.id:<{width}}  {r.title}: {r.checks}" for r in _RULES) + "\n"
