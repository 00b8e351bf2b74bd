"""Read untrusted YAML and JSON documents (specs, Postman collections, results files) fast and safely.

Every reader of a document someone else wrote goes through here, so one place guarantees: libyaml
(``yaml.CSafeLoader``) when available, one parse per document (source lines come from the same
parse when asked for), and a refusal with a one-line error, never a ``RecursionError``, for
documents nested deeper than :data:`MAX_DEPTH` or blown up by YAML aliases."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from .errors import NeuropayError

MAX_DEPTH = 100  # real specs and collections stay under 20; every tool here recurses fine below 100
MAX_NODES = 2_000_000  # nodes after expanding YAML aliases: stops "billion laughs" documents
# Bytes of any input file (a spec, a collection, a key or accept file, recorded traffic): the
# largest real spec is ~10 MB; /dev/zero or an endless pipe is refused here, not by the OOM killer.
MAX_INPUT_BYTES = 64 << 20
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building a large tree.

    Every node the parser allocates counts towards a collection, so building 50,000 of them
    runs the collector hundreds of times over an ever larger heap: two thirds of the time of
    loading a large YAML spec. Trees without cycles are freed by reference counting anyway.

    On the way out the new objects move to the oldest generation unscanned (freeze, then
    unfreeze): re-enabling the collector as is would walk every one of them at the next
    allocation, a third of loading Stripe's YAML. Skipped when someone froze objects on purpose."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


class DocumentError(NeuropayError):
    """A document cannot be read, is not YAML/JSON, or is nested too deeply to process safely."""


class TooDeepError(DocumentError):
    """A document nested deeper than the limit (a depth bomb, or a careless generator)."""


def escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def read_text(path: Path, what: str, limit: int = MAX_INPUT_BYTES) -> str:
    """The file's text (newlines universal, as ``Path.read_text``); a one-line
    :class:`DocumentError` when it is missing, unreadable, not UTF-8 or larger than ``limit``
    bytes (read no further than that: a device or a pipe may never end)."""
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
    except FileNotFoundError:
        raise DocumentError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise DocumentError(f"{what} {path} is a directory, not a file") from None
    except OSError as exc:
        raise DocumentError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise DocumentError(
            f"{what} {path} is larger than {limit >> 20} MB; refusing to read it "
            "(an endless input?)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"cannot read {what} {path}: not UTF-8 text ({exc.reason})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _too_deep(what: str, limit: int) -> DocumentError:
    return TooDeepError(
        f"{what} is nested deeper than {limit} levels; refusing to process it (a depth bomb?)"
    )


def check_depth(value: Any, what: str, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`DocumentError` when ``value`` nests dicts/lists deeper than ``limit``.

    Iterative, so it cannot overflow the stack it protects."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise _too_deep(what, limit)
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))


def parse_json(text: str, what: str, limit: int = MAX_DEPTH) -> Any:
    """JSON text as Python data; :class:`DocumentError` (one line) when invalid or too deep."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep(what, limit) from None
    except json.JSONDecodeError as exc:
        raise DocumentError(f"{what} is not valid JSON: {exc}") from None
    check_depth(value, what, limit)
    return value


