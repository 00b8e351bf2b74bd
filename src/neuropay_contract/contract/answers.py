"""Two servers' answers to the same request compared after the normalisation the spec defines.

What may differ between two conformant servers is read from the spec, never from this code:

- ids: values of a schema named ``…Id`` (``Id``, ``CardId``) are compared by a one-to-one mapping
  learnt as answers come (the target's checkout id ↔ the reference's);
- timestamps: values of a ``format: date-time`` schema are compared by their order within the
  answer, and each must match its own schema (the spec's ``Timestamp`` says UTC, ``Z``);
- hosted pages: ``Url`` values an answer holds that no request body can send (the server made
  them: ``url``, ``client_page``) may be any URL their schema allows;
- every answer part of ``x-implementation-defined`` is compared by the readings it allows (its
  ``values``, or any value).

Status codes, every other field (error codes and ``param`` included) and every header the spec
names (declared on a response, or written as `` `Name` `` in its text, and the media type) must
be equal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

from ..spec import ApiSpec, FreeAnswerPart

ID_TOKEN = re.compile(r"[A-Za-z0-9_]+")


@dataclass
class Pairing:
    """The one-to-one mapping of the target's ids to the reference's, learnt from answers."""

    forward: dict[str, str] = field(default_factory=dict)
    backward: dict[str, str] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # target page path -> reference's
    # the query values of paired page URLs (a client page's token): a form that echoes one
    # sends the reference's; compared whole, as text (such values need not be id tokens)
    page_values: dict[str, str] = field(default_factory=dict)

    def pair(self, target: str, reference: str) -> bool:
        """Record ``target`` ↔ ``reference``; False when either is already paired otherwise."""
        known = self.forward.get(target)
        if known is not None or target in self.forward:
            return known == reference
        if reference in self.backward:
            return False
        self.forward[target] = reference
        self.backward[reference] = target
        return True

    def copy(self) -> Pairing:
        return Pairing(
            dict(self.forward), dict(self.backward), dict(self.pages), dict(self.page_values)
        )

    def map_text(self, text: str) -> str:
        """``text`` with every known target id (a whole token) written as the reference's."""
        for value, replacement in self.page_values.items():
            text = text.replace(value, replacement)
        if not self.forward:
            return text
        return ID_TOKEN.sub(lambda m: self.forward.get(m.group(0), m.group(0)), text)

    def map_path(self, path: str) -> str:
        """A request path of the target as the reference's: a hosted page's path as the
        reference's page, then ids."""
        page = self.pages.get(path)
        if page is not None:
            return page
        bare, sep, query = path.partition("?")
        return self.map_text(self.pages.get(bare, bare) + sep + query)


@dataclass(frozen=True)
class Difference:
    """Where two answers differ after normalisation."""

    kind: str  # status | body | header
    where: str  # JSON pointer, header name or "status"
    target: Any
    reference: Any

    def describe(self) -> str:
        place = {"status": "the status", "header": f"header {self.where}"}.get(
            self.kind, f"{self.where or '/'}"
        )
        return f"{place}: target {_short(self.target)}, reference {_short(self.reference)}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:200] + "…"


