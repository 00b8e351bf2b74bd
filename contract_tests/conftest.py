"""Fixtures of the contract suite: the target (given or embedded), clients, the lifecycle driver.

Options come from the ``neuropay`` pytest plugin (neuropay_contract.pytest_plugin)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest
import requests

from neuropay_contract.contract.client import ContractClient, Recorder, Secrets
from neuropay_contract.contract.reach import Driver, PaymentMeans
from neuropay_contract.errors import NeuropayError
from neuropay_contract.pytest_plugin import (
    PROFILES,
    RESULTS_KEY,
    active_spec,
    target_url_problem,
)
from neuropay_contract.spec import ApiSpec


@dataclass
class Target:
    url: str
    api_key: str
    second_api_key: str | None
    live_api_key: str | None
    embedded: bool
    profile: str
    spec: ApiSpec
    means: PaymentMeans
    timeout: float = 10.0  # seconds per HTTP exchange (--request-timeout)

    @property
    def limits(self) -> dict[str, int]:
        return PROFILES[self.profile]


def _fail_run(config: pytest.Config, reason: str) -> None:
    state = config.stash.get(RESULTS_KEY, None)
    if state is not None:
        state.error = reason
    pytest.exit(reason, returncode=2)


def _preflight(config: pytest.Config, target: Target, recorder: Recorder) -> None:
    """The target answers and the keys work, before any check: a wrong key never passes."""
    with httpx.Client(timeout=target.timeout) as http:
        _probe(
            config, target, ContractClient(target.url, target.api_key, target.spec, recorder, http)
        )
    recorder.per_operation.clear()  # the preflight is no check: its requests count nowhere
    recorder.start_check()


def _check_keys(config: pytest.Config, target: Target) -> None:
    """Keys that cannot be right stop the run before any request. The suite creates, pays and
    refunds checkouts, so it never runs with a key the spec marks as live as its main or second
    key (that would move real money on a production target)."""
    test_mode = target.spec.test_mode
    live_prefix = test_mode.key_prefixes.get("live") if test_mode else None
    for option, key in (("--api-key", target.api_key), ("--second-api-key", target.second_api_key)):
        if key and live_prefix and key.startswith(live_prefix):
            _fail_run(
                config,
                f"refusing to run with a live key as {option} (it starts with {live_prefix!r}): "
                "the suite creates and refunds checkouts; use a test key",
            )
    if target.second_api_key and target.second_api_key == target.api_key:
        _fail_run(config, "--second-api-key is the same key as --api-key: pass another merchant's")
    if target.live_api_key and target.live_api_key in (target.api_key, target.second_api_key):
        _fail_run(config, "--live-api-key is the same key as a test key: pass the live key")


def _probe(config: pytest.Config, target: Target, client: ContractClient) -> None:
    probe = {"checkout_id": secrets.token_hex(16)}
    try:
        resp = client.call("retrieveCheckout", probe)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        _fail_run(config, f"cannot reach {target.url}: {type(exc).__name__}: {exc}")
        return
    if resp.status == 401:
        _fail_run(
            config, f"the target refused the API key (401 on retrieveCheckout at {target.url})"
        )
    if resp.body is None:
        # A contract rule would say "not the envelope"; an answer that is not even JSON means the
        # URL points at something else (a web page, a missing base path), so nothing can be tested.
        # Any JSON answer goes on to the checks: a wrong status there is a violation to report
        # (exit 1), not a reason to stop (a stateless mock answering 200 to every id fails them).
        _fail_run(
            config,
            f"preflight: retrieveCheckout of an unknown id at {target.url} answered "
            f"{resp.status} without a JSON body; is this the Neuro-Pay API (check the base path)?",
        )
    for name, key in (("second", target.second_api_key), ("live", target.live_api_key)):
        if key and client.with_key(key).call("retrieveCheckout", probe).status == 401:
            _fail_run(config, f"the target refused the {name} API key")


@pytest.fixture(scope="session")
def np_spec(pytestconfig: pytest.Config) -> ApiSpec:
    try:
        return cast(ApiSpec, active_spec())
    except NeuropayError as exc:
        _fail_run(pytestconfig, str(exc))
        raise


@pytest.fixture(scope="session")
def np_target(pytestconfig: pytest.Config, np_spec: ApiSpec) -> Iterator[Target]:
    config = pytestconfig
    option = config.getoption
    profile = str(option("--profile"))
    means = PaymentMeans.from_spec(
        np_spec,
        card_number_success=option("--card-number-success"),
        card_number_decline=option("--card-number-decline"),
        card_id_success=option("--card-id-success"),
        card_id_decline=option("--card-id-decline"),
    )
    state = config.stash[RESULTS_KEY]
    url = option("--target-url")
    if url:
        problem = target_url_problem(url)
        if problem:
            _fail_run(config, problem)
        key = option("--api-key") or os.environ.get("NEUROPAY_API_KEY")
        if not key:
            _fail_run(config, "no API key: pass --api-key or set NEUROPAY_API_KEY")
        target = Target(
            url=url.rstrip("/"),
            api_key=str(key),
            second_api_key=option("--second-api-key") or os.environ.get("NEUROPAY_SECOND_API_KEY"),
            live_api_key=option("--live-api-key") or os.environ.get("NEUROPAY_LIVE_API_KEY"),
            embedded=False,
            profile=profile,
            spec=np_spec,
            means=means,
            timeout=float(option("--request-timeout")),
        )
        yield from _with_target(config, state, target)
        return
    typed = [flag for flag in ("--api-key", "--second-api-key", "--live-api-key") if option(flag)]
    if typed:
        _fail_run(
            config,
            f"{' and '.join(typed)} given without --target-url: the embedded reference server "
            "makes its own keys; pass --target-url to test your server",
        )
    from neuropay_contract.server import start_server

    with start_server(spec=np_spec) as server:
        target = Target(
            url=server.url,
            api_key=server.test_key,
            second_api_key=server.second_test_key,
            live_api_key=server.live_key,
            embedded=True,
            profile=profile,
            spec=np_spec,
            means=means,
            timeout=float(option("--request-timeout")),
        )
        yield from _with_target(config, state, target)


def _with_target(config: pytest.Config, state: Any, target: Target) -> Iterator[Target]:
    secrets_ = Secrets()
    secrets_.add(target.api_key, "NEUROPAY_API_KEY")
    secrets_.add(target.second_api_key, "NEUROPAY_SECOND_API_KEY")
    secrets_.add(target.live_api_key, "NEUROPAY_LIVE_API_KEY")
    state.recorder = Recorder(secrets=secrets_)
    state.target = target
    _check_keys(config, target)
    _preflight(config, target, state.recorder)
    yield target


@pytest.fixture(scope="session")
def np_http(np_target: Target) -> Iterator[httpx.Client]:
    """One keep-alive connection pool for every check, each exchange bounded by the timeout."""
    with httpx.Client(timeout=np_target.timeout) as client:
        yield client


@pytest.fixture
def np_client(
    pytestconfig: pytest.Config, np_target: Target, np_http: httpx.Client
) -> ContractClient:
    recorder = pytestconfig.stash[RESULTS_KEY].recorder
    return ContractClient(np_target.url, np_target.api_key, np_target.spec, recorder, np_http)


@pytest.fixture
def np_driver(np_client: ContractClient, np_target: Target) -> Driver:
    return Driver(np_client, np_target.means)


@pytest.fixture
def np_second_client(np_client: ContractClient, np_target: Target) -> ContractClient:
    from neuropay_contract.contract import not_covered

    if not np_target.second_api_key:
        not_covered("no second merchant key (--second-api-key)")
    return np_client.with_key(np_target.second_api_key)


@pytest.fixture
def np_live_client(np_client: ContractClient, np_target: Target) -> ContractClient:
    from neuropay_contract.contract import not_covered

    if not np_target.live_api_key:
        not_covered("no live key of the same merchant (--live-api-key)")
    return np_client.with_key(np_target.live_api_key)


@pytest.fixture(scope="session")
def st_session() -> Iterator[requests.Session]:
    """One HTTP session for schemathesis' calls (its default opens one per call)."""
    with requests.Session() as session:
        yield session
