"""Integrator-style mocks the engine was not written against (tests/catalog/integrators.py):
each red run names at most 12 root causes, each a different fix, with the missing required
fields first, and every failure explained."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.contract.cli import run_suite_subprocess
from neuropay_contract.server import serve_app

from .integrators import flask_mock, http_server_mock, pydantic_style_mock, starlette_mock

Keys = tuple[str, str, str]
MOCKS: dict[str, tuple[Callable[[Keys], AbstractContextManager[str]], list[str]]] = {
    "starlette": (lambda keys: serve_app(starlette_mock(keys)), ["livemode", "object"]),
    "http.server": (http_server_mock, []),
    "pydantic-style": (lambda keys: serve_app(pydantic_style_mock(keys)), ["livemode"]),
    "flask": (flask_mock, ["object"]),
}
# The goal: at most 12 causes, each a different fix (measured at ci, seed 1: starlette 11,
# http.server 12, pydantic-style 11, flask 11 or 12: schemathesis meets its `created` sent as
# a Unix time alone or behind the missing `object`).
MOST_CAUSES = dict.fromkeys(MOCKS, 12)


def _keys() -> Iterator[str]:
    for prefix in ("sk_test_", "sk_test_", "sk_live_"):
        yield prefix + secrets.token_hex(12)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MOCKS))
def test_an_integrator_mock_reads_as_one_fix_per_cause(name: str, tmp_path: Path) -> None:
    serve, missing = MOCKS[name]
    keys: Keys = tuple(_keys())  # type: ignore[assignment]
    with serve(keys) as url:
        proc = run_suite_subprocess(url, keys, tmp_path, "ci", 1)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    results: dict[str, Any] = json.loads((tmp_path / "results.json").read_text())
    causes = results["root_causes"]
    summary = [(c["rule"], len(c["checks"]), c["title"][:100]) for c in causes]
    assert 3 <= len(causes) <= MOST_CAUSES[name], summary
    # one fix each: no two causes ask for the same change, and a rule has one home
    fixes = [c["fix"] for c in causes]
    assert all(fixes) and len(set(fixes)) == len(fixes), fixes
    homes = Counter(c["rule"] for c in causes if c["rule"] not in ("behaviour", "server-error"))
    assert max(homes.values()) == 1, homes
    if missing:
        first = causes[0]
        assert first["rule"] == "schema.response" and set(first["fields"]) == set(missing)
        assert first["fix"].startswith("Add ")
    # the causes are ordered by what they explain (after the missing top-level fields)
    rest = [len(c["checks"]) for c in causes[1 if missing else 0 :]]
    assert rest == sorted(rest, reverse=True)
    by_id = {c["id"] for c in causes}
    for check in results["checks"]:
        if check["outcome"] in ("failed", "error"):
            assert check["root_cause"] in by_id, check["id"]
    md = (tmp_path / "report.md").read_text()
    assert causes[0]["title"].replace("|", "\\|") in md
