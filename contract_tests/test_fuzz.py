"""Every operation fuzzed with schemathesis (positive and negative data), with real ids."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from _support import OPERATIONS, id_field, np
from neuropay_contract.contract import Driver, customer_body
from neuropay_contract.contract.checks import note_failure
from neuropay_contract.contract.fuzz import load_schema, record
from neuropay_contract.contract.plugin import RESULTS_KEY, np_settings, run_client
from neuropay_contract.lifecycle import distinct_statuses


@pytest.fixture(scope="module")
def st_schema(np_target: Any) -> Any:
    return load_schema(np_target.spec)


@pytest.fixture(scope="module")
def id_pool(pytestconfig: pytest.Config, np_target: Any, np_http: Any) -> dict[str, list[str]]:
    """Objects this run made, in several statuses, so fuzzing reaches the business logic. Best
    effort: what cannot be made is left out (the checks that test making it report why), and
    fuzzing still runs, with generated ids."""
    client = run_client(pytestconfig, np_target, np_http)
    driver = Driver(client, np_target.means)
    pool: dict[str, list[str]] = {"checkout_id": [], "customer_id": []}
    lifecycle = np_target.spec.lifecycle
    for status in distinct_statuses(lifecycle) if lifecycle is not None else []:
        with contextlib.suppress(Exception, pytest.skip.Exception):
            pool["checkout_id"].append(str(driver.reach(status)["checkout_id"]))
    with contextlib.suppress(Exception, pytest.skip.Exception):
        made = client.call("createCustomer", customer_body()).json_object().get("customer_id")
        if isinstance(made, str):
            pool["customer_id"].append(made)
    return pool


CASES = [
    pytest.param(
        op.operation_id,
        mode,
        id=f"{op.operation_id}-{mode.value}",
        marks=np("fuzz", op.operation_id),
    )
    for op in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
]


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_fuzz(
    pytestconfig: pytest.Config,
    np_target: Any,
    st_schema: Any,
    st_session: requests.Session,
    id_pool: dict[str, list[str]],
    operation: str,
    mode: GenerationMode,
) -> None:
    """schemathesis' checks on generated requests: no server error, documented status, content
    type and headers, response schema, valid data accepted, invalid data rejected."""
    op = np_target.spec.operation(operation)
    st_operation = st_schema[op.path][op.method]
    field = id_field(operation)
    recorder = pytestconfig.stash[RESULTS_KEY].recorder
    assert recorder is not None  # np_target made it
    headers = {"Authorization": f"Bearer {np_target.api_key}"}

    @np_settings()
    @given(data=st.data())
    def run(data: Any) -> None:
        recorder.restart_sequence()  # a failure reproduces its own (shrunk) example only
        case = data.draw(st_operation.as_strategy(mode))
        if mode == GenerationMode.POSITIVE and field and isinstance(case.body, dict):
            real = data.draw(st.sampled_from([None, *id_pool[field]]))
            if real is not None:
                case.body[field] = real
        response = case.call(
            base_url=np_target.url, headers=headers, session=st_session, timeout=np_target.timeout
        )
        record(recorder, case, response, operation, np_target.url)
        try:
            case.validate_response(response)
        except Exception as exc:
            note_failure(exc)
            raise

    run()
