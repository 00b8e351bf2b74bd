"""The committed Postman collection, run by Newman through `neuropay proxy`: no finding against
the reference server (and Newman's own tests still pass: the proxy changes nothing), server
findings with the right rule against each catalog fault the collection's sequences reveal."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.server import create_app

from ..catalog.faults import FAULTS
from ._proxy import proxied

ROOT = Path(__file__).resolve().parents[2]
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"
COLLECTION = ROOT / "postman" / "neuropay.postman_collection.json"

# The catalog faults the collection's traffic reveals, and the server rule each must raise. The
# others need traffic the collection does not send (a second key, a retry, a wrong method, a
# deleted customer read again, bad credentials, simultaneous requests): test_proxy.py's careful
# client sends those.
NEWMAN_REVEALS = {
    "capture-twice": r"lifecycle\.forbidden-answer",
    "refund-above-amount": r"lifecycle\.rejection-answer|money\.refund-cap",
    "partial-release": r"lifecycle\.rejection-answer",
    "wrong-status-after-partial-refund": r"lifecycle\.transition-target",
    "refused-but-changed": r"lifecycle\.unchanged-after-refusal",
    "metadata-delete-ignored": r"metadata\.merge",
    "missing-required-field": r"response\.body-schema",
    "amount-as-string": r"response\.body-schema",
    "local-time": r"response\.body-schema",
    "wrong-error-envelope": r"response\.error-envelope",
    "refunded-not-sum": r"money\.refunded-equals-sum",
}


def _newman(url: str, key: str, tmp_path: Path) -> dict[str, Any]:
    report = tmp_path / "newman.json"
    subprocess.run(
        [
            str(NEWMAN),
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
    return json.loads(report.read_text())["run"]  # type: ignore[no-any-return]


def _through_proxy(app: Any, reference: Any, tmp_path: Path) -> tuple[dict[str, Any], Any]:
    key = next(k.key for k in reference.state.keys if k.mode == "test")
    with proxied(app) as (url, checker):
        run = _newman(url, key, tmp_path)
    return run, checker


@pytest.mark.node
def test_collection_through_the_proxy_to_the_reference_has_no_finding(tmp_path: Path) -> None:
    app = create_app()
    run, checker = _through_proxy(app, app, tmp_path)
    app.state.store.close()
    assert run["stats"]["assertions"]["failed"] == 0
    assert run["stats"]["requests"]["total"] == checker.checked > 250
    assert [f.line() for f in checker.findings] == []
    # Its negative tests were seen and judged: the refusals are in the timelines.
    notes = [e.note for o in checker.objects for e in o.timeline]
    assert sum("declared deliberate" in n for n in notes) >= 45


@pytest.mark.node
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NEWMAN_REVEALS))
def test_collection_through_the_proxy_flags_the_fault(name: str, tmp_path: Path) -> None:
    fault = next(f for f in FAULTS if f.name == name)
    app = create_app()
    _, checker = _through_proxy(fault.apply(app), app, tmp_path)
    app.state.store.close()
    server = {f.rule for f in checker.findings if f.side == "server"}
    assert any(re.fullmatch(NEWMAN_REVEALS[name], rule) for rule in server), (name, server)


@pytest.mark.node
def test_collection_through_the_proxy_reports_its_own_coverage(tmp_path: Path) -> None:
    """Which part of the contract the committed collection exercises, as the proxy saw it."""
    from neuropay_contract.coverage import categories
    from neuropay_contract.traffic.results import build_results

    app = create_app()
    _, checker = _through_proxy(app, app, tmp_path)
    app.state.store.close()
    coverage = build_results(checker, "newman", 0.0, "proxy").coverage
    assert coverage is not None and 0 < coverage["covered"] <= coverage["reachable"]
    lines = dict((name, (hit, total)) for name, hit, total in categories(coverage))
    # the collection's scenarios walk the lifecycle: moves and forbidden pairs with their answers
    assert lines["lifecycle forbidden pairs"] == (45, 45), lines
    assert lines["lifecycle moves"] == (9, 9), lines
    assert coverage["percent"] < 100  # it sends no negative test of most declared errors
    rows = [r for r in coverage["lifecycle"] if r["covered"]]
    assert all(r["answer"] for r in rows)
    forbidden = [r for r in rows if r["kind"] == "forbidden"]
    assert any(r["answer"] == r["expected"].split(" ")[0] for r in forbidden), forbidden[:3]
    capture = coverage["operations"]["captureCheckout"]
    assert {"200", "409"} <= set(capture["responses"]["seen"])
