"""The one checker behind ``neuropay proxy`` and ``neuropay audit``: exchanges in, findings out."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..coverage import Seen
from ..spec import ApiSpec
from .exchange import Exchange
from .findings import Finding
from .tracker import ObjectTracker, TrackedObject
from .validate import ExchangeValidator


@dataclass
class ExchangeSummary:
    """What the report keeps of an exchange: enough for a table row and a reproduction."""

    exchange: Exchange
    operation: str | None
    findings: list[Finding] = field(default_factory=list)


def _error_body(exchange: Exchange) -> Any:
    """The parsed body of a refusal (its error code is coverage); None for other answers."""
    if exchange.status is None or exchange.status < 400 or len(exchange.response_body) > 65536:
        return None
    try:
        return json.loads(exchange.response_body)
    except ValueError:
        return None


class TrafficChecker:
    """Checks exchanges one by one, in the order they completed, and keeps what it saw."""

    def __init__(
        self, spec: ApiSpec, keep_exchanges: int = 2000, keep_findings: int = 2000
    ) -> None:
        self.spec = spec
        self.validator = ExchangeValidator(spec)
        self.tracker = ObjectTracker(spec)
        # The first keep_findings, for the reports (which stay under 10 MB with this many).
        self.findings: list[Finding] = []
        self.keep_findings = keep_findings
        self.sides: Counter[str] = Counter()  # every finding, counted by side
        self.requests: Counter[str] = Counter()
        self.ignored = 0
        self.checked = 0
        # Exchanges with findings are kept for the report (up to a bound, so a long proxy session
        # holds bounded memory); clean ones are only counted.
        self.keep_exchanges = keep_exchanges
        self.kept: dict[int, ExchangeSummary] = {}
        self.seen = Seen()  # what the traffic exercised of the contract (its coverage)

    def check(self, exchange: Exchange) -> list[Finding]:
        """The findings of one exchange (empty for traffic that is not the API's)."""
        if not self.validator.is_api(exchange):
            self.ignored += 1
            return []
        self.checked += 1
        checked = self.validator.check(exchange)
        # refused by the proxy: the target never saw it; a spec without x-lifecycle and friends
        # has no objects to follow
        if not exchange.answered_by_proxy and self.validator.ours:
            self.tracker.observe(checked)
        operation = checked.operation.operation_id if checked.operation else None
        self.requests[operation or f"{exchange.method} {exchange.path}"] += 1
        self.seen.answer(operation, exchange.status, _error_body(exchange))
        self.sides.update(f.side for f in checked.findings)
        if checked.findings:
            room = self.keep_findings - len(self.findings)
            self.findings.extend(checked.findings[: max(room, 0)])
            if len(self.kept) < self.keep_exchanges:
                self.kept[exchange.index] = ExchangeSummary(
                    exchange, operation, list(checked.findings)
                )
        return checked.findings

    @property
    def scope(self) -> str:
        """What the checks cover, as the reports state it."""
        if self.validator.ours:
            return "the spec's schemas, x-lifecycle, money, idempotency and refusal rules"
        return (
            "schema checks only: the spec has none of neuropay's x- extensions, so no error "
            "envelope, key format, lifecycle, money or idempotency rule is assumed"
        )

    @property
    def total_findings(self) -> int:
        return sum(self.sides.values())

    @property
    def objects(self) -> list[TrackedObject]:
        return list(self.tracker.objects.values())
