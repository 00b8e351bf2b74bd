"""The rule table of ``neuropay spec diff``: every kind of change it reports and its classification.

Sides: *client* changes break (or may break) code that calls the API as the old spec described;
*server* changes break (or oblige) implementations of the old spec (the reference server, mocks,
a merchant's stub). Requests that accept less break clients; requests that accept more oblige
servers. Responses that may carry more break clients; responses that promise more oblige servers.

New response fields: every response object of this spec is closed (``additionalProperties:
false``), so a client that validates answers against the old spec, as ``neuropay test`` and
generated strict clients do, rejects an answer carrying a new field. Well-behaved clients ignore
unknown fields, so this is a *warning* (not safe, not breaking) for clients; in an object the old
spec left open it is safe. A new *required* response field is a warning for both sides, since
servers of the old spec do not send it.
"""

from __future__ import annotations

from .model import Rule, Severity, Side

B, W, S = Severity.BREAKING, Severity.WARNING, Severity.SAFE
CLIENT, SERVER, BOTH = Side.CLIENT, Side.SERVER, Side.BOTH

_TABLE: list[tuple[str, str, Severity, Side, str]] = [
    # -- operations ---------------------------------------------------------------------------
    ("operation-removed", "operation", B, CLIENT, "an operation (path + method) was removed"),
    (
        "deprecated-operation-removed",
        "operation",
        W,
        CLIENT,
        "an operation deprecated in the old spec was removed",
    ),
    ("operation-moved", "operation", B, BOTH, "an operationId moved to another path or method"),
    ("operation-id-changed", "operation", B, CLIENT, "an operation's operationId was renamed"),
    ("operation-added", "operation", S, SERVER, "a new operation (servers must implement it)"),
    ("operation-deprecated", "operation", W, CLIENT, "an operation became deprecated"),
    # -- parameters ---------------------------------------------------------------------------
    ("request-parameter-added-required", "request", B, CLIENT, "a new required parameter"),
    ("request-parameter-added-optional", "request", S, SERVER, "a new optional parameter"),
    ("request-parameter-removed", "request", W, CLIENT, "a parameter was removed"),
    ("request-parameter-became-required", "request", B, CLIENT, "a parameter became required"),
    ("request-parameter-became-optional", "request", W, SERVER, "a parameter became optional"),
    # -- request bodies -----------------------------------------------------------------------
    ("request-body-became-required", "request", B, CLIENT, "the request body became required"),
    ("request-body-became-optional", "request", W, SERVER, "the request body became optional"),
    ("request-body-removed", "request", W, CLIENT, "the operation no longer takes a body"),
    ("request-content-type-removed", "request", B, CLIENT, "a request media type was removed"),
    ("request-content-type-added", "request", S, SERVER, "a request media type was added"),
    # -- request schemas ----------------------------------------------------------------------
    ("request-property-added-required", "request", B, CLIENT, "a new required request field"),
    ("request-property-added-optional", "request", S, SERVER, "a new optional request field"),
    (
        "request-property-removed-closed",
        "request",
        B,
        CLIENT,
        "a request field was removed from a closed object (clients sending it are refused)",
    ),
    ("request-property-removed", "request", W, CLIENT, "a request field was removed"),
    ("request-property-became-required", "request", B, CLIENT, "a request field became required"),
    ("request-property-became-optional", "request", W, SERVER, "a request field became optional"),
    ("request-type-changed", "request", B, CLIENT, "a request value's type no longer accepts old"),
    ("request-type-widened", "request", W, SERVER, "a request value accepts more types"),
    ("request-enum-value-removed", "request", B, CLIENT, "a request enum value was removed"),
    ("request-enum-value-added", "request", W, SERVER, "a request enum value was added"),
    (
        "request-bound-tightened",
        "request",
        B,
        CLIENT,
        "a tighter maxLength/maximum/pattern/minItems/... on a request value",
    ),
    ("request-bound-loosened", "request", W, SERVER, "a looser bound on a request value"),
    (
        "request-additional-properties-closed",
        "request",
        B,
        CLIENT,
        "a request object no longer accepts unknown fields",
    ),
    (
        "request-additional-properties-opened",
        "request",
        W,
        SERVER,
        "a request object accepts unknown fields",
    ),
    ("request-nullable-removed", "request", B, CLIENT, "a request value no longer accepts null"),
    ("request-nullable-added", "request", W, SERVER, "a request value accepts null"),
    ("request-format-changed", "request", W, BOTH, "a request value's format changed"),
    ("request-variant-removed", "request", B, CLIENT, "a oneOf/anyOf request variant removed"),
    ("request-variant-added", "request", W, SERVER, "a oneOf/anyOf request variant added"),
    # -- response schemas ---------------------------------------------------------------------
    ("response-property-removed", "response", B, CLIENT, "a required response field was removed"),
    (
        "response-optional-property-removed",
        "response",
        W,
        CLIENT,
        "an optional response field was removed",
    ),
    (
        "response-property-added",
        "response",
        W,
        CLIENT,
        "a new optional field in a closed response object (strict clients reject it)",
    ),
    (
        "response-property-added-open",
        "response",
        S,
        CLIENT,
        "a new optional field in a response object open to unknown fields",
    ),
    (
        "response-required-property-added",
        "response",
        W,
        BOTH,
        "a new required response field (strict clients reject it; servers must send it)",
    ),
    (
        "response-property-became-optional",
        "response",
        B,
        CLIENT,
        "a response field may now be missing",
    ),
    (
        "response-property-became-required",
        "response",
        W,
        SERVER,
        "a response field must now be sent",
    ),
    ("response-property-became-nullable", "response", B, CLIENT, "a response value may be null"),
    ("response-nullable-removed", "response", W, SERVER, "a response value may no longer be null"),
    ("response-type-changed", "response", B, CLIENT, "a response value may have a new type"),
    ("response-type-narrowed", "response", W, SERVER, "a response value has fewer types"),
    (
        "response-enum-value-added",
        "response",
        B,
        CLIENT,
        "a response enum value was added (clients that switch over it break)",
    ),
    ("response-enum-value-removed", "response", W, SERVER, "a response enum value was removed"),
    ("response-bound-loosened", "response", W, CLIENT, "a looser bound on a response value"),
    ("response-bound-tightened", "response", W, SERVER, "a tighter bound on a response value"),
    (
        "response-additional-properties-opened",
        "response",
        W,
        CLIENT,
        "a response object may carry unknown fields",
    ),
    (
        "response-additional-properties-closed",
        "response",
        W,
        SERVER,
        "a response object may no longer carry unknown fields",
    ),
    ("response-format-changed", "response", W, CLIENT, "a response value's format changed"),
    ("response-variant-added", "response", B, CLIENT, "a oneOf/anyOf response variant added"),
    ("response-variant-removed", "response", W, SERVER, "a oneOf/anyOf response variant removed"),
    # -- responses ----------------------------------------------------------------------------
    ("response-success-status-removed", "response", B, CLIENT, "a 2xx status was removed"),
    (
        "response-success-status-added",
        "response",
        B,
        CLIENT,
        "a new 2xx status on an operation that had one",
    ),
    ("response-error-status-added", "errors", W, CLIENT, "a new error status on an operation"),
    ("response-error-status-removed", "errors", W, BOTH, "an error status was removed"),
    ("response-header-removed", "response", B, CLIENT, "a response header was removed"),
    ("response-header-became-optional", "response", B, CLIENT, "a response header may be absent"),
    ("response-header-added", "response", S, SERVER, "a response header was added"),
    ("response-content-type-removed", "response", B, CLIENT, "a response media type was removed"),
    ("response-content-type-added", "response", W, CLIENT, "a response media type was added"),
    # -- errors (the ErrorCode schema's x-error-codes) ----------------------------------------
    ("error-code-removed", "errors", B, CLIENT, "an error code was removed"),
    ("error-code-status-changed", "errors", B, CLIENT, "an error code's HTTP status changed"),
    ("error-code-added", "errors", W, CLIENT, "a new error code"),
    # -- security -----------------------------------------------------------------------------
    (
        "security-scheme-added",
        "security",
        B,
        CLIENT,
        "an operation needs an extra security scheme",
    ),
    (
        "security-alternative-removed",
        "security",
        B,
        CLIENT,
        "a way to authenticate to an operation was removed",
    ),
    ("security-scopes-added", "security", B, CLIENT, "an operation needs more scopes"),
    ("security-scopes-removed", "security", W, SERVER, "an operation needs fewer scopes"),
    (
        "security-alternative-added",
        "security",
        W,
        SERVER,
        "a new way to authenticate (or none) to an operation",
    ),
    (
        "security-scheme-changed",
        "security",
        B,
        BOTH,
        "a security scheme's definition changed or was removed",
    ),
    # -- x-lifecycle --------------------------------------------------------------------------
    ("lifecycle-status-added", "lifecycle", B, CLIENT, "a new checkout status"),
    ("lifecycle-status-removed", "lifecycle", B, BOTH, "a checkout status was removed"),
    ("lifecycle-transition-removed", "lifecycle", B, CLIENT, "an allowed transition was removed"),
    (
        "lifecycle-transition-forbidden",
        "lifecycle",
        B,
        CLIENT,
        "an allowed (status, operation) pair became forbidden",
    ),
    ("lifecycle-transition-added", "lifecycle", W, SERVER, "a new allowed transition"),
    ("lifecycle-transition-target-changed", "lifecycle", B, BOTH, "a transition's target changed"),
    (
        "lifecycle-guard-changed",
        "lifecycle",
        B,
        BOTH,
        "a transition's or rejection's guard changed",
    ),
    (
        "lifecycle-guard-removed",
        "lifecycle",
        B,
        BOTH,
        "a guard was removed from x-lifecycle.guards",
    ),
    ("lifecycle-guard-added", "lifecycle", W, SERVER, "a new guard in x-lifecycle.guards"),
    (
        "lifecycle-forbidden-answer-changed",
        "lifecycle",
        B,
        CLIENT,
        "a forbidden pair's HTTP status or error code changed",
    ),
    ("lifecycle-forbidden-added", "lifecycle", W, BOTH, "a newly forbidden (status, operation)"),
    ("lifecycle-forbidden-removed", "lifecycle", W, CLIENT, "a pair is no longer forbidden"),
    ("lifecycle-rejection-added", "lifecycle", B, CLIENT, "a new refusal of an allowed pair"),
    ("lifecycle-rejection-removed", "lifecycle", W, SERVER, "a refusal was removed"),
    (
        "lifecycle-rejection-answer-changed",
        "lifecycle",
        B,
        CLIENT,
        "a refusal's HTTP status or error code changed",
    ),
    (
        "lifecycle-unrestricted-removed",
        "lifecycle",
        B,
        CLIENT,
        "an operation allowed in every status is now restricted",
    ),
    ("lifecycle-unrestricted-added", "lifecycle", W, SERVER, "an operation became unrestricted"),
    ("lifecycle-event-removed", "lifecycle", B, CLIENT, "a lifecycle event was removed"),
    ("lifecycle-event-helper-changed", "lifecycle", B, CLIENT, "an event's test helper changed"),
    ("lifecycle-event-added", "lifecycle", W, SERVER, "a new lifecycle event"),
    ("lifecycle-initial-final-changed", "lifecycle", W, BOTH, "initial or final statuses changed"),
    ("lifecycle-field-changed", "lifecycle", B, BOTH, "the lifecycle's schema or fields changed"),
    # -- x-test-mode --------------------------------------------------------------------------
    ("test-mode-card-removed", "test-mode", B, CLIENT, "a test card was removed"),
    ("test-mode-card-outcome-changed", "test-mode", B, CLIENT, "a test card's outcome changed"),
    ("test-mode-card-added", "test-mode", W, SERVER, "a new test card"),
    ("test-mode-helper-removed", "test-mode", B, CLIENT, "a test helper was removed"),
    ("test-mode-helper-changed", "test-mode", B, CLIENT, "a test helper forces another event"),
    ("test-mode-helper-added", "test-mode", W, SERVER, "a new test helper"),
    ("test-mode-key-prefix-changed", "test-mode", B, BOTH, "an API key prefix changed"),
    (
        "test-mode-answer-changed",
        "test-mode",
        B,
        CLIENT,
        "the live-key answer or unknown-card outcome changed",
    ),
    # -- x-idempotency ------------------------------------------------------------------------
    (
        "idempotency-operation-removed",
        "idempotency",
        B,
        CLIENT,
        "an operation no longer honours Idempotency-Key (retries are unsafe)",
    ),
    ("idempotency-operation-added", "idempotency", W, SERVER, "an operation honours the key"),
    ("idempotency-header-changed", "idempotency", B, BOTH, "an idempotency header was renamed"),
    ("idempotency-retention-shortened", "idempotency", B, CLIENT, "keys are kept for less time"),
    ("idempotency-retention-extended", "idempotency", W, SERVER, "keys are kept for longer"),
    ("idempotency-conflict-changed", "idempotency", B, CLIENT, "the key-reuse answer changed"),
    ("idempotency-scope-changed", "idempotency", B, BOTH, "the key's scope changed"),
    # -- x-limits -----------------------------------------------------------------------------
    ("limit-tightened", "limits", B, CLIENT, "an x-limits value was lowered"),
    ("limit-loosened", "limits", W, SERVER, "an x-limits value was raised"),
    ("limit-added", "limits", B, CLIENT, "a new x-limits value"),
    ("limit-removed", "limits", W, SERVER, "an x-limits value was removed"),
    # -- any other x- extension, walked structurally -----------------------------------------
    ("extension-changed", "extension", W, BOTH, "an x- extension value changed"),
    ("extension-removed", "extension", W, BOTH, "an x- extension value was removed"),
    ("extension-added", "extension", S, BOTH, "an x- extension value was added"),
]

RULES: dict[str, Rule] = {
    rule_id: Rule(rule_id, area, severity, side, summary)
    for rule_id, area, severity, side, summary in _TABLE
}


def rule(rule_id: str) -> Rule:
    """The rule named ``rule_id`` (a KeyError is a bug in the differ, not bad input)."""
    return RULES[rule_id]
