"""The options of a contract run, declared once as data: each row generates the ``neuropay test``
option (click) and the plugin's pytest option, names the environment variable that fills it and
the configuration-file key (its long name, dashes or underscores). A new option is one row here
plus its use; :meth:`RunSettings.from_options` validates every value, whatever its source.

Where a value comes from, first wins: the command line, the environment, the configuration file
(``[tool.neuropay.test]`` of ``pyproject.toml`` or ``[test]`` of ``neuropay.toml``), then the
row's ``cli_default`` (``neuropay test`` only) and the settings' own default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from ..reports.formats import file_names

PROFILES: dict[str, dict[str, int]] = {
    # max_examples for property and fuzz checks, stateful steps
    "dev": {"examples": 4, "fuzz": 4, "stateful_steps": 6},
    "ci": {"examples": 25, "fuzz": 25, "stateful_steps": 12},
    "deep": {"examples": 100, "fuzz": 100, "stateful_steps": 25},
}
DEFAULT_PROFILE = "dev"  # plain pytest; `neuropay test` defaults to ci
DEFAULT_TIMEOUT = 10.0  # seconds per HTTP exchange with the target

Kind = Literal["str", "int", "float", "path", "choice", "multi", "flag"]
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class RunOption:
    """One option of a contract run."""

    name: str  # the RunSettings field it fills, and the key in options and files
    help: str
    kind: Kind = "str"
    env: str | None = None
    choices: tuple[str, ...] = ()
    cli_default: Any = None  # neuropay test's default, applied after the environment and file
    flag: str | None = None  # the long option when not --<name with dashes>
    pytest_flag: str | None = None  # the pytest option when it differs from flag
    metavar: str | None = None
    minimum: float | None = None
    secret: bool = False  # never read from a configuration file (it would be committed)

    @property
    def long(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def pytest_long(self) -> str:
        return self.pytest_flag or self.long

    def described(self) -> str:
        return self.help.removesuffix(".") + (f" (or ${self.env})." if self.env else ".")


OPTIONS: tuple[RunOption, ...] = (
    RunOption(
        "target_url",
        "Server to test (default: the embedded reference server).",
        env="NEUROPAY_TARGET_URL",
    ),
    RunOption("api_key", "Test API key.", env="NEUROPAY_API_KEY", secret=True),
    RunOption(
        "second_api_key",
        "Test key of another merchant.",
        env="NEUROPAY_SECOND_API_KEY",
        secret=True,
    ),
    RunOption(
        "live_api_key",
        "Live key of the first merchant.",
        env="NEUROPAY_LIVE_API_KEY",
        secret=True,
    ),
    RunOption(
        "same_merchant_api_key",
        "Another test key of the first merchant: tells whether objects belong to the merchant, "
        "as the spec says, or to the key (without it those checks are not covered).",
        env="NEUROPAY_SAME_MERCHANT_API_KEY",
        secret=True,
    ),
    RunOption(
        "profile",
        "How hard to look: dev (fast), ci, deep. [neuropay test: ci; pytest: dev]",
        kind="choice",
        choices=tuple(sorted(PROFILES)),
        env="NEUROPAY_PROFILE",
        cli_default="ci",
    ),
    RunOption("seed", "Seed for generated data (reproducible runs).", kind="int"),
    RunOption(
        "report_dir",
        f"Where {', '.join(file_names())} go. [neuropay test: reports]",
        kind="path",
        cli_default=Path("reports"),
    ),
    RunOption(
        "spec_path", "Spec to test against.", kind="path", flag="--spec", pytest_flag="--np-spec"
    ),
    RunOption("card_number_success", "Hosted-page card number that succeeds on the target."),
    RunOption("card_number_decline", "Hosted-page card number that declines."),
    RunOption("card_id_success", "Card id that pays automatically on the target."),
    RunOption("card_id_decline", "Card id that declines automatic payment."),
    RunOption(
        "timeout",
        f"Seconds to wait for each answer of the target [{DEFAULT_TIMEOUT:g}].",
        kind="float",
        env="NEUROPAY_TIMEOUT",
        minimum=0.1,
        pytest_flag="--request-timeout",
    ),
    RunOption(
        "operations",
        "Certify only these operations (operationIds): checks of the others are not covered, "
        "and the verdict covers the subset.",
        metavar="ID,...",
    ),
    RunOption(
        "headers",
        "A header sent with every request to the target (repeatable); never written to a report.",
        kind="multi",
        flag="--header",
        metavar="NAME:VALUE",
    ),
    RunOption(
        "tls_verify",
        "Verify the target's TLS certificate: true (default), false, or a CA bundle file.",
        metavar="true|false|CA_FILE",
    ),
    RunOption(
        "client_cert",
        "Client certificate for mutual TLS: a PEM file holding the certificate and its key.",
        kind="path",
    ),
    RunOption(
        "max_examples",
        "Examples per property and fuzz check (instead of the profile's).",
        kind="int",
        minimum=1,
    ),
    RunOption(
        "differential",
        "Replay every request against a fresh embedded reference server and report each answer "
        "that differs where the spec leaves nothing open (always on with --profile deep).",
        kind="flag",
    ),
    RunOption(
        "shard",
        "Run the K-th of N deterministic shares of the checks (same seed, same split; needs "
        "--seed); merge the shards' results with `neuropay report merge`.",
        metavar="K/N",
    ),
    RunOption(
        "idempotency_retention",
        "Seconds after which the target forgets an Idempotency-Key, when its test configuration "
        "shortens the spec's retention: runs the retention check (a run cannot wait a day), "
        "which is not run otherwise.",
        kind="float",
        minimum=0.5,
        metavar="SECONDS",
    ),
    RunOption(
        "max_failures",
        "Stop after this many failed checks (the verdict then covers what ran).",
        kind="int",
        minimum=1,
    ),
)
BY_NAME: Mapping[str, RunOption] = {option.name: option for option in OPTIONS}


def click_options(function: F) -> F:
    """Decorates a click command with one option per row."""
    import click

    for option in reversed(OPTIONS):
        kwargs: dict[str, Any] = {"default": None, "help": option.described()}
        if option.metavar:
            kwargs["metavar"] = option.metavar
        if option.kind == "int":
            kwargs["type"] = click.IntRange(min=int(option.minimum)) if option.minimum else int
        elif option.kind == "float":
            kwargs["type"] = click.FloatRange(min=option.minimum) if option.minimum else float
        elif option.kind == "path":
            kwargs["type"] = click.Path(path_type=Path)
        elif option.kind == "choice":
            kwargs["type"] = click.Choice(option.choices)
        elif option.kind == "multi":
            kwargs["multiple"] = True
            kwargs["default"] = ()
        elif option.kind == "flag":
            kwargs["is_flag"] = True
        function = click.option(option.long, option.name, **kwargs)(function)
    return function


def add_pytest_options(group: Any) -> None:
    """Adds one pytest option per row to the plugin's option group (defaults None: the settings
    fill them from the environment and the configuration file)."""
    for option in OPTIONS:
        kwargs: dict[str, Any] = {"default": None, "dest": f"np_{option.name}"}
        kwargs["help"] = option.described().replace("%", "%%")
        if option.kind == "int":
            kwargs["type"] = int
        elif option.kind == "float":
            kwargs["type"] = float
        elif option.kind == "choice":
            kwargs["choices"] = list(option.choices)
        elif option.kind == "multi":
            kwargs["action"] = "append"
        elif option.kind == "flag":
            kwargs["action"] = "store_true"
        if option.metavar:
            kwargs["metavar"] = option.metavar
        group.addoption(option.pytest_long, **kwargs)


def from_pytest_options(getoption: Callable[[str], Any]) -> dict[str, Any]:
    """The rows' values as the plugin's pytest options hold them (None: not given)."""
    return {option.name: getoption(f"np_{option.name}") for option in OPTIONS}
