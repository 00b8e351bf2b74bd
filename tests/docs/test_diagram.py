"""The lifecycle diagram: every state and transition drawn, final states marked, nothing drawn on
top of anything else, and odd lifecycles (cycles, loops, stray states) laid out too."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from neuropay_contract.docs.diagram import Layout, lifecycle_svg
from neuropay_contract.lifecycle import Lifecycle, parse_lifecycle
from neuropay_contract.spec import load_spec

SVG = "{http://www.w3.org/2000/svg}"
CHECKOUT = load_spec().require_lifecycle()
ODD = parse_lifecycle(
    {
        "states": {"draft": {}, "open": {}, "closed": {}, "archived": {}, "orphan": {}},
        "final": ["archived"],
        "transitions": [
            {"name": "make", "from": None, "to": "draft", "operation": "create"},
            {"name": "open", "from": "draft", "to": "open", "operation": "open"},
            {"name": "close", "from": "open", "to": "closed", "operation": "close"},
            {"name": "reopen", "from": "closed", "to": "open", "operation": "reopen"},  # cycle
            {"name": "back", "from": "closed", "to": "draft", "event": "sys.reset"},  # cycle
            {"name": "poke", "from": "open", "to": "open", "operation": "poke"},  # self-loop
            {
                "name": "archive",
                "from": "closed",
                "to": "archived",
                "operation": "archive",
                "guard": ["old_enough"],
            },
        ],
    }
)


def _texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


@pytest.mark.parametrize("lifecycle", [CHECKOUT, ODD], ids=["checkout", "odd"])
def test_every_state_and_transition_is_drawn(lifecycle: Lifecycle) -> None:
    svg = lifecycle_svg(lifecycle)
    root = ET.fromstring(svg)  # well-formed XML
    texts = _texts(svg)
    for state in lifecycle.states:
        assert state in texts
    words = " ".join(texts).replace("[", " ").replace("]", " ").replace(",", " ").split()
    for t in lifecycle.transitions:
        assert (t.operation or t.event) in texts
        assert set(t.guard) <= set(words)
    nodes = {g.get("data-state"): g for g in root.iter(f"{SVG}g")}
    for state in lifecycle.states:
        rects = nodes[state].findall(f"{SVG}rect")
        assert len(rects) == (2 if state in lifecycle.final else 1), state  # double border
    edges = [p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]
    pairs = {(t.source, t.target) for t in lifecycle.transitions}
    assert len(edges) == len(pairs)  # one arrow per pair; its label lists every transition


@pytest.mark.parametrize("lifecycle", [CHECKOUT, ODD], ids=["checkout", "odd"])
def test_nothing_overlaps(lifecycle: Lifecycle) -> None:
    layout = Layout(lifecycle)
    boxes = [
        (n.x - n.width / 2, n.y - n.height / 2, n.x + n.width / 2, n.y + n.height / 2, n.key)
        for n in layout.nodes.values()
        if n.kind in ("state", "label", "start")
    ]
    for i, a in enumerate(boxes):
        assert a[0] >= 0 and a[1] >= 0 and a[2] <= layout.width and a[3] <= layout.height
        for b in boxes[i + 1 :]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, f"{a[4]!r} overlaps {b[4]!r}"


def test_states_follow_creation_downwards() -> None:
    layout = Layout(CHECKOUT)
    y = {key: n.y for key, n in layout.nodes.items() if n.kind == "state"}
    for t in CHECKOUT.transitions:
        if t.source is not None and t.source != t.target:
            assert y[t.source] < y[t.target], t.name  # the checkout lifecycle has no cycle
    assert layout.width < 850  # fits the page column at 1200 px without shrinking the text


def test_names_are_escaped() -> None:
    lifecycle = parse_lifecycle(
        {
            "states": {"<b>": {}, "a&b": {}},
            "transitions": [{"name": "x", "from": "<b>", "to": "a&b", "operation": "<i>"}],
        }
    )
    svg = lifecycle_svg(lifecycle, "Title <x>")
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "<i>" not in svg
    ET.fromstring(svg)
