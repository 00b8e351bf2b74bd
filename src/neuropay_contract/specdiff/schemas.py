"""Compare two JSON Schemas (OpenAPI 3.0 or 3.1) as a request or a response, following ``$ref``s.

Each (old node, new node, direction) pair is compared once: a change inside a shared component
is one Change object, whatever number of operations reach it, and reference cycles end there.
"""

from __future__ import annotations

from typing import Any, Literal

from ..errors import SpecError
from .context import MAX_WALK_DEPTH, DiffContext, child
from .extensions import compare_generic
from .model import Change
from .schema_shape import BOUNDS, Flat, bounds_of, flatten, is_null, subject_of, variant_keys

Direction = Literal["request", "response"]

_OTHER_CONSTRAINTS = ("pattern", "multipleOf", "uniqueItems", "const")
_SKIPPED_EXTENSIONS = frozenset({"x-error-codes"})


class SchemaDiffer:
    """Compares schemas of the old and new document."""

    def __init__(self, ctx: DiffContext) -> None:
        self.ctx = ctx
        self._done: dict[tuple[int, int, str], list[Change]] = {}
        self._active: set[tuple[int, int, str]] = set()

    def compare(
        self, old: Any, new: Any, old_ptr: str, new_ptr: str, direction: Direction, depth: int = 0
    ) -> list[Change]:
        """Every change between two schemas, read as ``direction`` bodies."""
        if depth > MAX_WALK_DEPTH:
            raise SpecError(
                f"{self.ctx.new.source}: schema nested deeper than {MAX_WALK_DEPTH} at {new_ptr}"
            )
        old, old_ptr = self.ctx.resolve(self.ctx.old, old, old_ptr)
        new, new_ptr = self.ctx.resolve(self.ctx.new, new, new_ptr)
        if not isinstance(old, dict) or not isinstance(new, dict):
            return []
        key = (id(old), id(new), direction)
        if key in self._done:
            return self._done[key]
        if key in self._active:  # a reference cycle: compared further up already
            return []
        self._active.add(key)
        try:
            old_inner, new_inner = (
                self._unwrap(self.ctx.old, old, old_ptr),
                self._unwrap(self.ctx.new, new, new_ptr),
            )
            if old_inner or new_inner:
                found = self._wrapped(
                    old, new, old_ptr, new_ptr, old_inner, new_inner, direction, depth
                )
            else:
                found = self._compare(old, new, old_ptr, new_ptr, direction, depth)
        finally:
            self._active.discard(key)
        self._done[key] = found
        return found

    # -- 3.1's nullable: `oneOf: [X, {type: null}]` ----------------------------------------
    def _unwrap(self, doc: Any, node: dict[str, Any], pointer: str) -> tuple[Any, str] | None:
        """X and its pointer when ``node`` only says "X or null", else None."""
        if "properties" in node or "type" in node:
            return None
        for keyword in ("oneOf", "anyOf"):
            members = node.get(keyword)
            if not isinstance(members, list):
                continue
            kept = [
                (m, child(pointer, keyword, i))
                for i, m in enumerate(members)
                if not is_null(self.ctx.resolve(doc, m, pointer)[0])
            ]
            if len(kept) == 1 and len(members) > 1:
                return kept[0]
        return None

    def _wrapped(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        old_ptr: str,
        new_ptr: str,
        old_inner: tuple[Any, str] | None,
        new_inner: tuple[Any, str] | None,
        d: Direction,
        depth: int,
    ) -> list[Change]:
        """Compare "X or null" with "Y (or null)": nullability here, X with Y as usual."""
        o_node, o_ptr = old_inner or (old, old_ptr)
        n_node, n_ptr = new_inner or (new, new_ptr)
        o_null = old_inner is not None or flatten(self.ctx, self.ctx.old, old, old_ptr).nullable
        n_null = new_inner is not None or flatten(self.ctx, self.ctx.new, new, new_ptr).nullable
        out: list[Change] = []
        if o_null != n_null:
            out.append(
                self._nullable_change(o_null, n_null, old_ptr, new_ptr if new_inner else n_ptr, d)
            )
        # The inner comparison must not report the wrapper's null again.
        inner = self.compare(o_node, n_node, o_ptr, n_ptr, d, depth + 1)
        return out + [c for c in inner if not _is_nullable_rule(c) or c.new_pointer != n_ptr]

    def _nullable_change(
        self, o_null: bool, n_null: bool, old_ptr: str, new_ptr: str, d: Direction
    ) -> Change:
        if d == "request":
            rid = "request-nullable-added" if n_null else "request-nullable-removed"
        else:
            rid = "response-property-became-nullable" if n_null else "response-nullable-removed"
        verb = "accepts" if d == "request" else "may be"
        return self.ctx.change(
            rid,
            f"{subject_of(new_ptr)}: {'now' if n_null else 'no longer'} {verb} null",
            old_ptr,
            new_ptr,
        )

    # -- one pair ------------------------------------------------------------------------
    def _compare(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        old_ptr: str,
        new_ptr: str,
        d: Direction,
        depth: int,
    ) -> list[Change]:
        o = flatten(self.ctx, self.ctx.old, old, old_ptr)
        n = flatten(self.ctx, self.ctx.new, new, new_ptr)
        out: list[Change] = []
        subject = subject_of(new_ptr)

        def mk(rid: str, reason: str, old_pointer: str | None, new_pointer: str | None) -> Change:
            return self.ctx.change(rid, f"{subject}: {reason}", old_pointer, new_pointer)

        if o.nullable != n.nullable:
            out.append(self._nullable_change(o.nullable, n.nullable, old_ptr, new_ptr, d))
        out.extend(self._types(o, n, d, subject))
        out.extend(self._enum(old, new, old_ptr, new_ptr, d, subject))
        if old.get("format") != new.get("format") and new.get("format") is not None:
            out.append(
                mk(
                    f"{d}-format-changed",
                    f"format {old.get('format')!r} became {new.get('format')!r}",
                    old_ptr,
                    child(new_ptr, "format"),
                )
            )
        out.extend(self._bounds(old, new, old_ptr, new_ptr, d, subject))
        out.extend(self._objects(o, n, d, depth))
        for keyword in ("items", "not", "contains"):
            if isinstance(old.get(keyword), dict) and isinstance(new.get(keyword), dict):
                out.extend(
                    self.compare(
                        old[keyword],
                        new[keyword],
                        child(old_ptr, keyword),
                        child(new_ptr, keyword),
                        d,
                        depth + 1,
                    )
                )
        out.extend(self._variants(o, n, d, depth))
        if "x-error-codes" in old or "x-error-codes" in new:
            out.extend(self._error_codes(old, new, old_ptr, new_ptr))
        for key in sorted({*old, *new}):
            if key.startswith("x-") and key not in _SKIPPED_EXTENSIONS:
                out.extend(
                    compare_generic(
                        self.ctx,
                        old.get(key),
                        new.get(key),
                        child(old_ptr, key),
                        child(new_ptr, key),
                    )
                )
        return out

    def _types(self, o: Flat, n: Flat, d: Direction, subject: str) -> list[Change]:
        if not o.types or not n.types or o.types == n.types:
            return []
        added = {t for t in n.types - o.types if not (t == "integer" and "number" in o.types)}
        removed = {t for t in o.types - n.types if not (t == "integer" and "number" in n.types)}
        reason = f"{subject}: type {_types_text(o.types)} became {_types_text(n.types)}"
        if d == "request":
            rid = "request-type-changed" if removed else "request-type-widened" if added else ""
        else:
            rid = "response-type-changed" if added else "response-type-narrowed" if removed else ""
        if not rid:
            return []
        return [self.ctx.change(rid, reason, o.pointer, n.pointer)]

    def _enum(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        old_ptr: str,
        new_ptr: str,
        d: Direction,
        subject: str,
    ) -> list[Change]:
        if "x-error-codes" in old and "x-error-codes" in new:
            return []  # error codes have their own rules
        old_enum, new_enum = old.get("enum"), new.get("enum")
        if not isinstance(old_enum, list) and not isinstance(new_enum, list):
            return []
        out: list[Change] = []

        def mk(rid: str, reason: str, old_pointer: str | None, new_pointer: str | None) -> Change:
            return self.ctx.change(rid, f"{subject}: {reason}", old_pointer, new_pointer)

        if not isinstance(new_enum, list):  # enum dropped: any value of the type now allowed
            rid = "request-enum-value-added" if d == "request" else "response-enum-value-added"
            return [mk(rid, "the enum was removed: any value is allowed", old_ptr, new_ptr)]
        if not isinstance(old_enum, list):
            rid = "request-enum-value-removed" if d == "request" else "response-enum-value-removed"
            return [mk(rid, f"values restricted to {_short(new_enum)}", old_ptr, new_ptr)]
        old_keys = {_key(v) for v in old_enum}
        new_keys = {_key(v) for v in new_enum}
        for index, value in enumerate(new_enum):
            if _key(value) not in old_keys:
                out.append(
                    mk(
                        f"{d}-enum-value-added",
                        f"enum value {value!r} added",
                        child(old_ptr, "enum"),
                        child(new_ptr, "enum", index),
                    )
                )
        for index, value in enumerate(old_enum):
            if _key(value) not in new_keys:
                out.append(
                    mk(
                        f"{d}-enum-value-removed",
                        f"enum value {value!r} removed",
                        child(old_ptr, "enum", index),
                        child(new_ptr, "enum"),
                    )
                )
        return out

    def _bounds(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        old_ptr: str,
        new_ptr: str,
        d: Direction,
        subject: str,
    ) -> list[Change]:
        out: list[Change] = []
        o_bounds, n_bounds = bounds_of(old), bounds_of(new)
        tight_rule, loose_rule = f"{d}-bound-tightened", f"{d}-bound-loosened"
        for keyword, larger_is_tighter in BOUNDS:
            before, after = o_bounds.get(keyword), n_bounds.get(keyword)
            if before == after:
                continue
            if before is None:
                tighter = True
            elif after is None:
                tighter = False
            else:
                tighter = (after > before) if larger_is_tighter else (after < before)
            out.append(
                self._bound_change(
                    subject,
                    tight_rule if tighter else loose_rule,
                    keyword,
                    before,
                    after,
                    old_ptr,
                    new_ptr,
                )
            )
        for keyword in _OTHER_CONSTRAINTS:
            before, after = old.get(keyword), new.get(keyword)
            if before == after or (keyword == "uniqueItems" and not before and not after):
                continue
            tighter = after is not None and after is not False
            out.append(
                self._bound_change(
                    subject,
                    tight_rule if tighter else loose_rule,
                    keyword,
                    before,
                    after,
                    old_ptr,
                    new_ptr,
                )
            )
        return out

    def _bound_change(
        self,
        subject: str,
        rid: str,
        keyword: str,
        before: Any,
        after: Any,
        old_ptr: str,
        new_ptr: str,
    ) -> Change:
        shown = ("absent" if v is None else repr(v) for v in (before, after))
        reason = f"{subject}: {keyword} {next(shown)} became {next(shown)}"
        return self.ctx.change(
            rid,
            reason,
            child(old_ptr, keyword) if before is not None else old_ptr,
            child(new_ptr, keyword) if after is not None else new_ptr,
        )

    def _objects(self, o: Flat, n: Flat, d: Direction, depth: int) -> list[Change]:
        out: list[Change] = []
        mk = self.ctx.change
        req = d == "request"
        if o.closed != n.closed:
            state = "closed" if n.closed else "opened"
            what = "no longer accepts" if n.closed else "accepts"
            out.append(
                mk(
                    f"{d}-additional-properties-{state}",
                    f"{subject_of(n.pointer)}: {what if req else ('may carry' if not n.closed else 'no longer carries')} unknown fields",
                    o.pointer,
                    n.pointer,
                )
            )
        if o.additional and n.additional:
            out.extend(
                self.compare(
                    *o.additional[:1],
                    *n.additional[:1],
                    o.additional[1],
                    n.additional[1],
                    d,
                    depth + 1,
                )
            )
        hidden = "readOnly" if req else "writeOnly"
        for name in sorted({*o.properties, *n.properties}):
            old_prop, new_prop = o.properties.get(name), n.properties.get(name)
            if old_prop and _flag(self.ctx, self.ctx.old, old_prop, hidden):
                old_prop = None
            if new_prop and _flag(self.ctx, self.ctx.new, new_prop, hidden):
                new_prop = None
            was_required, is_required = name in o.required, name in n.required
            if old_prop is None and new_prop is None:
                continue
            if old_prop is None:
                assert new_prop is not None
                if req:
                    rid = (
                        "request-property-added-required"
                        if is_required
                        else "request-property-added-optional"
                    )
                else:
                    # Only a closed object makes a new field something strict clients reject.
                    rid = (
                        "response-required-property-added"
                        if is_required
                        else "response-property-added"
                        if o.closed
                        else "response-property-added-open"
                    )
                kind = "required" if is_required else "optional"
                out.append(mk(rid, f"new {kind} field {name!r}", o.pointer, new_prop[1]))
                continue
            if new_prop is None:
                if req:
                    rid = (
                        "request-property-removed-closed"
                        if n.closed
                        else "request-property-removed"
                    )
                else:
                    rid = (
                        "response-property-removed"
                        if was_required
                        else "response-optional-property-removed"
                    )
                out.append(mk(rid, f"field {name!r} removed", old_prop[1], n.pointer))
                continue
            if was_required != is_required:
                state = "required" if is_required else "optional"
                out.append(
                    mk(
                        f"{d}-property-became-{state}",
                        f"field {name!r} became {state}",
                        old_prop[1],
                        new_prop[1],
                    )
                )
            out.extend(
                self.compare(old_prop[0], new_prop[0], old_prop[1], new_prop[1], d, depth + 1)
            )
        return out

    def _variants(self, o: Flat, n: Flat, d: Direction, depth: int) -> list[Change]:
        if not o.variants and not n.variants:
            return []
        out: list[Change] = []
        old_by, new_by = variant_keys(o.variants), variant_keys(n.variants)
        for key, (_node, ptr) in new_by.items():
            if key not in old_by:
                out.append(
                    self.ctx.change(f"{d}-variant-added", f"variant {key} added", o.pointer, ptr)
                )
        for key, (node, ptr) in old_by.items():
            if key not in new_by:
                out.append(
                    self.ctx.change(
                        f"{d}-variant-removed", f"variant {key} removed", ptr, n.pointer
                    )
                )
            else:
                new_node, new_ptr = new_by[key]
                out.extend(self.compare(node, new_node, ptr, new_ptr, d, depth + 1))
        return out

    def _error_codes(
        self, old: dict[str, Any], new: dict[str, Any], old_ptr: str, new_ptr: str
    ) -> list[Change]:
        out: list[Change] = []
        old_info, new_info = _codes(old), _codes(new)
        mk = self.ctx.change
        o_base, n_base = child(old_ptr, "x-error-codes"), child(new_ptr, "x-error-codes")
        for code in sorted({*old_info, *new_info}):
            before, after = old_info.get(code), new_info.get(code)
            if after is None:
                out.append(
                    mk(
                        "error-code-removed",
                        f"error code {code!r} removed",
                        child(o_base, code),
                        n_base,
                    )
                )
            elif before is None:
                out.append(
                    mk("error-code-added", f"new error code {code!r}", o_base, child(n_base, code))
                )
            else:
                if before.get("http") != after.get("http"):
                    out.append(
                        mk(
                            "error-code-status-changed",
                            f"error code {code!r} answers {after.get('http')} instead of {before.get('http')}",
                            child(o_base, code, "http"),
                            child(n_base, code, "http"),
                        )
                    )
                rest_o = {k: v for k, v in before.items() if k not in ("http", "description")}
                rest_n = {k: v for k, v in after.items() if k not in ("http", "description")}
                out.extend(
                    compare_generic(
                        self.ctx, rest_o, rest_n, child(o_base, code), child(n_base, code)
                    )
                )
        return out


