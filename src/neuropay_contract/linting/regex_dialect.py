"""Is a ``pattern`` valid ECMA-262, with and without the ``u`` flag?

JSON Schema 2020-12 (Core, "Regular Expressions") says patterns SHOULD be valid in the ECMA-262
dialect and SHOULD be built with the ``u`` flag (or processed with its Unicode semantics).
Without ``u``, ECMA-262's Annex B (web browsers' legacy syntax) accepts things ``u`` refuses: a lone
``]``, ``{`` or ``}``, an identity escape such as ``\\-`` or ``\\a``, ``\\8``, a class escape as the
end of a range (``[\\w-z]``), a quantified lookahead. Validators that compile with ``u`` (Ajv in
strict Unicode mode, jsonschema-rs, openapi-spec-validator through it) then reject a pattern that
browsers and most regex libraries accept. :func:`check` tells which of the two it is, and where.

A scanner of ECMA-262's pattern grammar, not a regex engine: it reads the syntax, never matches."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SYNTAX = set("^$\\.*+?()[]{}|/")
_QUANTIFIER = re.compile(r"\{(\d+)(,(\d*))?\}")
_NAME = re.compile(r"<([A-Za-z_$][\w$]*)>")
_HEX2 = re.compile(r"[0-9A-Fa-f]{2}")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_CODEPOINT = re.compile(r"\{([0-9A-Fa-f]+)\}")
_PROPERTY = re.compile(r"\{[A-Za-z_]+(=[A-Za-z0-9_]+)?\}")


@dataclass(frozen=True)
class Problem:
    offset: int
    reason: str

    def __str__(self) -> str:
        return f"{self.reason} at offset {self.offset}"


@dataclass(frozen=True)
class Verdict:
    """What ECMA-262 says of a pattern in each mode (None: valid in that mode)."""

    with_u: Problem | None
    without_u: Problem | None

    @property
    def valid(self) -> bool:
        return self.with_u is None and self.without_u is None


class _Invalid(Exception):
    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.problem = Problem(offset, reason)


def _groups(pattern: str) -> tuple[int, set[str]]:
    """The capturing groups (count and names): needed to tell a back-reference from an escape."""
    count, names, i, in_class = 0, set(), 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            named = _NAME.match(pattern, i + 2) if pattern.startswith("(?<", i) else None
            if named:
                names.add(named.group(1))
            if not pattern.startswith("(?", i) or named:
                count += 1
        i += 1
    return count, names


class _Scanner:
    def __init__(self, pattern: str, unicode: bool) -> None:
        self.p = pattern
        self.u = unicode
        self.groups, self.names = _groups(pattern)
        self.i = 0

    def fail(self, reason: str, offset: int | None = None) -> _Invalid:
        return _Invalid(self.i if offset is None else offset, reason)

    def scan(self) -> None:
        stack: list[tuple[int, bool]] = []  # (offset of "(", is a lookahead)
        atom = False  # whether a quantifier may follow here
        lookahead_closed = False
        while self.i < len(self.p):
            ch = self.p[self.i]
            start = self.i
            if ch == "\\":
                atom = self._escape()
                lookahead_closed = False
                continue
            if ch == "[":
                self._class()
                atom, lookahead_closed = True, False
                continue
            if ch == "(":
                atom, lookahead_closed = False, False
                stack.append((start, self._group_open()))
                continue
            if ch == ")":
                if not stack:
                    raise self.fail("unmatched ')'")
                _offset, lookahead = stack.pop()
                self.i += 1
                atom, lookahead_closed = not lookahead, lookahead
                continue
            if ch in "*+?" or (ch == "{" and _QUANTIFIER.match(self.p, self.i)):
                self._quantifier(atom, lookahead_closed)
                atom, lookahead_closed = False, False
                continue
            if ch in "^$|":
                atom = False
            elif ch in "{}]":
                if self.u:
                    raise self.fail(f"a lone '{ch}' (escape it as '\\{ch}')")
                atom = True
            else:
                atom = True
            lookahead_closed = False
            self.i += 1
        if stack:
            raise self.fail("unterminated group '('", stack[-1][0])

    def _quantifier(self, atom: bool, lookahead: bool) -> None:
        start = self.i
        match = _QUANTIFIER.match(self.p, self.i)
        if match:
            low, high = int(match.group(1)), match.group(3)
            if high and int(high) < low:
                raise self.fail(f"quantifier {match.group(0)} has its numbers out of order")
            self.i = match.end()
        else:
            self.i += 1
        if not atom and not (lookahead and not self.u):
            what = "a lookahead" if lookahead else "nothing"
            raise self.fail(f"quantifier '{self.p[start : self.i]}' repeats {what}", start)
        if self.i < len(self.p) and self.p[self.i] == "?":
            self.i += 1  # lazy

    def _group_open(self) -> bool:
        self.i += 1
        if not self.p.startswith("?", self.i):
            return False
        for prefix, lookahead in (("?:", False), ("?=", True), ("?!", True)):
            if self.p.startswith(prefix, self.i):
                self.i += 2
                return lookahead
        if self.p.startswith("?<=", self.i) or self.p.startswith("?<!", self.i):
            self.i += 3
            return False
        named = _NAME.match(self.p, self.i + 1) if self.p.startswith("?<", self.i) else None
        if named:
            self.i = named.end()
            return False
        raise self.fail("unknown group '(?' (ECMA-262 has (?:, (?=, (?!, (?<=, (?<! and (?<name>)")

    def _escape(self, in_class: bool = False) -> bool:
        """Read one escape from ``\\``; returns False for an assertion (\\b, \\B outside a class)."""
        start = self.i
        self.i += 1
        if self.i >= len(self.p):
            raise self.fail("'\\' at the end of the pattern", start)
        c = self.p[self.i]
        self.i += 1
        if c in "dDwWsSfnrtv" or c in _SYNTAX:
            return True
        if c in "bB":
            return in_class
        if c == "-" and in_class:
            return True
        if c == "0" and not (self.i < len(self.p) and self.p[self.i].isdigit()):
            return True
        if c.isdigit():
            digits = re.match(r"\d*", self.p[self.i :])
            number = c + (digits.group(0) if digits else "")
            if not in_class and c != "0" and int(number) <= self.groups:
                self.i += len(number) - 1
                return True
            if self.u:
                raise self.fail(
                    f"'\\{number}' is neither a group that exists nor an escape with 'u' "
                    "(a legacy octal or identity escape)",
                    start,
                )
            return True
        if c == "c":
            if self.i < len(self.p) and self.p[self.i].isascii() and self.p[self.i].isalpha():
                self.i += 1
                return True
            if self.u:
                raise self.fail("'\\c' without a control letter", start)
            return True
        if c == "x":
            if _HEX2.match(self.p, self.i):
                self.i += 2
                return True
            if self.u:
                raise self.fail("'\\x' without two hex digits", start)
            return True
        if c == "u":
            if _HEX4.match(self.p, self.i):
                self.i += 4
                return True
            point = _CODEPOINT.match(self.p, self.i) if self.u else None
            if point and int(point.group(1), 16) <= 0x10FFFF:
                self.i = point.end()
                return True
            if self.u:
                raise self.fail("'\\u' without four hex digits or {code point}", start)
            return True
        if c in "pP" and self.u:
            prop = _PROPERTY.match(self.p, self.i)
            if not prop:
                raise self.fail(f"'\\{c}' without a {{Property}}", start)
            self.i = prop.end()
            return True
        if c == "k" and (self.u or self.names):
            name = _NAME.match(self.p, self.i)
            if not name or name.group(1) not in self.names:
                raise self.fail("'\\k' without the <name> of a named group", start)
            self.i = name.end()
            return True
        if self.u:
            raise self.fail(
                f"'\\{c}' is an identity escape, which only Annex B (no 'u') allows; "
                f"write '{c}'" + (" or escape it inside a class" if c == "-" else ""),
                start,
            )
        return True

    def _class_atom(self) -> tuple[int | None, int]:
        """One class member: (its code point, or None for a class escape such as \\w; offset)."""
        start = self.i
        if self.p[self.i] != "\\":
            self.i += 1
            return ord(self.p[start]), start
        self._escape(in_class=True)
        text = self.p[start : self.i]
        simple = {"\\b": 8, "\\f": 12, "\\n": 10, "\\r": 13, "\\t": 9, "\\v": 11, "\\0": 0}
        if text in simple:
            return simple[text], start
        if text[1] in "dDwWsSpP":
            return None, start
        if text[1] == "x" and len(text) == 4:
            return int(text[2:], 16), start
        if text[1] == "u" and len(text) == 6:
            return int(text[2:], 16), start
        if text[1] == "c" and len(text) == 3:
            return ord(text[2]) % 32, start
        return ord(text[-1]), start

    def _class(self) -> None:
        start = self.i
        self.i += 1
        if self.p.startswith("^", self.i):
            self.i += 1
        while True:
            if self.i >= len(self.p):
                raise self.fail("unterminated character class '['", start)
            if self.p[self.i] == "]":
                self.i += 1
                return
            low, low_at = self._class_atom()
            if (
                self.p.startswith("-", self.i)
                and self.i + 1 < len(self.p)
                and self.p[self.i + 1] != "]"
            ):
                self.i += 1
                high, _ = self._class_atom()
                if low is None or high is None:
                    if self.u:
                        raise self.fail("a class escape (\\d, \\w, \\s) as a range's end", low_at)
                elif low > high:
                    raise self.fail("a character range out of order", low_at)


def _one(pattern: str, unicode: bool) -> Problem | None:
    try:
        _Scanner(pattern, unicode).scan()
    except _Invalid as exc:
        return exc.problem
    return None


def check(pattern: str) -> Verdict:
    """ECMA-262's verdict on ``pattern`` with the ``u`` flag and without it (Annex B)."""
    return Verdict(_one(pattern, True), _one(pattern, False))
