"""What a contract run is told: the target, its keys, how hard to look, where reports go.

:class:`RunSettings` is built once from the options (:data:`.options.OPTIONS`, the CLI's or
pytest's), the environment and the project's configuration file, and validated in one place.
``neuropay test`` hands the object itself to the pytest run (:func:`.plugin.given_settings`);
plain ``pytest contract_tests`` builds it with :meth:`from_pytest`. A new option is one row of
:data:`.options.OPTIONS`, one field here and its use. :class:`RunTarget` is the resolved target
the checks run against.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import NeuropayError
from ..project_config import ProjectConfig, read_project_config
from .options import BY_NAME, DEFAULT_PROFILE, DEFAULT_TIMEOUT, PROFILES, from_pytest_options

if TYPE_CHECKING:
    import httpx
    import requests

    from ..spec import ApiSpec
    from .reach import PaymentMeans

__all__ = [
    "CARD_OPTIONS",
    "DEFAULT_PROFILE",
    "DEFAULT_TIMEOUT",
    "KEY_OPTIONS",
    "PROFILES",
    "RunSettings",
    "RunTarget",
    "SettingsError",
    "Transport",
    "target_url_problem",
]

# The three keys: option, environment variable, and the name a report shows instead of the key.
KEY_OPTIONS = (
    ("api_key", "--api-key", "NEUROPAY_API_KEY"),
    ("second_api_key", "--second-api-key", "NEUROPAY_SECOND_API_KEY"),
    ("live_api_key", "--live-api-key", "NEUROPAY_LIVE_API_KEY"),
    ("same_merchant_api_key", "--same-merchant-api-key", "NEUROPAY_SAME_MERCHANT_API_KEY"),
)
CARD_OPTIONS = ("card_number_success", "card_number_decline", "card_id_success", "card_id_decline")


class SettingsError(NeuropayError):
    """Options that cannot make a run (exit 2 with one line)."""


def target_url_problem(url: str, option: str = "--target-url") -> str | None:
    """Why ``url`` cannot be a target (None when it can): an http(s) URL with a host. The
    reason names the ``option`` it was given with."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return f"{option} {url!r} is not a valid URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{option} {url!r} is not an http:// or https:// URL with a host"
    return None


@dataclass(frozen=True)
class Transport:
    """How the run talks to the target beyond its keys: extra headers (never reported), TLS
    verification (True, False or a CA bundle file) and a client certificate."""

    headers: tuple[tuple[str, str], ...] = ()
    verify: bool | str = True
    client_cert: str | None = None

    def http_client(self, timeout: float) -> httpx.Client:
        """An httpx client that sends the headers on every request (client-level headers are
        not part of the recorded request, so no report shows them)."""
        import httpx

        return httpx.Client(
            timeout=timeout, headers=dict(self.headers), verify=self.verify, cert=self.client_cert
        )

    def configure(self, session: requests.Session) -> requests.Session:
        """The same for a requests session (schemathesis' calls)."""
        session.headers.update(dict(self.headers))
        session.verify = self.verify
        if self.client_cert:
            session.cert = self.client_cert
        return session