def _is_nullable_rule(change: Change) -> bool:
    return change.rule.id in {
        "request-nullable-added",
        "request-nullable-removed",
        "response-property-became-nullable",
        "response-nullable-removed",
    }


def _flag(ctx: DiffContext, doc: Any, prop: tuple[Any, str], flag: str) -> bool:
    target, _ = ctx.resolve(doc, prop[0], prop[1])
    return isinstance(target, dict) and target.get(flag) is True


def _codes(node: dict[str, Any]) -> dict[str, dict[str, Any]]:
    info = node.get("x-error-codes")
    info = info if isinstance(info, dict) else {}
    enum = node.get("enum")
    codes: list[Any] = enum if isinstance(enum, list) else list(info)
    found: dict[str, dict[str, Any]] = {}
    for code in codes:
        if isinstance(code, str | int) and not isinstance(code, bool):
            entry = info.get(str(code))
            found[str(code)] = dict(entry) if isinstance(entry, dict) else {}
    return found


def _key(value: Any) -> str:
    return repr(value) if not isinstance(value, str) else value


def _short(values: list[Any]) -> str:
    text = ", ".join(repr(v) for v in values[:5])
    return text + (", ..." if len(values) > 5 else "")


def _types_text(types: set[str]) -> str:
    return "|".join(sorted(types))
