"""Request body validation against the spec's schemas, fast for the bodies that pass.

Profiling under load showed the jsonschema walk (with its ``$ref`` lookups) as the largest cost
of a request, about 0.6 ms of a create. Bodies are first checked by jsonschema-rs (compiled, a
few microseconds); only a body it rejects goes through jsonschema, whose error is the one
reported, so the 400s are worded as before. jsonschema-rs checks every format it knows while
jsonschema checks only ``email`` (and more loosely), so a body jsonschema-rs accepts is one
jsonschema accepts too; where it rejects more, jsonschema has the last word.
"""

from __future__ import annotations

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
        # A schema it cannot take (a recursive $ref) leaves every body to the slow path.
        with suppress(ValueError, jsonschema_rs.ReferencingError):
            self._fast = jsonschema_rs.validator_for(
                spec.inline_refs(schema), validate_formats=True
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
