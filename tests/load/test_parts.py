"""The pieces of `neuropay load` that need no server: the mix, the run time, the gates, the
journeys the spec gives, and the read-back model check."""

from __future__ import annotations

import pytest

from neuropay_contract.contract.reach import PaymentMeans
from neuropay_contract.load.journeys import DEFAULT_MIX, Journeys, parse_mix
from neuropay_contract.load.model import CheckoutModel, Models, compare
from neuropay_contract.load.report import gates
from neuropay_contract.load.run import parse_run_time
from neuropay_contract.spec import load_spec

from ..contract_core._cli import run

SPEC = load_spec()
LC = SPEC.require_lifecycle()


def test_every_journey_comes_from_the_spec() -> None:
    journeys = Journeys(SPEC, PaymentMeans.from_spec(SPEC))
    assert list(journeys.available()) == list(DEFAULT_MIX)
    assert journeys.loop is not None and journeys.loop.source == journeys.loop.target
    assert set(journeys.finals) == set(LC.final)


def test_mix() -> None:
    known = list(DEFAULT_MIX)
    assert parse_mix(None, known) == DEFAULT_MIX
    assert parse_mix("race=2, refunds", known) == {"race": 2, "refunds": 1}
    for bad, says in (
        ("nope=1", "unknown journey 'nope'"),
        ("race=x", "not an integer"),
        ("race=-1", "negative"),
        ("race=0", "weight 0"),
    ):
        with pytest.raises(ValueError, match=says):
            parse_mix(bad, known)


def test_run_time() -> None:
    assert parse_run_time("60") == 60
    assert parse_run_time("1m30s") == 90
    assert parse_run_time("2h") == 7200
    for bad in ("", "0", "10x", "m", "1.5m"):
        with pytest.raises(ValueError, match=r"duration|at least 1 second"):
            parse_run_time(bad)


def test_gates() -> None:
    total = {"requests": 1000, "failures": 20, "p95_ms": 80, "p99_ms": 300, "rps": 150.0}
    found = {g.option: g.holds for g in gates(total, 100, 250, 0.01, 200)}
    assert found == {
        "--p95-ms": True,
        "--p99-ms": False,
        "--max-error-rate": False,
        "--min-rps": False,
    }
    assert gates(total, None, None, None, None) == []
    assert not gates({"requests": 0}, None, 10, None, None)[0].holds  # nothing measured


def test_model_follows_answers_and_the_read_back_compares() -> None:
    models = Models(LC, "updateCheckout")
    created = {"checkout_id": "c1", "amount": 3000, "status": "paid", "metaData": {}}
    models.observe("createCheckout", {"amount": 3000, "metaData": {"j": "x"}}, None, 200, created,
                   False, 1)  # fmt: skip
    refund = {"checkout_id": "c1", "amount": 1000}
    answer = {**created, "status": "partialRefund", "refunded_amount": 1000}
    models.observe("refundCheckout", refund, "k1", 200, answer, False, 2)
    models.observe("refundCheckout", refund, "k1", 200, answer, False, 3)  # a replay: once
    models.observe("refundCheckout", {**refund, "amount": 5000}, "k2", 409, {}, False, 4)
    models.observe("updateCheckout", {"checkout_id": "c1", "metaData": {"a": "1"}}, None, 200,
                   answer, True, 5)  # fmt: skip
    model = models.checkouts["c1"]
    assert model.refunded == 1000 and model.status is None  # overlapped: status unknown
    assert model.metadata == {"j": "x", "a": "1"}
    good = {**answer, "refunds": [{"amount": 1000}], "metaData": {"j": "x", "a": "1"}}
    assert compare(model, 200, good, LC, 9) == []
    twice = {**good, "refunded_amount": 2000, "refunds": [{"amount": 1000}] * 2, "metaData": {}}
    rules = {f.rule for f in compare(model, 200, twice, LC, 9)}
    assert rules == {"load.model-refunded-total", "load.model-refund-count", "load.model-metadata"}
    over = CheckoutModel("c2", 100, "refunded", refunds={"a": 100})
    rules = {
        f.rule
        for f in compare(over, 200, {"amount": 100, "refunded_amount": 150, "status": "x"}, LC, 1)
    }
    assert rules == {"load.model-refunded-total", "load.model-refund-cap", "load.model-status"}
    assert [f.rule for f in compare(over, 404, None, LC, 1)] == ["load.model-missing"]


@pytest.mark.parametrize(
    ("command", "option"),
    [(["load", "--api-key", "k", "-t", "5s"], "--target-url"), (["proxy"], "--target")],
)
def test_a_bad_target_names_its_option_once(command: list[str], option: str) -> None:
    """The one URL check (contract/settings.py) names the option the URL came with."""
    proc = run(*command, option, "ftp://x")
    assert proc.returncode == 2
    assert (
        proc.stderr
        == f"neuropay: error: {option} 'ftp://x' is not an http:// or https:// URL with a host\n"
    )


def test_the_second_key_must_be_another_key() -> None:
    key = "sk_test_" + "a" * 32
    proc = run("load", "--target-url", "http://127.0.0.1:9", "--api-key", key,
               "--second-api-key", key, "-t", "5s")  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr == (
        "neuropay: error: --second-api-key must be another merchant's key, not --api-key\n"
    )
