"""What a contract run is told: the target, its keys, how hard to look, where reports go.

:class:`RunSettings` is built once from options (the CLI's or pytest's) and the environment and
validated in one place; ``neuropay test`` turns it into pytest options with :meth:`pytest_args`
and the plugin reads it back with :meth:`from_pytest`, so a new option is one field, one entry in
:data:`OPTIONS` and its use. :class:`RunTarget` is the resolved target the checks run against.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import NeuropayError

if TYPE_CHECKING:
    from ..spec import ApiSpec
    from .reach import PaymentMeans

PROFILES: dict[str, dict[str, int]] = {
    # max_examples for property and fuzz checks, stateful steps
    "dev": {"examples": 4, "fuzz": 4, "stateful_steps": 6},
    "ci": {"examples": 25, "fuzz": 25, "stateful_steps": 12},
    "deep": {"examples": 100, "fuzz": 100, "stateful_steps": 25},
}
DEFAULT_PROFILE = "dev"  # plain pytest; `neuropay test` defaults to ci
DEFAULT_TIMEOUT = 10.0  # seconds per HTTP exchange with the target

# The three keys: option, environment variable, and the name a report shows instead of the key.
KEY_OPTIONS = (
    ("api_key", "--api-key", "NEUROPAY_API_KEY"),
    ("second_api_key", "--second-api-key", "NEUROPAY_SECOND_API_KEY"),
    ("live_api_key", "--live-api-key", "NEUROPAY_LIVE_API_KEY"),
)
CARD_OPTIONS = ("card_number_success", "card_number_decline", "card_id_success", "card_id_decline")


class SettingsError(NeuropayError):
    """Options that cannot make a run (exit 2 with one line)."""


def target_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a target (None when it can): an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return f"--target-url {url!r} is not a valid URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--target-url {url!r} is not an http:// or https:// URL with a host"
    return None


@dataclass(frozen=True)
class RunSettings:
    """One contract run's options, validated (see :meth:`from_options`)."""

    target_url: str | None = None
    api_key: str | None = None
    second_api_key: str | None = None
    live_api_key: str | None = None
    profile: str = DEFAULT_PROFILE
    seed: int | None = None
    report_dir: Path | None = None
    spec_path: Path | None = None
    timeout: float = DEFAULT_TIMEOUT
    cards: Mapping[str, str | None] = field(default_factory=dict)
    # --operations: the operationIds certified (None: all); checked against the spec by
    # :meth:`operations_problem` once the spec is loaded
    operations: tuple[str, ...] | None = None

    @property
    def embedded(self) -> bool:
        """No target given: the run starts the reference server, which makes its own keys."""
        return not self.target_url

    @property
    def limits(self) -> dict[str, int]:
        return PROFILES[self.profile]

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> RunSettings:
        """Settings from typed options (None = not given) and the environment.

        Keys typed without a target are an error (the embedded server makes its own, so the run
        would look like it tested them); keys from the environment are then ignored. The target,
        profile and timeout fall back to ``NEUROPAY_TARGET_URL``, ``NEUROPAY_PROFILE`` and
        ``NEUROPAY_TIMEOUT``. Raises :class:`SettingsError`.
        """
        env = os.environ if environ is None else environ
        url = options.get("target_url") or env.get("NEUROPAY_TARGET_URL") or None
        keys: dict[str, str | None] = {}
        if url:
            problem = target_url_problem(url)
            if problem:
                raise SettingsError(problem)
            for name, _flag, variable in KEY_OPTIONS:
                keys[name] = options.get(name) or env.get(variable) or None
            if not keys["api_key"]:
                raise SettingsError(
                    "--target-url needs an API key: pass --api-key or set NEUROPAY_API_KEY"
                )
        else:
            typed = [flag for name, flag, _variable in KEY_OPTIONS if options.get(name)]
            if typed:
                raise SettingsError(
                    f"{' and '.join(typed)} given without --target-url: the embedded reference "
                    "server makes its own keys; pass --target-url to test your server"
                )
        profile = str(options.get("profile") or env.get("NEUROPAY_PROFILE") or DEFAULT_PROFILE)
        if profile not in PROFILES:
            raise SettingsError(f"unknown profile {profile!r}: use one of {', '.join(PROFILES)}")
        timeout_value = options.get("timeout") or env.get("NEUROPAY_TIMEOUT") or DEFAULT_TIMEOUT
        try:
            timeout = float(timeout_value)
        except ValueError:
            raise SettingsError(f"timeout {timeout_value!r} is not a number of seconds") from None
        if not timeout > 0:
            raise SettingsError(f"timeout {timeout_value!r} must be more than 0 seconds")
        seed = options.get("seed")
        operations = options.get("operations")
        if isinstance(operations, str):
            operations = [op.strip() for op in operations.split(",") if op.strip()]
            if not operations:
                raise SettingsError("--operations needs at least one operationId")
        report_dir = options.get("report_dir")
        spec_path = options.get("spec_path")
        return cls(
            target_url=url.rstrip("/") if url else None,
            profile=profile,
            seed=int(seed) if seed is not None else None,
            report_dir=Path(report_dir) if report_dir else None,
            spec_path=Path(spec_path) if spec_path else None,
            timeout=timeout,
            cards={name: options.get(name) or None for name in CARD_OPTIONS},
            operations=tuple(operations) if operations else None,
            **keys,
        )

    def operations_problem(self, spec: ApiSpec) -> str | None:
        """Why --operations cannot be certified against ``spec`` (None when it can)."""
        unknown = [op for op in self.operations or () if op not in spec.operations]
        if unknown:
            return (
                f"--operations: unknown operation {', '.join(unknown)}; the spec has "
                f"{', '.join(spec.operations)}"
            )
        return None

    def run_target(
        self,
        spec: ApiSpec,
        means: PaymentMeans,
        embedded: tuple[str, str, str | None, str | None] | None = None,
    ) -> RunTarget:
        """The target of the run: the one given, or the embedded server's (url, test key, second
        merchant's test key, live key)."""
        if embedded is None:
            if not self.target_url or not self.api_key:
                raise SettingsError("no target: pass --target-url and --api-key")
            embedded_run = False
            url, key = self.target_url, self.api_key
            second, live = self.second_api_key, self.live_api_key
        else:
            embedded_run = True
            url, key, second, live = embedded
        return RunTarget(
            url, key, second, live, embedded_run, self.profile, spec, means, self.timeout
        )

    # -- to and from pytest ----------------------------------------------------------------------
    def pytest_args(self) -> list[str]:
        """The plugin's options that carry these settings into a pytest run."""
        args = ["--profile", self.profile, "--request-timeout", str(self.timeout)]
        values: list[tuple[str, str | None]] = [
            ("--target-url", self.target_url),
            *((flag, getattr(self, name)) for name, flag, _variable in KEY_OPTIONS),
            ("--np-spec", str(self.spec_path) if self.spec_path else None),
            ("--report-dir", str(self.report_dir) if self.report_dir else None),
            *((_flag(name), value) for name, value in self.cards.items()),
            ("--operations", ",".join(self.operations) if self.operations else None),
        ]
        args += [part for flag, value in values if value for part in (flag, value)]
        if self.seed is not None:
            args += ["--seed", str(self.seed), f"--hypothesis-seed={self.seed}"]
        return args

    @classmethod
    def from_pytest(
        cls, option: Callable[[str], Any], environ: Mapping[str, str] | None = None
    ) -> RunSettings:
        """Settings from the plugin's pytest options (``config.getoption``) and the environment."""
        options: dict[str, Any] = {
            "target_url": option("--target-url"),
            "profile": option("--profile"),
            "seed": option("--seed"),
            "report_dir": option("--report-dir"),
            "spec_path": option("--np-spec"),
            "timeout": option("--request-timeout"),
            "operations": option("--operations"),
        }
        for name, flag, _variable in KEY_OPTIONS:
            options[name] = option(flag)
        for name in CARD_OPTIONS:
            options[name] = option(_flag(name))
        return cls.from_options(options, environ)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