def _check_nodes(root: yaml.Node, what: str, limit: int, lines: dict[str, int] | None) -> None:
    """Depth and alias-expansion limits on a composed YAML tree; fills ``lines`` when given."""
    stack: list[tuple[yaml.Node, int, str]] = [(root, 1, "")]
    visited = 0
    while stack:
        node, depth, pointer = stack.pop()
        # Every child counts, scalars too: a list of 1,000 aliases of a list of 1,000 scalars is
        # a million nodes to every reader that walks it.
        visited += 1 + (len(node.value) if isinstance(node, yaml.CollectionNode) else 0)
        if depth > limit:
            raise _too_deep(what, limit)
        if visited > MAX_NODES:
            raise DocumentError(
                f"{what} expands to more than {MAX_NODES:,} nodes through YAML aliases; "
                "refusing to process it"
            )
        if lines is not None and pointer not in lines:
            lines[pointer] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = f"{pointer}/{escape_pointer(str(key.value))}" if lines is not None else ""
                if lines is not None:
                    lines[child] = key.start_mark.line + 1
                if isinstance(value, yaml.CollectionNode):
                    stack.append((value, depth + 1, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = f"{pointer}/{index}" if lines is not None else ""
                if isinstance(item, yaml.CollectionNode):
                    stack.append((item, depth + 1, child))
                elif lines is not None:
                    lines[child] = item.start_mark.line + 1


_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _NULL = _TAG + "str", _TAG + "int", _TAG + "float", _TAG + "null"
_MAP, _SEQ, _MERGE = _TAG + "map", _TAG + "seq", _TAG + "merge"


def _construct(loader: Any, root: yaml.Node, what: str) -> Any:
    """The Python data of a composed YAML tree, as ``SafeLoader`` builds it but faster: the
    common tags directly, anything else (timestamps, merge keys, odd numbers) by the loader."""
    memo: dict[int, Any] = {}  # shared (aliased) nodes stay shared, never rebuilt

    def build(node: yaml.Node) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        if isinstance(node, yaml.ScalarNode):
            value = node.value
            if tag == _INT and value.isdigit() and (value == "0" or value[0] != "0"):
                return int(value)
            if tag == _FLOAT:
                try:
                    return float(value)
                except ValueError:
                    pass
            if tag == _NULL:
                return None
            return loader.construct_object(node, deep=True)
        found = memo.get(id(node))
        if found is not None:
            return found
        if tag == _MAP and isinstance(node, yaml.MappingNode):
            if any(key.tag == _MERGE for key, _ in node.value):
                merged = loader.construct_object(node, deep=True)
                memo[id(node)] = merged
                return merged
            mapping: dict[Any, Any] = {}
            memo[id(node)] = mapping
            for key, value in node.value:
                try:
                    mapping[build(key)] = build(value)
                except TypeError:
                    raise DocumentError(
                        f"{what} has an unhashable mapping key at line {key.start_mark.line + 1}"
                    ) from None
            return mapping
        if tag == _SEQ and isinstance(node, yaml.SequenceNode):
            sequence: list[Any] = []
            memo[id(node)] = sequence
            sequence.extend(build(item) for item in node.value)
            return sequence
        return loader.construct_object(node, deep=True)

    return build(root)


def parse_yaml(
    text: str, what: str, positions: bool = False, limit: int = MAX_DEPTH
) -> tuple[Any, dict[str, int] | None]:
    """YAML (or JSON) text as Python data, with the 1-based source line of every JSON pointer
    (without ``#``) when ``positions`` is true. One parse serves both."""
    loader = _LOADER(text)
    lines: dict[str, int] | None = {} if positions else None
    try:
        with gc_paused():
            node = loader.get_single_node()
            if node is None:
                return None, lines
            _check_nodes(node, what, limit, lines)
            return _construct(loader, node, what), lines
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        if "nesting depth" in str(problem):  # libyaml stops at 1,000 levels by itself
            raise _too_deep(what, limit) from None
        raise DocumentError(f"{what} is not valid YAML or JSON{where}: {problem}") from None
    except RecursionError:  # a last resort: _check_nodes should have refused first
        raise _too_deep(what, limit) from None
    finally:
        loader.dispose()


def parse_document(
    text: str, what: str, positions: bool = False, limit: int = MAX_DEPTH
) -> tuple[Any, dict[str, int] | None]:
    """A YAML or JSON document; JSON goes through the (far faster) JSON parser unless source
    positions are wanted."""
    if not positions and text.lstrip().startswith(("{", "[")):
        try:
            with gc_paused():
                value = json.loads(text)
        except RecursionError:
            raise _too_deep(what, limit) from None
        except ValueError:
            pass  # YAML flow style that is not JSON: the YAML parser decides
        else:
            check_depth(value, what, limit)
            return value, None
    return parse_yaml(text, what, positions, limit)


def read_json(path: Path, what: str, limit: int = MAX_DEPTH) -> Any:
    """A JSON file (a Postman collection, a results file) read safely."""
    return parse_json(read_text(path, what), f"{what} {path}", limit)