@dataclass(frozen=True)
class Answer:
    """One server's answer: status, headers (lower-case names) and the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @cached_property
    def json(self) -> Any:
        if not self.body:
            return NOT_JSON
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return NOT_JSON


NOT_JSON: Any = object()


@dataclass(frozen=True)
class Leaf:
    kind: str  # id | time | page
    schema: Mapping[str, Any]


class Normalisation:
    """What the spec leaves free in answers, read once from the spec."""

    def __init__(self, spec: ApiSpec) -> None:
        self.spec = spec
        self.components = (spec.document.get("components") or {}).get("schemas") or {}
        self.sent = self._request_properties()
        self.free = [
            (point.id, part) for point in spec.implementation_defined for part in point.answers
        ]

    # -- reading the spec --------------------------------------------------------------------
    def leaf(self, name: str | None, schema: Any) -> Leaf | None:
        """The normalised kind of a value with ``schema`` (the property ``name``'s, None for a
        member of a map or an item), or None when it is compared as it is."""
        for ref in _refs(schema):
            target_name = ref.rsplit("/", 1)[-1]
            target = self.spec.deref({"$ref": ref})
            if not isinstance(target, Mapping):
                continue
            if target.get("format") == "date-time":
                return Leaf("time", target)
            if target_name.endswith("Id") and target_name in self.components:
                return Leaf("id", target)
            if target_name == "Url" and name is not None and name not in self.sent:
                return Leaf("page", target)
        if isinstance(schema, Mapping) and schema.get("format") == "date-time":
            return Leaf("time", schema)
        return None

    def child(self, schema: Any, key: str | int) -> tuple[Any, str | None]:
        """The schema of ``key`` in a value of ``schema`` and whether it is a named property
        (its name, None for a map member or an array item)."""
        for node in self._shapes(schema):
            if isinstance(key, int):
                if isinstance(node.get("items"), Mapping):
                    return node["items"], None
                continue
            properties = node.get("properties") or {}
            if key in properties:
                return properties[key], key
            if isinstance(node.get("additionalProperties"), Mapping):
                return node["additionalProperties"], None
        return None, None

    def _shapes(self, schema: Any, depth: int = 0) -> Iterator[Mapping[str, Any]]:
        """``schema`` and the members of its oneOf/anyOf/allOf, refs followed."""
        node = self.spec.deref(schema) if isinstance(schema, Mapping) else None
        if not isinstance(node, Mapping) or depth > 20:
            return
        yield node
        for keyword in ("oneOf", "anyOf", "allOf"):
            for member in node.get(keyword) or ():
                yield from self._shapes(member, depth + 1)

    def response_schema(self, operation: str | None, status: int) -> Any:
        op = self.spec.operations.get(operation) if operation else None
        if op is None:
            return None
        documented = op.responses.get(str(status)) or op.responses.get(f"{str(status)[0]}XX")
        documented = documented or op.responses.get("default")
        return documented.schema if documented is not None else None

    def _request_properties(self) -> set[str]:
        names: set[str] = set()
        for op in self.spec.operations.values():
            if op.request_schema is not None:
                names |= {name for name, _ in _properties(self.spec, {"r": op.request_schema})}
        return names

    @cached_property
    def text_headers(self) -> set[str]:
        return {m.lower() for m in re.findall(r"`([A-Za-z][A-Za-z0-9-]*)[`:]", self.spec.text)}

    @cached_property
    def declared_headers(self) -> set[str]:
        """The answer headers the spec declares on any response (lower-case)."""
        names = {"content-type"}
        for op in self.spec.operations.values():
            for response in op.responses.values():
                names |= {h.lower() for h in response.headers}
        return names

    def named_headers(self) -> set[str]:
        return self.declared_headers

    def free_parts(self, operation: str | None) -> list[tuple[str, FreeAnswerPart]]:
        return [(pid, p) for pid, p in self.free if operation and p.applies_to(operation)]

    # -- comparing ---------------------------------------------------------------------------
    def compare(
        self, operation: str | None, target: Answer, reference: Answer, pairing: Pairing
    ) -> tuple[list[Difference], list[str]]:
        """(differences, problems of the reference's own answer). ``pairing`` learns the ids
        the two answers hold."""
        differences: list[Difference] = []
        problems: list[str] = []
        if target.status != reference.status:
            # Two answers to different outcomes: their bodies are not comparable field by field
            # (both are shown whole in the finding).
            return [Difference("status", "status", target.status, reference.status)], problems
        free = self.free_parts(operation)
        walk = _Walk(self, pairing, [p for _, p in free if p.body is not None])
        walk.schema = self.response_schema(operation, target.status)
        t_body, r_body = target.json, reference.json
        if t_body is NOT_JSON or r_body is NOT_JSON:
            if (t_body is NOT_JSON) != (r_body is NOT_JSON):
                differences.append(
                    Difference(
                        "body",
                        "",
                        _text(target.body) if t_body is NOT_JSON else t_body,
                        _text(reference.body) if r_body is NOT_JSON else r_body,
                    )
                )
        else:
            walk.run(t_body, r_body)
            differences += walk.differences
            problems += walk.problems
        differences += self._headers(operation, target, reference, pairing, free)
        return differences, problems

    def _headers(
        self,
        operation: str | None,
        target: Answer,
        reference: Answer,
        pairing: Pairing,
        free: list[tuple[str, FreeAnswerPart]],
    ) -> list[Difference]:
        differences = []
        free_headers = {p.header.lower(): p for _, p in free if p.header}
        names = (
            self.named_headers()
            | set(free_headers)
            | {
                name
                for name in (*target.headers, *reference.headers)
                if name.lower() in self.text_headers
            }
        )
        for name in sorted(names - _TRANSPORT):
            t_value, r_value = target.headers.get(name), reference.headers.get(name)
            if name == "content-type" and JSON_MEDIA_TYPE not in (
                _media_type(t_value),
                _media_type(r_value),
            ):
                # pages and documents: the spec names their media type, parameters are free
                # (http.answer-media-type decides only the API's JSON answers: no parameter)
                t_value = _media_type(t_value)
                r_value = _media_type(r_value)
            part = free_headers.get(name)
            if part is not None:
                if part.values is None or (t_value in part.values and r_value in part.values):
                    continue
            elif t_value is not None and pairing.map_text(t_value) == r_value:
                continue
            if t_value != r_value:
                differences.append(Difference("header", name, t_value, r_value))
        return differences


JSON_MEDIA_TYPE = "application/json"

# Framing of the message, not its meaning: the spec may name them (limits on request bodies) but
# two equal answers can be framed otherwise.
_TRANSPORT = {"content-length", "transfer-encoding", "connection", "keep-alive", "date", "server"}


def _media_type(value: str | None) -> str | None:
    return value.split(";", 1)[0].strip().lower() if value is not None else None


def _text(body: bytes) -> str:
    return body[:500].decode("utf-8", "replace")


def _refs(schema: Any) -> Iterator[str]:
    if not isinstance(schema, Mapping):
        return
    if isinstance(schema.get("$ref"), str):
        yield schema["$ref"]
    for keyword in ("oneOf", "anyOf", "allOf"):
        for member in schema.get(keyword) or ():
            yield from _refs(member)


def _properties(
    spec: ApiSpec, roots: Mapping[str, Any], _seen: set[int] | None = None
) -> Iterator[tuple[str, Any]]:
    """Every (property name, its schema) under ``roots``, following refs once."""
    seen = _seen if _seen is not None else set()
    stack = list(roots.values())
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            node = spec.deref(node)
        if not isinstance(node, Mapping) or id(node) in seen:
            continue
        seen.add(id(node))
        for name, sub in (node.get("properties") or {}).items():
            yield str(name), sub
            stack.append(sub)
        for keyword in ("oneOf", "anyOf", "allOf"):
            stack.extend(node.get(keyword) or ())
        for keyword in ("items", "additionalProperties"):
            if isinstance(node.get(keyword), Mapping):
                stack.append(node[keyword])


def _matches(pattern: str, pointer: str) -> bool:
    """Whether a JSON pointer of ``x-implementation-defined`` ('*' any segment) names ``pointer``
    or one of its parents."""
    want = pattern.split("/")[1:] if pattern else []
    have = pointer.split("/")[1:] if pointer else []
    if len(have) < len(want):
        return False
    return all(w in ("*", h) for w, h in zip(want, have, strict=False))


class _Walk:
    """One parallel walk of two JSON answers."""

    def __init__(self, norm: Normalisation, pairing: Pairing, free: list[FreeAnswerPart]):
        self.norm = norm
        self.pairing = pairing
        self.free = free
        self.differences: list[Difference] = []
        self.problems: list[str] = []
        self.times: list[tuple[str, Any, Any]] = []
        self.strings: list[tuple[str, str, str]] = []  # compared once every id is paired
        self.schema: Any = None  # the documented schema of the target's answer

    def run(self, target: Any, reference: Any) -> None:
        self.visit(target, reference, "", None, self.schema)
        for where, t, r in self.strings:
            if self.pairing.map_text(t) != r:
                self.differences.append(Difference("body", where, t, r))
        self._order()

    def differ(self, where: str, target: Any, reference: Any) -> None:
        self.differences.append(Difference("body", where, target, reference))

    def visit(self, t: Any, r: Any, where: str, name: str | None, schema: Any) -> None:
        part = next((p for p in self.free if p.body is not None and _matches(p.body, where)), None)
        if part is not None:
            if part.values is not None and (t not in part.values or r not in part.values):
                self.differ(where, t, r)
            return
        leaf = self.norm.leaf(name, schema) if schema is not None else None
        if leaf is not None and isinstance(t, str) and isinstance(r, str):
            self.leaf(leaf, t, r, where)
            return
        if isinstance(t, dict) and isinstance(r, dict):
            for key in sorted(set(t) | set(r)):
                here = f"{where}/{_escape(key)}"
                if key not in t or key not in r:
                    self.differ(here, t.get(key, "(absent)"), r.get(key, "(absent)"))
                else:
                    self.visit(t[key], r[key], here, *self._child(schema, key))
            return
        if isinstance(t, list) and isinstance(r, list):
            if len(t) != len(r):
                self.differ(f"{where}/length", len(t), len(r))
            for index, (t_item, r_item) in enumerate(zip(t, r, strict=False)):
                self.visit(t_item, r_item, f"{where}/{index}", *self._child(schema, index))
            return
        if isinstance(t, str) and isinstance(r, str):
            self.strings.append((where, t, r))
            return
        if type(t) is not type(r) or t != r:
            self.differ(where, t, r)

    def _child(self, schema: Any, key: str | int) -> tuple[str | None, Any]:
        child, name = self.norm.child(schema, key) if schema is not None else (None, None)
        return name, child

    def leaf(self, leaf: Leaf, t: str, r: str, where: str) -> None:
        spec = self.norm.spec
        if spec.validation_errors(leaf.schema, r):
            self.problems.append(f"{where}: {r!r} does not match its schema")
        if spec.validation_errors(leaf.schema, t):
            self.differ(where, t, r)
            return
        if leaf.kind == "id":
            if not self.pairing.pair(t, r):
                self.differ(where, t, r)
        elif leaf.kind == "time":
            self.times.append((where, t, r))
        else:
            t_url, r_url = urlsplit(t), urlsplit(r)
            if t_url.path and r_url.path:
                self.pairing.pages.setdefault(_path(t_url), _path(r_url))
                r_query = dict(parse_qsl(r_url.query))
                for name, value in parse_qsl(t_url.query):
                    other = r_query.get(name)
                    if other and len(value) >= _PAGE_VALUE_MIN and value != other:
                        self.pairing.page_values.setdefault(value, other)

    def _order(self) -> None:
        """Timestamps of one answer: the same order on both sides (equal, before, after)."""
        parsed = [
            (w, t_time, r_time)
            for w, t, r in self.times
            if (t_time := _time(t)) is not None and (r_time := _time(r)) is not None
        ]
        for i, (w1, t1, r1) in enumerate(parsed):
            for w2, t2, r2 in parsed[i + 1 :]:
                if _sign(t1, t2) != _sign(r1, r2):
                    self.differ(f"{w1} vs {w2}", _word(_sign(t1, t2)), _word(_sign(r1, r2)))
                    return


_PAGE_VALUE_MIN = 16  # shorter query values (a page number, a flag) are not secrets to map


def _path(url: SplitResult) -> str:
    return url.path + (f"?{url.query}" if url.query else "")


def _time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _sign(a: datetime, b: datetime) -> int:
    return int(a > b) - int(a < b)


def _word(sign: int) -> str:
    return {-1: "before", 0: "equal", 1: "after"}[sign]


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")
