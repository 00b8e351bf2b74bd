"""The server's JSON encoder: orjson's speed with the standard library's strictness and range."""

from __future__ import annotations

import json

import pytest

from neuropay_contract.server.jsoncodec import dumps, loads


def test_integers_beyond_64_bits_round_trip_exactly() -> None:
    value = {"big": 2**80, "negative": -(2**70), "text": "å"}
    assert loads(dumps(value)) == value
    assert json.loads(dumps(value)) == value


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_are_refused_not_written_as_null(bad: float) -> None:
    with pytest.raises(ValueError, match="not JSON"):
        dumps({"nested": [{"amount": bad}], "other": None})


def test_nulls_and_finite_floats_pass() -> None:
    assert dumps({"a": None, "b": 1.5}) == b'{"a":null,"b":1.5}'
