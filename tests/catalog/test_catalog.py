"""The suite has teeth: every broken server makes `neuropay test` exit 1 naming the broken rule,
and the reference server passes with different seeds."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from neuropay_contract.contract.cli import run_suite_subprocess
from neuropay_contract.server import create_app, key_triplet, same_merchant_key, serve_app

from .faults import FAULTS, Fault


def run_suite(
    url: str,
    keys: list[str],
    report_dir: Path,
    seed: int = 1,
    select: str | None = None,
    extra: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """The suite with the (test, second, live, same-merchant) keys of ``keys``."""
    return run_suite_subprocess(
        url,
        (keys[0], keys[1], keys[2]),
        report_dir,
        "dev",
        seed,
        select=select,
        extra=extra,
        same_merchant_key=keys[3] if len(keys) > 3 else None,
    )


@pytest.mark.slow
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_broken_server_is_caught(fault: Fault, tmp_path: Path) -> None:
    app = create_app()
    keys = [*key_triplet(app.state.keys), *filter(None, [same_merchant_key(app.state.keys)])]
    broken = fault.apply(app)
    # A fault of the HTTP layer itself names the protocol to serve with (None: the sandbox's).
    with serve_app(broken, http=getattr(broken, "http_protocol", None)) as url:
        # a fault served in a test configuration (a short retention) tells the suite so
        extra = tuple(getattr(broken, "suite_options", ()))
        proc = run_suite(url, keys, tmp_path, select=fault.select, extra=extra)
    app.state.store.close()
    assert proc.returncode == 1, (
        f"{fault.name}: exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    )
    results = json.loads((tmp_path / "results.json").read_text())
    rules = sorted({c["failure"]["rule"] for c in results["checks"] if c["failure"]})
    assert any(fault.catches(rule) for rule in rules), f"{fault.name}: rules {rules}"
    for key in keys:
        for name in ("results.json", "report.html", "report.md", "junit.xml"):
            assert key not in (tmp_path / name).read_text()
        assert key not in proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 22, 33])
def test_reference_server_is_conformant(seed: int, tmp_path: Path) -> None:
    app = create_app()
    keys = [*key_triplet(app.state.keys), *filter(None, [same_merchant_key(app.state.keys)])]
    with serve_app(app) as url:
        proc = run_suite(url, keys, tmp_path, seed)
    app.state.store.close()
    assert proc.returncode == 0, proc.stdout[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["verdict"] == "conformant"
    assert results["summary"]["failed"] == 0
    assert results["summary"]["not_covered"] == 0
    assert results["summary"]["passed"] > 250


@pytest.mark.slow
def test_reference_server_keeps_keys_for_a_shortened_retention(tmp_path: Path) -> None:
    """The retention check (run only when the target's retention is given) passes on the
    reference server configured with that retention, also replayed differentially."""
    from .faults import RETENTION_S

    app = create_app()
    app.state.service.retention_s = RETENTION_S
    keys = [*key_triplet(app.state.keys), *filter(None, [same_merchant_key(app.state.keys)])]
    with serve_app(app) as url:
        extra = ("--idempotency-retention", f"{RETENTION_S:g}", "--differential")
        proc = run_suite(url, keys, tmp_path, select="forgotten", extra=extra)
    app.state.store.close()
    assert proc.returncode == 0, proc.stdout[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert [c["outcome"] for c in results["checks"]] == ["passed"]
