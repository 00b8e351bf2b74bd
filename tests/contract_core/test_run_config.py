"""``neuropay test`` configuration from ``[tool.neuropay.test]`` of a ``pyproject.toml`` (or a
``neuropay.toml``) in a temporary folder: every option from each source it may come from, the
command line winning over the environment, the environment over the file; and the new transport
options (headers never reported, TLS verification, client certificate, budgets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.contract.options import OPTIONS
from neuropay_contract.contract.settings import RunSettings, SettingsError, Transport
from neuropay_contract.project_config import read_project_config

TARGET = "http://127.0.0.1:9"


def _file_value(name: str, tmp_path: Path) -> tuple[str, Any]:
    """A TOML literal for option ``name`` and the settings value it must give."""
    pem = tmp_path / "client.pem"
    pem.write_text("not checked until a TLS handshake")
    values: dict[str, tuple[str, Any]] = {
        "target_url": (f'"{TARGET}"', TARGET),
        "profile": ('"deep"', "deep"),
        "seed": ("4242", 4242),
        "report_dir": ('"out"', Path("out")),
        "spec_path": ('"my.yaml"', Path("my.yaml")),
        "card_number_success": ('"4111"', "4111"),
        "card_number_decline": ('"4000"', "4000"),
        "card_id_success": ('"card_ok"', "card_ok"),
        "card_id_decline": ('"card_no"', "card_no"),
        "timeout": ("2.5", 2.5),
        "operations": ('"createCheckout,retrieveCheckout"', ("createCheckout", "retrieveCheckout")),
        "headers": ('["X-Trace:abc", "X-Tenant: t1"]', (("X-Trace", "abc"), ("X-Tenant", "t1"))),
        "tls_verify": ("false", False),
        "client_cert": (f'"{pem}"', str(pem)),
        "max_examples": ("7", 7),
        "max_failures": ("3", 3),
        "differential": ("true", True),
        "shard": ('"2/3"', (2, 3)),
        "idempotency_retention": ("4.5", 4.5),
    }
    return values[name]


def _read(settings: RunSettings, name: str) -> Any:
    if name.startswith("card_"):
        return settings.cards[name]
    if name == "headers":
        return settings.transport.headers
    if name == "tls_verify":
        return settings.transport.verify
    if name == "client_cert":
        return settings.transport.client_cert
    return getattr(settings, name)


FILE_OPTIONS = [o for o in OPTIONS if not o.secret]


@pytest.mark.parametrize("option", FILE_OPTIONS, ids=[o.name for o in FILE_OPTIONS])
@pytest.mark.parametrize("spelling", ["dashes", "underscores"])
def test_each_option_from_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: Any, spelling: str
) -> None:
    literal, expected = _file_value(option.name, tmp_path)
    long = option.long.removeprefix("--")
    key = long if spelling == "dashes" else long.replace("-", "_")
    # A shard is a share of one seed's checks: it needs the seed beside it.
    extra = "seed = 1\n" if option.name == "shard" else ""
    (tmp_path / "pyproject.toml").write_text(f"[tool.neuropay.test]\n{key} = {literal}\n{extra}")
    env = {"NEUROPAY_API_KEY": "sk_test_a"}
    settings = RunSettings.from_options({}, env, read_project_config("test", tmp_path))
    assert _read(settings, option.name) == expected


def test_neuropay_toml_is_read_too(tmp_path: Path) -> None:
    (tmp_path / "neuropay.toml").write_text('[test]\nprofile = "deep"\n')
    (tmp_path / "pyproject.toml").write_text('[tool.neuropay.test]\nprofile = "ci"\n')
    assert RunSettings.from_options({}, {}, read_project_config("test", tmp_path)).profile == "deep"


@pytest.mark.parametrize(
    ("cli", "env", "expected"),
    [
        ({"profile": "ci"}, {"NEUROPAY_PROFILE": "dev"}, "ci"),
        ({}, {"NEUROPAY_PROFILE": "dev"}, "dev"),
        ({}, {}, "deep"),
    ],
    ids=["command-line-wins", "environment-over-file", "file"],
)
def test_precedence(
    tmp_path: Path, cli: dict[str, Any], env: dict[str, str], expected: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.neuropay.test]\nprofile = "deep"\ntimeout = 3\n'
    )
    config = read_project_config("test", tmp_path)
    settings = RunSettings.from_options(cli, env, config, cli_defaults=True)
    assert settings.profile == expected
    assert (
        RunSettings.from_options({"timeout": 1.5}, {"NEUROPAY_TIMEOUT": "2"}, config).timeout == 1.5
    )
    assert RunSettings.from_options({}, {"NEUROPAY_TIMEOUT": "2"}, config).timeout == 2.0
    assert RunSettings.from_options({}, {}, config).timeout == 3.0


def test_command_line_defaults_come_after_the_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.neuropay.test]\nreport-dir = "out"\n')
    config = read_project_config("test", tmp_path)
    assert RunSettings.from_options({}, {}, config, cli_defaults=True).report_dir == Path("out")
    empty = read_project_config("test", tmp_path / "nowhere")
    defaults = RunSettings.from_options({}, {}, empty, cli_defaults=True)
    assert (defaults.profile, defaults.report_dir) == ("ci", Path("reports"))


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("profil = 'ci'", "profil in .*unknown option"),
        ("api-key = 'sk_test_x'", "API keys are not read from files"),
        ("seed = 'many'", "seed in .* is not an integer"),
        ("max-failures = 0", "must be 1 or more"),
        ("headers = ['NoColon']", "is not NAME:VALUE"),
        ("headers = ['Authorization: Bearer x']", "use --api-key"),
        ("tls-verify = '/no/such/ca.pem'", "no such file"),
        ("profile = 'fast'", "unknown profile"),
    ],
    ids=["unknown", "secret", "type", "range", "header", "auth-header", "ca", "profile"],
)
def test_a_bad_file_value_is_one_line(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.neuropay.test]\n{toml}\n")
    with pytest.raises(SettingsError, match=message):
        RunSettings.from_options({}, {}, read_project_config("test", tmp_path))


def test_transport_carries_headers_and_tls_to_the_clients(tmp_path: Path) -> None:
    import requests

    transport = Transport((("X-Trace", "abc"),), False, None)
    with transport.http_client(5.0) as http:
        assert http.headers["X-Trace"] == "abc"
    with requests.Session() as session:
        configured = transport.configure(session)
        assert configured.headers["X-Trace"] == "abc" and configured.verify is False


def test_neuropay_test_reads_pyproject_and_keeps_headers_out_of_reports(tmp_path: Path) -> None:
    """The command in a folder whose pyproject.toml configures it: profile, seed, report folder
    and a header come from the file; the header's value is in no report."""
    import json
    import os
    import subprocess
    import sys

    from neuropay_contract.server import start_server

    (tmp_path / "pyproject.toml").write_text(
        "[tool.neuropay.test]\n"
        'profile = "dev"\nseed = 4242\nreport-dir = "out"\n'
        'header = ["X-Trace: trace-secret-4242"]\n'  # the long option's name
    )
    with start_server() as server:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "neuropay_contract",
                "test",
                "--target-url",
                server.url,
                "-k",
                "test_requires_valid_key and createCheckout",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "NEUROPAY_API_KEY": server.test_key},
        )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert (results["seed"], results["profile"]) == (4242, "dev")
    assert results["summary"]["passed"] >= 5
    for report in (tmp_path / "out").iterdir():
        if report.is_file():
            assert "trace-secret-4242" not in report.read_text(errors="replace"), report.name


@pytest.mark.parametrize(("limit", "failed"), [(None, 3), (1, 1)], ids=["all", "max-failures-1"])
def test_max_failures_stops_early(tmp_path: Path, limit: int | None, failed: int) -> None:
    """Against a server that ignores keys on retrieve, the key checks of retrieveCheckout fail;
    --max-failures 1 stops the run at the first."""
    import json

    from neuropay_contract.contract.cli import run_suite_subprocess
    from neuropay_contract.server import create_app, key_triplet, serve_app

    from ..catalog.faults import FAULTS

    fault = next(f for f in FAULTS if f.name == "auth-ignored-on-retrieve")
    app = create_app()
    extra = ("--max-failures", str(limit)) if limit else ()
    with serve_app(fault.apply(app)) as url:
        proc = run_suite_subprocess(
            url,
            key_triplet(app.state.keys),
            tmp_path,
            select="test_requires_valid_key and retrieveCheckout",
            extra=extra,
        )
    app.state.store.close()
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.loads((tmp_path / "results.json").read_text())["summary"]
    assert summary["failed"] == failed if limit else summary["failed"] >= failed
