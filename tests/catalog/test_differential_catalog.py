"""The differential run has teeth of its own: every broken server of the catalog is caught by a
``differential.*`` finding (the reference server as the oracle), whatever the hand-written checks
would say. Each run is the fault's own selection of checks (or, for a fault that has none, every
check but the slowest ones: the differential compares every exchange the rest sends)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from neuropay_contract.contract.cli import run_suite_subprocess
from neuropay_contract.server import create_app, key_triplet, same_merchant_key, serve_app

from .faults import FAULTS, Fault

# Every check but the stateful links, the body rules and the precedence matrix (the faults those
# catch name them in their own selection).
DIFFERENTIAL_SELECT = (
    "not test_link_driven_sequences and not test_body_rules and not test_precedence"
)


# Every broken server replayed differentially costs ~15 min of a 2-core CI run on top of the
# catalog itself: `make test` takes every 4th (by name, so the share is stable and new faults
# rotate in), `make test-exhaustive` (NEUROPAY_EXHAUSTIVE=1) takes them all.
EXHAUSTIVE = os.environ.get("NEUROPAY_EXHAUSTIVE") == "1"
SHARE = sorted(FAULTS, key=lambda f: f.name)[:: 1 if EXHAUSTIVE else 4]


@pytest.mark.slow
@pytest.mark.parametrize("fault", SHARE, ids=[f.name for f in SHARE])
def test_broken_server_is_caught_by_the_differential(fault: Fault, tmp_path: Path) -> None:
    app = create_app()
    keys = key_triplet(app.state.keys)
    same = same_merchant_key(app.state.keys)
    broken = fault.apply(app)
    # A fault of the HTTP layer itself names the protocol to serve with (None: the sandbox's).
    with serve_app(broken, http=getattr(broken, "http_protocol", None)) as url:
        proc = run_suite_subprocess(
            url,
            keys,
            tmp_path,
            "dev",
            1,
            select=fault.select or DIFFERENTIAL_SELECT,
            extra=("--differential", *getattr(broken, "suite_options", ())),
            same_merchant_key=same,
        )
    app.state.store.close()
    assert proc.returncode == 1, f"{fault.name}: exit {proc.returncode}\n{proc.stdout[-2000:]}"
    results = json.loads((tmp_path / "results.json").read_text())
    rules = sorted({c["failure"]["rule"] for c in results["checks"] if c["failure"]})
    assert any(rule.startswith("differential.") for rule in rules), f"{fault.name}: {rules}"
    assert results["differential"]["differences"] > 0
    assert results["differential"]["reference_bugs"] == 0
    for key in [*keys, *filter(None, [same])]:
        assert key not in (tmp_path / "results.json").read_text()
        assert key not in proc.stdout + proc.stderr
