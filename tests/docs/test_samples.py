"""Code samples: the docs page shows exactly what ``samples_for`` makes, no sample holds a key,
and every sample the page shows runs against the reference server and gets a documented 2xx."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from neuropay_contract.contract import create_body
from neuropay_contract.docs import render_docs, samples_for
from neuropay_contract.docs.model import DocsModel
from neuropay_contract.docs.samples import Auth, Samples
from neuropay_contract.server import RunningServer
from neuropay_contract.spec import load_spec

from ._html import check

SPEC = load_spec()
LIFECYCLE = SPEC.require_lifecycle()
LANGUAGES = {
    "curl": lambda code: ["sh", "-c", code],
    "python": lambda code: [sys.executable, "-c", code],
    "javascript": lambda code: ["node", "--input-type=module", "-e", code],
}


def test_samples_read_the_key_from_the_environment() -> None:
    for op in SPEC.operations.values():
        sample = samples_for(op, "http://127.0.0.1:8080")
        assert '"Authorization: Bearer $NEUROPAY_API_KEY"' in sample.curl
        assert "os.environ['NEUROPAY_API_KEY']" in sample.python
        assert "process.env.NEUROPAY_API_KEY" in sample.javascript
    op = SPEC.operation("retrieveCheckout")
    for auth, curl, python in (
        (Auth("basic"), '-u "$NEUROPAY_API_KEY:"', "auth=(os.environ['NEUROPAY_API_KEY'], '')"),
        (Auth("query", "key"), '?key=\'"$NEUROPAY_API_KEY"', "params={'key': os.environ"),
        (Auth("none"), "", "import httpx"),
    ):
        sample = samples_for(op, "https://x.test", auth=auth)
        assert curl in sample.curl and python in sample.python
        assert (auth.kind == "none") == ("NEUROPAY_API_KEY" not in sample.javascript)


def test_python_literals_keep_strings_intact() -> None:
    op = SPEC.operation("updateCheckout")
    body = {"checkout_id": "a" * 32, "metaData": {"note": "x: true, null", "flag": "y"}}
    sample = samples_for(op, "http://h", body)
    assert '"note": "x: true, null"' in sample.python
    namespace: dict[str, Any] = {}
    literal = sample.python.split("json=", 1)[1].split(",\n    timeout")[0]
    exec(f"value = {literal}", namespace)  # the literal is valid Python equal to the body
    assert namespace["value"] == body


def test_with_ids_replaces_the_example_ids_everywhere() -> None:
    sample = samples_for(SPEC.operation("captureCheckout"), "http://h")
    example = sample.ids["checkout_id"]
    real = sample.with_ids({"checkout_id": "f" * 32})
    for text in (real.curl, real.python, real.javascript):
        assert example not in text and "f" * 32 in text


def _shown(html: str, model: DocsModel) -> dict[str, Samples]:
    """The samples as the page shows them (text of each <pre>), checked against the model."""
    pre = check(html).pre
    shown = {}
    for op_id, op in SPEC.operations.items():
        doc = model.operation(op)
        texts = [pre[f"{doc.anchor}-{suffix}"] for suffix in ("curl", "python", "js")]
        assert texts == [doc.samples.curl, doc.samples.python, doc.samples.javascript]
        shown[op_id] = Samples(*texts, ids=doc.samples.ids)
    return shown


def _order() -> list[str]:
    """Creates first (their answers give the ids), plain deletes last, the rest in between."""

    def rank(op_id: str) -> int:
        if op_id.startswith("create"):
            return 0
        if op_id.startswith("delete") and op_id not in LIFECYCLE.restricted_operations:
            return 2
        return 1

    return sorted(SPEC.operations, key=rank)


def _checkout_in(server: RunningServer, status: str) -> str:
    """A fresh checkout in ``status`` (created, paid or reserved), made without the samples."""
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.test_key}"}, timeout=10
    ) as client:
        checkout = client.post(
            "/checkout/create", json=create_body(capture=status != "reserved")
        ).json()
        if status in ("paid", "reserved"):
            client.post("/checkout/test/pay", json={"checkout_id": checkout["checkout_id"]})
        answer = client.post("/checkout/retrieve", json={"checkout_id": checkout["checkout_id"]})
    assert answer.json()["status"] == status
    return str(checkout["checkout_id"])


def _answer(language: str, stdout: str) -> Any:
    text = stdout.strip()
    return ast.literal_eval(text) if language == "python" else json.loads(text)


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_shown_sample_runs_against_the_reference_server(
    language: str, server: RunningServer, tmp_path: Path
) -> None:
    """Render the page for the server, take each sample as the page shows it, put in the ids of
    objects made earlier (or a fresh checkout in a status the operation allows), run it, and
    check the answer is 2xx JSON valid against the operation's documented 2xx schema."""
    if language == "javascript":
        assert shutil.which("node"), "Node is part of the project's set-up (npm tools)"
    render_docs(SPEC, tmp_path, ["html"], server.url)
    model = DocsModel(SPEC, server.url)
    shown = _shown((tmp_path / "index.html").read_text(), model)
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "NEUROPAY_API_KEY": server.test_key}
    ids: dict[str, str] = {}
    for op_id in _order():
        op = SPEC.operation(op_id)
        real = dict(ids)
        availability = model.availability(op_id)
        if availability is not None:  # each lifecycle operation gets a checkout it may act on
            real["checkout_id"] = _checkout_in(server, availability.allowed[0])
        sample = shown[op_id].with_ids(real)
        code = {"curl": sample.curl, "python": sample.python, "javascript": sample.javascript}
        proc = subprocess.run(
            LANGUAGES[language](code[language]), capture_output=True, text=True, env=env, timeout=60
        )
        assert proc.returncode == 0, f"{op_id} {language}: {proc.stderr[-800:]}{proc.stdout[-300:]}"
        answer = _answer(language, proc.stdout)
        response = next(r for s, r in op.responses.items() if s.startswith("2"))
        assert response.schema is not None
        assert SPEC.validation_errors(response.schema, answer) == [], f"{op_id}: {answer}"
        if op_id.startswith("create"):
            ids.update(
                {k: v for k, v in answer.items() if k.endswith("_id") and isinstance(v, str)}
            )
    assert {"checkout_id", "customer_id"} <= set(ids)
