"""The lifecycle as an SVG diagram, laid out in Python (no Graphviz, works offline)."""

from __future__ import annotations

import math
from collections import defaultdict
from html import escape

from ..lifecycle import Lifecycle

# Short guard names keep the arrows readable; the table under the diagram has the full rules.
SHORT = {
    "payment_succeeds": "paid",
    "payment_declines": "declined",
    "capture_true": "capture",
    "capture_false": "no capture",
    "amount_full": "all",
    "amount_partial": "part",
    "amount_exceeds": "too much",
}
NODE_W, NODE_H = 130, 38
COL_GAP, ROW_GAP = 170, 58


def _layers(lifecycle: Lifecycle) -> dict[str, int]:
    """Longest-path layering, so every arrow between states points to the right."""
    depth: dict[str, int] = {t.target: 1 for t in lifecycle.transitions if t.source is None}
    for _ in range(len(lifecycle.states) + 1):  # bounded: the lifecycle may have cycles
        changed = False
        for t in lifecycle.transitions:
            if t.source is not None and t.source != t.target and t.source in depth:
                wanted = depth[t.source] + 1
                if depth.get(t.target, 0) < wanted and wanted <= len(lifecycle.states):
                    depth[t.target] = wanted
                    changed = True
        if not changed:
            break
    for state in lifecycle.states:
        depth.setdefault(state, max(depth.values(), default=0) + 1)
    return depth


def lifecycle_svg(lifecycle: Lifecycle) -> str:
    """A left-to-right diagram: a start dot, states in columns by distance from creation, labelled
    arrows (operation or event, and guards), final states drawn with a double border."""
    depth = _layers(lifecycle)
    columns: dict[int, list[str]] = defaultdict(list)
    for state in lifecycle.states:
        columns[depth[state]].append(state)
    tallest = max(len(v) for v in columns.values())
    height = tallest * (NODE_H + ROW_GAP) + ROW_GAP + 20
    pos: dict[str, tuple[float, float]] = {}
    for col, states in columns.items():
        top = (height - len(states) * (NODE_H + ROW_GAP) + ROW_GAP) / 2
        for row, state in enumerate(states):
            pos[state] = (40 + col * (NODE_W + COL_GAP), top + row * (NODE_H + ROW_GAP))
    width = 40 + (max(columns) + 1) * (NODE_W + COL_GAP)
    start = (40 + NODE_W / 2, height / 2)
    labels: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    for t in lifecycle.transitions:
        trigger = (t.operation or t.event or "").removesuffix("Checkout")
        guard = [SHORT.get(g, g) for g in t.guard if g != "no_card"]
        labels[(t.source, t.target)].append(trigger + (f" [{', '.join(guard)}]" if guard else ""))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" style="max-width:100%;height:auto" role="img" aria-label="Checkout lifecycle">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#5b6577"/></marker></defs>',
        "<style>text{font:12px system-ui,sans-serif;fill:#1d2433} .lbl{font-size:10px;fill:#334155;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round} .edge{fill:none;stroke:#8a94a6;stroke-width:1.3}</style>",
        f'<circle cx="{start[0]:.0f}" cy="{start[1]:.0f}" r="9" fill="#1d2433"/><text x="{start[0]:.0f}" y="{start[1] + 26:.0f}" text-anchor="middle">create</text>',
    ]
    for index, ((source, target), texts) in enumerate(
        sorted(labels.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
    ):
        tx, ty = pos[target]
        if source is None:
            x1, y1 = start[0] + 9, start[1]
        else:
            sx, sy = pos[source]
            x1, y1 = sx + NODE_W / 2, sy + NODE_H / 2
        x2, y2 = tx + NODE_W / 2, ty + NODE_H / 2
        label = escape(" / ".join(texts))
        if source == target:
            path = f"M {tx + NODE_W - 30:.0f} {ty:.0f} C {tx + NODE_W + 10:.0f} {ty - 40:.0f}, {tx + NODE_W + 40:.0f} {ty + 10:.0f}, {tx + NODE_W:.0f} {ty + 14:.0f}"
            lx, ly = tx + NODE_W + 6, ty - 22
        else:
            # Leave and enter at the box edges; bend so same-column edges do not overlap boxes.
            dx, dy = x2 - x1, y2 - y1
            length = math.hypot(dx, dy) or 1
            ux, uy = dx / length, dy / length
            ex1 = x1 + ux * (NODE_W / 2 if source is not None and abs(ux) > 0.5 else 0)
            ey1 = y1 + uy * (NODE_H / 2 if source is not None and abs(ux) <= 0.5 else 0)
            clip = (
                NODE_W / 2 / max(abs(ux), 1e-6)
                if abs(ux) * NODE_H / 2 > abs(uy) * NODE_W / 2
                else NODE_H / 2 / max(abs(uy), 1e-6)
            )
            ex2, ey2 = x2 - ux * clip, y2 - uy * clip
            bend = 30 if abs(dx) < 1 else 18 * (1 if index % 2 else -1)
            mx, my = (ex1 + ex2) / 2 - uy * bend, (ey1 + ey2) / 2 + ux * bend
            path = f"M {ex1:.0f} {ey1:.0f} Q {mx:.0f} {my:.0f} {ex2:.0f} {ey2:.0f}"
            # Label near the middle of the curve, nudged along it so fan-outs do not collide.
            along = 0.5 + (0.12 if index % 3 == 1 else -0.12 if index % 3 == 2 else 0)
            if source is None:
                along = 0.72  # fan-out from the start dot: label near the target, apart
            lx = (1 - along) ** 2 * ex1 + 2 * (1 - along) * along * mx + along**2 * ex2
            ly = (1 - along) ** 2 * ey1 + 2 * (1 - along) * along * my + along**2 * ey2 - 4
        # Automatic payment at creation (create with a card) is drawn dashed and explained once
        # in the legend; labelling each fan-out arrow from the start dot only adds clutter.
        automatic = source is None and "no_card" not in {
            g
            for t in lifecycle.transitions
            if t.target == target and t.source is None
            for g in t.guard
        }
        dash = ' stroke-dasharray="5 4"' if automatic else ""
        parts.append(f'<path class="edge" d="{path}" marker-end="url(#arrow)"{dash}/>')
        if not automatic:
            parts.append(
                f'<text class="lbl" x="{lx:.0f}" y="{ly:.0f}" text-anchor="middle">{label}</text>'
            )
    for state, (x, y) in pos.items():
        final = state in lifecycle.final
        fill = (
            "#fef3f2"
            if state in ("failed", "canceled", "revoked")
            else "#ecfdf3"
            if state in ("paid", "refunded", "reserve released")
            else "#eef4ff"
        )
        parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="8" fill="{fill}" stroke="#1d2433" stroke-width="1.2"/>'
        )
        if final:
            parts.append(
                f'<rect x="{x + 3:.0f}" y="{y + 3:.0f}" width="{NODE_W - 6}" height="{NODE_H - 6}" rx="6" fill="none" stroke="#1d2433" stroke-width="0.8"/>'
            )
        parts.append(
            f'<text x="{x + NODE_W / 2:.0f}" y="{y + NODE_H / 2 + 4:.0f}" text-anchor="middle" font-weight="600">{escape(state)}</text>'
        )
    parts.append(
        f'<text class="lbl" x="20" y="{height - 8:.0f}">dashed: create with customer_id and card_id pays at once '
        "(automatic payment); [paid] / [declined]: the card succeeds or declines; "
        "[capture] / [no capture]: the checkout's capture flag; [part] / [all]: refund amount</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)
