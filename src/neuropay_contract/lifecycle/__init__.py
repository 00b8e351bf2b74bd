"""The checkout lifecycle, read from the spec's ``x-lifecycle`` extension, in both directions.

The reference server decides what an operation does to a checkout with :meth:`Lifecycle.decide` on
the facts of the request (:func:`request_facts`); the suite predicts with the same calls, and drives
a checkout to any status with :func:`plan` and :func:`request_for`; the docs, the results and the
linter read the same :func:`matrix`. So the rules live in the spec once, and the code that maps
requests to guards lives here once.
"""

from .guards import (
    GUARDS,
    Guard,
    MissingMeans,
    RefusalText,
    capture_allows,
    capture_guard,
    creation_facts,
    is_guard,
    payment_guard,
    refund_guard,
    refusal_text,
    remaining_amount,
    request_facts,
    request_for,
    wanted_capture,
    wanted_outcome,
)
from .matrix import Cell, cells, distinct_statuses, matrix
from .model import (
    Answer,
    Event,
    Forbidden,
    Lifecycle,
    Rejection,
    Transition,
    parse_lifecycle,
)
from .plan import plan

__all__ = [
    "GUARDS",
    "Answer",
    "Cell",
    "Event",
    "Forbidden",
    "Guard",
    "Lifecycle",
    "MissingMeans",
    "RefusalText",
    "Rejection",
    "Transition",
    "capture_allows",
    "capture_guard",
    "cells",
    "creation_facts",
    "distinct_statuses",
    "is_guard",
    "matrix",
    "parse_lifecycle",
    "payment_guard",
    "plan",
    "refund_guard",
    "refusal_text",
    "remaining_amount",
    "request_facts",
    "request_for",
    "wanted_capture",
    "wanted_outcome",
]
