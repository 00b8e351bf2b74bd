"""JSON Schema validation with the spec's regex dialect (ECMA-262), shared by the reference server
and the suite's own checks.

jsonschema runs ``pattern`` through Python's ``re``, where ``$`` also matches before a final
newline: ``^[A-Z]{3}$`` would accept ``"SEK\\n"``. In ECMA-262 (the dialect JSON Schema names)
``$`` is the end of the input, so a pattern anchored with ``^…$`` matches the whole string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, cast

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

__all__ = ["SpecValidator", "ecma_regex", "format_checker"]


@lru_cache(maxsize=512)
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled with ECMA-262 meaning: ``$`` outside a character class is the end of
    the input (``\\Z``), and ``\\d``/``\\w`` are ASCII as in ECMA."""
    out: list[str] = []
    in_class = False
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            out.append(ch + next(chars, ""))
        elif in_class:
            in_class = ch != "]"
            out.append(ch)
        elif ch == "[":
            in_class = True
            out.append(ch)
            # A leading "]" (or "^]") is a literal, not the end of the class.
            rest = next(chars, "")
            if rest == "^":
                out.append(rest)
                rest = next(chars, "")
            out.append(rest)
            if rest == "\\":
                out.append(next(chars, ""))
        elif ch == "$":
            out.append(r"\Z")
        else:
            out.append(ch)
    return re.compile("".join(out), re.ASCII)


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_EMAIL_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f]")


def format_checker() -> FormatChecker:
    """The formats the spec's validation asserts: ``email`` as an address with one ``@``
    between non-empty parts, and no whitespace or control characters anywhere (so no trailing
    newline either)."""
    checker = FormatChecker([])

    @checker.checks("email")
    def _email(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        local, at, domain = instance.rpartition("@")
        return bool(at and local and domain) and not _EMAIL_FORBIDDEN.search(instance)

    return checker


# Draft 2020-12 with the pattern keyword replaced (jsonschema documents ``extend`` for this);
# the class it makes has Draft202012Validator's whole interface.
SpecValidator = cast(
    "type[Draft202012Validator]",
    validators.extend(Draft202012Validator, {"pattern": _pattern}),  # type: ignore[no-untyped-call]
)
