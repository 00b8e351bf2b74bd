"""NP000: openapi-spec-validator's verdict, each error reduced to its own reason on one line.

The validator reports a bad node as "<the whole node> is not valid under any of the schemas
listed in the 'oneOf' keyword" and drops the reason. We re-validate that node against the same
OpenAPI JSON schema with jsonschema and descend the ``oneOf``/``anyOf`` alternatives to the most
specific error, so the finding says what is actually wrong ("in: 'body' is not one of ...")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema.exceptions import ValidationError

from ..documents import escape_pointer
from ..errors import SpecError
from ..untrusted import visible

MAX_MESSAGE = 300


def _short(value: Any) -> str:
    """A one-line stand-in for a large instance in a message."""
    if isinstance(value, Mapping):
        keys = list(value)
        more = ", ..." if len(keys) > 4 else ""
        return "{" + ", ".join(str(k) for k in keys[:4]) + more + "}"
    if isinstance(value, list):
        return f"[{len(value)} items]"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _where(path: Any) -> str:
    return "/".join(escape_pointer(str(p)) for p in path)


def _deepest(error: ValidationError) -> ValidationError:
    """The most specific error under ``oneOf``/``anyOf``: skip the "$ref required" alternative
    (Reference Object), then prefer the deepest path."""
    seen = 0
    while error.context and seen < 50:
        seen += 1
        candidates = [
            c
            for c in error.context
            if not (c.validator == "required" and "'$ref'" in c.message)
            and not (c.validator == "additionalProperties" and "$ref" in c.message)
        ] or list(error.context)
        error = max(
            candidates,
            key=lambda c: (len(c.absolute_path), c.validator not in ("oneOf", "anyOf", "not")),
        )
    return error


def _message(error: ValidationError) -> str:
    message = error.message.split("\n")[0]
    text = repr(error.instance)
    if message.startswith(text) and len(text) > 60:
        return _short(error.instance) + message[len(text) :]
    if message.startswith(("{", "[")) and len(message) > 120:
        # openapi-spec-validator dumps the node as JSON before its reason: keep the reason
        cut = max(message.rfind("} is "), message.rfind("] is "))
        if cut > 0:
            return "the node" + message[cut + 1 :]
    return message


def _rs_reason(document: Mapping[str, Any], version: str, path: str) -> str | None:
    """The reason jsonschema-rs gives at ``path``, for the errors only its stricter checks find
    (openapi-spec-validator uses it when installed; e.g. a `pattern` its regex engine rejects)."""
    try:
        import jsonschema_rs
        from openapi_spec_validator.schemas import schema_v30, schema_v31
    except ImportError:
        return None
    schema = dict(schema_v31 if version.startswith("3.1") else schema_v30)
    for error in jsonschema_rs.validator_for(schema).iter_errors(dict(document)):
        if _where(error.instance_path) != path:
            continue
        deepest = error
        for _ in range(50):  # down the oneOf/anyOf alternatives to the most specific reason
            found = [
                c
                for branch in getattr(deepest.kind, "context", None) or []
                for c in branch
                if "$ref" not in c.message
            ]
            if not found:
                break
            deepest = max(found, key=lambda e: len(list(e.instance_path)))
        inner = _where(list(deepest.instance_path)[len(list(error.instance_path)) :])
        message = str(deepest.message)
        cut = message.rfind(" is ")
        if len(message) > 120 and cut > 0:
            message = "the value" + message[cut:]
        return f"{inner + ': ' if inner else ''}{message}"
    return None


def _schema_validator(version: str) -> Any:
    from jsonschema import validators
    from openapi_spec_validator.schemas import schema_v30, schema_v31

    schema = dict(schema_v31 if version.startswith("3.1") else schema_v30)
    return validators.validator_for(schema)(schema)


def validator_findings(document: Mapping[str, Any], version: str) -> Iterator[tuple[str, str]]:
    """(pointer, one-line reason) for every problem openapi-spec-validator finds."""
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    if version.startswith("3.1"):
        validator: Any = OpenAPIV31SpecValidator
    elif version.startswith("3.0"):
        validator = OpenAPIV30SpecValidator
    else:
        yield "#/openapi", f"openapi {version!r} is not 3.0 or 3.1"
        return
    reasons: dict[str, ValidationError] | None = None
    try:
        for error in validator(dict(document)).iter_errors():
            path = _where(getattr(error, "absolute_path", []))
            message = str(error.message)
            if "is not valid under any of the" in message or "Failed validating" in message:
                if reasons is None:
                    reasons = {
                        _where(e.absolute_path): e
                        for e in _schema_validator(version).iter_errors(dict(document))
                    }
                found = reasons.get(path)
                if found is not None:
                    deepest = _deepest(found)
                    inner = _where(list(deepest.absolute_path)[len(found.absolute_path) :])
                    message = f"{inner + ': ' if inner else ''}{_message(deepest)}"
                else:
                    message = _rs_reason(document, version, path) or _message(error)
            else:
                message = _message(error)
            yield f"#/{path}" if path else "#", f"openapi-spec-validator: {message}"[:MAX_MESSAGE]
    except Exception as exc:  # the validator can choke on odd documents; report, don't crash
        yield "#", f"openapi-spec-validator failed: {type(exc).__name__}: {str(exc)[:200]}"


# What a tool raises when it walks a document whose parts have the wrong types (paths a list,
# responses a number): never shown as such, but explained by the validator.
STRUCTURE_ERRORS = (AttributeError, TypeError, KeyError, IndexError)


def structure_error(document: Any, source: str) -> SpecError:
    """A one-line error for a document a tool could not walk: its first structural problem as
    openapi-spec-validator names it, and where to see them all."""
    version = str(document.get("openapi", "3.1")) if isinstance(document, Mapping) else "3.1"
    found = next(iter(validator_findings(document, version)), None) if document else None
    where = (
        f" at {found[0]}: {found[1].removeprefix('openapi-spec-validator: ')}"
        if found is not None
        else ""
    )
    return SpecError(
        visible(
            f"{source} is not a structurally valid OpenAPI document{where}; "
            f"`neuropay spec lint {source}` lists every problem"
        )
    )