@dataclass
class RunTarget:
    """The server a run checks, resolved: its URL and keys (the embedded server's when none was
    given), the spec, the payment means and the per-exchange timeout."""

    url: str
    api_key: str
    second_api_key: str | None
    live_api_key: str | None
    embedded: bool
    profile: str
    spec: ApiSpec
    means: PaymentMeans
    timeout: float = DEFAULT_TIMEOUT

    @property
    def limits(self) -> dict[str, int]:
        return PROFILES[self.profile]

    def key_problem(self) -> str | None:
        """Why these keys cannot be right (None when they can). The suite creates, pays and
        refunds checkouts, so it never runs with a key the spec marks as live as its main or
        second key (that would move real money on a production target)."""
        test_mode = self.spec.test_mode
        live_prefix = test_mode.key_prefixes.get("live") if test_mode else None
        for option, key in (("--api-key", self.api_key), ("--second-api-key", self.second_api_key)):
            if key and live_prefix and key.startswith(live_prefix):
                return (
                    f"refusing to run with a live key as {option} (it starts with "
                    f"{live_prefix!r}): the suite creates and refunds checkouts; use a test key"
                )
        if self.second_api_key and self.second_api_key == self.api_key:
            return "--second-api-key is the same key as --api-key: pass another merchant's"
        if self.live_api_key and self.live_api_key in (self.api_key, self.second_api_key):
            return "--live-api-key is the same key as a test key: pass the live key"
        return None
