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


def test_reading_is_exact_for_long_integers_and_plain_for_the_rest() -> None:
    assert loads('{"n": 12345678901234567890123}') == {"n": 12345678901234567890123}
    assert loads(b'{"n": -18446744073709551616, "s": "x"}') == {"n": -(2**64), "s": "x"}
    assert loads('{"a": [1, 2.5, null, "\\u00e5"]}') == {"a": [1, 2.5, None, "å"]}


def test_finite_skips_the_search_for_non_finite_numbers() -> None:
    # Only for values known to hold none (the server's records): then orjson's null stands.
    assert dumps({"a": float("inf"), "b": None}, finite=True) == b'{"a":null,"b":null}'
