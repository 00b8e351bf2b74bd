"""Proxy and audit on a spec that is not Neuro-Pay's: the servers' base paths are read (the OAI
petstore's `/v1/pets`), path templates match, and with none of our x- extensions no Neuro-Pay
convention is assumed (no error envelope, key format or lifecycle): schema checks only, and
the reports say so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from neuropay_contract.server import serve_app
from neuropay_contract.spec import load_spec
from neuropay_contract.traffic.checker import TrafficChecker
from neuropay_contract.traffic.paths import PathMatcher, base_paths
from neuropay_contract.traffic.proxy import ValidatingProxy

from .._fixtures import REALSPECS_DIR
from ..postman.test_convert import _prism

PETSTORE = REALSPECS_DIR / "oai-v3.0-petstore.yaml"  # servers: http://petstore.swagger.io/v1


def _entry(method: str, url: str, status: int, body: Any, sent: Any = None) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "url": url, "headers": []}
    if sent is not None:
        request["headers"] = [{"name": "Content-Type", "value": "application/json"}]
        request["postData"] = {"mimeType": "application/json", "text": json.dumps(sent)}
    text = "" if body is None else json.dumps(body)
    return {
        "startedDateTime": f"2026-12-07T10:00:{status % 60:02d}.000Z",
        "request": request,
        "response": {
            "status": status,
            "headers": [{"name": "Content-Type", "value": "application/json"}] if text else [],
            "content": {"mimeType": "application/json", "text": text},
        },
    }


def test_base_paths_and_templates_resolve() -> None:
    spec = load_spec(PETSTORE)
    assert base_paths(spec) == ["/v1"]
    matcher = PathMatcher(spec)
    assert matcher.spec_path("/v1/pets") == "/pets"
    assert matcher.spec_path("/v1/pets/12") == "/pets/{petId}"
    assert matcher.spec_path("/pets/12") == "/pets/{petId}"
    assert matcher.spec_path("/v1/pets/12/toys") is None
    assert matcher.spec_path("/v2/pets") is None


def test_audit_of_a_har_with_base_path_urls(tmp_path: Path) -> None:
    host = "http://petstore.swagger.io"
    har = {"log": {"entries": [
        _entry("GET", f"{host}/v1/pets?limit=2", 200, [{"id": 1, "name": "Rex"}]),
        _entry("GET", f"{host}/v1/pets/1", 200, {"id": 1}),  # name is required: server's fault
        _entry("POST", f"{host}/v1/pets", 422, {"code": 422, "message": "no"}, sent={"id": 2}),
        _entry("POST", f"{host}/v1/pets", 201, None, sent={"id": "two", "name": "Tom"}),
        _entry("GET", f"{host}/v1/owners", 200, []),
    ]}}  # fmt: skip
    traffic = tmp_path / "traffic.har"
    traffic.write_text(json.dumps(har))
    done = subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "audit", str(traffic), "--spec",
         str(PETSTORE), "--report-dir", str(tmp_path / "reports")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    # /v1/pets... are the spec's paths; /v1/owners (no key, no JSON) is not API traffic
    assert not [line for line in lines if "request.unknown-path" in line]
    assert any("4 API exchange(s), 1 other" in line for line in lines)
    assert any("response.body-schema" in line and "'name' is a required" in line for line in lines)
    assert any("request.body-schema" in line and "'two'" in line for line in lines)
    # no Neuro-Pay assumption: the 422 in the spec's own Error shape is no finding, no key is
    # demanded, nothing about an envelope
    findings = [line for line in lines if line.startswith("#")]
    assert len(findings) == 3
    assert not [line for line in findings if "envelope" in line or "request.auth" in line]
    assert any("schema checks only" in line for line in lines)
    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    assert "schema checks only" in results["profile"]


@pytest.mark.node
@pytest.mark.slow
def test_proxy_in_front_of_prism_mock_of_the_petstore(tmp_path: Path) -> None:
    """Prism answers an invalid body with its own problem+json 422: the checker judges it
    against the spec's documented answer (the `default` Error schema) and goes on."""
    spec = load_spec(PETSTORE)
    checker = TrafficChecker(spec)
    prism, target = _prism(PETSTORE)
    try:
        proxy = ValidatingProxy(checker, target, "report")
        with serve_app(proxy, lifespan="on") as url, httpx.Client(base_url=url) as client:
            assert client.get("/pets", params={"limit": 2}).status_code == 200
            assert client.get("/pets/7").status_code == 200
            refused = client.post("/pets", json={"id": "not a number"})
            assert refused.status_code == 422
            assert client.post("/pets", json={"id": 3, "name": "Rex"}).status_code == 201
            assert client.get("/pets").status_code == 200  # still checking after the 422
    finally:
        prism.terminate()
        prism.wait(timeout=20)
    assert checker.checked == 5
    rules = [f.rule for f in checker.findings]
    assert "request.body-schema" in rules  # the client's invalid body
    assert not [r for r in rules if r.startswith(("response.error", "request.auth", "auth."))]
    assert "request.unknown-path" not in rules
    assert "schema checks only" in checker.scope
