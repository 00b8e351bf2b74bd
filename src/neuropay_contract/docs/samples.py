"""Code samples (curl, Python httpx, JavaScript fetch) for an operation: one function serves the
docs templates and the test that runs every sample, so a sample cannot rot."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from ..spec import Operation

KEY_ENV = "NEUROPAY_API_KEY"


@dataclass(frozen=True)
class Samples:
    curl: str
    python: str
    javascript: str


def _path_with_values(op: Operation) -> str:
    path = op.path
    for param in op.parameters:
        if param.get("in") == "path":
            example = (
                param.get("example")
                or (param.get("schema") or {}).get("example")
                or f"{{{param['name']}}}"
            )
            path = path.replace("{" + str(param["name"]) + "}", str(example))
    return path


def samples_for(op: Operation, base_url: str, body: Any = None, bearer: bool = True) -> Samples:
    """Samples calling ``op`` at ``base_url`` with ``body`` (default: its first request example).

    The key is read from the environment (``$NEUROPAY_API_KEY``), never written out."""
    if body is None and op.request_examples:
        body = op.request_examples[0].value
    url = base_url.rstrip("/") + _path_with_values(op)
    method = op.method.upper()
    payload = json.dumps(body, indent=2, ensure_ascii=False) if body is not None else None

    curl = [f"curl -sS -X {method} {shlex.quote(url)}"]
    if bearer:
        curl.append(f'-H "Authorization: Bearer ${KEY_ENV}"')
    if payload is not None:
        curl.append("-H 'Content-Type: application/json'")
        curl.append("--data-binary @- <<'JSON'\n" + payload + "\nJSON")
    curl_text = " \\\n  ".join(curl)

    python = ["import os", "", "import httpx", ""]
    headers = f'{{"Authorization": f"Bearer {{os.environ[\'{KEY_ENV}\']}}"}}' if bearer else "{}"
    call = f"response = httpx.request(\n    {method!r},\n    {url!r},\n    headers={headers},\n"
    if payload is not None:
        call += f"    json={_python_literal(body)},\n"
    call += "    timeout=10,\n)"
    python += [call, "response.raise_for_status()", "print(response.json())"]

    js_headers = [f"Authorization: `Bearer ${{process.env.{KEY_ENV}}}`"] if bearer else []
    if payload is not None:
        js_headers.append('"Content-Type": "application/json"')
    js = [
        f"const response = await fetch({json.dumps(url)}, {{",
        f'  method: "{method}",',
        "  headers: { " + ", ".join(js_headers) + " },",
    ]
    if payload is not None:
        js.append("  body: JSON.stringify(" + payload.replace("\n", "\n  ") + "),")
    js += [
        "});",
        "if (!response.ok) throw new Error(`HTTP ${response.status}`);",
        "console.log(await response.json());",
    ]
    return Samples(curl_text, "\n".join(python), "\n".join(js))


def _python_literal(value: Any, indent: int = 4) -> str:
    """JSON as a Python literal (true/false/null spelled the Python way)."""
    text = json.dumps(value, indent=4, ensure_ascii=False)
    text = (
        text.replace(": true", ": True").replace(": false", ": False").replace(": null", ": None")
    )
    return text.replace("\n", "\n" + " " * indent)
