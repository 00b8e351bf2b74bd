"""The differential observer on its own (contract/differential.py): ids mapped across servers,
a difference shrunk to the requests that show it, a reference bug never blamed on the target."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from neuropay_contract.contract import create_body, customer_body
from neuropay_contract.contract.checks import ContractViolation
from neuropay_contract.contract.client import ContractClient, Recorder, Secrets
from neuropay_contract.contract.differential import (
    Differential,
    ReferenceBug,
    Server,
    differential,
    reference_server,
)
from neuropay_contract.contract.reach import Driver, PaymentMeans
from neuropay_contract.server import create_app, key_triplet, serve_app
from neuropay_contract.spec import load_spec
from tests.catalog.faults import FAULTS

SPEC = load_spec()
ROLES = ("api_key", "second_api_key", "live_api_key")


def fault(name: str) -> Any:
    return next(f for f in FAULTS if f.name == name).apply


@contextmanager
def serving(broken: Any = None) -> Iterator[Server]:
    app = create_app(SPEC)
    try:
        with serve_app(broken(app) if broken else app) as url:
            yield Server(url, dict(zip(ROLES, key_triplet(app.state.keys), strict=True)))
    finally:
        app.state.store.close()


@contextmanager
def observed(target: Server) -> Iterator[tuple[ContractClient, Differential]]:
    secrets = Secrets()
    secrets.add(target.keys["api_key"], "NEUROPAY_API_KEY")
    recorder = Recorder(secrets=secrets)
    with (
        differential(SPEC, target, secrets, 10.0) as observer,
        httpx.Client(timeout=10) as http,
    ):
        recorder.observer = observer
        yield ContractClient(target.url, target.keys["api_key"], SPEC, recorder, http), observer


def test_ids_made_by_each_server_are_mapped_in_later_requests() -> None:
    with serving() as target, observed(target) as (client, observer):
        made = client.call("createCheckout", create_body()).json_object()
        customer = client.call("createCustomer", customer_body()).json_object()
        client.call("updateCheckout", {"checkout_id": made["checkout_id"], "metaData": {"a": "b"}})
        client.call("retrieveCustomer", {"customer_id": customer["customer_id"]})
        assert observer.counts == {"exchanges": 4, "differences": 0, "reference_bugs": 0}
        paired = observer.pairing.forward
        assert paired[made["checkout_id"]] != made["checkout_id"]
        assert paired[customer["customer_id"]] != customer["customer_id"]


def test_a_difference_is_shrunk_to_the_requests_that_show_it() -> None:
    with serving(fault("capture-twice")) as target, observed(target) as (client, observer):
        driver = Driver(client, PaymentMeans.from_spec(SPEC))
        client.recorder.start_check()
        client.call("createCustomer", customer_body())  # unrelated to what differs
        client.call("createCheckout", create_body())
        paid = driver.reach("paid", capture=False)
        with pytest.raises(ContractViolation) as raised:
            client.call("captureCheckout", {"checkout_id": paid["checkout_id"]})
    violation = raised.value
    assert violation.rule == "differential.status"
    assert "captureCheckout 200" in violation.title
    # the unrelated customer and checkout are left out; the driver's customer (the checkout is
    # paid with its card) and the checkout stay
    operations = [step.operation for step in violation.steps or []]
    assert operations == ["createCustomer", "createCheckout", "captureCheckout", "captureCheckout"]
    assert observer.counts["differences"] == 1
    assert violation.expected["reference"]["status"] == 409
    assert violation.received["target"]["status"] == 200
    target_script, reference_script = violation.curl.split("# ---- the reference server")
    assert target_script.count("curl ") == len(operations)
    assert reference_script.count("curl ") == len(operations)
    assert "http://127.0.0.1:8080/checkout/capture" in reference_script
    assert "${CHECKOUT_ID_2}" in reference_script  # the id the reference made, as a variable
    assert str(target.keys["api_key"]) not in violation.curl
    assert "$NEUROPAY_API_KEY" in reference_script


def test_a_reference_that_breaks_the_contract_is_an_error_of_the_run() -> None:
    """Swap the roles: a broken reference (answers without refunded_amount) against a good
    target is the reference's bug, not a finding against the target."""
    broken = fault("missing-required-field")

    @contextmanager
    def broken_reference(spec: Any) -> Iterator[Server]:
        with serving(broken) as server:
            yield server

    with serving() as target, broken_reference(SPEC) as reference, reference_server(SPEC) as spare:
        secrets = Secrets()
        observer = Differential(SPEC, target, reference, secrets, 10.0, spare)
        recorder = Recorder(secrets=secrets, observer=observer)
        with httpx.Client(timeout=10) as http:
            client = ContractClient(target.url, target.keys["api_key"], SPEC, recorder, http)
            with pytest.raises(ReferenceBug, match="reference server bug on createCheckout"):
                client.call("createCheckout", create_body())
        observer.close()
    assert observer.counts["reference_bugs"] == 1 and observer.counts["differences"] == 0


def test_the_deep_profile_always_runs_the_differential() -> None:
    from neuropay_contract.contract.settings import RunSettings, SettingsError

    assert RunSettings.from_options({"profile": "deep"}, {}).differential
    assert not RunSettings.from_options({"profile": "ci"}, {}).differential
    assert RunSettings.from_options({"differential": True}, {}).differential
    given: dict[str, Any] = {"np_differential": True}
    assert RunSettings.from_pytest(lambda name: given.get(name), {}).differential
    with pytest.raises(SettingsError, match="is not true or false"):
        RunSettings.from_options({"differential": "maybe"}, {})
    assert not RunSettings.from_pytest(lambda name: None, {}).differential
