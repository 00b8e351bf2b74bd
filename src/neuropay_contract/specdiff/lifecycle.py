"""Compare two ``x-lifecycle`` extensions: statuses, transitions, refusals and forbidden pairs.

A schema diff cannot see that ``refund`` became forbidden in ``partialRefund``; this module does.
It reads the raw mappings (not :func:`neuropay_contract.lifecycle.parse_lifecycle`) because every
change needs the JSON pointer of the list item it concerns.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .context import DiffContext, child
from .extensions import compare_rest
from .model import Change

BASE = "#/x-lifecycle"
_KNOWN = {
    "schema", "field", "amount_field", "refunded_field", "states", "initial", "final",
    "unrestricted", "events", "guards", "transitions", "rejections", "forbidden",
}  # fmt: skip


class _View:
    """One side's lifecycle, indexed for comparison (positions kept for pointers)."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        events = raw.get("events")
        if isinstance(events, list):  # a list of {name, helper, ...} instead of a mapping
            events = {e.get("name"): e for e in events if isinstance(e, dict) and "name" in e}
        self.events = {str(k): v for k, v in _dict(events).items()}
        self.transitions: dict[tuple[Any, str], list[tuple[int, dict[str, Any]]]] = defaultdict(
            list
        )
        for index, t in enumerate(_list(raw.get("transitions"))):
            if isinstance(t, dict):
                trigger = str(t.get("operation") or f"event {t.get('event')}")
                source = t.get("from")
                self.transitions[(None if source is None else str(source), trigger)].append(
                    (index, t)
                )
        self.forbidden = {
            (str(f.get("status")), str(f.get("operation"))): (i, f)
            for i, f in enumerate(_list(raw.get("forbidden")))
            if isinstance(f, dict)
        }
        self.rejections = {
            (str(r.get("from")), str(r.get("operation")), str(r.get("guard"))): (i, r)
            for i, r in enumerate(_list(raw.get("rejections")))
            if isinstance(r, dict)
        }

    def operation_of(self, trigger: str) -> str:
        """The API operation behind a trigger (an event's test helper)."""
        if trigger.startswith("event "):
            event = _dict(self.events.get(trigger[len("event ") :]))
            return str(event.get("helper") or trigger)
        return trigger


def compare_lifecycle(
    ctx: DiffContext, old: dict[str, Any], new: dict[str, Any]
) -> list[tuple[Change, str | None]]:
    """Every lifecycle change, each with the operationId it concerns (None for global ones)."""
    o, n = _View(old), _View(new)
    out: list[tuple[Change, str | None]] = []
    mk = ctx.change
    for key in ("schema", "field", "amount_field", "refunded_field"):
        if old.get(key) != new.get(key):
            out.append(
                (
                    mk(
                        "lifecycle-field-changed",
                        f"{key} {old.get(key)!r} became {new.get(key)!r}",
                        _at(key, old),
                        _at(key, new),
                    ),
                    None,
                )
            )
    old_states, new_states = _named(old.get("states")), _named(new.get("states"))
    for state in old_states:
        if state not in new_states:
            out.append(
                (
                    mk(
                        "lifecycle-status-removed",
                        f"status {state!r} removed",
                        child(BASE, "states", old_states[state]),
                        _at("states", new),
                    ),
                    None,
                )
            )
    for state in new_states:
        if state not in old_states:
            out.append(
                (
                    mk(
                        "lifecycle-status-added",
                        f"new status {state!r}",
                        _at("states", old),
                        child(BASE, "states", new_states[state]),
                    ),
                    None,
                )
            )
    for key in ("initial", "final"):
        before, after = {str(s) for s in _list(old.get(key))}, {str(s) for s in _list(new.get(key))}
        if before != after:
            out.append(
                (
                    mk(
                        "lifecycle-initial-final-changed",
                        f"{key} statuses {sorted(before)} became {sorted(after)}",
                        _at(key, old),
                        _at(key, new),
                    ),
                    None,
                )
            )
    out.extend(
        _set_diff(
            ctx,
            old,
            new,
            "unrestricted",
            "lifecycle-unrestricted-removed",
            "lifecycle-unrestricted-added",
            "{} is no longer allowed in every status",
            "{} is now allowed in every status",
        )
    )
    old_guards, new_guards = _named(old.get("guards")), _named(new.get("guards"))
    for guard in old_guards:
        if guard not in new_guards:
            out.append(
                (
                    mk(
                        "lifecycle-guard-removed",
                        f"guard {guard!r} removed",
                        child(BASE, "guards", old_guards[guard]),
                        _at("guards", new),
                    ),
                    None,
                )
            )
    for guard in new_guards:
        if guard not in old_guards:
            out.append(
                (
                    mk(
                        "lifecycle-guard-added",
                        f"new guard {guard!r}",
                        _at("guards", old),
                        child(BASE, "guards", new_guards[guard]),
                    ),
                    None,
                )
            )
    for name, event in o.events.items():
        if name not in n.events:
            out.append(
                (
                    mk(
                        "lifecycle-event-removed",
                        f"event {name!r} removed",
                        child(BASE, "events", name),
                        _at("events", new),
                    ),
                    _dict(event).get("helper"),
                )
            )
        elif _dict(event).get("helper") != _dict(n.events[name]).get("helper"):
            helper = _dict(n.events[name]).get("helper")
            out.append(
                (
                    mk(
                        "lifecycle-event-helper-changed",
                        f"event {name!r} is forced by {helper!r}, was {_dict(event).get('helper')!r}",
                        child(BASE, "events", name),
                        child(BASE, "events", name),
                    ),
                    helper,
                )
            )
    for name, event in n.events.items():
        if name not in o.events:
            out.append(
                (
                    mk(
                        "lifecycle-event-added",
                        f"new event {name!r}",
                        _at("events", old),
                        child(BASE, "events", name),
                    ),
                    _dict(event).get("helper"),
                )
            )
    out.extend(_transitions(ctx, o, n))
    out.extend(_forbidden(ctx, o, n))
    out.extend(_rejections(ctx, o, n))
    out.extend((c, None) for c in compare_rest(ctx, old, new, _KNOWN, BASE, BASE))
    return out


