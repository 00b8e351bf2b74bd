"""Shell metacharacters in every sample: what a spec smuggles into its names, paths, examples
and bodies reaches curl as data, and nothing else runs when a reader pastes a sample.

Every curl sample of the project's spec and of hostile foreign specs runs under ``sh`` with a
PATH holding only a recording ``curl`` and a canary ``touch``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.docs.model import DocsModel
from neuropay_contract.spec import ApiSpec, load_spec

# Each tries to run `touch pwned` (a canary on PATH) or write a file with builtins only.
PAYLOADS = [
    "$(touch pwned)",
    "`touch pwned`",
    "'; touch pwned; '",
    '"; touch pwned; "',
    "\ntouch pwned\n",
    "a\nBODY\ntouch pwned\nBODY\n",
    "BODY_1",
    "$(echo x > pwned-by-builtin)",
    "${IFS}|touch pwned&&touch pwned;",
    "\\'\\\"$HOME!",
]
HOSTILE = " ".join(p.replace("\n", " ") for p in PAYLOADS)


def _hostile_spec(kind: str, index: int) -> ApiSpec:
    payload = PAYLOADS[index % len(PAYLOADS)]
    schemes: dict[str, Any] = {
        "header": {"type": "apiKey", "in": "header", "name": f"X-Key{payload}"},
        "query": {"type": "apiKey", "in": "query", "name": f"key{payload}"},
        "bearer": {"type": "http", "scheme": "bearer"},
        "basic": {"type": "http", "scheme": "basic"},
    }
    body_text = "\n".join(PAYLOADS)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": f"Hostile {payload}", "version": "1"},
        "servers": [{"url": "https://api.example/v1"}],
        "security": [{f"scheme{payload}": []}, {"second": []}],
        "paths": {
            f"/items/{{itemId}}/x{payload.replace('/', '_').replace('{', '(')}": {
                "post": {
                    "operationId": "PostItem",
                    "parameters": [
                        {
                            "name": "itemId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "example": payload,
                        },
                        {
                            "name": f"q{payload}",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                            "example": payload,
                        },
                    ],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "object"},
                                "example": {"note": body_text, payload: PAYLOADS},
                            }
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                },
                "put": {
                    "operationId": "PutText",
                    "requestBody": {
                        "content": {
                            "text/plain": {
                                "schema": {"type": "string"},
                                "example": body_text + "\nBODY",
                            }
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                },
                "patch": {
                    "operationId": "PatchForm",
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {"type": "object"},
                                "example": {f"f{payload}": payload, "g": body_text},
                            }
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                },
            }
        },
        "components": {
            "securitySchemes": {
                f"scheme{payload}": schemes[kind],
                "second": schemes[kind],
            }
        },
    }
    return ApiSpec(document)


def _stubs(tmp: Path) -> dict[str, str]:
    """PATH with a curl that records its arguments and input, and a canary touch."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do printf "%s\\0" "$a"; done >> "$CURL_LOG"\n'
        'printf "\\n--stdin--\\n" >> "$CURL_LOG"\n'
        'case " $* " in *" @- "*) /bin/cat >> "$CURL_LOG";; esac\n'
        'printf "\\n--end--\\n" >> "$CURL_LOG"\n'
    )
    canary = bin_dir / "touch"
    canary.write_text('#!/bin/sh\necho "$@" >> "$CANARY_LOG"\n')
    for stub in (curl, canary):
        stub.chmod(0o755)
    return {
        "PATH": str(bin_dir),
        "CURL_LOG": str(tmp / "curl.log"),
        "CANARY_LOG": str(tmp / "canary.log"),
        "HOME": str(tmp),
        "NEUROPAY_API_KEY": "secret",
        "API_KEY": "secret",
    }


def _run_curl_sample(sample: str, tmp: Path, env: dict[str, str]) -> str:
    """Run one sample as a pasted shell script; what curl received. Fails when anything but
    the curl stub ran, or the shell complained."""
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    log = Path(env["CURL_LOG"])
    log.unlink(missing_ok=True)
    done = subprocess.run(
        ["/bin/sh", "-c", sample], cwd=work, env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0 and not done.stderr, (sample, done.stderr)
    assert not Path(env["CANARY_LOG"]).exists(), f"the sample ran a command: {sample}"
    assert list(work.iterdir()) == [], f"the sample wrote a file: {sample}"
    received = log.read_text()
    assert received.count("--end--") == 1, "curl must run exactly once"
    return received


@pytest.mark.parametrize("kind", ["header", "query", "bearer", "basic"])
@pytest.mark.parametrize("index", range(len(PAYLOADS)))
def test_shell_metacharacters_in_every_sample_run_nothing(
    tmp_path: Path, kind: str, index: int
) -> None:
    spec = _hostile_spec(kind, index)
    model = DocsModel(spec)
    env = _stubs(tmp_path)
    for op in spec.operations.values():
        samples = model.operation(op).samples
        received = _run_curl_sample(samples.curl, tmp_path, env)
        if "--data-binary @-" in samples.curl:  # the heredoc carried the whole body
            stdin = received.split("--stdin--\n", 1)[1].rsplit("\n--end--", 1)[0]
            assert "touch pwned" in stdin  # as data, to curl


def test_every_sample_of_the_project_spec_runs_only_curl(tmp_path: Path) -> None:
    spec = load_spec()
    model = DocsModel(spec)
    env = _stubs(tmp_path)
    for op in spec.operations.values():
        received = _run_curl_sample(model.operation(op).samples.curl, tmp_path, env)
        assert "Authorization: Bearer secret" in received


def test_heredoc_delimiters_never_occur_in_the_body() -> None:
    from neuropay_contract.docs.samples import heredoc_delimiter

    assert heredoc_delimiter("x") == "BODY"
    assert heredoc_delimiter("a\nBODY\nBODY_1\nb") == "BODY_2"
    assert os.linesep not in heredoc_delimiter("BODY")
