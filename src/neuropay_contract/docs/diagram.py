"""The lifecycle as an SVG diagram, laid out in pure Python (no Graphviz, works offline).

A small Sugiyama-style layered layout, top to bottom: cycles are broken by reversing back edges,
states get the longest-path layer from creation, every edge spanning several layers is split into
chained dummy nodes, and each edge's label is itself a node in the row between two layers (as dagre
does), so labels take part in ordering and spacing and never sit on a state or on one another.
Rows are ordered by barycentre sweeps to cut crossings, and x positions relax toward the mean of
the neighbours while keeping each row's order and spacing.
"""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape

from ..lifecycle import Lifecycle

START = "\x00start"  # the creation dot: no state can have this name
FONT = 12
LABEL_FONT = 11
LINE = 14
NODE_H = 36
NODE_PAD = 26
GAP = 18
ROW_GAP = 24
MARGIN = 20
LOOP_W = 34
SWEEPS = 12
GUARD_LINE = 20


def text_width(text: str, size: float) -> float:
    """An estimate of the rendered width of ``text`` in a sans-serif font (no font metrics offline)."""
    wide = sum(1 for ch in text if ch.isupper() or ch in "mwMW@")
    return (len(text) * 0.56 + wide * 0.14) * size


@dataclass
class _Node:
    key: str
    rank: int
    width: float
    height: float
    kind: str  # "state", "start", "label" or "dummy"
    lines: list[str] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0
    order: float = 0.0
    loop: list[str] = field(default_factory=list)  # self-loop label lines


@dataclass
class _Edge:
    source: str
    target: str
    lines: list[str]
    dashed: bool
    reversed: bool = False
    chain: list[str] = field(default_factory=list)  # node keys from source to target


def _trigger(operation: str | None, event: str | None, guard: tuple[str, ...]) -> list[str]:
    """Label lines: the operation or event, then its guards in brackets, one guard a line when
    they would not fit on one (narrow labels keep the diagram at page width, text unscaled)."""
    lines = [operation or event or "?"]
    joined = f"[{', '.join(guard)}]"
    if guard and len(joined) <= GUARD_LINE:
        lines.append(joined)
    elif guard:
        lines += [
            ("[" if i == 0 else " ") + g + ("]" if i == len(guard) - 1 else ",")
            for i, g in enumerate(guard)
        ]
    return lines


def _edges(lifecycle: Lifecycle) -> tuple[list[_Edge], dict[str, list[str]]]:
    """One edge per (source, target) pair with one label line per transition; self-loops apart."""
    lines: dict[tuple[str, str], list[str]] = defaultdict(list)
    dashed: dict[tuple[str, str], bool] = {}
    loops: dict[str, list[str]] = defaultdict(list)
    for t in lifecycle.transitions:
        source = START if t.source is None else t.source
        text = _trigger(t.operation, t.event, t.guard)
        if source == t.target:
            loops[t.target] += text
            continue
        lines[(source, t.target)] += text
        # Creation that pays at once (a guard about the payment) is drawn dashed: it skips the
        # hosted page. The plain create is solid. Decided from guards, not from state names.
        auto = source == START and any("payment" in g for g in t.guard)
        dashed[(source, t.target)] = dashed.get((source, t.target), True) and auto
    edges = [_Edge(s, t, texts, dashed[(s, t)]) for (s, t), texts in lines.items()]
    return edges, loops


def _layers(states: list[str], edges: list[_Edge]) -> dict[str, int]:
    """Longest-path layers after reversing the back edges found by a depth-first search."""
    out: dict[str, list[_Edge]] = defaultdict(list)
    for e in edges:
        out[e.source].append(e)
    colour: dict[str, int] = {}

    def visit(node: str) -> None:
        colour[node] = 1
        for e in out[node]:
            state = colour.get(e.target, 0)
            if state == 1:
                e.reversed = True
            elif state == 0:
                visit(e.target)
        colour[node] = 2

    for root in [START, *states]:
        if colour.get(root, 0) == 0:
            visit(root)
    preds: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        upper, lower = (e.target, e.source) if e.reversed else (e.source, e.target)
        preds[lower].append(upper)
    rank: dict[str, int] = {}

    def depth(node: str) -> int:
        if node not in rank:
            rank[node] = 0  # provisional: the graph is acyclic now, this only guards recursion
            rank[node] = max((depth(p) + 1 for p in preds[node]), default=0)
        return rank[node]

    for node in [START, *states]:
        depth(node)
    if not any(e.source == START for e in edges):
        rank.pop(START, None)
    return rank