def _transitions(ctx: DiffContext, o: _View, n: _View) -> list[tuple[Change, str | None]]:
    out: list[tuple[Change, str | None]] = []
    mk = ctx.change
    for key in sorted({*o.transitions, *n.transitions}, key=repr):
        source, trigger = key
        where = f"{trigger} in {source!r}" if source is not None else f"{trigger} (create)"
        operation = n.operation_of(trigger) if key in n.transitions else o.operation_of(trigger)
        olds = {
            tuple(sorted(map(str, _list(t.get("guard"))))): (i, t)
            for i, t in o.transitions.get(key, [])
        }
        news = {
            tuple(sorted(map(str, _list(t.get("guard"))))): (i, t)
            for i, t in n.transitions.get(key, [])
        }
        only_old = [g for g in olds if g not in news]
        only_new = [g for g in news if g not in olds]
        # Same (status, trigger) with another guard: the guard changed, not a removal.
        for old_guard, new_guard in zip(list(only_old), list(only_new), strict=False):
            (oi, ot), (ni, nt) = olds[old_guard], news[new_guard]
            out.append(
                (
                    mk(
                        "lifecycle-guard-changed",
                        f"{where}: guard {list(old_guard)} became {list(new_guard)}",
                        child(BASE, "transitions", oi, "guard"),
                        child(BASE, "transitions", ni, "guard"),
                    ),
                    operation,
                )
            )
            only_old.remove(old_guard)
            only_new.remove(new_guard)
            olds_target, news_target = ot.get("to"), nt.get("to")
            if olds_target != news_target:
                out.append(
                    (
                        mk(
                            "lifecycle-transition-target-changed",
                            f"{where} leads to {news_target!r}, was {olds_target!r}",
                            child(BASE, "transitions", oi, "to"),
                            child(BASE, "transitions", ni, "to"),
                        ),
                        operation,
                    )
                )
        for guard in only_old:
            index, t = olds[guard]
            forbidden = source is not None and (str(source), n.operation_of(trigger)) in n.forbidden
            if forbidden:
                fi = n.forbidden[(str(source), n.operation_of(trigger))][0]
                out.append(
                    (
                        mk(
                            "lifecycle-transition-forbidden",
                            f"{where} ({t.get('name')}) is now forbidden",
                            child(BASE, "transitions", index),
                            child(BASE, "forbidden", fi),
                        ),
                        operation,
                    )
                )
            else:
                out.append(
                    (
                        mk(
                            "lifecycle-transition-removed",
                            f"{where} ({t.get('name')}) removed",
                            child(BASE, "transitions", index),
                            _at("transitions", n.raw),
                        ),
                        operation,
                    )
                )
        for guard in only_new:
            index, t = news[guard]
            out.append(
                (
                    mk(
                        "lifecycle-transition-added",
                        f"{where} ({t.get('name')}) now allowed",
                        _at("transitions", o.raw),
                        child(BASE, "transitions", index),
                    ),
                    operation,
                )
            )
        for guard in olds.keys() & news.keys():
            (oi, ot), (ni, nt) = olds[guard], news[guard]
            if ot.get("to") != nt.get("to"):
                out.append(
                    (
                        mk(
                            "lifecycle-transition-target-changed",
                            f"{where} leads to {nt.get('to')!r}, was {ot.get('to')!r}",
                            child(BASE, "transitions", oi, "to"),
                            child(BASE, "transitions", ni, "to"),
                        ),
                        operation,
                    )
                )
    return out


def _had_transition(view: _View, status: str, operation: str) -> bool:
    return any(
        src == status and view.operation_of(trig) == operation for src, trig in view.transitions
    )


