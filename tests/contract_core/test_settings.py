"""One RunSettings for the CLI and pytest: built from options and the environment, validated once,
and carried into pytest and back unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from neuropay_contract.contract.settings import (
    DEFAULT_TIMEOUT,
    RunSettings,
    RunTarget,
    SettingsError,
)
from neuropay_contract.spec import load_spec


def test_keys_come_from_the_environment_only_with_a_target() -> None:
    env = {"NEUROPAY_API_KEY": "sk_test_a", "NEUROPAY_SECOND_API_KEY": "sk_test_b"}
    with_target = RunSettings.from_options({"target_url": "http://127.0.0.1:9/"}, env)
    assert with_target.target_url == "http://127.0.0.1:9"
    assert (with_target.api_key, with_target.second_api_key) == ("sk_test_a", "sk_test_b")
    embedded = RunSettings.from_options({}, env)
    assert embedded.embedded and embedded.api_key is None


@pytest.mark.parametrize(
    ("options", "env", "message"),
    [
        ({"target_url": "ftp://x"}, {}, "not an http:// or https:// URL"),
        ({"target_url": "http://x:99999"}, {}, "not a valid URL"),
        ({"target_url": "http://127.0.0.1:9"}, {}, "needs an API key"),
        ({"api_key": "sk_test_a"}, {}, "--api-key given without --target-url"),
        ({"profile": "fast"}, {}, "unknown profile"),
        ({}, {"NEUROPAY_TIMEOUT": "soon"}, "not a number of seconds"),
        ({}, {"NEUROPAY_TIMEOUT": "0"}, "more than 0"),
    ],
    ids=["scheme", "port", "no-key", "key-without-target", "profile", "timeout", "zero"],
)
def test_settings_that_cannot_run_are_refused_with_one_line(
    options: dict[str, Any], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        RunSettings.from_options(options, env)


def test_environment_fills_profile_and_timeout_and_options_win() -> None:
    env = {"NEUROPAY_PROFILE": "deep", "NEUROPAY_TIMEOUT": "3.5"}
    assert RunSettings.from_options({}, env).profile == "deep"
    assert RunSettings.from_options({}, env).timeout == 3.5
    assert RunSettings.from_options({"timeout": 2.0, "profile": "ci"}, env).timeout == 2.0
    assert RunSettings.from_options({}, {}).timeout == DEFAULT_TIMEOUT


def test_every_row_is_a_click_and_a_pytest_option() -> None:
    """The options table generates both: one row, one ``neuropay test`` option, one pytest option
    (with the same long name unless the row names pytest's own)."""
    from neuropay_contract.contract.cli import test_command
    from neuropay_contract.contract.options import OPTIONS, add_pytest_options

    click_names = {p.name: p for p in test_command.params}
    pytest_flags: set[str] = set()

    class Group:
        def addoption(self, flag: str, **kwargs: Any) -> None:
            pytest_flags.add(flag)

    add_pytest_options(Group())
    for option in OPTIONS:
        assert option.long in click_names[option.name].opts
        assert option.pytest_long in pytest_flags
    assert RunSettings().transport.headers == ()


def test_a_live_key_as_the_main_key_is_refused() -> None:
    spec = load_spec()
    assert spec.test_mode is not None
    live = spec.test_mode.key_prefixes["live"] + "x"
    from neuropay_contract.contract.reach import PaymentMeans

    def target(api_key: str, second: str | None = None) -> RunTarget:
        return RunTarget(
            "http://127.0.0.1:9",
            api_key,
            second,
            None,
            False,
            "dev",
            spec,
            PaymentMeans.from_spec(spec),
        )

    assert "live key as --api-key" in (target(live).key_problem() or "")
    assert "same key" in (target("sk_test_a", "sk_test_a").key_problem() or "")
    assert target("sk_test_a", "sk_test_b").key_problem() is None


def test_the_same_merchant_key_is_read_and_checked() -> None:
    """--same-merchant-api-key comes from its option or NEUROPAY_SAME_MERCHANT_API_KEY with a
    target, reaches the run target, and may be neither another key of the run nor a live key."""
    spec = load_spec()
    assert spec.test_mode is not None
    from neuropay_contract.contract.reach import PaymentMeans

    env = {"NEUROPAY_API_KEY": "sk_test_a", "NEUROPAY_SAME_MERCHANT_API_KEY": "sk_test_d"}
    settings = RunSettings.from_options({"target_url": "http://127.0.0.1:9"}, env)
    target = settings.run_target(spec, PaymentMeans.from_spec(spec))
    assert target.same_merchant_api_key == "sk_test_d"
    assert target.key_problem() is None
    for same, words in (
        ("sk_test_a", "same key as --api-key"),
        (spec.test_mode.key_prefixes["live"] + "x", "live key as --same-merchant-api-key"),
    ):
        target.same_merchant_api_key = same
        assert words in (target.key_problem() or ""), same
    with pytest.raises(SettingsError, match="--same-merchant-api-key given without --target-url"):
        RunSettings.from_options({"same_merchant_api_key": "sk_test_d"}, {})