class Layout:
    def __init__(self, lifecycle: Lifecycle) -> None:
        self.edges, loops = _edges(lifecycle)
        self.final = set(lifecycle.final)
        states = list(lifecycle.states)
        for e in self.edges:  # transitions may name states the states map forgot
            for end in (e.source, e.target):
                if end != START and end not in states:
                    states.append(end)
        layer = _layers(states, self.edges)
        self.nodes: dict[str, _Node] = {}
        for key, lay in layer.items():
            if key == START:
                self.nodes[key] = _Node(key, 2 * lay, 18, 18, "start")
                continue
            width = text_width(key, FONT) + NODE_PAD
            node = _Node(key, 2 * lay, max(width, 70), NODE_H, "state", loop=loops.get(key, []))
            if node.loop:
                node.width += LOOP_W + max(text_width(t, LABEL_FONT) for t in node.loop)
            self.nodes[key] = node
        for index, e in enumerate(self.edges):
            upper, lower = (e.target, e.source) if e.reversed else (e.source, e.target)
            top, bottom = self.nodes[upper].rank, self.nodes[lower].rank
            chain = [upper]
            for r in range(top + 1, bottom):
                key = f"\x00{index}:{r}"
                if r == top + 1:
                    width = max(text_width(t, LABEL_FONT) for t in e.lines) + 8
                    self.nodes[key] = _Node(key, r, width, LINE * len(e.lines), "label", e.lines)
                else:
                    self.nodes[key] = _Node(key, r, 8, 0, "dummy")
                chain.append(key)
            chain.append(lower)
            e.chain = chain
        self.up: dict[str, list[str]] = defaultdict(list)
        self.down: dict[str, list[str]] = defaultdict(list)
        for e in self.edges:
            for a, b in zip(e.chain, e.chain[1:], strict=False):
                self.down[a].append(b)
                self.up[b].append(a)
        self.rows: dict[int, list[str]] = defaultdict(list)
        for key in self.nodes:
            self.rows[self.nodes[key].rank].append(key)
        self._order()
        self._place()

    def _order(self) -> None:
        """Barycentre sweeps down and up; keeps the best ordering seen (fewest crossings)."""
        for row in self.rows.values():
            for i, key in enumerate(row):
                self.nodes[key].order = i
        ranks = sorted(self.rows)
        best = self._crossings(), {r: list(v) for r, v in self.rows.items()}
        for sweep in range(SWEEPS):
            sequence = ranks[1:] if sweep % 2 == 0 else ranks[-2::-1]
            neighbours = self.up if sweep % 2 == 0 else self.down
            for r in sequence:
                row = self.rows[r]

                row.sort(key=functools.partial(self._centre, neighbours=neighbours))
                for i, key in enumerate(row):
                    self.nodes[key].order = i
            crossings = self._crossings()
            if crossings < best[0]:
                best = crossings, {r: list(v) for r, v in self.rows.items()}
        self.rows = defaultdict(list, best[1])
        for row in self.rows.values():
            for i, key in enumerate(row):
                self.nodes[key].order = i

    def _centre(self, key: str, neighbours: Mapping[str, list[str]]) -> float:
        """Mean order of a node's neighbours in the row above (or below); its own without any."""
        near = [self.nodes[n].order for n in neighbours[key]]
        return sum(near) / len(near) if near else self.nodes[key].order

    def _crossings(self) -> int:
        pairs = [
            (self.nodes[a].order, self.nodes[b].order, self.nodes[a].rank)
            for a in self.down
            for b in self.down[a]
        ]
        count = 0
        for i, (a1, b1, r1) in enumerate(pairs):
            for a2, b2, r2 in pairs[i + 1 :]:
                if r1 == r2 and (a1 - a2) * (b1 - b2) < 0:
                    count += 1
        return count

    def _pack(self, row: list[str], wanted: list[float]) -> list[float]:
        """Positions as close to ``wanted`` as the row's order and spacing allow."""

        def gap(a: str, b: str) -> float:
            return (self.nodes[a].width + self.nodes[b].width) / 2 + GAP

        left = list(wanted)
        for i in range(1, len(row)):
            left[i] = max(left[i], left[i - 1] + gap(row[i - 1], row[i]))
        right = list(wanted)
        for i in range(len(row) - 2, -1, -1):
            right[i] = min(right[i], right[i + 1] - gap(row[i], row[i + 1]))
        # Both are valid packings; their mean is too (spacing constraints are linear).
        return [(a + b) / 2 for a, b in zip(left, right, strict=True)]

    def _place(self) -> None:
        for row in self.rows.values():
            x = 0.0
            for key in row:
                node = self.nodes[key]
                node.x = x + node.width / 2
                x += node.width + GAP
            shift = x / 2
            for key in row:
                self.nodes[key].x -= shift
        ranks = sorted(self.rows)
        for sweep in range(SWEEPS * 2):
            sequence = ranks if sweep % 2 == 0 else ranks[::-1]
            for r in sequence:
                row = self.rows[r]
                wanted = []
                for key in row:
                    near = [self.nodes[n].x for n in self.up[key] + self.down[key]]
                    wanted.append(sum(near) / len(near) if near else self.nodes[key].x)
                for key, x in zip(row, self._pack(row, wanted), strict=True):
                    self.nodes[key].x = x
        # Loops widen their state to the right; keep the state box where its centre was drawn.
        y = float(MARGIN)
        for r in ranks:
            row = self.rows[r]
            height = max(self.nodes[k].height for k in row)
            for key in row:
                self.nodes[key].y = y + height / 2
            y += height + ROW_GAP
        left = min(n.x - n.width / 2 for n in self.nodes.values())
        for node in self.nodes.values():
            node.x += MARGIN - left
        self.width = max(n.x + n.width / 2 for n in self.nodes.values()) + MARGIN
        self.height = y - ROW_GAP + MARGIN