def _forbidden(ctx: DiffContext, o: _View, n: _View) -> list[tuple[Change, str | None]]:
    out: list[tuple[Change, str | None]] = []
    mk = ctx.change
    for pair, (index, item) in o.forbidden.items():
        if pair not in n.forbidden:
            out.append(
                (
                    mk(
                        "lifecycle-forbidden-removed",
                        f"{pair[1]} is no longer forbidden in {pair[0]!r}",
                        child(BASE, "forbidden", index),
                        _at("forbidden", n.raw),
                    ),
                    pair[1],
                )
            )
            continue
        new_index, new_item = n.forbidden[pair]
        if (item.get("http"), item.get("code")) != (new_item.get("http"), new_item.get("code")):
            out.append(
                (
                    mk(
                        "lifecycle-forbidden-answer-changed",
                        f"{pair[1]} in {pair[0]!r} answers {new_item.get('http')} {new_item.get('code')}, was {item.get('http')} {item.get('code')}",
                        child(BASE, "forbidden", index),
                        child(BASE, "forbidden", new_index),
                    ),
                    pair[1],
                )
            )
    for pair, (index, _item) in n.forbidden.items():
        if pair not in o.forbidden and not _had_transition(o, *pair):
            out.append(
                (
                    mk(
                        "lifecycle-forbidden-added",
                        f"{pair[1]} is now forbidden in {pair[0]!r}",
                        _at("forbidden", o.raw),
                        child(BASE, "forbidden", index),
                    ),
                    pair[1],
                )
            )
    return out


def _rejections(ctx: DiffContext, o: _View, n: _View) -> list[tuple[Change, str | None]]:
    out: list[tuple[Change, str | None]] = []
    mk = ctx.change
    only_old = [k for k in o.rejections if k not in n.rejections]
    only_new = [k for k in n.rejections if k not in o.rejections]
    for old_key in list(only_old):
        same_pair = [k for k in only_new if k[:2] == old_key[:2]]
        if same_pair:
            new_key = same_pair[0]
            only_old.remove(old_key)
            only_new.remove(new_key)
            out.append(
                (
                    mk(
                        "lifecycle-guard-changed",
                        f"refusal of {old_key[1]} in {old_key[0]!r}: guard {old_key[2]!r} became {new_key[2]!r}",
                        child(BASE, "rejections", o.rejections[old_key][0], "guard"),
                        child(BASE, "rejections", n.rejections[new_key][0], "guard"),
                    ),
                    old_key[1],
                )
            )
    for key in only_old:
        out.append(
            (
                mk(
                    "lifecycle-rejection-removed",
                    f"{key[1]} in {key[0]!r} with {key[2]} is no longer refused",
                    child(BASE, "rejections", o.rejections[key][0]),
                    _at("rejections", n.raw),
                ),
                key[1],
            )
        )
    for key in only_new:
        out.append(
            (
                mk(
                    "lifecycle-rejection-added",
                    f"{key[1]} in {key[0]!r} with {key[2]} is now refused",
                    _at("rejections", o.raw),
                    child(BASE, "rejections", n.rejections[key][0]),
                ),
                key[1],
            )
        )
    for key in o.rejections.keys() & n.rejections.keys():
        (oi, item), (ni, new_item) = o.rejections[key], n.rejections[key]
        if (item.get("http"), item.get("code")) != (new_item.get("http"), new_item.get("code")):
            out.append(
                (
                    mk(
                        "lifecycle-rejection-answer-changed",
                        f"{key[1]} in {key[0]!r} with {key[2]} answers {new_item.get('http')} {new_item.get('code')}, was {item.get('http')} {item.get('code')}",
                        child(BASE, "rejections", oi),
                        child(BASE, "rejections", ni),
                    ),
                    key[1],
                )
            )
    return out


def _set_diff(
    ctx: DiffContext,
    old: dict[str, Any],
    new: dict[str, Any],
    key: str,
    removed_rule: str,
    added_rule: str,
    removed_text: str,
    added_text: str,
) -> list[tuple[Change, str | None]]:
    out: list[tuple[Change, str | None]] = []
    before, after = [str(v) for v in _list(old.get(key))], [str(v) for v in _list(new.get(key))]
    for index, value in enumerate(before):
        if value not in after:
            out.append(
                (
                    ctx.change(
                        removed_rule,
                        removed_text.format(value),
                        child(BASE, key, index),
                        _at(key, new),
                    ),
                    value,
                )
            )
    for index, value in enumerate(after):
        if value not in before:
            out.append(
                (
                    ctx.change(
                        added_rule, added_text.format(value), _at(key, old), child(BASE, key, index)
                    ),
                    value,
                )
            )
    return out


def _at(key: str, holder: dict[str, Any]) -> str:
    return child(BASE, key) if key in holder else BASE


def _named(value: Any) -> dict[str, str | int]:
    """Names declared by a mapping (name -> info), a list of names, or a list of objects with a
    ``name``, each with its pointer token: the key, or the list index."""
    if isinstance(value, dict):
        return {str(k): str(k) for k in value}
    found: dict[str, str | int] = {}
    for index, item in enumerate(value if isinstance(value, list) else []):
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str | int):
            found.setdefault(str(name), index)
    return found


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]
