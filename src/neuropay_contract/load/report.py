"""The load run's outcome: SLO gates, merged findings, and our report (JSON and HTML with inline
SVG plots, rendered with the project's Jinja environment) next to Locust's CSV and HTML."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..contract.rules import LOAD_RULES
from ..templating import make_environment
from ..traffic.exchange import redact_text
from .run import Gathered

# Findings and timelines a report shows (the counts cover all of them).
MAX_REPORTED_FINDINGS = 500


@dataclass
class Gate:
    name: str
    option: str
    limit: float
    value: float | None

    @property
    def holds(self) -> bool:
        if self.value is None:
            return False
        if self.name == "min rps":
            return self.value >= self.limit
        return self.value <= self.limit


def gates(
    total: dict[str, Any] | None,
    p95_ms: float | None,
    p99_ms: float | None,
    max_error_rate: float | None,
    min_rps: float | None,
) -> list[Gate]:
    """The gates asked for, each with the run's figure (None when the run measured nothing)."""
    t = total or {}
    requests = int(t.get("requests") or 0)
    rate = (int(t.get("failures") or 0) / requests) if requests else None
    found = []
    for name, option, limit, value in (
        ("p95", "--p95-ms", p95_ms, t.get("p95_ms")),
        ("p99", "--p99-ms", p99_ms, t.get("p99_ms")),
        ("error rate", "--max-error-rate", max_error_rate, rate),
        ("min rps", "--min-rps", min_rps, t.get("rps")),
    ):
        if limit is not None:
            found.append(Gate(name, option, limit, None if value is None else float(value)))
    return found


@dataclass
class LoadOutcome:
    target: str
    run_time_s: int
    users: int
    processes: int
    interrupted: bool
    gathered: Gathered
    gates: list[Gate]
    error: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for part in self.gathered.parts:
            for f in part.get("findings", []):
                self.findings.append({**f, "process": part.get("process")})

    @property
    def total_findings(self) -> int:
        return sum(int(p.get("total_findings", 0)) for p in self.gathered.parts)

    @property
    def model(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for part in self.gathered.parts:
            counts.update({k: int(v) for k, v in (part.get("model") or {}).items()})
        return counts

    @property
    def journeys(self) -> dict[str, Counter[str]]:
        merged: dict[str, Counter[str]] = {}
        for part in self.gathered.parts:
            for name, counts in (part.get("journeys") or {}).items():
                merged.setdefault(name, Counter()).update(counts)
        return dict(sorted(merged.items()))

    @property
    def verdict(self) -> str:
        if self.error:
            return "error"
        if self.total_findings:
            return "violations"
        if any(not g.holds for g in self.gates):
            return "slo-failed"
        return "passed"

    def to_dict(self) -> dict[str, Any]:
        stats = self.gathered.stats or {}
        return {
            "tool_version": __version__,
            "target_url": self.target,
            "verdict": self.verdict,
            "error": self.error,
            "run_time_s": self.run_time_s,
            "users": self.users,
            "processes": self.processes,
            "interrupted": self.interrupted,
            "total_findings": self.total_findings,
            "findings": self.findings[:MAX_REPORTED_FINDINGS],
            "model": dict(self.model),
            "journeys": {k: dict(v) for k, v in self.journeys.items()},
            "gates": [{**asdict(g), "holds": g.holds} for g in self.gates],
            "stats": {k: v for k, v in stats.items() if k != "history"},
            "exchanges_checked": sum(int(p.get("checked", 0)) for p in self.gathered.parts),
            "checking": self.checking,
        }

    @property
    def checking(self) -> dict[str, float]:
        """Whether the checks kept up: the most exchanges one process had waiting, and the
        seconds its users waited for the checks (0: the checks never held the load back)."""
        parts = [p.get("checking") or {} for p in self.gathered.parts]
        return {
            "peak_queued": max((int(c.get("peak_queued", 0)) for c in parts), default=0),
            "users_waited_s": round(sum(float(c.get("users_waited_s", 0)) for c in parts), 2),
        }


def _chart(
    history: list[dict[str, float]], keys: list[str], width: int = 640, height: int = 200
) -> dict[str, Any]:
    """Polyline points of ``keys`` over time, scaled into a ``width`` x ``height`` box."""
    pad_left, pad_bottom = 48, 20
    times = [h["t"] for h in history] or [0.0]
    top = max([h.get(k, 0.0) for h in history for k in keys] or [0.0]) or 1.0
    span = (max(times) - min(times)) or 1.0
    inner_w, inner_h = width - pad_left - 8, height - pad_bottom - 8

    def xy(t: float, v: float) -> str:
        x = pad_left + (t - min(times)) / span * inner_w
        y = 8 + inner_h - v / top * inner_h
        return f"{x:.1f},{y:.1f}"

    return {
        "width": width,
        "height": height,
        "left": pad_left,
        "bottom": height - pad_bottom,
        "right": width - 8,
        "top_value": round(top, 1),
        "end_time": round(max(times), 1),
        "series": [
            {"name": k, "points": " ".join(xy(h["t"], h.get(k, 0.0)) for h in history)}
            for k in keys
        ],
    }


def _journey_steps(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Locust's per-name statistics grouped by journey (names are "<journey> <operation>")."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        journey, _, step = str(e.get("name", "")).partition(" ")
        grouped.setdefault(journey, []).append({**e, "step": step or journey})
    return dict(sorted(grouped.items()))


def write_load_reports(outcome: LoadOutcome, report_dir: Path) -> dict[str, Path]:
    """``load.json`` and ``load.html`` in ``report_dir`` (Locust wrote its own there)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    data = outcome.to_dict()
    json_path = report_dir / "load.json"
    json_path.write_text(redact_text(json.dumps(data, indent=2, default=str)), encoding="utf-8")
    stats = outcome.gathered.stats or {}
    history = list(stats.get("history") or [])
    steps: dict[str, dict[str, Any]] = {}
    timelines: dict[str, dict[str, Any]] = {}
    for part in outcome.gathered.parts:
        for index, step in (part.get("steps") or {}).items():
            steps[f"{part.get('process')}#{index}"] = step
        for timeline in part.get("timelines") or []:
            timelines.setdefault(str(timeline.get("object_id")), timeline)
    shown = []
    for f in outcome.findings[:MAX_REPORTED_FINDINGS]:
        step = steps.get(f"{f.get('process')}#{f.get('exchange')}")
        shown.append(
            {
                **f,
                "step_json": redact_text(json.dumps(step, indent=2, default=str)) if step else "",
                "timeline": timelines.get(str(f.get("object_id"))),
                "description": _checks(str(f.get("rule"))),
            }
        )
    env = make_environment()
    html = env.get_template("load/report.html.j2").render(
        outcome=data,
        findings=shown,
        gates=outcome.gates,
        rps_chart=_chart(history, ["rps", "fail_rps"]),
        latency_chart=_chart(history, ["p50", "p95", "p99"]),
        journeys=outcome.journeys,
        journey_steps=_journey_steps(list(stats.get("entries") or [])),
        total=stats.get("total") or {},
        locust_files=sorted(
            p.name for p in report_dir.iterdir() if p.name.startswith("locust") and p.is_file()
        ),
    )
    html_path = report_dir / "load.html"
    html_path.write_text(redact_text(html), encoding="utf-8")
    return {"json": json_path, "html": html_path}


def _checks(rule_id: str) -> str:
    """What the rule of a finding checks (every id a load run reports is registered)."""
    rule = LOAD_RULES.get(rule_id)
    return rule.checks if rule else ""
