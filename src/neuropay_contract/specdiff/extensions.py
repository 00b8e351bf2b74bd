"""Compare the project's ``x-`` extensions: idempotency, limits, test mode, and any other structurally.

``x-lifecycle`` has its own module (:mod:`.lifecycle`). Keys of a known extension that no rule
covers (an extension grows new fields) are walked structurally like unknown extensions, so a
change to them is still reported, as a warning.
"""

from __future__ import annotations

from typing import Any

from .context import DiffContext, child
from .model import Change

_MAX_GENERIC = 200  # changes reported under one extension before the rest is summarised


def compare_generic(
    ctx: DiffContext,
    old: Any,
    new: Any,
    old_ptr: str,
    new_ptr: str,
    _out: list[Change] | None = None,
) -> list[Change]:
    """Every leaf-level difference of two extension values (dicts by key, lists by item)."""
    out: list[Change] = [] if _out is None else _out
    if len(out) >= _MAX_GENERIC or old == new:
        return out
    if old is None:
        out.append(ctx.change("extension-added", f"{_name(new_ptr)} added", None, new_ptr))
    elif new is None:
        out.append(ctx.change("extension-removed", f"{_name(old_ptr)} removed", old_ptr, None))
    elif isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            compare_generic(
                ctx, old.get(key), new.get(key), child(old_ptr, key), child(new_ptr, key), out
            )
    elif isinstance(old, list) and isinstance(new, list):
        if all(not isinstance(v, dict | list) for v in [*old, *new]):
            new_items, old_items = [repr(v) for v in new], [repr(v) for v in old]
            for index, value in enumerate(old):
                if repr(value) not in new_items:
                    out.append(
                        ctx.change(
                            "extension-removed",
                            f"{_name(old_ptr)}: {value!r} removed",
                            child(old_ptr, index),
                            new_ptr,
                        )
                    )
            for index, value in enumerate(new):
                if repr(value) not in old_items:
                    out.append(
                        ctx.change(
                            "extension-added",
                            f"{_name(new_ptr)}: {value!r} added",
                            old_ptr,
                            child(new_ptr, index),
                        )
                    )
        elif (key := _identity_key(old, new)) is not None:
            _compare_keyed(ctx, old, new, key, old_ptr, new_ptr, out)
        else:
            for index in range(max(len(old), len(new))):
                compare_generic(
                    ctx,
                    old[index] if index < len(old) else None,
                    new[index] if index < len(new) else None,
                    child(old_ptr, index),
                    child(new_ptr, index),
                    out,
                )
    else:
        out.append(
            ctx.change(
                "extension-changed",
                f"{_name(new_ptr)}: {_short(old)} became {_short(new)}",
                old_ptr,
                new_ptr,
            )
        )
    return out


_PREFERRED_KEYS = ("name", "id", "operation", "step", "status", "code", "number", "card_id")


def _identity_key(old: list[Any], new: list[Any]) -> str | None:
    """A field naming each item of two lists of objects (unique scalars on both sides), if any."""
    items = [*old, *new]
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    shared: set[str] = set.intersection(*(set(map(str, i)) for i in items))
    for key in [*(k for k in _PREFERRED_KEYS if k in shared), *sorted(shared)]:
        values = [i[key] for i in items]
        if all(isinstance(v, str | int) and not isinstance(v, bool) for v in values) and all(
            len({repr(i[key]) for i in side}) == len(side) for side in (old, new)
        ):
            return key
    return None


def _compare_keyed(
    ctx: DiffContext,
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    key: str,
    old_ptr: str,
    new_ptr: str,
    out: list[Change],
) -> None:
    """Items matched by ``key``, so an insertion is one addition, and a new order is reported."""
    old_at = {repr(item[key]): index for index, item in enumerate(old)}
    new_at = {repr(item[key]): index for index, item in enumerate(new)}
    for name, index in old_at.items():
        if name not in new_at:
            out.append(
                ctx.change(
                    "extension-removed",
                    f"{_name(old_ptr)}: {key} {name} removed",
                    child(old_ptr, index),
                    new_ptr,
                )
            )
    for name, index in new_at.items():
        if name not in old_at:
            out.append(
                ctx.change(
                    "extension-added",
                    f"{_name(new_ptr)}: {key} {name} added",
                    old_ptr,
                    child(new_ptr, index),
                )
            )
        else:
            compare_generic(
                ctx,
                old[old_at[name]],
                new[index],
                child(old_ptr, old_at[name]),
                child(new_ptr, index),
                out,
            )
    kept_old = [n for n in old_at if n in new_at]
    kept_new = [n for n in new_at if n in old_at]
    if kept_old != kept_new:
        order = ", ".join(n.strip("'") for n in kept_new)
        out.append(
            ctx.change(
                "extension-changed",
                f"{_name(new_ptr)}: order by {key} is now {order}",
                old_ptr,
                new_ptr,
            )
        )


