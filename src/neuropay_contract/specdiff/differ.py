"""Compare two OpenAPI documents into a classified :class:`DiffReport`."""

from __future__ import annotations

from typing import Any

from .context import DiffContext, attribute, child
from .extensions import compare_generic, compare_idempotency, compare_limits, compare_test_mode
from .lifecycle import compare_lifecycle
from .model import Change, DiffReport, Document, OperationRef
from .operations import OperationDiffer, compare_security_schemes

_SPECIFIC = {"x-lifecycle", "x-idempotency", "x-limits", "x-test-mode"}


def diff_documents(old: Document, new: Document) -> DiffReport:
    """Every classified change from ``old`` to ``new``, each once, in a stable order."""
    ctx = DiffContext(old, new)
    changes, operations = OperationDiffer(ctx).compare_all()
    changes.extend(compare_security_schemes(ctx))
    changes.extend(_extensions(ctx, operations))
    return DiffReport(old, new, sorted(_merged(changes), key=Change.sort_key))


def _merged(changes: list[Change]) -> list[Change]:
    """One change per (rule, pointers, reason): a schema folded into several ``allOf``s is
    compared in each, but is one change reaching the union of their operations."""
    by_key: dict[tuple[str, str | None, str | None, str], Change] = {}
    for change in changes:
        key = (change.rule.id, change.old_pointer, change.new_pointer, change.reason)
        kept = by_key.setdefault(key, change)
        if kept is not change:
            kept.operations |= change.operations
    return list(by_key.values())


def _extensions(ctx: DiffContext, operations: dict[str, OperationRef]) -> list[Change]:
    old, new = ctx.old.content, ctx.new.content
    out: list[Change] = []

    def mapping(doc: dict[str, Any], key: str) -> dict[str, Any]:
        value = doc.get(key)
        return value if isinstance(value, dict) else {}

    if "x-lifecycle" in old or "x-lifecycle" in new:
        for change, op in compare_lifecycle(
            ctx, mapping(old, "x-lifecycle"), mapping(new, "x-lifecycle")
        ):
            if isinstance(op, str) and op in operations:
                attribute([change], operations[op])
            out.append(change)
    if "x-idempotency" in old or "x-idempotency" in new:
        out.extend(
            compare_idempotency(ctx, mapping(old, "x-idempotency"), mapping(new, "x-idempotency"))
        )
    if "x-limits" in old or "x-limits" in new:
        out.extend(compare_limits(ctx, mapping(old, "x-limits"), mapping(new, "x-limits")))
    if "x-test-mode" in old or "x-test-mode" in new:
        out.extend(compare_test_mode(ctx, mapping(old, "x-test-mode"), mapping(new, "x-test-mode")))
    for change in out:
        if not change.operations:
            # Extension rules name the operation they concern in their reason.
            named = [
                operations[t] for t in change.reason.replace("'", " ").split() if t in operations
            ]
            change.operations.update(named[:1])
    for key in [*old, *(k for k in new if k not in old)]:
        if key.startswith("x-") and key not in _SPECIFIC:
            out.extend(
                compare_generic(ctx, old.get(key), new.get(key), child("#", key), child("#", key))
            )
    return out
