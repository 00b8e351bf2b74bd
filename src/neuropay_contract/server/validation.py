"""Request body validation against the spec's schemas, fast for the bodies that pass.

Profiling under load showed the jsonschema walk (with its ``$ref`` lookups) as the largest cost
of a request, about 0.6 ms of a create. Bodies are first checked by jsonschema-rs (compiled, a
few microseconds); only a body it rejects goes through jsonschema, whose error is the one
reported, so the 400s are worded as before. A body jsonschema-rs accepts must be one jsonschema
accepts too: the formats jsonschema asserts are checked by the very same functions, the others
jsonschema-rs checks on its own (stricter: jsonschema has the last word); a schema with a
pattern whose meaning could differ (the class escapes d, w, s and b are ASCII for the spec but
Unicode for jsonschema-rs) is left to jsonschema alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

import jsonschema_rs
from jsonschema.exceptions import ValidationError, best_match

from ..spec import ApiSpec


class RequestValidator:
    """Validates bodies against one schema of ``spec`` (``$ref``s resolved in the spec)."""

    def __init__(self, spec: ApiSpec, schema: Mapping[str, Any]) -> None:
        self._slow = spec.validator(schema)
        self._fast: Any = None
        inlined = spec.inline_refs(schema)
        if _has_class_escapes(inlined):
            return
        checker = self._slow.format_checker
        formats = {name: func for name, (func, _) in checker.checkers.items()} if checker else {}
        # A schema it cannot take (a recursive $ref) leaves every body to the slow path.
        with suppress(ValueError, jsonschema_rs.ReferencingError):
            self._fast = jsonschema_rs.validator_for(
                inlined, validate_formats=True, formats=formats
            )

    def first_error(self, body: Any) -> ValidationError | None:
        """The most relevant reason ``body`` is invalid, or ``None`` when it is valid."""
        if self._fast is not None:
            try:
                if self._fast.is_valid(body):
                    return None
            except (ValueError, OverflowError):  # a value it cannot convert (inf, huge ints)
                pass
        error: ValidationError | None = best_match(self._slow.iter_errors(body))
        return error


_CLASS_ESCAPE = re.compile(r"\\[dDwWsSbB]")


def _has_class_escapes(schema: Any) -> bool:
    """Whether a ``pattern`` or ``patternProperties`` key in ``schema`` uses a class escape."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            pattern = node.get("pattern")
            if isinstance(pattern, str) and _CLASS_ESCAPE.search(pattern):
                return True
            names = node.get("patternProperties")
            if isinstance(names, dict) and any(_CLASS_ESCAPE.search(str(n)) for n in names):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False
