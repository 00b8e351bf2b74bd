"""The spec's ``x-precedence`` decides each generic refusal's status and code for both readers:
the reference server refuses with the step's ``http`` and ``codes`` and the traffic checker
predicts them (one lookup, ``ApiSpec.refusal``). A copy of the spec with other answers changes
both, so the checker blames neither the client's prediction nor the server's answer wrongly."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from neuropay_contract.server import create_app, key_triplet, serve_app
from neuropay_contract.spec import ApiSpec, load_spec
from neuropay_contract.traffic.validate import ExchangeValidator

from ._traffic import RecordingClient

CREATE = {
    "amount": 3000,
    "currency": "SEK",
    "message": "hi",
    "returnUrl": "https://shop.example.com/t",
    "returnUrlCancel": "https://shop.example.com/c",
    "metaData": {},
}

# step -> (http, codes) in the modified copy: a media type answered 400 with an existing code,
# and renamed codes (new entries of x-error-codes) for the other steps a request below breaks.
CHANGED: dict[str, tuple[int, list[str]]] = {
    "path": (404, ["no_such_path"]),
    "method": (405, ["wrong_method"]),
    "api_key": (401, ["key_missing", "key_refused"]),
    "body_size": (413, ["body_too_large"]),
    "media_type": (400, ["invalid_request"]),
    "json": (400, ["not_json"]),
    "json_depth": (400, ["too_deep"]),
    "schema": (422, ["schema_broken"]),
    "idempotency_key": (400, ["bad_idempotency_key"]),
}


def _changed_spec() -> ApiSpec:
    document: dict[str, Any] = copy.deepcopy(dict(load_spec().document))
    codes = document["components"]["schemas"]["ErrorCode"]
    for step in document["x-precedence"]:
        if step["step"] in CHANGED:
            http, names = CHANGED[step["step"]]
            step["http"], step["codes"] = http, names
            for name in names:
                if name not in codes["enum"]:
                    codes["enum"].append(name)
                    codes["x-error-codes"][name] = {"http": http, "description": name}
    # The schema step's new status is a documented answer of the operation used below.
    create = document["paths"]["/checkout/create"]["post"]["responses"]
    create["422"] = copy.deepcopy(create["400"])
    return ApiSpec(document)


@pytest.fixture(scope="module")
def changed() -> Iterator[tuple[ApiSpec, str, str]]:
    spec = _changed_spec()
    app = create_app(spec)
    try:
        test_key = key_triplet(app.state.keys)[0]
        with serve_app(app) as url:
            yield spec, url, test_key
    finally:
        app.state.store.close()


def _deep(levels: int) -> dict[str, Any]:
    nested: Any = "x"
    for _ in range(levels):
        nested = [nested]
    return {**CREATE, "metaData": {"a": nested}}


# (case, request: path, method, key, headers, body, the broken step and which of its codes)
CASES: list[tuple[str, str, str, str | None, dict[str, str], Any, str, int]] = [
    ("unknown-path", "/checkout/nowhere", "POST", "test", {}, CREATE, "path", 0),
    ("method", "/checkout/create", "PUT", "test", {}, CREATE, "method", 0),
    ("no-key", "/checkout/create", "POST", None, {}, CREATE, "api_key", 0),
    ("bad-key", "/checkout/create", "POST", "nope", {}, CREATE, "api_key", 1),
    ("too-large", "/checkout/create", "POST", "test", {}, b"[" * 70_000, "body_size", 0),
    ("media", "/checkout/create", "POST", "test", {"Content-Type": "text/plain"}, CREATE,
     "media_type", 0),
    ("json", "/checkout/create", "POST", "test", {}, b"{nope", "json", 0),
    ("depth", "/checkout/create", "POST", "test", {}, _deep(40), "json_depth", 0),
    ("schema", "/checkout/create", "POST", "test", {}, {"amount": "3"}, "schema", 0),
    ("idempotency-key", "/checkout/create", "POST", "test", {"Idempotency-Key": "a b"}, CREATE,
     "idempotency_key", 0),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "method", "key", "headers", "body", "step", "which"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_server_answers_and_checker_predicts_the_specs_refusal(
    changed: tuple[ApiSpec, str, str],
    path: str,
    method: str,
    key: str | None,
    headers: dict[str, str],
    body: Any,
    step: str,
    which: int,
) -> None:
    spec, url, test_key = changed
    http, codes = CHANGED[step]
    wanted = (http, codes[which])
    client = RecordingClient(url, test_key)
    try:
        sent = {"Content-Type": "application/json", **headers}
        raw = body if isinstance(body, bytes) else None
        response = client.post(
            path,
            None if raw is not None else body,
            key="default" if key == "test" else key,
            headers=sent,
            raw=raw if raw is not None else None,
            method=method,
        )
    finally:
        client.close()
    # The server answers what the modified spec says (today's literals answered the shipped one).
    assert (response.status_code, response.json()["error"]["code"]) == wanted
    checked = ExchangeValidator(spec).check(client.exchanges[0])
    assert [f.line() for f in checked.findings if f.side == "server"] == []
    assert [(e.http, e.code) for e in checked.expectations][:1] == [wanted]


def test_a_live_key_on_a_test_helper_gets_the_steps_answer() -> None:
    """test_mode_only too: the spec's step, not a literal, for the server and the checker."""
    document: dict[str, Any] = copy.deepcopy(dict(load_spec().document))
    codes = document["components"]["schemas"]["ErrorCode"]
    codes["enum"].append("helpers_need_test_keys")
    codes["x-error-codes"]["helpers_need_test_keys"] = {"http": 403, "description": "."}
    for step in document["x-precedence"]:
        if step["step"] == "test_mode_only":
            step["codes"] = ["helpers_need_test_keys"]
    document["x-test-mode"]["live_key_answer"] = {"http": 403, "code": "helpers_need_test_keys"}
    spec = ApiSpec(document)
    app = create_app(spec)
    try:
        _, _, live_key = key_triplet(app.state.keys)
        with serve_app(app) as url:
            client = RecordingClient(url, live_key)
            response = client.post("/checkout/test/pay", {"checkout_id": "0" * 32})
            client.close()
    finally:
        app.state.store.close()
    assert (response.status_code, response.json()["error"]["code"]) == (
        403,
        "helpers_need_test_keys",
    )
    checked = ExchangeValidator(spec).check(client.exchanges[0])
    assert [f.line() for f in checked.findings if f.side == "server"] == []
    assert [(e.http, e.code) for e in checked.expectations][:1] == [(403, "helpers_need_test_keys")]


def test_the_lookup_reads_the_spec_and_defaults_what_it_leaves_out() -> None:
    shipped = load_spec()
    assert shipped.refusal("media_type").http == 415
    assert shipped.refusal("api_key", 1).code == "invalid_api_key"
    assert _changed_spec().refusal("media_type").code == "invalid_request"
    document: dict[str, Any] = copy.deepcopy(dict(shipped.document))
    del document["x-precedence"]
    assert ApiSpec(document).refusal("api_key", 0).code == "missing_api_key"
