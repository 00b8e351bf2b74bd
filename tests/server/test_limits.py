"""The spec's x-limits as the reference server applies them: nesting depth (iteratively checked,
so no body can exhaust the stack and turn into a 500)."""

from __future__ import annotations

from neuropay_contract.server import RunningServer
from neuropay_contract.spec import load_spec

from ._helpers import api


def nested(depth: int) -> bytes:
    return b'{"checkout_id": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def test_depth_limit_comes_from_the_spec(server: RunningServer) -> None:
    limit = load_spec().max_json_depth
    assert limit == 32
    headers = {"Content-Type": "application/json"}
    with api(server.url, server.test_key) as client:
        at_limit = client.post("/checkout/retrieve", content=nested(limit), headers=headers)
        assert at_limit.status_code == 400
        assert at_limit.json()["error"]["code"] == "invalid_request"  # parsed, then validated
        for depth in (limit + 1, 900, 50_000 // 2):
            over = client.post("/checkout/retrieve", content=nested(depth), headers=headers)
            assert over.status_code == 400, depth
            assert over.json()["error"] == {
                "code": "invalid_json",
                "message": f"The body nests deeper than {limit} levels.",
                "param": None,
            }
