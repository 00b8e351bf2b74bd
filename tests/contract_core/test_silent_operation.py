"""An operation that hangs is one root cause, the run stays short and the other operations are
still judged: its requests are not waited for again once it gave no answer twice (in the
preflight, or to earlier checks)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.contract.cli import run_suite_subprocess
from neuropay_contract.server import create_app, key_triplet, serve_app

Asgi = Callable[..., Any]


def _hanging(app: Any, path: str, only_with: bytes | None) -> Asgi:
    """``app`` whose ``path`` never answers (only to bodies holding ``only_with`` when given)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != path:
            await app(scope, receive, send)
            return
        message = await receive()
        body = message.get("body", b"")
        if only_with is None or only_with in body:
            await asyncio.sleep(3600)

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return wrapped


@pytest.mark.slow
@pytest.mark.parametrize(
    "only_with",
    [None, b"checkout_id"],
    ids=["hangs-always", "hangs-on-real-requests"],
)
def test_a_hanging_operation_is_one_cause(only_with: bytes | None, tmp_path: Path) -> None:
    app = create_app()
    keys = key_triplet(app.state.keys)
    with serve_app(_hanging(app, "/checkout/refund", only_with)) as url:
        proc = run_suite_subprocess(
            url, keys, tmp_path, "dev", 3, extra=("--timeout", "1", "-k", "not fuzz")
        )
    app.state.store.close()
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    causes = results["root_causes"]
    assert [c["title"] for c in causes] == ["refundCheckout gives no HTTP answer"], causes
    assert causes[0]["fix"].startswith("Make refundCheckout answer")
    assert results["summary"]["passed"] > 100  # the other operations were judged
    # refund was waited for twice at most: every later check that needs it fails at once
    waited = [
        check["id"]
        for check in results["checks"]
        if check["failure"]
        and check["failure"]["rule"] == "transport.no-answer"
        and not check["failure"]["message"].startswith("SilentOperation")
    ]
    assert len(waited) <= 2, waited
    assert "stopped answering" not in proc.stdout
