"""The linter on untrusted specs: external $refs are never fetched or read (a local listener and
secret files prove it), files inside the spec's folder only with --allow-local-refs, severities
with --fail-on, and the validator's reason in one line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .._fixtures import REALSPECS_DIR

PETSTORE = REALSPECS_DIR / "oai-v3.0-petstore.yaml"
SECRET = "-----BEGIN PRIVATE KEY----- s3cr3t-do-not-print"


def _lint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "spec", "lint", *args],
        capture_output=True,
        text=True,
        timeout=60,  # a linter that opened the FIFO below would hang here
    )


def _petstore(**schemas: Any) -> dict[str, Any]:
    document = yaml.safe_load(PETSTORE.read_text())
    document["components"]["schemas"].update(schemas)
    return document


@pytest.fixture
def listener() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback TCP server that records every connection it gets."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    seen.append(conn.recv(4096))
                    conn.sendall(
                        b"HTTP/1.0 200 OK\r\n\r\n"
                        + json.dumps({"Pet": {"type": "object"}}).encode()
                    )
                except OSError:
                    seen.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", seen
    stop.set()
    thread.join(timeout=2)
    server.close()


def test_external_refs_read_nothing_and_fetch_nothing(
    tmp_path: Path, listener: tuple[str, list[bytes]]
) -> None:
    url, connections = listener
    secret = tmp_path / "secret.pem"
    secret.write_text(SECRET)
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)  # opening it for reading blocks forever: the timeout proves it is never read
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    (spec_dir / "pet.yaml").write_text("Pet: {type: object}\n")
    refs = {
        "Pet": f"file://{secret}",
        "Error": f"{url}/schemas.json#/Pet",
        "Fifo": f"file://{fifo}",
        "Local": "pet.yaml#/Pet",
    }
    spec = spec_dir / "openapi.yaml"
    spec.write_text(yaml.safe_dump(_petstore(**{k: {"$ref": v} for k, v in refs.items()})))
    for fmt in ("text", "json"):
        proc = _lint(str(spec), "--format", fmt)
        assert proc.returncode == 1, proc.stderr
        assert SECRET not in proc.stdout + proc.stderr and "s3cr3t" not in proc.stdout
        found = proc.stdout if fmt == "text" else json.dumps(json.loads(proc.stdout))
        for ref in refs.values():
            assert ref in found, f"no finding names {ref}"
    report = json.loads(_lint(str(spec), "--format", "json").stdout)
    errors = {f["rule"] for f in report["findings"] if f["severity"] == "error"}
    assert errors == {"NP012"}  # the missing targets themselves are not judged
    assert connections == []


def test_allow_local_refs_reads_only_inside_the_spec_folder(
    tmp_path: Path, listener: tuple[str, list[bytes]]
) -> None:
    url, connections = listener
    (tmp_path / "secret.yaml").write_text(f"Pet: {{type: object, description: '{SECRET}'}}\n")
    spec_dir = tmp_path / "spec"
    (spec_dir / "schemas").mkdir(parents=True)
    (spec_dir / "schemas" / "pet.yaml").write_text(
        yaml.safe_dump(
            {
                "Pet": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"$ref": "#/Id"}, "tag": {"$ref": "common.yaml#/Tag"}},
                },
                "Id": {"type": "integer", "format": "int64"},
            }
        )
    )
    (spec_dir / "schemas" / "common.yaml").write_text("Tag: {type: string}\n")
    (spec_dir / "escape.yaml").symlink_to(tmp_path / "secret.yaml")
    good = spec_dir / "good.yaml"
    good.write_text(yaml.safe_dump(_petstore(Pet={"$ref": "schemas/pet.yaml#/Pet"})))
    assert _lint(str(good)).returncode == 1  # not followed by default
    allowed = _lint(str(good), "--allow-local-refs", "--fail-on", "error")
    assert allowed.returncode == 0, allowed.stdout
    assert "NP012" not in allowed.stdout
    refused = {
        "Up": "../secret.yaml#/Pet",
        "Link": "escape.yaml#/Pet",
        "Absolute": f"{tmp_path / 'secret.yaml'}#/Pet",
        "Url": f"{url}/x.yaml#/Pet",
        "Missing": "schemas/pet.yaml#/Nope",
    }
    bad = spec_dir / "bad.yaml"
    bad.write_text(yaml.safe_dump(_petstore(**{k: {"$ref": v} for k, v in refused.items()})))
    proc = _lint(str(bad), "--allow-local-refs", "--format", "json")
    assert proc.returncode == 1
    assert "s3cr3t" not in proc.stdout
    findings = json.loads(proc.stdout)["findings"]
    messages = {f["pointer"]: f["message"] for f in findings if f["rule"] == "NP012"}
    assert "outside the spec's folder" in messages["#/components/schemas/Up"]
    assert "outside the spec's folder" in messages["#/components/schemas/Link"]
    assert "absolute paths" in messages["#/components/schemas/Absolute"]
    assert "never followed" in messages["#/components/schemas/Url"]
    assert "points at nothing" in messages["#/components/schemas/Missing"]
    assert connections == []


def test_severities_and_fail_on(tmp_path: Path) -> None:
    document = _petstore()
    del document["paths"]["/pets"]["get"]["summary"]  # NP001: a warning
    spec = tmp_path / "openapi.yaml"
    spec.write_text(yaml.safe_dump(document))
    findings = json.loads(_lint(str(spec), "--format", "json").stdout)["findings"]
    by_rule = {f["rule"]: f["severity"] for f in findings}
    assert by_rule["NP001"] == "warning" and by_rule["NP002"] == "info"
    assert "error" not in by_rule.values()
    assert _lint(str(spec)).returncode == 1  # default --fail-on warning
    assert _lint(str(spec), "--fail-on", "error").returncode == 0
    assert _lint(str(spec), "--fail-on", "info").returncode == 1
    text = _lint(str(spec)).stdout
    assert " warning NP001 " in text and "finding(s): 0 errors, 4 warnings, 3 info" in text
    rules = subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "spec", "rules"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "NP001  warning" in rules and "NP012  error" in rules


def test_the_validators_reason_in_one_line(tmp_path: Path) -> None:
    document = _petstore()
    document["paths"]["/pets"]["get"]["parameters"][0]["in"] = "body"
    del document["paths"]["/pets"]["get"]["responses"]["200"]["description"]
    spec = tmp_path / "openapi.yaml"
    spec.write_text(yaml.safe_dump(document))
    proc = _lint(str(spec))
    assert proc.returncode == 1
    lines = [line for line in proc.stdout.splitlines() if " NP000 " in line]
    assert any("in: 'body' is not one of" in line for line in lines), lines
    assert any("'description' is a required property" in line for line in lines), lines
    assert all("How many items" not in line and len(line) < 400 for line in lines)


def test_a_pattern_jsonschema_rs_refuses_is_told_precisely(tmp_path: Path) -> None:
    """openapi-spec-validator checks with jsonschema-rs, whose regex engine (ECMA-262 with the u
    flag) rejects some patterns other engines accept: NP013 says which mode and which character,
    and the validator's vaguer 'is not a "regex"' is not repeated beside it."""
    document = _petstore()
    document["components"]["schemas"]["Pet"]["properties"]["name"]["pattern"] = r"^[\d-z]+$"
    spec = tmp_path / "openapi.yaml"
    spec.write_text(yaml.safe_dump(document))
    lines = _lint(str(spec)).stdout.splitlines()
    first = next(line for line in lines if " NP013 " in line)
    assert "#/components/schemas/Pet/properties/name/pattern:" in first
    assert "only without the u flag" in first and "as a range's end at offset 2" in first
    assert not any(" NP000 " in line and "regex" in line for line in lines), lines


def test_rule_registry_takes_a_severity() -> None:
    from neuropay_contract.linting.rules import SEVERITIES, rule

    with pytest.raises(ValueError, match="severity"):
        rule("NP999", "x", "fatal")
    assert SEVERITIES["NP003"] == "error"