@dataclass(frozen=True)
class RunSettings:
    """One contract run's options, validated (see :meth:`from_options`)."""

    target_url: str | None = None
    api_key: str | None = None
    second_api_key: str | None = None
    live_api_key: str | None = None
    same_merchant_api_key: str | None = None
    profile: str = DEFAULT_PROFILE
    seed: int | None = None
    report_dir: Path | None = None
    spec_path: Path | None = None
    timeout: float = DEFAULT_TIMEOUT
    cards: Mapping[str, str | None] = field(default_factory=dict)
    # --operations: the operationIds certified (None: all); checked against the spec by
    # :meth:`operations_problem` once the spec is loaded
    operations: tuple[str, ...] | None = None
    transport: Transport = Transport()
    max_examples: int | None = None
    max_failures: int | None = None
    # --differential (always with --profile deep): every exchange replayed against a fresh
    # reference server and the answers compared (contract/differential.py)
    differential: bool = False
    # --shard K/N: run the K-th of N deterministic shares of the checks (None: all of them)
    shard: tuple[int, int] | None = None
    # --idempotency-retention: the target's shortened retention in seconds (None: the spec's,
    # which no run can wait for, so the checks that need it are not run)
    idempotency_retention: float | None = None

    @property
    def embedded(self) -> bool:
        """No target given: the run starts the reference server, which makes its own keys."""
        return not self.target_url

    @property
    def limits(self) -> dict[str, int]:
        return profile_limits(self.profile, self.max_examples)

    @classmethod
    def from_options(
        cls,
        options: Mapping[str, Any],
        environ: Mapping[str, str] | None = None,
        config: ProjectConfig | None = None,
        cli_defaults: bool = False,
    ) -> RunSettings:
        """Settings from typed options (None = not given), the environment and the project's
        configuration file, in that order of precedence; with ``cli_defaults``, then the
        defaults of ``neuropay test`` (profile ci, reports in ``reports``).

        Keys typed without a target are an error (the embedded server makes its own, so the run
        would look like it tested them); keys from the environment are then ignored, and keys
        are never read from a file. Raises :class:`SettingsError`.
        """
        env = os.environ if environ is None else environ
        config = _by_option_name(config or ProjectConfig())
        for key in config.values:
            option = BY_NAME.get(key)
            if option is None:
                raise SettingsError(
                    f"{config.where(key)}: unknown option; the options are "
                    f"{', '.join(o.name.replace('_', '-') for o in BY_NAME.values() if not o.secret)}"
                )
            if option.secret:
                raise SettingsError(
                    f"{config.where(key)}: API keys are not read from files (they would be "
                    f"committed); set ${option.env} instead"
                )

        def pick(name: str) -> tuple[Any, str]:
            """The value of option ``name`` and where it came from (for messages)."""
            option = BY_NAME[name]
            value = options.get(name)
            if value is not None and value != ():
                return value, option.long
            if option.env and env.get(option.env):
                return env[option.env], f"${option.env}"
            if name in config.values:
                return config.values[name], config.where(name.replace("_", "-"))
            if cli_defaults and option.cli_default is not None:
                return option.cli_default, option.long
            return None, option.long

        url = pick("target_url")[0] or None
        keys: dict[str, str | None] = {}
        if url:
            url = str(url)
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
        profile = str(pick("profile")[0] or DEFAULT_PROFILE)
        if profile not in PROFILES:
            raise SettingsError(f"unknown profile {profile!r}: use one of {', '.join(PROFILES)}")
        timeout_value, timeout_from = pick("timeout")
        timeout = _number(timeout_value, timeout_from, float) if timeout_value else DEFAULT_TIMEOUT
        if not timeout > 0:
            raise SettingsError(f"timeout {timeout_value!r} must be more than 0 seconds")
        seed = _number(*pick("seed"), int)
        operations = pick("operations")[0]
        if isinstance(operations, str):
            operations = [op.strip() for op in operations.split(",") if op.strip()]
            if not operations:
                raise SettingsError("--operations needs at least one operationId")
        report_dir = pick("report_dir")[0]
        spec_path = pick("spec_path")[0]
        shard = parse_shard(*pick("shard"))
        if shard is not None and seed is None:
            raise SettingsError(
                "--shard needs --seed N: every shard must deal the checks with the same seed"
            )
        return cls(
            target_url=url.rstrip("/") if url else None,
            profile=profile,
            seed=seed,
            report_dir=Path(report_dir) if report_dir else None,
            spec_path=Path(spec_path) if spec_path else None,
            timeout=timeout,
            cards={name: pick(name)[0] or None for name in CARD_OPTIONS},
            operations=tuple(str(op) for op in operations) if operations else None,
            transport=Transport(
                headers=_headers(*pick("headers")),
                verify=_tls_verify(*pick("tls_verify")),
                client_cert=_existing_file(*pick("client_cert")),
            ),
            max_examples=_at_least_one(*pick("max_examples")),
            max_failures=_at_least_one(*pick("max_failures")),
            differential=_on_off(*pick("differential")) or profile == "deep",
            shard=shard,
            idempotency_retention=_retention(*pick("idempotency_retention")),
            **keys,
        )

    @classmethod
    def from_pytest(
        cls,
        option: Callable[[str], Any],
        environ: Mapping[str, str] | None = None,
        config: ProjectConfig | None = None,
    ) -> RunSettings:
        """Settings from the plugin's pytest options (``config.getoption``), the environment and
        the working directory's configuration file."""
        return cls.from_options(
            from_pytest_options(option),
            environ,
            read_project_config("test") if config is None else config,
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
        embedded: tuple[str, str, str | None, str | None, str | None] | None = None,
    ) -> RunTarget:
        """The target of the run: the one given, or the embedded server's (url, test key, second
        merchant's test key, live key, another test key of the first merchant)."""
        if embedded is None:
            if not self.target_url or not self.api_key:
                raise SettingsError("no target: pass --target-url and --api-key")
            embedded_run = False
            url, key = self.target_url, self.api_key
            second, live = self.second_api_key, self.live_api_key
            same = self.same_merchant_api_key
        else:
            embedded_run = True
            url, key, second, live, same = embedded
        return RunTarget(
            url,
            key,
            second,
            live,
            embedded_run,
            self.profile,
            spec,
            means,
            self.timeout,
            self.transport,
            self.max_examples,
            same_merchant_api_key=same,
            idempotency_retention=self.idempotency_retention,
        )


