"""The suite accepts every reading x-implementation-defined allows: a server taking other
readings of the points left open passes (exit 0, no failure, nothing not covered)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neuropay_contract.server import create_app, key_triplet, same_merchant_key, serve_app
from neuropay_contract.spec import load_spec

from .readings import READINGS, Reading
from .test_catalog import run_suite


def test_each_reading_names_a_point_left_open() -> None:
    free = {point.id for point in load_spec().implementation_defined}
    for reading in READINGS:
        assert {p.strip() for p in reading.point.split(",")} <= free, reading.point


def test_the_readings_are_other_readings() -> None:
    """The server really answers otherwise than the reference on each point it names."""
    from urllib.parse import urlsplit

    import httpx

    from neuropay_contract.contract import create_body

    def answers(apply: object) -> tuple[object, int, str]:
        app = create_app()
        key = key_triplet(app.state.keys)[0]
        served = apply(app) if callable(apply) else app
        with (
            serve_app(served) as url,
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client,
        ):
            bad = client.post(
                "/checkout/create", json={**create_body(), "amount": "x", "currency": 5}
            )
            made = client.post("/checkout/create", json=create_body()).json()
            page = urlsplit(made["url"])
            paid = client.post(
                page.path,
                data={"action": "pay", "card_number": "4242424242424242"},
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
        app.state.store.close()
        return bad.json()["error"]["param"], paid.status_code, page.query

    reference, other = answers(None), answers(READINGS[0].apply)
    assert [a != b for a, b in zip(reference, other, strict=True)] == [True, True, True], (
        reference,
        other,
    )


@pytest.mark.slow
@pytest.mark.parametrize("reading", READINGS, ids=[r.name for r in READINGS])
def test_a_server_taking_other_free_readings_passes(reading: Reading, tmp_path: Path) -> None:
    app = create_app()
    keys = [*key_triplet(app.state.keys), *filter(None, [same_merchant_key(app.state.keys)])]
    with serve_app(reading.apply(app)) as url:
        proc = run_suite(url, keys, tmp_path)
    app.state.store.close()
    results = json.loads((tmp_path / "results.json").read_text())
    failed = [(c["id"], c["failure"]["rule"]) for c in results["checks"] if c["failure"]]
    assert proc.returncode == 0, (failed, proc.stdout[-2000:])
    assert results["summary"]["not_covered"] == 0
