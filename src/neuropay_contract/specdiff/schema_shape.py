"""What a schema says once ``allOf`` is folded in and 3.0/3.1 spellings are normalised."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .context import MAX_WALK_DEPTH, DiffContext, child

# (keyword, True when a larger value is tighter)
BOUNDS: tuple[tuple[str, bool], ...] = (
    ("maxLength", False),
    ("maximum", False),
    ("exclusiveMaximum", False),
    ("maxItems", False),
    ("maxProperties", False),
    ("minLength", True),
    ("minimum", True),
    ("exclusiveMinimum", True),
    ("minItems", True),
    ("minProperties", True),
)


@dataclass
class Flat:
    """A schema with ``allOf`` folded in: what the comparison needs, each with its pointer."""

    node: dict[str, Any]
    pointer: str
    types: set[str] = field(default_factory=set)
    nullable: bool = False
    properties: dict[str, tuple[Any, str]] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    closed: bool = False
    additional: tuple[Any, str] | None = None
    variants: list[tuple[Any, str]] = field(default_factory=list)


def flatten(ctx: DiffContext, doc: Any, node: dict[str, Any], pointer: str) -> Flat:
    """``node`` with its ``allOf`` members folded in (each property keeps its own pointer)."""
    flat = Flat(node, pointer)
    _fold(ctx, doc, node, pointer, flat, 0, set())
    return flat


def _fold(
    ctx: DiffContext,
    doc: Any,
    node: dict[str, Any],
    pointer: str,
    flat: Flat,
    depth: int,
    seen: set[int],
) -> None:
    if id(node) in seen or depth > MAX_WALK_DEPTH:
        return
    seen.add(id(node))
    types = node.get("type")
    for t in [types] if isinstance(types, str) else types if isinstance(types, list) else []:
        if t == "null":
            flat.nullable = True
        else:
            flat.types.add(str(t))
    if node.get("nullable") is True:
        flat.nullable = True
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name, sub in properties.items():
            flat.properties.setdefault(str(name), (sub, child(pointer, "properties", name)))
    required = node.get("required")
    if isinstance(required, list):
        flat.required.update(str(r) for r in required)
    extra = node.get("additionalProperties", node.get("unevaluatedProperties"))
    if extra is False:
        flat.closed = True
    elif isinstance(extra, dict) and flat.additional is None:
        key = "additionalProperties" if "additionalProperties" in node else "unevaluatedProperties"
        flat.additional = (extra, child(pointer, key))
    for keyword in ("oneOf", "anyOf"):
        members = node.get(keyword)
        if isinstance(members, list):
            for index, member in enumerate(members):
                target, _ = ctx.resolve(doc, member, child(pointer, keyword, index))
                if is_null(target):
                    flat.nullable = True
                else:
                    flat.variants.append((member, child(pointer, keyword, index)))
    members = node.get("allOf")
    if isinstance(members, list):
        for index, member in enumerate(members):
            target, target_ptr = ctx.resolve(doc, member, child(pointer, "allOf", index))
            if isinstance(target, dict):
                _fold(ctx, doc, target, target_ptr, flat, depth + 1, seen)


def is_null(node: Any) -> bool:
    return isinstance(node, dict) and (
        node.get("type") == "null" or ("const" in node and node["const"] is None)
    )


def subject_of(pointer: str) -> str:
    """What a pointer names, for reasons: the field, the items of a field, or the body."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")]
    for index in range(len(tokens) - 1, 0, -1):
        if tokens[index - 1] == "properties" and index >= 1:
            rest = tokens[index + 1 :]
            return f"field {tokens[index]!r}" + (" items" if "items" in rest else "")
        if tokens[index] == "schemas" and index + 1 < len(tokens):
            return f"schema {tokens[index + 1]!r}"
    return "the value"


def bounds_of(node: dict[str, Any]) -> dict[str, float]:
    found: dict[str, float] = {}
    for keyword, _ in BOUNDS:
        value = node.get(keyword)
        if isinstance(value, bool):  # OpenAPI 3.0's boolean exclusiveMaximum/Minimum
            continue
        if isinstance(value, int | float):
            found[keyword] = value
    for flag, bound in (("exclusiveMaximum", "maximum"), ("exclusiveMinimum", "minimum")):
        if node.get(flag) is True and bound in found:
            found[flag] = found.pop(bound)
    return found


def variant_keys(variants: list[tuple[Any, str]]) -> dict[str, tuple[Any, str]]:
    """Name each oneOf/anyOf variant by what it is, so inserting one does not shift the rest."""
    keyed: dict[str, tuple[Any, str]] = {}
    for index, (node, ptr) in enumerate(variants):
        keyed.setdefault(_variant_name(node) or f"#{index}", (node, ptr))
    return keyed


def _variant_name(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    ref = node.get("$ref")
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1]
    if isinstance(node.get("title"), str):
        return str(node["title"])
    parts = [_variant_name(m) for m in node.get("allOf") or [] if isinstance(m, dict)]
    return " & ".join(p for p in parts if p)
