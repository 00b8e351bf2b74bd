"""Adding a lifecycle operation with existing guards needs the spec only: the reference server
serves it, the suite checks every (status, operation) pair of it, and the Postman scenarios cover
it, with no code changed (ARCHITECTURE.md, "Where to add an endpoint")."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from neuropay_contract.lifecycle import cells
from neuropay_contract.postman.export import ScenarioBuilder
from neuropay_contract.spec import ApiSpec, load_spec


def _with_void(document: dict[str, Any]) -> dict[str, Any]:
    """The spec plus ``voidCheckout``: reserved -> canceled, forbidden everywhere else."""
    doc = copy.deepcopy(document)
    capture = copy.deepcopy(doc["paths"]["/checkout/capture"]["post"])
    capture.update(
        operationId="voidCheckout",
        summary="Void a reservation",
        description="Cancels a reserved checkout; the reservation lapses at once.",
    )
    capture["responses"]["200"].pop("links", None)
    doc["paths"]["/checkout/void"] = {"post": capture}
    lifecycle = doc["x-lifecycle"]
    lifecycle["transitions"].append(
        {"name": "void", "from": "reserved", "to": "canceled", "operation": "voidCheckout"}
    )
    lifecycle["forbidden"] += [
        {"status": s, "operation": "voidCheckout", "http": 409, "code": "invalid_status"}
        for s in lifecycle["states"]
        if s != "reserved"
    ]
    return doc


@pytest.fixture(scope="module")
def void_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "openapi.yaml"
    path.write_text(yaml.safe_dump(_with_void(dict(load_spec().document)), sort_keys=False))
    return path


def test_the_lifecycle_and_postman_pick_it_up(void_spec: Path) -> None:
    spec = load_spec(void_spec)
    lifecycle = spec.require_lifecycle()
    assert "voidCheckout" in lifecycle.restricted_operations
    assert sum(c.operation == "voidCheckout" for c in cells(lifecycle)) == len(lifecycle.states)
    names = [name for name, _steps in ScenarioBuilder(spec).scenarios()]
    assert "transition void: reserved → canceled" in names
    assert "forbidden: voidCheckout in paid" in names


@pytest.mark.slow
def test_the_server_and_the_suite_pick_it_up(void_spec: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "test",
            "--spec",
            str(void_spec),
            "--profile",
            "dev",
            "--seed",
            "1",
            "-k",
            "voidCheckout or void",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    voids = [c for c in results["checks"] if c["operation"] == "voidCheckout"]
    # The transition, a forbidden answer in every other status, auth and isolation: all ran.
    assert {c["category"] for c in voids} >= {"lifecycle", "auth"}
    assert all(c["outcome"] == "passed" for c in voids), voids
    covered = {
        cell["status"]
        for cell in results["lifecycle"]
        if cell["operation"] == "voidCheckout" and cell["outcome"] == "passed"
    }
    assert covered == set(ApiSpec(yaml.safe_load(void_spec.read_text())).require_lifecycle().states)