def _box(node: _Node) -> tuple[float, float]:
    """Left edge and width of a state's box (a self-loop's room is to its right)."""
    extra = LOOP_W + max(text_width(t, LABEL_FONT) for t in node.loop) if node.loop else 0.0
    return node.x - node.width / 2, node.width - extra


def _ports(layout: Layout) -> dict[tuple[str, str], float]:
    """Where each edge leaves or enters a state: spread along the bottom (or top) edge of the box
    in the order of the neighbours, so arrows fan out instead of meeting in one point."""
    ports: dict[tuple[str, str], float] = {}
    for key, node in layout.nodes.items():
        if node.kind != "state":
            continue
        left, width = _box(node)
        for neighbours in (layout.down[key], layout.up[key]):
            ordered = sorted(set(neighbours), key=lambda k: layout.nodes[k].x)
            if not ordered:
                continue
            step = min(16.0, (width - 20) / max(len(ordered) - 1, 1))
            centre = left + width / 2
            for i, other in enumerate(ordered):
                ports[(key, other)] = centre + (i - (len(ordered) - 1) / 2) * step
    return ports


def _path(points: list[tuple[float, float]]) -> str:
    """A smooth top-to-bottom curve through the points (vertical tangents at each point)."""
    d = f"M {points[0][0]:.1f} {points[0][1]:.1f}"
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        mid = (y2 - y1) / 2
        d += f" C {x1:.1f} {y1 + mid:.1f}, {x2:.1f} {y2 - mid:.1f}, {x2:.1f} {y2:.1f}"
    return d


