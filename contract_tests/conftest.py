"""Fixtures of the contract suite: the target (given or embedded), clients, the lifecycle driver.

Options come from the ``neuropay`` pytest plugin (neuropay_contract.contract.plugin) as one
validated :class:`RunSettings`."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import cast

import httpx
import pytest
import requests

from neuropay_contract.contract.checks import NotImplementedOperation
from neuropay_contract.contract.client import (
    NOT_IMPLEMENTED,
    OUTSIDE_SUBSET,
    ContractClient,
    Recorder,
    Secrets,
)
from neuropay_contract.contract.implemented import find_not_implemented
from neuropay_contract.contract.plugin import (
    RESULTS_KEY,
    active_spec,
    fail_run,
    run_client,
    run_settings,
)
from neuropay_contract.contract.reach import Driver, PaymentMeans
from neuropay_contract.contract.results_builder import RunState
from neuropay_contract.contract.settings import KEY_OPTIONS, RunTarget
from neuropay_contract.errors import NeuropayError
from neuropay_contract.spec import ApiSpec


def _preflight(config: pytest.Config, target: RunTarget, recorder: Recorder) -> None:
    """The target answers and the keys work, before any check: a wrong key never passes. Then
    which operations it implements (of those certified, with --operations)."""
    state = config.stash[RESULTS_KEY]
    subset = _subset(config, target.spec)
    with httpx.Client(timeout=target.timeout) as http:
        client = ContractClient(target.url, target.api_key, target.spec, recorder, http)
        _probe(config, target, client)
        probed = [op for op in target.spec.operations if subset is None or op in subset]
        state.not_implemented = find_not_implemented(client, probed)
    if probed and len(state.not_implemented) == len(probed):
        fail_run(
            config,
            f"every operation at {target.url} answers like a missing route (404/405 without "
            "the error envelope); is this the Neuro-Pay API (check the base path)?",
        )
    state.subset = subset
    state.unavailable = {op: NOT_IMPLEMENTED for op in state.not_implemented}
    for op in target.spec.operations:
        if subset is not None and op not in subset:
            state.unavailable[op] = OUTSIDE_SUBSET
    recorder.per_operation.clear()  # the preflight is no check: its requests count nowhere
    recorder.start_check()


def _subset(config: pytest.Config, spec: ApiSpec) -> list[str] | None:
    """The operations --operations certifies, in spec order (None: all)."""
    settings = run_settings(config)
    problem = settings.operations_problem(spec)
    if problem:
        fail_run(config, problem)
    if settings.operations is None:
        return None
    return [op for op in spec.operations if op in settings.operations]


def _probe(config: pytest.Config, target: RunTarget, client: ContractClient) -> None:
    probe = {"checkout_id": secrets.token_hex(16)}
    try:
        resp = client.call("retrieveCheckout", probe)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        fail_run(config, f"cannot reach {target.url}: {type(exc).__name__}: {exc}")
        return
    if resp.status == 401:
        fail_run(
            config, f"the target refused the API key (401 on retrieveCheckout at {target.url})"
        )
    if resp.body is None:
        # A contract rule would say "not the envelope"; an answer that is not even JSON means the
        # URL points at something else (a web page, a missing base path), so nothing can be tested.
        # Any JSON answer goes on to the checks: a wrong status there is a violation to report
        # (exit 1), not a reason to stop (a stateless mock answering 200 to every id fails them).
        fail_run(
            config,
            f"preflight: retrieveCheckout of an unknown id at {target.url} answered "
            f"{resp.status} without a JSON body; is this the Neuro-Pay API (check the base path)?",
        )
    for name, key in (("second", target.second_api_key), ("live", target.live_api_key)):
        if key and client.with_key(key).call("retrieveCheckout", probe).status == 401:
            fail_run(config, f"the target refused the {name} API key")


@pytest.fixture(scope="session")
def np_spec(pytestconfig: pytest.Config) -> ApiSpec:
    try:
        return cast(ApiSpec, active_spec())
    except NeuropayError as exc:
        fail_run(pytestconfig, str(exc))
        raise


@pytest.fixture(scope="session")
def np_target(pytestconfig: pytest.Config, np_spec: ApiSpec) -> Iterator[RunTarget]:
    config = pytestconfig
    settings = run_settings(config)
    means = PaymentMeans.from_spec(np_spec, **settings.cards)
    state = config.stash[RESULTS_KEY]
    if settings.target_url:
        yield from _with_target(config, state, settings.run_target(np_spec, means))
        return
    from neuropay_contract.server import start_server

    with start_server(spec=np_spec) as server:
        keys = (server.url, server.test_key, server.second_test_key, server.live_key)
        target = settings.run_target(np_spec, means, embedded=keys)
        yield from _with_target(config, state, target)


def _with_target(config: pytest.Config, state: RunState, target: RunTarget) -> Iterator[RunTarget]:
    secrets_ = Secrets()
    for name, _flag, variable in KEY_OPTIONS:
        secrets_.add(getattr(target, name), variable)
    state.recorder = Recorder(secrets=secrets_)
    state.target = target
    problem = target.key_problem()
    if problem:
        fail_run(config, problem)
    _preflight(config, target, state.recorder)
    yield target


@pytest.fixture(scope="session")
def np_http(np_target: RunTarget) -> Iterator[httpx.Client]:
    """One keep-alive connection pool for every check, each exchange bounded by the timeout."""
    with httpx.Client(timeout=np_target.timeout) as client:
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


@pytest.fixture(scope="session")
def st_session() -> Iterator[requests.Session]:
    """One HTTP session for schemathesis' calls (its default opens one per call)."""
    with requests.Session() as session:
        yield session
