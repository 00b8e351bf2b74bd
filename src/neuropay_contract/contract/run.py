"""The engine's side of a run's start: the target resolved (the one given, or the embedded
reference server with its own keys), the keys checked, and the preflight (the target answers,
the keys work, which operations it implements) before any check. The suite's fixtures call
:func:`open_target`; a shipped test module holds tests, not the engine's preflight."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from ..errors import UsageError
from ..spec import ApiSpec
from .client import (
    NOT_IMPLEMENTED,
    OUTSIDE_SUBSET,
    SILENT,
    ContractClient,
    Recorder,
    Secrets,
)
from .implemented import find_not_implemented
from .plugin import RESULTS_KEY, fail_run, run_settings
from .reach import PaymentMeans
from .results_builder import RunState
from .settings import KEY_OPTIONS, RunTarget


def open_target(config: pytest.Config, spec: ApiSpec) -> Iterator[RunTarget]:
    """The run's target for the session: the one given, or the embedded reference server's,
    after the key checks and the preflight (a run that cannot test stops with exit 2)."""
    settings = run_settings(config)
    means = PaymentMeans.from_spec(spec, **settings.cards)
    state = config.stash[RESULTS_KEY]
    if settings.target_url:
        yield from _with_target(config, state, settings.run_target(spec, means))
        return
    from ..server import start_server

    with start_server(spec=spec) as server:
        if settings.idempotency_retention is not None:  # the embedded server is configured so
            server.app.state.service.retention_s = settings.idempotency_retention
        keys = (
            server.url,
            server.test_key,
            server.second_test_key,
            server.live_key,
            server.same_merchant_test_key,
        )
        target = settings.run_target(spec, means, embedded=keys)
        yield from _with_target(config, state, target)


def _with_target(config: pytest.Config, state: RunState, target: RunTarget) -> Iterator[RunTarget]:
    secrets_ = Secrets()
    for name, _flag, variable in KEY_OPTIONS:
        secrets_.add(getattr(target, name), variable)
    state.recorder = Recorder(secrets=secrets_)
    state.target = target
    problem = target.key_problem()
    if problem:
        fail_run(config, UsageError(problem))
    _preflight(config, target, state.recorder)
    if not run_settings(config).differential:
        yield target
        return
    from .differential import Server, differential

    keys = {name: getattr(target, name) for name, _flag, _variable in KEY_OPTIONS}
    with (
        target.http_client() as target_http,
        differential(
            target.spec,
            Server(target.url, keys),
            secrets_,
            target.timeout,
            target_http,
            [name for name, _value in run_settings(config).transport.headers],
            target.idempotency_retention,
        ) as observer,
    ):
        # Attached after the preflight: its probes change nothing, and a difference there would
        # stop the run instead of failing a check.
        state.recorder.observer = observer
        state.differential = observer.counts
        try:
            yield target
        finally:
            state.recorder.observer = None


def _preflight(config: pytest.Config, target: RunTarget, recorder: Recorder) -> None:
    """The target answers and the keys work, before any check: a wrong key never passes. Then
    which operations it implements (of those certified, with --operations)."""
    state = config.stash[RESULTS_KEY]
    subset = _subset(config, target.spec)
    with target.http_client() as http:
        client = ContractClient(target.url, target.api_key, target.spec, recorder, http)
        _probe(config, target, client)
        probed = [op for op in target.spec.operations if subset is None or op in subset]
        silent: list[str] = []
        state.not_implemented = find_not_implemented(client, probed, silent)
    if probed and len(silent) == len(probed):
        fail_run(config, f"no operation at {target.url} answered the preflight's probes")
    if probed and len(state.not_implemented) == len(probed):
        fail_run(
            config,
            f"every operation at {target.url} answers like a missing route (404/405 without "
            "the error envelope); is this the Neuro-Pay API (check the base path)?",
        )
    state.subset = subset
    state.unavailable = {op: NOT_IMPLEMENTED for op in state.not_implemented}
    state.unavailable.update({op: SILENT for op in silent})
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
        fail_run(config, UsageError(problem))
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
    for name, key in (
        ("second", target.second_api_key),
        ("live", target.live_api_key),
        ("same-merchant", target.same_merchant_api_key),
    ):
        if key and client.with_key(key).call("retrieveCheckout", probe).status == 401:
            fail_run(config, f"the target refused the {name} API key")
