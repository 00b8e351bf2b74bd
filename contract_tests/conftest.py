"""Fixtures of the contract suite: the target (given or embedded), clients, the lifecycle driver.

Options come from the ``neuropay`` pytest plugin (neuropay_contract.contract.plugin) as one
validated :class:`RunSettings`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import httpx
import pytest
import requests

from neuropay_contract.contract.checks import NotImplementedOperation
from neuropay_contract.contract.client import (
    OUTSIDE_SUBSET,
    SILENT,
    ContractClient,
    SilentOperation,
)
from neuropay_contract.contract.plugin import RESULTS_KEY, active_spec, fail_run, run_client
from neuropay_contract.contract.reach import Driver
from neuropay_contract.contract.run import open_target
from neuropay_contract.contract.settings import RunTarget
from neuropay_contract.errors import NeuropayError
from neuropay_contract.spec import ApiSpec


@pytest.fixture(scope="session")
def np_spec(pytestconfig: pytest.Config) -> ApiSpec:
    try:
        return cast(ApiSpec, active_spec())
    except NeuropayError as exc:
        fail_run(pytestconfig, exc)
        raise


@pytest.fixture(scope="session")
def np_target(pytestconfig: pytest.Config, np_spec: ApiSpec) -> Iterator[RunTarget]:
    yield from open_target(pytestconfig, np_spec)


@pytest.fixture(scope="session")
def np_http(np_target: RunTarget) -> Iterator[httpx.Client]:
    """One keep-alive connection pool for every check, each exchange bounded by the timeout."""
    with np_target.http_client() as client:
        yield client


@pytest.fixture(autouse=True)
def _np_operation_available(request: pytest.FixtureRequest) -> None:
    """A check of an operation the target does not implement is blocked before it sends
    anything; one of an operation outside --operations is not covered."""
    mark = request.node.get_closest_marker("np_check")
    operation = mark.kwargs.get("operation") if mark is not None else None
    if not operation:
        return
    request.getfixturevalue("np_target")  # the preflight has run
    why = request.config.stash[RESULTS_KEY].unavailable.get(operation)
    if why == OUTSIDE_SUBSET:
        from neuropay_contract.contract import not_covered

        not_covered(f"{operation} is outside --operations")
    elif why == SILENT:
        raise SilentOperation(operation)
    elif why is not None:
        raise NotImplementedOperation(operation)


@pytest.fixture
def np_client(
    pytestconfig: pytest.Config, np_target: RunTarget, np_http: httpx.Client
) -> ContractClient:
    return run_client(pytestconfig, np_target, np_http)


@pytest.fixture
def np_driver(np_client: ContractClient, np_target: RunTarget) -> Driver:
    return Driver(np_client, np_target.means)


@pytest.fixture
def np_second_client(np_client: ContractClient, np_target: RunTarget) -> ContractClient:
    from neuropay_contract.contract import not_covered

    if not np_target.second_api_key:
        not_covered("no second merchant key (--second-api-key)")
    return np_client.with_key(np_target.second_api_key)


@pytest.fixture
def np_live_client(np_client: ContractClient, np_target: RunTarget) -> ContractClient:
    from neuropay_contract.contract import not_covered

    if not np_target.live_api_key:
        not_covered("no live key of the same merchant (--live-api-key)")
    return np_client.with_key(np_target.live_api_key)


@pytest.fixture
def np_same_merchant_client(np_client: ContractClient, np_target: RunTarget) -> ContractClient:
    from neuropay_contract.contract import not_covered

    if not np_target.same_merchant_api_key:
        not_covered("no other test key of the same merchant (--same-merchant-api-key)")
    return np_client.with_key(np_target.same_merchant_api_key)


@pytest.fixture(scope="session")
def st_session(np_target: RunTarget) -> Iterator[requests.Session]:
    """One HTTP session for schemathesis' calls (its default opens one per call), with the run's
    extra headers and TLS settings."""
    with requests.Session() as session:
        yield np_target.transport.configure(session)