def parse_shard(value: Any, source: str = "--shard") -> tuple[int, int] | None:
    """``"K/N"`` (1 <= K <= N) as (K, N); None when not given; SettingsError otherwise."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    k, slash, n = text.partition("/")
    if not (slash and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise SettingsError(f"{source} {text!r}: use K/N with 1 <= K <= N, for example 2/3")
    return int(k), int(n)


def _by_option_name(config: ProjectConfig) -> ProjectConfig:
    """The file's keys as the options' names: a key is the long option (``header``, ``spec``)
    or the settings name (``headers``, ``spec_path``)."""
    aliases = {o.long.removeprefix("--").replace("-", "_"): o.name for o in BY_NAME.values()}
    values: dict[str, Any] = {}
    for key, value in config.values.items():
        name = aliases.get(key, key)
        if name in values:
            raise SettingsError(f"{config.where(key)}: the option is set twice")
        values[name] = value
    return ProjectConfig(values, config.path)


def profile_limits(profile: str, max_examples: int | None = None) -> dict[str, int]:
    """The profile's budgets, with --max-examples for property and fuzz checks when given."""
    values = dict(PROFILES[profile])
    if max_examples:
        values["examples"] = values["fuzz"] = max_examples
    return values


def _number(value: Any, source: str, kind: type[int] | type[float]) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        raise SettingsError(f"{source} {value!r} is not a number")
    try:
        return kind(value)
    except (TypeError, ValueError):
        what = "a number of seconds" if kind is float else "an integer"
        raise SettingsError(f"{source} {value!r} is not {what}") from None


def _retention(value: Any, source: str) -> float | None:
    if value is None or value == "":
        return None
    seconds = float(_number(value, source, float))
    if not 0.5 <= seconds <= 3600:
        raise SettingsError(
            f"{source} {value!r}: a retention between 0.5 and 3600 seconds (a run waits it out)"
        )
    return seconds


def _at_least_one(value: Any, source: str) -> int | None:
    number = _number(value, source, int)
    if number is not None and number < 1:
        raise SettingsError(f"{source} {value!r} must be 1 or more")
    return number  # type: ignore[no-any-return]


def _headers(value: Any, source: str) -> tuple[tuple[str, str], ...]:
    """``NAME:VALUE`` strings (or, from a file, a table of names to values) as pairs."""
    if not value:
        return ()
    if isinstance(value, Mapping):
        items = [f"{name}:{text}" for name, text in value.items()]
    elif isinstance(value, str):
        items = [value]
    else:
        items = [str(v) for v in value]
    pairs: list[tuple[str, str]] = []
    for item in items:
        name, colon, text = item.partition(":")
        name = name.strip()
        if (
            not colon
            or not name
            or any(c in name for c in " \t\r\n")
            or any(c in text for c in "\r\n")
        ):
            raise SettingsError(f"{source} {item!r} is not NAME:VALUE")
        if name.lower() == "authorization":
            raise SettingsError(
                f"{source} {name}: the run sends its own keys as Authorization; use --api-key"
            )
        pairs.append((name, text.strip()))
    return tuple(pairs)


def _on_off(value: Any, source: str) -> bool:
    """An on/off option: given on the command line, or true/false from the environment or a file."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise SettingsError(f"{source} {value!r} is not true or false")


def _tls_verify(value: Any, source: str) -> bool | str:
    """true, false, or a CA bundle file that exists."""
    if value is None or value is True or str(value).lower() == "true":
        return True
    if value is False or str(value).lower() == "false":
        return False
    path = _existing_file(value, source)
    assert path is not None
    return path


def _existing_file(value: Any, source: str) -> str | None:
    if value is None or value == "":
        return None
    path = Path(str(value))
    if not path.is_file():
        raise SettingsError(f"{source} {value}: no such file")
    return str(path)


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
    transport: Transport = Transport()
    max_examples: int | None = None
    same_merchant_api_key: str | None = None  # another test key of the first key's merchant
    idempotency_retention: float | None = None  # seconds, when the target's is shortened

    @property
    def limits(self) -> dict[str, int]:
        return profile_limits(self.profile, self.max_examples)

    def http_client(self) -> httpx.Client:
        """A client of the target: its timeout, extra headers and TLS settings."""
        return self.transport.http_client(self.timeout)

    def key_problem(self) -> str | None:
        """Why these keys cannot be right (None when they can). The suite creates, pays and
        refunds checkouts, so it never runs with a key the spec marks as live as its main or
        second key (that would move real money on a production target)."""
        test_mode = self.spec.test_mode
        live_prefix = test_mode.key_prefixes.get("live") if test_mode else None
        for option, key in (
            ("--api-key", self.api_key),
            ("--second-api-key", self.second_api_key),
            ("--same-merchant-api-key", self.same_merchant_api_key),
        ):
            if key and live_prefix and key.startswith(live_prefix):
                return (
                    f"refusing to run with a live key as {option} (it starts with "
                    f"{live_prefix!r}): the suite creates and refunds checkouts; use a test key"
                )
        if self.second_api_key and self.second_api_key == self.api_key:
            return "--second-api-key is the same key as --api-key: pass another merchant's"
        if self.live_api_key and self.live_api_key in (self.api_key, self.second_api_key):
            return "--live-api-key is the same key as a test key: pass the live key"
        if self.same_merchant_api_key and self.same_merchant_api_key in (
            self.api_key,
            self.second_api_key,
        ):
            return (
                "--same-merchant-api-key is the same key as --api-key or --second-api-key: pass "
                "another test key of the --api-key's merchant"
            )
        return None
