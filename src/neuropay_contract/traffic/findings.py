"""A finding: one way one exchange broke the contract, and whose fault it is."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Side = Literal["client", "server"]


@dataclass(frozen=True)
class Finding:
    """A broken rule. ``side`` is ``client`` when the request is at fault (the spec refuses it,
    or the object's status forbids it) and ``server`` when the answer is outside the contract."""

    rule: str
    side: Side
    message: str
    exchange: int  # index of the exchange in the traffic, from 1
    operation: str | None = None
    object_id: str | None = None
    expected: Any = None
    received: Any = None

    def key(self) -> tuple[str, str, str, str]:
        """What two checkers of the same traffic must agree on (the message may word it freely)."""
        return (self.rule, self.side, self.operation or "", self.object_id or "")

    def line(self) -> str:
        """The one-line log form (never holds a key: messages are built from redacted data)."""
        where = f" {self.operation}" if self.operation else ""
        obj = f" {self.object_id}" if self.object_id else ""
        return f"#{self.exchange} {self.side}{where}{obj} [{self.rule}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Expectation:
    """The answer the spec prescribes for a request the client got wrong."""

    http: int
    code: str | None = None
    # The server's rule when it accepts the request anyway.
    server_rule: str = "response.accepted-invalid-request"
    step: str = "operation"  # the x-precedence step the request breaks