def compare_rest(
    ctx: DiffContext,
    old: dict[str, Any],
    new: dict[str, Any],
    known: set[str],
    old_ptr: str,
    new_ptr: str,
) -> list[Change]:
    """Structural comparison of the keys of an extension that no specific rule reads."""
    out: list[Change] = []
    for key in [*old, *(k for k in new if k not in old)]:
        if key not in known:
            compare_generic(
                ctx, old.get(key), new.get(key), child(old_ptr, key), child(new_ptr, key), out
            )
    return out


def compare_limits(ctx: DiffContext, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """``x-limits``: a lower number is tighter for clients."""
    out: list[Change] = []
    base = "#/x-limits"
    known: set[str] = set()
    for key in [*old, *(k for k in new if k not in old)]:
        before, after = old.get(key), new.get(key)
        if not _is_number(before) and not _is_number(after):
            continue
        known.add(key)
        o_ptr, n_ptr = child(base, key), child(base, key)
        if before == after:
            continue
        if before is None:
            out.append(ctx.change("limit-added", f"new limit {key} = {after}", None, n_ptr))
        elif after is None:
            out.append(ctx.change("limit-removed", f"limit {key} ({before}) removed", o_ptr, None))
        elif not _is_number(before) or not _is_number(after):
            known.discard(key)
        elif after < before:
            out.append(
                ctx.change(
                    "limit-tightened", f"{key} lowered from {before} to {after}", o_ptr, n_ptr
                )
            )
        else:
            out.append(
                ctx.change("limit-loosened", f"{key} raised from {before} to {after}", o_ptr, n_ptr)
            )
    return out + compare_rest(ctx, old, new, known, base, base)


def compare_idempotency(ctx: DiffContext, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """``x-idempotency``: which operations honour the key, its headers, retention and answer."""
    out: list[Change] = []
    base = "#/x-idempotency"
    mk = ctx.change
    old_ops, new_ops = _str_list(old.get("operations")), _str_list(new.get("operations"))
    for index, op in enumerate(old_ops):
        if op not in new_ops:
            out.append(
                mk(
                    "idempotency-operation-removed",
                    f"{op} no longer honours the idempotency key",
                    child(base, "operations", index),
                    child(base, "operations"),
                )
            )
    for index, op in enumerate(new_ops):
        if op not in old_ops:
            out.append(
                mk(
                    "idempotency-operation-added",
                    f"{op} now honours the idempotency key",
                    child(base, "operations"),
                    child(base, "operations", index),
                )
            )
    for key in ("header", "replay_header"):
        if old.get(key) != new.get(key):
            out.append(
                mk(
                    "idempotency-header-changed",
                    f"{key} {old.get(key)!r} became {new.get(key)!r}",
                    _at(base, key, old),
                    _at(base, key, new),
                )
            )
    before, after = old.get("retention_hours"), new.get("retention_hours")
    if before != after and isinstance(before, int | float) and isinstance(after, int | float):
        rid = (
            "idempotency-retention-shortened"
            if after < before
            else "idempotency-retention-extended"
        )
        out.append(
            mk(
                rid,
                f"keys kept {after} h instead of {before} h",
                child(base, "retention_hours"),
                child(base, "retention_hours"),
            )
        )
    elif before != after:
        out.append(
            mk(
                "idempotency-retention-shortened",
                f"retention {before!r} became {after!r}",
                _at(base, "retention_hours", old),
                _at(base, "retention_hours", new),
            )
        )
    if old.get("conflict") != new.get("conflict"):
        out.append(
            mk(
                "idempotency-conflict-changed",
                f"key reuse answers {_answer(new.get('conflict'))} instead of {_answer(old.get('conflict'))}",
                _at(base, "conflict", old),
                _at(base, "conflict", new),
            )
        )
    if old.get("scope") != new.get("scope"):
        out.append(
            mk(
                "idempotency-scope-changed",
                f"scope {old.get('scope')!r} became {new.get('scope')!r}",
                _at(base, "scope", old),
                _at(base, "scope", new),
            )
        )
    known = {"operations", "header", "replay_header", "retention_hours", "conflict", "scope"}
    return out + compare_rest(ctx, old, new, known, base, base)


def compare_test_mode(ctx: DiffContext, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """``x-test-mode``: test cards, helpers, key prefixes and fixed answers."""
    out: list[Change] = []
    base = "#/x-test-mode"
    mk = ctx.change
    for list_key, id_key in (("hosted_page_cards", "number"), ("card_ids", "card_id")):
        old_cards, new_cards = _keyed(old.get(list_key), id_key), _keyed(new.get(list_key), id_key)
        for card, (index, item) in old_cards.items():
            o_ptr = child(base, list_key, index)
            if card not in new_cards:
                out.append(
                    mk(
                        "test-mode-card-removed",
                        f"test card {card} removed",
                        o_ptr,
                        _at(base, list_key, new),
                    )
                )
                continue
            new_index, new_item = new_cards[card]
            n_ptr = child(base, list_key, new_index)
            if item.get("outcome") != new_item.get("outcome"):
                out.append(
                    mk(
                        "test-mode-card-outcome-changed",
                        f"test card {card} now {new_item.get('outcome')!r}, was {item.get('outcome')!r}",
                        child(o_ptr, "outcome"),
                        child(n_ptr, "outcome"),
                    )
                )
            rest = {id_key, "outcome"}
            out.extend(compare_rest(ctx, item, new_item, rest, o_ptr, n_ptr))
        for card, (index, _item) in new_cards.items():
            if card not in old_cards:
                out.append(
                    mk(
                        "test-mode-card-added",
                        f"new test card {card}",
                        _at(base, list_key, old),
                        child(base, list_key, index),
                    )
                )
    old_helpers, new_helpers = (
        _keyed(old.get("helpers"), "operation"),
        _keyed(new.get("helpers"), "operation"),
    )
    for op, (index, item) in old_helpers.items():
        o_ptr = child(base, "helpers", index)
        if op not in new_helpers:
            out.append(
                mk(
                    "test-mode-helper-removed",
                    f"test helper {op} removed",
                    o_ptr,
                    _at(base, "helpers", new),
                )
            )
            continue
        new_index, new_item = new_helpers[op]
        if item.get("event") != new_item.get("event"):
            out.append(
                mk(
                    "test-mode-helper-changed",
                    f"{op} forces {new_item.get('event')!r} instead of {item.get('event')!r}",
                    child(o_ptr, "event"),
                    child(base, "helpers", new_index, "event"),
                )
            )
    for op, (index, _item) in new_helpers.items():
        if op not in old_helpers:
            out.append(
                mk(
                    "test-mode-helper-added",
                    f"new test helper {op}",
                    _at(base, "helpers", old),
                    child(base, "helpers", index),
                )
            )
    old_prefixes, new_prefixes = _dict(old.get("key_prefixes")), _dict(new.get("key_prefixes"))
    for mode, prefix in old_prefixes.items():
        if new_prefixes.get(mode) != prefix:
            out.append(
                mk(
                    "test-mode-key-prefix-changed",
                    f"{mode} key prefix {prefix!r} became {new_prefixes.get(mode)!r}",
                    child(base, "key_prefixes", mode),
                    _at(child(base, "key_prefixes"), mode, new_prefixes),
                )
            )
    for key in ("live_key_answer", "unknown_card_outcome"):
        if old.get(key) != new.get(key):
            out.append(
                mk(
                    "test-mode-answer-changed",
                    f"{key} {_short(old.get(key))} became {_short(new.get(key))}",
                    _at(base, key, old),
                    _at(base, key, new),
                )
            )
    known = {
        "hosted_page_cards",
        "card_ids",
        "helpers",
        "key_prefixes",
        "live_key_answer",
        "unknown_card_outcome",
    }
    out.extend(compare_rest(ctx, old, new, known, base, base))
    extra = {k: v for k, v in new_prefixes.items() if k not in old_prefixes}
    out.extend(
        compare_generic(ctx, {}, extra, child(base, "key_prefixes"), child(base, "key_prefixes"))
    )
    return out


# -- helpers ------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _str_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _keyed(items: Any, id_key: str) -> dict[str, tuple[int, dict[str, Any]]]:
    found: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and id_key in item:
            found.setdefault(str(item[id_key]), (index, item))
    return found


def _at(base: str, key: str, holder: dict[str, Any]) -> str:
    """``base/key`` when ``holder`` has ``key``, else ``base``: the nearest thing that exists."""
    return child(base, key) if key in holder else base


def _answer(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('http')} {value.get('code')}"
    return repr(value)


def _name(pointer: str) -> str:
    return pointer.lstrip("#/").replace("~1", "/").replace("~0", "~")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