def lifecycle_svg(lifecycle: Lifecycle, title: str = "Lifecycle") -> str:
    """A top-to-bottom diagram: a start dot, states in layers by distance from creation, arrows
    labelled with the operation or event and its guard, final states drawn with a double border."""
    layout = Layout(lifecycle)
    nodes = layout.nodes
    w, h = layout.width, layout.height
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle" viewBox="0 0 {w:.0f} {h:.0f}" '
        f'width="{w:.0f}" height="{h:.0f}" role="img" aria-label="{escape(title)}">',
        "<defs>"
        '<marker id="lc-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#475467"/></marker></defs>',
        f"<style>.lifecycle text{{font:{FONT}px system-ui,sans-serif;fill:#1d2433}}"
        f".lifecycle .lbl{{font-size:{LABEL_FONT}px;fill:#344054}}"
        ".lifecycle .edge{fill:none;stroke:#667085;stroke-width:1.3}"
        ".lifecycle .state{fill:#eef4ff;stroke:#1d2433;stroke-width:1.2}"
        ".lifecycle .final{fill:#f2f4f7}</style>",
    ]
    ports = _ports(layout)
    for e in layout.edges:
        points: list[tuple[float, float]] = []
        for i, key in enumerate(e.chain):
            n = nodes[key]
            if n.kind in ("label", "dummy"):
                points.append((n.x, n.y - n.height / 2))
                if n.height:
                    points.append((n.x, n.y + n.height / 2))
                continue
            neighbour = e.chain[1] if i == 0 else e.chain[-2]
            x = ports.get((key, neighbour), n.x)
            points.append((x, n.y + n.height / 2 if i == 0 else n.y - n.height / 2))
        if e.reversed:
            points.reverse()
        dash = ' stroke-dasharray="6 4"' if e.dashed else ""
        # Label rows keep the line hidden behind the text: draw the line in pieces around it.
        parts.append(f'<path class="edge" d="{_path(points)}" marker-end="url(#lc-arrow)"{dash}/>')
    for n in nodes.values():
        if n.kind == "label":
            top = n.y - n.height / 2
            parts.append(
                f'<rect x="{n.x - n.width / 2:.1f}" y="{top:.1f}" width="{n.width:.1f}" '
                f'height="{n.height:.1f}" fill="#fff" opacity="0.92"/>'
            )
            for i, line in enumerate(n.lines):
                parts.append(
                    f'<text class="lbl" x="{n.x:.1f}" y="{top + LINE * (i + 0.78):.1f}" '
                    f'text-anchor="middle">{escape(line)}</text>'
                )
        elif n.kind == "start":
            parts.append(
                f'<circle cx="{n.x:.1f}" cy="{n.y:.1f}" r="8" fill="#1d2433"><title>start</title>'
                "</circle>"
            )
    for n in nodes.values():
        if n.kind != "state":
            continue
        left, width = _box(n)
        top = n.y - n.height / 2
        final = n.key in layout.final
        parts.append(
            f'<g class="node" data-state="{escape(n.key)}">'
            f'<rect class="state{" final" if final else ""}" x="{left:.1f}" y="{top:.1f}" '
            f'width="{width:.1f}" height="{n.height:.1f}" rx="8"/>'
        )
        if final:
            parts.append(
                f'<rect x="{left + 3:.1f}" y="{top + 3:.1f}" width="{width - 6:.1f}" '
                f'height="{n.height - 6:.1f}" rx="6" fill="none" stroke="#1d2433" '
                'stroke-width="0.8"/>'
            )
        parts.append(
            f'<text x="{left + width / 2:.1f}" y="{n.y + FONT * 0.36:.1f}" text-anchor="middle" '
            f'font-weight="600">{escape(n.key)}</text></g>'
        )
        if n.loop:
            right = left + width
            parts.append(
                f'<path class="edge" d="M {right - 12:.1f} {top:.1f} C {right + 6:.1f} '
                f'{top - 22:.1f}, {right + 30:.1f} {n.y:.1f}, {right:.1f} {n.y + 6:.1f}" '
                'marker-end="url(#lc-arrow)"/>'
            )
            for i, line in enumerate(n.loop):
                parts.append(
                    f'<text class="lbl" x="{right + LOOP_W - 6:.1f}" '
                    f'y="{n.y - 2 + LINE * (i - (len(n.loop) - 1) / 2):.1f}">{escape(line)}</text>'
                )
    parts.append("</svg>")
    return "\n".join(parts)
