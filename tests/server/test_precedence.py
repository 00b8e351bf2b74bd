"""The reference server checks the generic rules in the order the spec's x-precedence gives."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from neuropay_contract.errors import SpecError
from neuropay_contract.server import create_app, serve_app
from neuropay_contract.spec import DEFAULT_PRECEDENCE, ApiSpec, load_spec


def _spec_with(order: list[str]) -> ApiSpec:
    document: dict[str, Any] = copy.deepcopy(dict(load_spec().document))
    by_name = {step["step"]: step for step in document["x-precedence"]}
    document["x-precedence"] = [by_name[name] for name in order]
    return ApiSpec(document)


def _keyless_text_plain(spec: ApiSpec) -> int:
    app = create_app(spec)
    try:
        with serve_app(app) as url:
            resp = httpx.post(
                f"{url}/checkout/retrieve", content=b"{}", headers={"Content-Type": "text/plain"}
            )
        return resp.status_code
    finally:
        app.state.store.close()


def test_the_spec_order_is_the_default_order() -> None:
    assert [step.name for step in load_spec().precedence] == list(DEFAULT_PRECEDENCE)


def test_the_server_follows_the_order_it_reads() -> None:
    """No key and a text/plain body: 401 in the spec's order, 415 with media_type moved first."""
    assert _keyless_text_plain(load_spec()) == 401
    order = list(DEFAULT_PRECEDENCE)
    order.remove("media_type")
    order.insert(order.index("api_key"), "media_type")
    assert _keyless_text_plain(_spec_with(order)) == 415


@pytest.mark.parametrize(
    ("order", "problem"),
    [
        (["method", "path", *DEFAULT_PRECEDENCE[2:]], "path must come before method"),
        (
            [
                *DEFAULT_PRECEDENCE[:3],
                "json",
                "body_size",
                *DEFAULT_PRECEDENCE[4:6],
                *DEFAULT_PRECEDENCE[7:],
            ],
            "body_size must come before json",
        ),
        ([*DEFAULT_PRECEDENCE[:-1]], "must list each of"),
    ],
    ids=["path-not-first", "parse-before-read", "missing-step"],
)
def test_an_order_the_rules_cannot_run_in_is_refused(order: list[str], problem: str) -> None:
    document: dict[str, Any] = copy.deepcopy(dict(load_spec().document))
    by_name = {step["step"]: step for step in document["x-precedence"]}
    document["x-precedence"] = [by_name[name] for name in order]
    with pytest.raises(SpecError, match=problem):
        create_app(ApiSpec(document))
