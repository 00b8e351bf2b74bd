"""Which operations a target implements: one probe per operation before any check, so an
operation that is simply missing is reported once as *not implemented* and the checks that need
it are blocked, instead of failing one by one on the same 404."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import httpx

from ..coverage import documented_codes
from ..spec import ApiSpec
from .client import ContractClient, Response


def answers_like_a_missing_route(spec: ApiSpec, resp: Response) -> bool:
    """A 404 or 405 that is not one the operation documents: no error envelope (a framework's
    default page or ``{"detail": "Not Found"}``), or a code the operation never answers with
    for that status (the spec's code for an unknown path, ``method_not_allowed`` to a POST)."""
    if resp.status not in (404, 405) or resp.operation is None:
        return False
    error = resp.json_object().get("error")
    code = error.get("code") if isinstance(error, Mapping) else None
    if not isinstance(code, str):
        return True
    return code not in documented_codes(spec, resp.operation, resp.status)


def find_not_implemented(
    client: ContractClient, operations: Iterable[str], silent: list[str] | None = None
) -> list[str]:
    """Probe each operation once, with the run's key and an empty JSON object (which an
    implemented operation refuses as a bad request, and a missing one answers like a missing
    route); the operations that answered like a missing route, in spec order. An operation
    that gives no HTTP answer, twice, is added to ``silent``."""
    missing = []
    for operation in operations:
        resp = None
        for _attempt in range(2):
            try:
                resp = client.call(operation, {})
                break
            except httpx.TransportError:
                continue
        if resp is None:
            if silent is not None:
                silent.append(operation)
            continue
        if answers_like_a_missing_route(client.spec, resp):
            missing.append(operation)
    return missing
