"""The JSON Schemas of the project's own ``x-`` extensions, and the walk that validates them.

Each extension (``x-lifecycle``, ``x-error-codes``, ...) has a schema of its own in
``extensions/<name>.json``, shipped in the package. Every schema closes its objects
(``additionalProperties: false``), so a stray key is a finding: for example a YAML flow mapping
whose unquoted description holds a comma (``{http: 401, description: a, b}``) parses as a
``b: null`` key and no longer reads as the author meant."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..spec import escape_pointer

if TYPE_CHECKING:  # jsonschema is imported on first use, as everywhere in the package
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_DIR = Path(__file__).resolve().parent / "extensions"


@cache
def extension_validators() -> dict[str, Draft202012Validator]:
    """One validator per extension name, from the shipped schemas."""
    from jsonschema import Draft202012Validator

    validators = {}
    for path in sorted(SCHEMA_DIR.glob("x-*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        validators[path.stem] = Draft202012Validator(schema)
    return validators


def _extensions(node: Any, pointer: str) -> Iterator[tuple[str, str, Any]]:
    """Every (name, pointer, value) of a known extension anywhere in the document (iterative)."""
    known = extension_validators()
    stack: list[tuple[Any, str]] = [(node, pointer)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, Mapping):
            for key, value in current.items():
                child = f"{where}/{escape_pointer(str(key))}"
                if isinstance(key, str) and key in known:
                    yield key, child, value
                else:
                    stack.append((value, child))
        elif isinstance(current, list):
            stack.extend((item, f"{where}/{i}") for i, item in enumerate(current))


def _describe(error: ValidationError) -> str:
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = set(
            (error.schema.get("properties") or {}) if isinstance(error.schema, Mapping) else ()
        )
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            hint = ""
            if any(error.instance.get(k) is None for k in extra):
                hint = (
                    " (an unquoted comma in a YAML flow mapping {a: b, c} makes 'c' a key: "
                    "quote the text)"
                )
            return f"unexpected key(s) {', '.join(map(repr, extra))}{hint}"
    return str(error.message)[:300]


def extension_problems(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(JSON pointer, message) for every way the project's extensions break their schemas."""
    validators = extension_validators()
    for name, pointer, value in _extensions(document, "#"):
        errors = sorted(validators[name].iter_errors(value), key=lambda e: list(e.absolute_path))
        for error in errors:
            where = "".join(f"/{escape_pointer(str(p))}" for p in error.absolute_path)
            yield f"{pointer}{where}", f"{name}: {_describe(error)}"
